"""The few calls an application needs: load a model, predict files, build a corpus, train.

Examples
--------
>>> import va_mood
>>> model = va_mood.load_model()  # the shipped default  # doctest: +SKIP
>>> model.predict_files(["song.mp3"])[["valence", "arousal", "mood"]]  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterable
from typing import Any

import pandas as pd

from .audio.decode import MAX_DURATION
from .audio.discover import find_audio
from .config import Config, LabelSpec
from .errors import LabelsError
from .extraction.batch import Progress, extract_files
from .features.quality import QUALITY_GROUP, apply_checks
from .features.registry import columns_for
from .labels.augment import crops
from .labels.files import load_labels, match_audio, targets
from .locations import DEFAULT_MODEL, default_cache
from .model.bundle import Bundle, load_bundle
from .outputs.scales import present
from .vocabulary import AXES

__all__ = ["DEFAULT_MODEL", "Model", "load_model", "predict_files", "load_corpus", "train"]

TABLE_COLUMNS = [*AXES, "quadrant", "mood", *(f"{axis}_confidence" for axis in AXES)]
"""The columns of a prediction table, as :meth:`va_mood.model.heads.FittedHeads.predict_table`."""


def predict_files(
    bundle: Bundle,
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
) -> pd.DataFrame:
    """Predict valence, arousal, quadrant and mood for audio files with ``bundle``'s model.

    ``paths`` is one path or several: files, folders (searched recursively for audio) and
    glob patterns, as the command line takes them. Features are cached as ``va-mood predict``
    caches them (``cache_dir``, default :func:`va_mood.locations.default_cache`;
    ``cache=False``: neither read nor written), so a second call on the same files only
    predicts.

    Returns one row per file that could be read, indexed by path, with the columns ``va-mood
    predict`` writes (:func:`va_mood.outputs.scales.as_rows` gives its CSV rows): valence and
    arousal on ``scale`` (``"plane"`` -1..1, ``"unit"``, ``"nine"``, see
    :mod:`va_mood.outputs.scales`), quadrant, mood, the confidences and, with two binary heads,
    ``p_*``. With ``segment`` (seconds), one row per window, indexed by (path, start, end),
    windows starting every ``hop`` seconds (default: back to back). Inputs that could not be
    used are listed with their reasons in ``result.attrs["errors"]`` (``{path: message}``); so
    are recordings longer than ``longest`` seconds (None: no limit). Silence gets no mood (NaN
    coordinates and confidences, mood ``"uncertain"``) and band-limited audio lowered
    confidences (:func:`va_mood.features.quality.apply_checks`), each said in
    ``result.attrs["warnings"]`` (``{path: message}``), with what a folder search skipped.
    """
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    skipped: list[str] = []
    files, problems = find_audio(paths, on_warning=skipped.append)
    groups = list(dict.fromkeys([*bundle.config.groups, QUALITY_GROUP]))
    features, errors = extract_files(
        files,
        config=bundle.config.analysis,
        groups=groups,
        jobs=jobs,
        cache_dir=_cache_folder(cache, cache_dir),
        progress=progress,
        segment=segment,
        hop=hop,
        longest=longest,
    )
    warnings: dict[str, str] = {}
    if len(features):
        table = bundle.predict_features(features[columns_for(bundle.config.groups)])
        table, warnings = apply_checks(table, features[columns_for([QUALITY_GROUP])])
    else:
        table = pd.DataFrame(columns=TABLE_COLUMNS, index=pd.Index([], name="path"))
    table = present(table, scale=scale, modes=bundle.heads.modes)
    table.attrs["errors"] = problems | errors
    table.attrs["warnings"] = {message: message for message in skipped} | warnings
    return table


def _cache_folder(cache: bool, cache_dir: str | os.PathLike | None) -> str | os.PathLike | None:
    """The feature cache to use: ``cache_dir``, the user's default one, or none."""
    if not cache:
        return None
    return cache_dir if cache_dir is not None else default_cache()


class Model(Bundle):
    """A loaded model bundle that predicts audio files (what :func:`load_model` returns)."""

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


def load_model(path: str | os.PathLike | None = None, *, cache: bool = True) -> Model:
    """Load a model bundle; with no ``path``, the shipped default model.

    Its heads' parsed trees are kept in the user's cache folder (``models`` beside the feature
    cache), so that the next load is quicker; ``cache=False`` neither reads nor writes them.
    """
    models = default_cache().parent / "models" if cache else None
    bundle = load_bundle(DEFAULT_MODEL if path is None else path, cache_dir=models)
    return Model(**{f.name: getattr(bundle, f.name) for f in dataclasses.fields(Bundle) if f.init})


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
) -> Bundle:
    """Fit a :class:`~va_mood.model.estimator.MoodModel` on the whole corpus and wrap it in a
    bundle.

    ``metrics`` (e.g. the report of :func:`va_mood.evaluation.cross_validation.cross_validate`)
    travels with the
    bundle so that anyone who loads it can see how well it did.
    """
    from .model.estimator import model_from_config

    y = targets(labels, config.modes)
    model = model_from_config(config).fit(features, y, groups=labels["group"].to_numpy())
    return Bundle(model, config, spec or LabelSpec(), metrics or {})
