"""Files whose headers lie: refused before decoding, in bounded time and memory, one line each.

Every crafted file is generated here; none is committed.
"""

from __future__ import annotations

import struct
import tracemalloc
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from va_mood.audio.decode import MAX_RATE, MIN_RATE, load, stream
from va_mood.cli import EXIT_PARTIAL, app
from va_mood.errors import AudioError
from va_mood.extraction.batch import extract_files
from va_mood.features.analysis import AnalysisConfig

SR = 8000
CONFIG = AnalysisConfig(sr=SR, n_fft=512, hop_length=128, n_bins=48, tempogram_win_length=64)
GROUPS = ["arousal.rms"]
MEMORY_LIMIT = 256 * 2**20
"""Most a crafted file may allocate (numpy arrays and Python objects) while it is extracted."""


def wav_bytes(
    rate: int, channels: int, data_size: int, payload: bytes, *, bits: int = 16, fmt_tag: int = 1
) -> bytes:
    """A RIFF/WAVE file whose header fields say what the caller wants, true or not."""
    block = channels * bits // 8
    fmt = struct.pack(
        "<HHIIHH", fmt_tag, channels, rate, (rate * block) & 0xFFFFFFFF, block & 0xFFFF, bits
    )
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", data_size & 0xFFFFFFFF) + payload
    return b"RIFF" + struct.pack("<I", len(body) & 0xFFFFFFFF) + body


def tone_bytes(seconds: float, rate: int = SR) -> bytes:
    """16-bit mono samples of a quiet 440 Hz tone."""
    t = np.arange(int(seconds * rate)) / rate
    return (3000 * np.sin(2 * np.pi * 440 * t)).astype("<i2").tobytes()


def flac_bytes(tmp: Path, rate: int, channels: int, total: int, seconds: float = 1.0) -> bytes:
    """A real FLAC file whose STREAMINFO then claims ``rate``, ``channels`` and ``total``
    samples (its frames still say what they hold)."""
    sf.write(tmp, np.sin(np.arange(int(seconds * SR)) / 3.0) * 0.3, SR, format="FLAC")
    raw = bytearray(tmp.read_bytes())
    assert raw[:4] == b"fLaC" and raw[4] & 0x7F == 0  # STREAMINFO first
    info = 8  # 4 magic + 4 block header
    packed = int.from_bytes(raw[info + 10 : info + 18], "big")
    bps = (packed >> 36) & 0x1F
    packed = ((rate & 0xFFFFF) << 44) | (((channels - 1) & 7) << 41) | (bps << 36)
    packed |= total & (2**36 - 1)
    raw[info + 10 : info + 18] = packed.to_bytes(8, "big")
    return bytes(raw)


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_one_hertz_header_is_refused_before_decoding(tmp_path):
    """The issue's file: a tone whose header says 1 Hz reads as hours of audio."""
    path = write(tmp_path / "slow.wav", wav_bytes(1, 1, 2 * 8000 * 3, tone_bytes(3.0)))
    with pytest.raises(AudioError, match=r"slow\.wav: header declares a sample rate of 1 Hz"):
        load(path)
    with pytest.raises(AudioError, match="sample rate of 1 Hz"):
        next(stream(path))


@pytest.mark.parametrize("rate", [MIN_RATE - 1, MAX_RATE + 1, 50_000_000])
def test_implausible_rates_are_named(tmp_path, rate):
    path = write(tmp_path / "odd.wav", wav_bytes(rate, 1, 2 * SR, tone_bytes(1.0)))
    with pytest.raises(AudioError, match=f"sample rate of {rate} Hz"):
        load(path)


def test_too_many_channels(tmp_path):
    path = write(tmp_path / "wide.wav", wav_bytes(SR, 200, 400 * 200, bytes(400 * 200)))
    with pytest.raises(AudioError, match="200 channels"):
        load(path)


def test_flac_claiming_more_than_its_size_holds(tmp_path):
    """A 1-second FLAC whose STREAMINFO claims 2 hours of 8-channel audio."""
    path = write(tmp_path / "big.flac", flac_bytes(tmp_path / "t.flac", 48000, 8, 48000 * 7200))
    with pytest.raises(AudioError, match="more than its .* bytes can hold"):
        load(path)


def test_max_duration_refuses_long_recordings_and_can_be_raised(tmp_path):
    path = write(tmp_path / "three.wav", wav_bytes(SR, 1, 2 * SR * 3, tone_bytes(3.0)))
    with pytest.raises(AudioError, match=r"three\.wav: 3\.0 s long, over the limit of 2\.0 s"):
        load(path, longest=2.0)
    with pytest.raises(AudioError, match="over the limit"):
        next(stream(path, longest=2.0))
    assert len(load(path, sr=SR, longest=None)[0]) == 3 * SR
    assert len(load(path, sr=SR, longest=2.0, max_duration=1.5)[0]) == int(1.5 * SR)


def test_batch_goes_on_with_one_line_per_faked_file(tmp_path):
    good = write(tmp_path / "good.wav", wav_bytes(SR, 1, 2 * SR * 2, tone_bytes(2.0)))
    slow = write(tmp_path / "slow.wav", wav_bytes(1, 1, 2 * SR * 2, tone_bytes(2.0)))
    fast = write(tmp_path / "fast.wav", wav_bytes(4_000_000, 1, 2 * SR * 2, tone_bytes(2.0)))
    table, errors = extract_files([good, slow, fast], config=CONFIG, groups=GROUPS, jobs=1)
    assert list(table.index) == [str(good)]
    assert set(errors) == {str(slow), str(fast)}
    assert all("\n" not in m for m in errors.values())
    assert "too short" not in errors[str(fast)]


def test_cli_max_duration(tmp_path):
    clip = tmp_path / "clip.wav"
    sf.write(clip, np.sin(np.arange(3 * 22050) / 7.0) * 0.3, 22050)
    short = tmp_path / "short.wav"
    sf.write(short, np.sin(np.arange(22050) / 7.0) * 0.3, 22050)
    args = ["predict", str(clip), str(short), "--no-cache", "--jobs", "1", "--format", "csv"]
    result = CliRunner().invoke(app, [*args, "--max-duration", "2"])
    assert result.exit_code == EXIT_PARTIAL, result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    expected = f"error: {clip}: 3.0 s long, over the limit of 2.0 s (--max-duration raises it)"
    assert lines == [expected]
    assert str(short) in result.stdout


FUZZ = settings(
    max_examples=40,
    deadline=timedelta(seconds=60),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
rates = st.one_of(
    st.integers(0, 2**32 - 1), st.sampled_from([1, 100, MIN_RATE, 8000, 44100, MAX_RATE])
)


def _row_or_one_line(path: Path) -> None:
    """Extract ``path``: one row, or one error line naming it; within the memory bound."""
    tracemalloc.start()
    try:
        table, errors = extract_files([path], config=CONFIG, groups=GROUPS, jobs=1)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < MEMORY_LIMIT
    if errors:
        assert table.empty
        (message,) = errors.values()
        assert str(path) in message and "\n" not in message
    else:
        assert len(table) == 1 and np.all(np.isfinite(table.to_numpy()))


@FUZZ
@given(
    rate=rates,
    channels=st.integers(0, 2**16 - 1),
    data_size=st.one_of(st.integers(0, 2**32 - 1), st.just(2 * SR)),
    bits=st.sampled_from([8, 16, 24, 32, 0, 7]),
    seconds=st.sampled_from([0.0, 0.2, 1.0, 2.0]),
)
def test_fuzzed_wav_headers(tmp_path, rate, channels, data_size, bits, seconds):
    path = write(
        tmp_path / "fuzz.wav", wav_bytes(rate, channels, data_size, tone_bytes(seconds), bits=bits)
    )
    _row_or_one_line(path)


@FUZZ
@given(
    rate=st.one_of(st.integers(0, 2**20 - 1), st.sampled_from([1, SR, 44100, 655350])),
    channels=st.integers(1, 8),
    total=st.one_of(st.integers(0, 2**36 - 1), st.sampled_from([0, SR, 10 * SR])),
)
def test_fuzzed_flac_headers(tmp_path, rate, channels, total):
    path = write(tmp_path / "fuzz.flac", flac_bytes(tmp_path / "t.flac", rate, channels, total))
    _row_or_one_line(path)
