"""The pre-trained tagger: numpy forward pass against musicnn's own TensorFlow outputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from va_mood.audio.decode import load
from va_mood.config import AnalysisConfig
from va_mood.extraction.segments import WindowView
from va_mood.features import REGISTRY, analysis_of, extract_clip, musicnn

REFERENCE = Path(__file__).parent / "data" / "musicnn_reference.npz"
SR = 22050


@pytest.fixture(scope="module")
def reference():
    with np.load(REFERENCE, allow_pickle=False) as stored:
        return {k: stored[k] for k in stored.files}


def test_forward_reproduces_tensorflow(reference):
    # tools/convert_musicnn.py ran musicnn's TensorFlow graph on these patches of a shipped clip
    for patch, tags, penultimate in zip(
        reference["patches"], reference["tags"], reference["penultimate"], strict=True
    ):
        ours_tags, ours_penultimate = musicnn.forward(patch)
        np.testing.assert_allclose(ours_tags, tags, atol=1e-4)
        np.testing.assert_allclose(ours_penultimate, penultimate, atol=1e-3)
    # and the reference is no constant: its patches are told apart
    assert np.abs(np.diff(reference["tags"], axis=0)).max() > 0.01


def test_log_mel_of_shipped_clip_matches_reference_input(reference):
    clip = Path(__file__).parents[1] / "data" / "examples" / "macleod_slow_burn.mp3"
    y, _ = load(clip, sr=SR, max_duration=9.0)
    rep = musicnn.log_mel(y, SR)
    ours = musicnn.patches(rep, musicnn.patch_starts(len(rep)))
    assert ours.shape == reference["patches"].shape
    # decoded at 22.05 kHz, then resampled to 16 kHz: close to a direct 16 kHz decode
    assert np.abs(ours - reference["patches"]).mean() < 0.05


def test_patches_back_to_back_then_spread_and_short_input_repeated():
    rep = np.arange(400 * 96, dtype=np.float32).reshape(400, 96)
    starts = musicnn.patch_starts(len(rep))
    np.testing.assert_array_equal(starts, [0, 187])  # the 26-frame tail is left out
    p = musicnn.patches(rep, starts)
    assert p.shape == (2, 187, 96)
    np.testing.assert_array_equal(p[1, 0], rep[187])
    # a 5-minute file: 100 patch places, 10 analysed, first and last included, evenly spaced
    spread = musicnn.patch_starts(100 * 187 + 50)
    assert len(spread) == musicnn.MAX_PATCHES
    assert spread[0] == 0 and spread[-1] == 99 * 187
    assert np.ptp(np.diff(spread)) <= 187
    short = musicnn.patches(rep[:50], musicnn.patch_starts(50))
    assert short.shape == (1, 187, 96)
    np.testing.assert_array_equal(short[0, 50], rep[0])  # repeated from the start, bands aligned
    assert musicnn.patches(rep[:0], musicnn.patch_starts(0)).shape == (1, 187, 96)


def test_frame_series_lays_patches_on_the_analysis_grid():
    rng = np.random.default_rng(0)
    y = rng.standard_normal(int(7.5 * SR)).astype(np.float32) * 0.1
    n_frames = 1 + len(y) // 512
    tags, embedding = musicnn.frame_series(y, SR, n_frames, 512)
    assert tags.shape == (50, n_frames) and embedding.shape == (200, n_frames)
    assert np.all((tags > 0) & (tags < 1))
    # two whole patches in 7.5 s; the frames of the last 1.5 s carry the second patch
    patch_seconds = musicnn.PATCH_FRAMES * musicnn.HOP / musicnn.SR
    boundary = int(np.ceil(patch_seconds * SR / 512))
    np.testing.assert_array_equal(tags[:, 0], tags[:, boundary - 1])
    np.testing.assert_array_equal(tags[:, boundary], tags[:, -1])


def _two_halves() -> np.ndarray:
    """6 s of quiet sustained major chords, then 6 s of loud noise bursts."""
    t = np.arange(6 * SR) / SR
    chords = sum(np.sin(2 * np.pi * f * t) for f in (261.6, 329.6, 392.0)) * 0.1
    rng = np.random.default_rng(1)
    bursts = rng.standard_normal(6 * SR) * (np.sin(2 * np.pi * 2.5 * t) > 0) * 0.5
    return np.concatenate([chords, bursts]).astype(np.float32)


def test_groups_are_named_features_with_tag_names():
    y = _two_halves()
    groups = ["embedding.msd_tags", "embedding.msd_embedding"]
    values = extract_clip(y, SR, config=AnalysisConfig(), groups=groups)
    columns = REGISTRY["embedding.msd_tags"].columns + REGISTRY["embedding.msd_embedding"].columns
    assert len(values) == len(columns) == 50 * 2 + 200
    assert "embedding.msd_tags_sad.mean" in columns
    assert "embedding.msd_embedding_199.mean" in columns
    assert np.all(np.isfinite(values))


def test_windows_hear_their_own_half():
    analysis = analysis_of(_two_halves(), SR, AnalysisConfig())
    group = REGISTRY["embedding.msd_tags"]
    half = len(analysis.y) // 512 // 2
    first = group.compute(WindowView(analysis, 0, half))
    second = group.compute(WindowView(analysis, half, 2 * half))
    means = slice(0, None, 2)  # columns alternate mean, std per tag
    assert np.abs(first[means] - second[means]).max() > 0.1
