"""The few calls an application needs: load a model, predict files, build a corpus, train.

Examples
--------
>>> import va_mood
>>> model = va_mood.load_model()  # the shipped default  # doctest: +SKIP
>>> model.predict_files(["song.mp3"])[["valence", "arousal", "mood"]]  # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from .bundle import Bundle, load_bundle
from .config import Config, LabelSpec
from .errors import LabelsError
from .extract import extract_files
from .labels import load_labels, match_audio, targets
from .model import model_from_config

__all__ = ["DEFAULT_MODEL", "load_model", "load_corpus", "train"]

DEFAULT_MODEL = Path(__file__).parent / "models" / "default"
"""The shipped default model bundle (trained on the 4Q clips, see its MODEL_CARD.md)."""


def load_model(path: str | os.PathLike | None = None) -> Bundle:
    """Load a model bundle; with no ``path``, the shipped default model."""
    return load_bundle(DEFAULT_MODEL if path is None else path)


def load_corpus(
    labels_csv: str | os.PathLike,
    audio_dir: str | os.PathLike,
    *,
    config: Config,
    spec: LabelSpec | None = None,
    jobs: int | None = None,
    cache_dir: str | os.PathLike | None = None,
    progress: Callable[[str, str | None], None] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Labels and features of a labelled corpus, aligned by id.

    Returns ``(features, labels, problems)``: the rows that have both valid labels and
    readable audio, and one message per bad labels row (dropped), labelled id without audio,
    unreadable file, or batch of unlabelled audio. Raises :class:`LabelsError` when nothing
    usable remains.
    """
    spec = spec or LabelSpec()
    labels = load_labels(labels_csv, spec, drop_bad_rows=True)
    dropped = labels.attrs["problems"]
    labels, missing = match_audio(labels, audio_dir, spec)
    problems = dropped + missing
    features, errors = extract_files(
        labels["path"].tolist(),
        config=config.analysis,
        groups=config.groups,
        jobs=jobs,
        cache_dir=cache_dir,
        progress=progress,
    )
    problems += list(errors.values())
    labels = labels[labels["path"].isin(features.index)]
    if labels.empty:
        raise LabelsError(f"{labels_csv}: no labelled clip with readable audio in {audio_dir}")
    features = features.loc[labels["path"]]
    features.index = labels.index
    return features, labels, problems


def train(
    features: pd.DataFrame,
    labels: pd.DataFrame,
    config: Config,
    *,
    spec: LabelSpec | None = None,
    metrics: dict[str, Any] | None = None,
) -> Bundle:
    """Fit a :class:`~va_mood.model.MoodModel` on the whole corpus and wrap it in a bundle.

    ``metrics`` (e.g. the report of :func:`va_mood.evaluate.cross_validate`) travels with the
    bundle so that anyone who loads it can see how well it did.
    """
    modes = {"valence": config.valence.mode, "arousal": config.arousal.mode}
    model = model_from_config(config).fit(features, targets(labels, modes))
    return Bundle(model, config, spec or LabelSpec(), metrics or {})
