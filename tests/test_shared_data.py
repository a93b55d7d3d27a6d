"""Checks on the real development data in ../shared/data (skipped when it is absent)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from va_mood.config import load_config, load_label_spec
from va_mood.extraction.batch import extract_files
from va_mood.features import columns_for
from va_mood.labels.files import load_labels, match_audio

REPO = Path(__file__).resolve().parents[1]
SPECS = {"4q": "4q.toml", "emomusic10": "emomusic10.toml"}
LABEL_FILES = {"4q": "labels.csv", "emomusic10": "static_annotations.csv"}


def test_extract_three_real_clips(shared_data):
    spec = load_label_spec(REPO / "configs" / "labels" / "4q.toml")
    labels = load_labels(shared_data / "4q" / "labels.csv", spec)
    # one clip from each of three quadrants
    ids = [labels.index[labels["quadrant"] == q][0] for q in ("Q1", "Q2", "Q3")]
    matched, _ = match_audio(labels.loc[ids], shared_data / "4q" / "audio", spec)
    config = load_config(REPO / "configs" / "default.toml")
    table, errors = extract_files(
        matched["path"].tolist(), config=config.analysis, groups=config.groups
    )
    assert errors == {}
    assert table.shape == (3, len(columns_for(config.groups)))
    assert list(table.index) == matched["path"].tolist()
    assert np.isfinite(table.to_numpy()).all()
    # real music is not silence: loudness and chroma vary between the clips
    assert table["arousal.rms.mean"].nunique() == 3
    assert (table.filter(like="valence.chroma_").to_numpy() > 0).any(axis=1).all()


@pytest.mark.parametrize("name", sorted(SPECS))
def test_load_real_labels(shared_data, name):
    spec = load_label_spec(REPO / "configs" / "labels" / SPECS[name])
    labels = load_labels(shared_data / name / LABEL_FILES[name], spec)
    assert len(labels) == {"4q": 540, "emomusic10": 10}[name]
    assert labels.index.is_unique
    assert labels[["valence", "arousal"]].abs().to_numpy().max() <= 1.0
    assert set(labels["quadrant"]) <= {"Q1", "Q2", "Q3", "Q4"}
    _, problems = match_audio(labels, shared_data / name / "audio", spec)
    assert [p for p in problems if "no audio for labelled id" in p] == []
