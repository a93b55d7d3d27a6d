"""Shared fixtures: a tiny synthetic labelled corpus, its configs, and the real data when present.

The corpus is built so the article's features can learn it: high arousal is loud, bright noise
bursts at 150 BPM over staccato chords; low arousal is quiet, slow, sustained tones; positive
valence is a major triad, negative valence a dissonant cluster. Twelve fake artists, two clips
each (same quadrant), so grouped 3-fold cross-validation has groups to split.
"""

from __future__ import annotations

import csv
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import soundfile as sf

REPO = Path(__file__).resolve().parents[1]
SR = 22050
QUADRANTS = ("Q1", "Q2", "Q3", "Q4")
CLIPS_PER_QUADRANT = 6

ARTICLE_GROUPS = (
    '["arousal.tempogram", "arousal.rms", "arousal.zcr", "arousal.contrast"]',
    '["valence.chroma", "valence.cqt", "valence.tonnetz"]',
)


def _head(mode: str, groups: str) -> str:
    return (
        f'mode = "{mode}"\ngroups = {groups}\nestimator = "xgboost"\n'
        "params = { n_estimators = 20, max_depth = 2, learning_rate = 0.3 }\n"
    )


def config_toml(mode: str = "binary") -> str:
    """A fast test configuration: the article's feature split, small xgboost heads."""
    return (
        "seed = 7\n\n[arousal]\n"
        + _head(mode, ARTICLE_GROUPS[0])
        + "\n[valence]\n"
        + _head(mode, ARTICLE_GROUPS[1])
        + "\n[evaluation]\nn_splits = 3\nn_repeats = 1\n"
    )


LABEL_SPEC_TOML = """\
id_column = "song_id"
quadrant_column = "quadrant"
valence_column = "valence"
arousal_column = "arousal"
group_column = "artist"
scale_min = 1.0
scale_max = 9.0
centre = 5.0
audio_pattern = "{id}.wav"
"""


def synth_clip(quadrant: str, rng: np.random.Generator, *, duration: float = 2.5) -> np.ndarray:
    """One mono clip whose loudness/pulse says arousal and whose harmony says valence."""
    n = int(SR * duration)
    t = np.arange(n) / SR
    positive = quadrant in ("Q1", "Q4")
    high = quadrant in ("Q1", "Q2")
    root = 261.63 * 2 ** (rng.integers(0, 3) / 12)  # C4, Db4 or D4
    semitones = (0, 4, 7, 12) if positive else (0, 1, 2, 6)  # major triad / dissonant cluster
    chord = sum(np.sin(2 * np.pi * root * 2 ** (s / 12) * t) for s in semitones) / len(semitones)
    if high:
        beat = 60.0 / 150.0
        phase = (t % beat) / beat
        envelope = np.exp(-6.0 * phase)  # staccato chord on every beat
        bursts = np.zeros(n)
        burst_len = int(0.03 * SR)
        for start in np.arange(0, n - burst_len, int(beat * SR)):
            bursts[start : start + burst_len] = rng.standard_normal(burst_len) * np.exp(
                -np.arange(burst_len) / (0.008 * SR)
            )
        bright = np.diff(rng.standard_normal(n + 1))  # white noise tilted up: bright hiss
        y = 0.5 * envelope * chord + 0.6 * bursts + 0.05 * bright
    else:
        envelope = np.minimum(1.0, np.minimum(t, t[-1] - t) / 0.8)  # slow fade in and out
        y = 0.06 * envelope * chord
    return np.clip(y, -1.0, 1.0).astype(np.float32)


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """24 WAV clips in 4 quadrants by 12 artists, a 4Q-style labels.csv, and test configs."""
    root = tmp_path_factory.mktemp("corpus")
    audio = root / "audio"
    audio.mkdir()
    rng = np.random.default_rng(1234)
    rows = []
    for qi, quadrant in enumerate(QUADRANTS):
        for k in range(CLIPS_PER_QUADRANT):
            song_id = f"{quadrant.lower()}_{k:02d}"
            duration = 2.0 + 0.5 * (k % 3)
            sf.write(audio / f"{song_id}.wav", synth_clip(quadrant, rng, duration=duration), SR)
            positive = quadrant in ("Q1", "Q4")
            high = quadrant in ("Q1", "Q2")
            rows.append(
                {
                    "song_id": song_id,
                    "quadrant": quadrant,
                    "valence": round((7.0 if positive else 3.0) + rng.uniform(-1, 1), 3),
                    "arousal": round((7.0 if high else 3.0) + rng.uniform(-1, 1), 3),
                    "artist": f"artist_{qi * 3 + k // 2:02d}",
                }
            )
    labels_csv = root / "labels.csv"
    with labels_csv.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    spec = root / "labels_spec.toml"
    spec.write_text(LABEL_SPEC_TOML)
    config = root / "config.toml"
    config.write_text(config_toml("binary"))
    regression = root / "regression.toml"
    regression.write_text(config_toml("regression"))
    return SimpleNamespace(
        root=root,
        audio=audio,
        labels_csv=labels_csv,
        spec=spec,
        config=config,
        regression=regression,
        cache=root / "cache",
        rows=rows,
        paths=sorted(audio.glob("*.wav")),
    )


@pytest.fixture(scope="session")
def corpus_data(corpus: SimpleNamespace) -> tuple:
    """(features, labels, config) of the synthetic corpus, extracted once per session."""
    from va_mood.api import load_corpus
    from va_mood.config import load_config, load_label_spec

    config = load_config(corpus.config)
    features, labels, problems = load_corpus(
        corpus.labels_csv,
        corpus.audio,
        config=config,
        spec=load_label_spec(corpus.spec),
        cache_dir=corpus.cache,
    )
    assert problems == []
    return features, labels, config


@pytest.fixture(scope="session")
def trained_bundle(corpus_data: tuple, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A bundle trained on the synthetic corpus with the test config, saved once per session."""
    from va_mood.api import train
    from va_mood.model.bundle import save_bundle

    features, labels, config = corpus_data
    path = tmp_path_factory.mktemp("bundles") / "synthetic"
    save_bundle(train(features, labels, config), path)
    return path


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real development data in ../shared/data, or a skip when this checkout lacks it."""
    path = (Path(__file__).parents[1] / ".." / "shared" / "data").resolve()
    if not path.is_dir():
        pytest.skip(f"real data not available: {path} (../shared/data beside the clone) is absent")
    return path


@pytest.fixture()
def scratch_registry():
    """Groups a test registers are forgotten after it."""
    from va_mood.features.registry import REGISTRY

    saved = dict(REGISTRY)
    yield REGISTRY
    REGISTRY.clear()
    REGISTRY.update(saved)


@pytest.fixture(autouse=True, scope="session")
def user_folders(tmp_path_factory: pytest.TempPathFactory):
    """The tests' own per-user cache and data folders: nothing is written to the real ones."""
    import os

    home = tmp_path_factory.mktemp("user")
    saved = {k: os.environ.get(k) for k in ("XDG_CACHE_HOME", "XDG_DATA_HOME")}
    os.environ["XDG_CACHE_HOME"] = str(home / "cache")
    os.environ["XDG_DATA_HOME"] = str(home / "data")
    yield home
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
