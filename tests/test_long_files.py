"""A long recording: progress within the file, in a worker too, and a sample of its blocks."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

from va_mood.cli import app, progress
from va_mood.config import AnalysisConfig
from va_mood.extraction import long_files
from va_mood.extraction.batch import extract_files

LOW_RATE = 4000
MINUTES = 25
CONFIG = AnalysisConfig(sr=22050)
GROUPS = ["arousal.rms"]


@pytest.fixture(scope="module")
def long_wav(tmp_path_factory: pytest.TempPathFactory) -> str:
    """25 minutes of a tone in noise at 4 kHz, written a minute at a time."""
    path = tmp_path_factory.mktemp("long") / "long.wav"
    rng = np.random.default_rng(0)
    t = np.arange(60 * LOW_RATE) / LOW_RATE
    with sf.SoundFile(path, "w", samplerate=LOW_RATE, channels=1, subtype="PCM_16") as fh:
        for minute in range(MINUTES):
            tone = 0.3 * np.sin(2 * np.pi * (220 + 10 * minute) * t)
            fh.write((tone + 0.05 * rng.standard_normal(len(t))).astype(np.float32))
    return str(path)


class Recorder:
    """A batch's progress: the files done, and each report of a share of a long one."""

    def __init__(self) -> None:
        self.done: list[str] = []
        self.shares: list[tuple[str, float]] = []

    def __call__(self, path: str, error: str | None) -> None:
        assert error is None, error
        self.done.append(path)

    def within(self, path: str, share: float) -> None:
        assert path not in self.done  # never after the file is done
        self.shares.append((path, share))


def test_a_long_file_reports_how_far_through_it_extraction_is(long_wav):
    recorder = Recorder()
    table, errors = extract_files([long_wav], config=CONFIG, groups=GROUPS, jobs=1,
                                  progress=recorder)  # fmt: skip
    assert errors == {} and len(table) == 1 and recorder.done == [long_wav]
    shares = [share for path, share in recorder.shares if path == long_wav]
    assert len(shares) >= 2 * MINUTES  # both passes, a report at least every block
    assert shares == sorted(shares) and 0 < shares[0] < 0.1 and shares[-1] == pytest.approx(1)
    measured = [s for s in shares if s <= 1 / (1 + long_files.ANALYSIS_COST)]
    assert len(measured) >= MINUTES  # the loudness pass is not silent either


def test_a_worker_passes_on_how_far_through_a_long_file_it_is(long_wav, tmp_path):
    short = tmp_path / "short.wav"
    sf.write(short, np.sin(np.arange(2 * 22050) / 7.0).astype(np.float32) * 0.3, 22050)
    recorder = Recorder()
    table, errors = extract_files([long_wav, str(short)], config=CONFIG, groups=GROUPS, jobs=2,
                                  progress=recorder)  # fmt: skip
    assert errors == {} and len(table) == 2
    shares = [share for path, share in recorder.shares if path == long_wav]
    assert len(shares) >= MINUTES and shares == sorted(shares)
    assert all(path == long_wav for path, _ in recorder.shares)  # the short one says nothing


def test_the_progress_line_names_the_long_file_and_how_far_it_is(long_wav, tmp_path, monkeypatch):
    monkeypatch.setattr(progress, "PLAIN_EVERY", 0.0)  # a line per report
    config = tmp_path / "config.toml"
    head = 'mode = "binary"\nestimator = "xgboost"\n'
    config.write_text(
        f'[arousal]\n{head}groups = ["arousal.rms"]\n\n[valence]\n{head}groups = ["arousal.zcr"]\n'
    )
    args = ["extract", long_wav, "-o", str(tmp_path / "f.parquet"), "--config", str(config)]
    result = CliRunner().invoke(app, [*args, "--no-cache", "--jobs", "1", "--max-duration", "0"])
    assert result.exit_code == 0, result.output
    seen = [
        int(p) for p in re.findall(r"extracting: 0/1 files, (\d+) % of long\.wav", result.output)
    ]
    assert len(set(seen)) >= 10 and seen == sorted(seen)
    assert "extracting: 1/1 files" in result.output


def test_a_recording_longer_than_the_analysed_length_has_evenly_spaced_blocks(
    long_wav, monkeypatch
):
    analysed = []
    original = long_files._collect
    monkeypatch.setattr(
        long_files, "_collect", lambda *a, **k: analysed.append(k["f0"]) or original(*a, **k)
    )
    whole = long_files.extract_long(long_wav, config=CONFIG, groups=GROUPS, analysed=None)
    every_block = list(analysed)
    analysed.clear()
    sampled = long_files.extract_long(long_wav, config=CONFIG, groups=GROUPS, analysed=600.0)
    every = math.ceil(MINUTES * 60 / 600.0)
    assert len(every_block) == MINUTES and analysed == every_block[::every]
    assert np.allclose(sampled, whole, **long_files.TOLERANCE)  # the same steady signal
