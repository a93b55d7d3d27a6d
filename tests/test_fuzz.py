"""Fuzzing: random bytes into the loader, random arrays into the extractors.

The only acceptable outcomes are finite results or the package's own errors.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from va_mood.audio.decode import load
from va_mood.config import AnalysisConfig
from va_mood.errors import VaMoodError
from va_mood.features import REGISTRY, columns_for, extract_clip

SR = 8000
CONFIG = AnalysisConfig(sr=SR, n_fft=512, hop_length=128, n_bins=48, tempogram_win_length=64)
GROUPS = list(REGISTRY)
N_COLUMNS = len(columns_for(GROUPS))

FUZZ = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@FUZZ
@given(data=st.binary(max_size=4096), suffix=st.sampled_from([".mp3", ".wav", ".ogg", ".flac"]))
def test_loader_on_random_bytes(tmp_path, data, suffix):
    path = tmp_path / f"fuzz{suffix}"
    path.write_bytes(data)
    try:
        y, sr = load(path, sr=SR)
    except VaMoodError as exc:
        assert str(path) in str(exc)
        return
    assert sr == SR
    assert np.all(np.isfinite(y))


@FUZZ
@given(
    data=st.binary(min_size=1, max_size=2048),
    offset=st.integers(min_value=0, max_value=200),
)
def test_loader_on_corrupted_wav(tmp_path, data, offset):
    """A valid WAV with a stretch of its bytes overwritten: decoded finite, or refused."""
    import soundfile as sf

    path = tmp_path / "x.wav"
    sf.write(path, np.sin(np.arange(SR) / 5.0) * 0.5, SR)
    raw = bytearray(path.read_bytes())
    raw[offset : offset + len(data)] = data
    path.write_bytes(bytes(raw))
    try:
        y, _ = load(path, sr=SR)
    except VaMoodError:
        return
    assert np.all(np.isfinite(y))


special = st.sampled_from([np.nan, np.inf, -np.inf, 1e30, -1e30, 0.0, 1.0, -1.0])
values = st.one_of(st.floats(-1e6, 1e6, allow_nan=False, width=32), special)


@FUZZ
@given(y=arrays(np.float32, st.integers(min_value=0, max_value=3 * SR), elements=values))
def test_extractors_on_random_arrays(y):
    try:
        out = extract_clip(y, SR, config=CONFIG, groups=GROUPS)
    except VaMoodError:
        return
    assert out.shape == (N_COLUMNS,)
    assert np.all(np.isfinite(out))


@pytest.mark.parametrize("n", [0, 1, 100])
def test_extractors_refuse_too_short_input(n):
    with pytest.raises(VaMoodError, match="too short"):
        extract_clip(np.zeros(n, dtype=np.float32), SR, config=CONFIG, groups=GROUPS)


def test_harmonicity_when_the_cqt_has_one_frame_more():
    """A length the fuzz test found: the CQT gives one frame more than the STFT."""
    out = extract_clip(
        np.zeros(17535, np.float32), SR, config=CONFIG, groups=["valence.harmonicity"]
    )
    assert np.all(np.isfinite(out))
