"""The few calls an application needs: load a model, predict files, build a corpus, train.

:class:`Model` is the one model object users hold: :func:`load_model` and :func:`train` return
it; it predicts files and feature tables, and saves and loads itself. Every prediction takes
one route (:func:`predict_files`): inputs expanded once, features extracted (cached), the
heads predict, the signal checks apply, and the table is presented on its scale.

Examples
--------
>>> import va_mood
>>> model = va_mood.load_model()  # the shipped default  # doctest: +SKIP
>>> model.predict_files(["song.mp3"])[["valence", "arousal", "mood"]]  # doctest: +SKIP
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .audio.decode import MAX_DURATION
from .audio.discover import find_audio
from .config import Config, LabelSpec
from .errors import AudioError, BundleError, LabelsError, ParameterError, VaMoodWarning
from .extraction.batch import Progress, extract_files
from .features.quality import QUALITY_GROUP, apply_checks
from .features.registry import columns_for
from .labels.augment import crops
from .labels.files import load_labels, match_audio, targets
from .locations import DEFAULT_MODEL, default_cache
from .model.bundle import estimator_of, heads_of, read_bundle, save_bundle
from .model.heads import TABLE_COLUMNS, FittedHeads
from .outputs.scales import on_scale
from .vocabulary import AXES

__all__ = [
    "DEFAULT_MODEL",
    "Model",
    "load_model",
    "predict_files",
    "load_corpus",
    "train",
    "save_bundle",
]


@dataclass(eq=False, repr=False)
class Model:
    """A trained model: two fitted heads, the configuration and label scale they were trained
    with, and how well they did.

    What :func:`load_model` and :func:`train` return. It predicts audio files
    (:meth:`predict_files`) and feature tables (:meth:`predict_features`), and saves itself as
    a bundle folder (:meth:`save`, :meth:`load`).

    Parameters
    ----------
    predictor : MoodModel or FittedHeads
        What predicts: the fitted scikit-learn estimator of a model just trained, or the
        fitted heads read from a bundle (no scikit-learn or xgboost needed to predict).
    config : Config
        The configuration the model was trained with (feature groups, heads, analysis).
    labels : LabelSpec
        The label scale of its training corpus, mapped onto the plane.
    metrics : dict, optional
        Its grouped cross-validation report (:func:`va_mood.cross_validate`).
    metadata : dict, optional
        A loaded bundle's whole ``bundle.json``.
    about : str, optional
        Markdown on the training data for the model card.
    tuning : dict, optional
        The optuna studies its heads came from (:func:`va_mood.tuning.tuning_record`).

    See Also
    --------
    va_mood.MoodModel : the scikit-learn estimator that training fits.

    Examples
    --------
    >>> import va_mood
    >>> model = va_mood.load_model()  # doctest: +SKIP
    >>> model  # doctest: +SKIP
    Model(valence=binary xgboost on 18 groups, arousal=binary xgboost on 19 groups; created ...)
    """

    predictor: Any
    config: Config
    labels: LabelSpec
    metrics: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    about: str = ""
    tuning: dict[str, Any] = field(default_factory=dict)
    _estimator: Any = field(default=None, init=False)

    def __repr__(self) -> str:
        heads = ", ".join(
            f"{axis}={head.mode} {head.estimator} on {len(head.groups)} groups"
            for axis, head in ((axis, self.config.head(axis)) for axis in AXES)
        )
        created = self.metadata.get("created", "not saved")
        return f"Model({heads}; created {created})"

    @property
    def fingerprint(self) -> str:
        """The feature fingerprint the model was trained on."""
        return self.config.analysis.fingerprint(self.config.groups)

    @property
    def heads(self) -> FittedHeads:
        """What predicts: the fitted heads, their modes, columns, thresholds and maps."""
        return heads_of(self.predictor)

    @property
    def estimator(self) -> Any:
        """The scikit-learn :class:`~va_mood.MoodModel` (``clone``, ``set_params``); built on
        first use for a loaded model."""
        if self._estimator is None:
            self._estimator = estimator_of(self.predictor, seed=self.config.seed)
        return self._estimator

    def predict_features(
        self,
        features: pd.DataFrame,
        *,
        fingerprint: str | None = None,
        scale: str = "plane",
    ) -> pd.DataFrame:
        """Predict from a feature table (one row per clip, named feature columns).

        Parameters
        ----------
        features : pd.DataFrame [shape=(n_clips, n_features)]
            At least the columns of the model's feature groups.
        fingerprint : str, optional
            The fingerprint of the settings the table was extracted with; refused if it is
            not the model's.
        scale : {"plane", "unit", "nine"}
            The scale of valence and arousal (:mod:`va_mood.outputs.scales`).

        Returns
        -------
        pd.DataFrame
            Valence, arousal, quadrant, mood, the confidences and, with two binary heads,
            the ``p_*`` columns, indexed as ``features``.

        Raises
        ------
        BundleError
            When the features do not match the model.
        """
        if fingerprint is not None and fingerprint != self.fingerprint:
            raise BundleError(
                f"features were extracted with fingerprint {fingerprint}, but the model needs "
                f"{self.fingerprint}; extract again with the model's configuration"
            )
        return on_scale(self._predict(features), scale=scale, modes=self.heads.modes)

    def predict_extracted(
        self, features: pd.DataFrame, *, scale: str = "plane"
    ) -> tuple[pd.DataFrame, dict[str, str]]:
        """The table of :func:`predict_files` from its extracted features: the heads, the
        signal checks (:func:`~va_mood.features.quality.apply_checks`), then ``scale``.

        ``features`` holds the model's groups and the quality group; returns the table and
        the checks' warnings (``{path: message}``).
        """
        quality: dict[str, str] = {}
        if len(features):
            table = self._predict(features[columns_for(self.config.groups)])
            table, quality = apply_checks(table, features[columns_for([QUALITY_GROUP])])
        else:
            table = pd.DataFrame(columns=list(TABLE_COLUMNS), index=pd.Index([], name="path"))
        return on_scale(table, scale=scale, modes=self.heads.modes), quality

    def _predict(self, features: pd.DataFrame) -> pd.DataFrame:
        """The heads' table on the plane, before presentation."""
        try:
            return self.heads.predict_table(features)
        except ParameterError as exc:
            raise BundleError(f"features do not match the model: {exc}") from None

    def predict_files(
        self, paths: str | os.PathLike | Iterable[str | os.PathLike], **options: Any
    ) -> pd.DataFrame:
        """:func:`predict_files` with this model; the same options.

        Examples
        --------
        >>> import va_mood
        >>> table = va_mood.load_model().predict_files("music/")  # doctest: +SKIP
        >>> table[["valence", "arousal", "mood"]]  # doctest: +SKIP
        """
        return predict_files(self, paths, **options)

    def save(self, path: str | os.PathLike) -> Path:
        """Write the model as a bundle folder (:func:`save_bundle`); returns the folder."""
        return save_bundle(self, path)

    @classmethod
    def load(cls, path: str | os.PathLike | None = None, *, cache: bool = True) -> Model:
        """Read a bundle folder; with no ``path``, the shipped default model.

        Its heads' parsed trees are kept in the user's cache folder (``models`` beside the
        feature cache), so that the next load is quicker; ``cache=False`` neither reads nor
        writes them.

        Raises
        ------
        BundleError
            Naming the bundle and what is wrong with it.
        """
        models = default_cache().parent / "models" if cache else None
        return cls(**read_bundle(DEFAULT_MODEL if path is None else path, cache_dir=models))


def load_model(path: str | os.PathLike | None = None, *, cache: bool = True) -> Model:
    """Load a model bundle; with no ``path``, the shipped default model (:meth:`Model.load`).

    Examples
    --------
    >>> import va_mood
    >>> va_mood.load_model().predict_files(["song.mp3"])  # doctest: +SKIP
    """
    return Model.load(path, cache=cache)


def predict_files(
    model: Model,
    paths: str | os.PathLike | Iterable[str | os.PathLike],
    *,
    scale: str = "plane",
    jobs: int | None = None,
    cache: bool = True,
    cache_dir: str | os.PathLike | None = None,
    progress: Progress | None = None,
    segment: float | None = None,
    hop: float | None = None,
    longest: float | None = MAX_DURATION,
    on_error: str = "warn",
) -> pd.DataFrame:
    """Predict valence, arousal, quadrant and mood for audio files: the one route of a clip.

    ``paths`` are expanded once (files, folders searched recursively, glob patterns, as the
    command line takes them); features are extracted, cached as ``va-mood predict`` caches
    them; the heads predict; the signal checks apply
    (:func:`va_mood.features.quality.apply_checks`); the table is presented on ``scale``.

    Parameters
    ----------
    model : Model
        The model to predict with.
    paths : path or iterable of paths
        Files, folders and glob patterns.
    scale : {"plane", "unit", "nine"}
        The scale of valence and arousal: -1..1, 0..1 or 1..9 (:mod:`va_mood.outputs.scales`).
    jobs : int, optional
        Worker processes for extraction (None or 0: one per core).
    cache, cache_dir : bool, path
        Whether to read and write the feature cache, and its folder (default
        :func:`va_mood.locations.default_cache`).
    progress : callable, optional
        Called with ``(path, error)`` per file; if it has ``set_total``, that is first told
        the number of files found.
    segment, hop : float, optional
        With ``segment`` (seconds), one row per window, indexed by (path, start, end), windows
        starting every ``hop`` seconds (default: back to back).
    longest : float, optional
        Recordings longer than this many seconds are refused (None: no limit).
    on_error : {"warn", "collect"}
        ``"warn"``: a :class:`~va_mood.errors.VaMoodWarning` naming each input that could not
        be used (missing, matching nothing, not audio), and raise if none could. ``"collect"``
        (what the command line does): nothing but ``attrs["errors"]``, even for no row.

    Returns
    -------
    pd.DataFrame
        One row per file that could be read, indexed by path, with the columns ``va-mood
        predict`` writes (:func:`va_mood.outputs.scales.as_rows` gives its CSV rows). Silence,
        noise and steady tones get no mood (NaN coordinates and confidences, mood
        ``"uncertain"``). ``attrs`` holds
        ``errors`` (``{path: message}`` for inputs that could not be used), ``warnings``
        (``{path: message}``: what a folder search skipped, quality warnings), ``scale`` and
        ``files`` (how many audio files the inputs named).

    Raises
    ------
    AudioError
        With ``on_error="warn"``, when inputs were given and none could be used (an empty
        list gives an empty table): the message names the first, ``.errors`` holds each.
    ParameterError
        For an ``on_error`` other than ``"warn"`` or ``"collect"``.

    Examples
    --------
    >>> table = va_mood.load_model().predict_files(["a.mp3", "gone.mp3"])  # doctest: +SKIP
    VaMoodWarning: gone.mp3: no such file or folder
    """
    if on_error not in ("warn", "collect"):
        raise ParameterError(f"on_error must be 'warn' or 'collect', got {on_error!r}")
    extract = {"jobs": jobs, "cache_dir": _cache_folder(cache, cache_dir), "progress": progress}
    extract |= {"segment": segment, "hop": hop, "longest": longest}
    table = _predicted(model, paths, scale, extract)
    if on_error == "warn":
        _say_unusable(table.attrs["errors"], predicted=len(table))
    return table


def _predicted(
    model: Model,
    paths: str | os.PathLike | Iterable[str | os.PathLike],
    scale: str,
    extract: dict[str, Any],
) -> pd.DataFrame:
    """:func:`predict_files`' table, with its ``attrs``: inputs expanded, features extracted
    (``extract``: :func:`~va_mood.extraction.batch.extract_files`' options), heads, checks."""
    skipped: list[str] = []
    single = isinstance(paths, str | os.PathLike)
    files, problems = find_audio([paths] if single else paths, on_warning=skipped.append)
    if hasattr(extract["progress"], "set_total"):
        extract["progress"].set_total(len(files))
    groups = list(dict.fromkeys([*model.config.groups, QUALITY_GROUP]))
    features, errors = extract_files(files, config=model.config.analysis, groups=groups, **extract)
    table, quality = model.predict_extracted(features, scale=scale)
    table.attrs["errors"] = problems | errors
    table.attrs["warnings"] = {message: message for message in skipped} | quality
    table.attrs["files"] = len(files)
    return table


def _say_unusable(errors: dict[str, str], *, predicted: int) -> None:
    """Raise when no input could be used; else warn once per input that could not be,
    pointing at the caller's line (the first frame outside va_mood)."""
    if not errors:
        return
    if not predicted:
        more = f"; and {len(errors) - 1} more (see .errors)" if len(errors) > 1 else ""
        exc = AudioError(f"no input could be used: {next(iter(errors.values()))}{more}")
        exc.errors = dict(errors)  # type: ignore[attr-defined]
        raise exc
    level, frame = 2, sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__", "").startswith("va_mood"):
        level, frame = level + 1, frame.f_back
    for message in errors.values():
        warnings.warn(message, VaMoodWarning, stacklevel=level)


def _cache_folder(cache: bool, cache_dir: str | os.PathLike | None) -> str | os.PathLike | None:
    """The feature cache to use: ``cache_dir``, the user's default one, or none."""
    if not cache:
        return None
    return cache_dir if cache_dir is not None else default_cache()


def load_corpus(
    labels_csv: str | os.PathLike,
    audio_dir: str | os.PathLike,
    *,
    config: Config,
    spec: LabelSpec | None = None,
    jobs: int | None = None,
    cache: bool = True,
    cache_dir: str | os.PathLike | None = None,
    progress: Callable[[str, str | None], None] | None = None,
    longest: float | None = MAX_DURATION,
) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Labels and features of a labelled corpus, aligned by id; features are cached as in
    :func:`predict_files` (``cache``, ``cache_dir``).

    Returns ``(features, labels, problems)``: the rows that have both valid labels and
    readable audio, and one message per bad labels row (dropped), labelled id without audio,
    unreadable file, or batch of unlabelled audio; the unreadable files are also in
    ``labels.attrs["errors"]`` (``{path: message}``), as :func:`predict_files` reports them.
    With ``config.augmentation.crops``, each
    clip's random excerpts follow as rows of their own (``labels["augmented"]`` true; see
    :mod:`va_mood.labels.augment`), which evaluation trains on and never scores. Raises
    :class:`LabelsError` when nothing usable remains. ``progress`` is called with ``(path,
    error)`` per file; if it has a ``set_total`` method, that is first told the number of files.
    """
    spec = spec or LabelSpec()
    labels = load_labels(labels_csv, spec, drop_bad_rows=True)
    dropped = labels.attrs["problems"]
    labels, missing = match_audio(labels, audio_dir, spec)
    problems = dropped + missing
    labels["augmented"] = False
    if config.augmentation.crops:
        labels = pd.concat([labels, crops(labels, config.augmentation, seed=config.seed)])
    if hasattr(progress, "set_total"):
        progress.set_total(len(labels))
    features, errors = extract_files(
        labels["path"].tolist(),
        config=config.analysis,
        groups=config.groups,
        jobs=jobs,
        cache_dir=_cache_folder(cache, cache_dir),
        progress=progress,
        longest=longest,
    )
    excerpts = set(labels.loc[labels["augmented"], "path"])  # a clip's own error says it all
    unreadable = {path: message for path, message in errors.items() if path not in excerpts}
    problems += list(unreadable.values())
    labels = labels[labels["path"].isin(features.index)]
    if labels.empty:
        raise LabelsError(f"{labels_csv}: no labelled clip with readable audio in {audio_dir}")
    features = features.loc[labels["path"]]
    features.index = labels.index
    labels.attrs["errors"] = unreadable
    return features, labels, problems


def train(
    features: pd.DataFrame,
    labels: pd.DataFrame,
    config: Config,
    *,
    spec: LabelSpec | None = None,
    metrics: dict[str, Any] | None = None,
) -> Model:
    """Fit a :class:`~va_mood.MoodModel` on a whole corpus.

    Parameters
    ----------
    features : pd.DataFrame [shape=(n_clips, n_features)]
        The corpus' feature table (:func:`load_corpus`).
    labels : pd.DataFrame
        Its labels, aligned with ``features`` (``group`` is each clip's CV group).
    config : Config
        Which groups each head hears, the heads' estimators and modes, the seed.
    spec : LabelSpec, optional
        The labels' scale (default: the 4Q dataset's).
    metrics : dict, optional
        How well the configuration did (e.g. :func:`va_mood.cross_validate`'s report); it
        travels with the model so that anyone who loads it can see.

    Returns
    -------
    Model
        The trained model; :meth:`Model.save` writes it.
    """
    from .model.estimator import model_from_config

    y = targets(labels, config.modes)
    estimator = model_from_config(config).fit(features, y, groups=labels["group"].to_numpy())
    return Model(estimator, config, spec or LabelSpec(), metrics or {})
