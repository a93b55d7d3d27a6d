"""Faded edges: a clip's fade in and out are left out of its analysis, so that the clip and
an excerpt of its middle are summarised alike; windows and older settings are unchanged."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from va_mood.audio.loudness import FADE_SECONDS, LoudnessMeter
from va_mood.extraction.segments import extract_windows
from va_mood.features import extract_clip
from va_mood.features.analysis import AS_BEFORE, AnalysisConfig, analysis_of
from va_mood.features.registry import REGISTRY, feature_fingerprint

SR = 22050


def _noise(seconds: float, seed: int = 0) -> np.ndarray:
    return 0.1 * np.random.default_rng(seed).standard_normal(int(seconds * SR))


def _span(y: np.ndarray, gate: float = 6.0) -> tuple[float, float]:
    meter = LoudnessMeter(SR)
    meter.add(y)
    start, stop = meter.unfaded(gate, FADE_SECONDS)
    return start / SR, stop / SR


def test_a_quiet_lead_in_and_tail_are_found():
    y = np.concatenate([0.01 * _noise(2.0), _noise(10.0, 1), 0.01 * _noise(1.0, 2)])
    assert _span(y) == (2.0, 12.0)  # on the 100 ms steps the loudness is measured on


def test_a_linear_fade_is_cut_where_it_is_6_lu_down():
    y = _noise(12.0)
    ramp = np.linspace(0.0, 1.0, int(2.0 * SR))
    y[: len(ramp)] *= ramp
    y[-len(ramp) :] *= ramp[::-1]
    start, stop = _span(y)
    # the ramp is 6 dB down at 1 s (amplitude 0.5 of 2 s), a little less below the
    # integrated loudness, which the fades lower a little
    assert 0.7 <= start <= 1.0
    assert 11.0 <= stop <= 11.3


def test_a_pause_shorter_than_half_a_second_is_not_a_fade():
    y = np.concatenate([0.001 * _noise(0.4), _noise(8.0, 1), 0.001 * _noise(0.3, 2)])
    assert _span(y) == (0.0, len(y) / SR)
    y = np.concatenate([0.001 * _noise(0.6), _noise(8.0, 1), 0.001 * _noise(0.6, 2)])
    assert _span(y) == (0.6, 8.6)


def test_music_without_fades_is_kept_whole():
    y = _noise(7.3)
    assert _span(y) == (0.0, len(y) / SR)
    assert _span(np.zeros(3 * SR)) == (0.0, 3.0)  # silence: nothing to measure against


@pytest.mark.parametrize(("quiet", "loud", "cut"), [(6.0, 10.0, FADE_SECONDS), (1.5, 2.5, 1.0)])
def test_at_most_three_seconds_and_a_quarter_are_cut_per_end(quiet, loud, cut):
    y = np.concatenate([0.001 * _noise(quiet), _noise(loud, 1)])
    assert _span(y)[0] == pytest.approx(cut, abs=1 / SR)


def _faded(seconds: float = 12.0) -> np.ndarray:
    y = np.tile(_noise(0.5), int(seconds * 2)) * (1 + 0.5 * np.sin(np.arange(int(seconds * SR))))
    ramp = np.linspace(0.0, 1.0, int(1.5 * SR)) ** 2
    y[: len(ramp)] *= ramp
    y[-len(ramp) :] *= ramp[::-1]
    return y.astype(np.float32)


def test_a_faded_clip_and_its_middle_have_nearly_the_same_loudness_spread():
    y = _faded()
    middle = y[3 * SR : 9 * SR]
    std = REGISTRY["arousal.rms"].columns.index("arousal.rms.std")

    def spread(x: np.ndarray, gate: float | None) -> float:
        config = AnalysisConfig(sr=SR, fade_gate=gate)
        return extract_clip(x, SR, config=config, groups=["arousal.rms"])[std]

    kept = spread(y, None) - spread(middle, None)
    cut = spread(y, 6.0) - spread(middle, 6.0)
    assert kept > 5.0  # the fades spread the frame levels by decibels
    assert 0.0 <= cut < kept / 5


def test_windows_keep_every_sample_in_its_place():
    y = _faded()
    config = AnalysisConfig(sr=SR, fade_gate=10.0)
    assert len(analysis_of(y, SR, config).y) < len(y)
    assert len(analysis_of(y, SR, config, whole=False).y) == len(y)
    kept = dataclasses.replace(config, fade_gate=None)
    cut, same = (
        extract_windows(y, SR, config=c, groups=["arousal.rms"], segment=4.0)[0]
        for c in (config, kept)
    )
    np.testing.assert_array_equal(cut, same)


def test_the_fingerprint_changes_only_when_fades_are_cut():
    groups = ("arousal.rms",)
    config = AnalysisConfig()
    before = {k: v for k, v in dataclasses.asdict(config).items() if k not in AS_BEFORE}
    assert config.fingerprint(groups) == feature_fingerprint(before, groups)
    assert dataclasses.replace(config, fade_gate=10.0).fingerprint(groups) != config.fingerprint(
        groups
    )
