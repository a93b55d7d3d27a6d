"""Progress: the total and the time left, in a log as on a terminal, for every long job."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from va_mood.cli import app, progress


class Clock:
    """A fake ``time.monotonic``: the seconds are what the test says they are."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now = 0.0
        monkeypatch.setattr(progress.time, "monotonic", lambda: self.now)


def test_a_step_line_says_count_total_failures_and_time_left(monkeypatch):
    clock = Clock(monkeypatch)
    step = progress.Step("extracting", None, "files")
    clock.now = 10.0  # starting up: workers, libraries
    step("a.mp3")
    clock.now = 12.0
    step("b.mp3", "b.mp3: truncated")
    clock.now = 14.0
    step("c.mp3")
    step.set_total(12)
    assert step.line() == "extracting: 3/12 files, 1 failed, 0.5 files/s, about 18 s left"


def test_no_time_left_from_the_start_up_alone(monkeypatch):
    # issue 26: after one file, "about 2 min left" for a job that took 6 s more
    clock = Clock(monkeypatch)
    step = progress.Step("predicting", None, "files")
    step.set_total(12)
    clock.now = 10.0  # the first file comes back after the workers started
    step("0.wav")
    assert step.line() == "predicting: 1/12 files"  # no rate, no time left yet
    for k in range(1, 6):
        clock.now = 10.0 + 0.5 * k
        step(f"{k}.wav")
    assert step.line() == "predicting: 6/12 files, 2.0 files/s, about 3 s left"


def test_a_pause_after_files_from_the_cache_measures_the_rate_afresh(monkeypatch):
    clock = Clock(monkeypatch)
    step = progress.Step("predicting", 120, "files")
    for k in range(100):  # read from the cache in half a second
        clock.now = 0.005 * k
        step(f"cached_{k}.wav")
    for k in range(5):  # the workers start, then a file a second
        clock.now = 5.0 + k
        step(f"new_{k}.wav")
    assert step.line() == "predicting: 105/120 files, 1.0 files/s, about 15 s left"


def test_a_long_file_on_its_way_is_named_with_its_share(monkeypatch):
    clock = Clock(monkeypatch)
    step = progress.Step("predicting", 1, "files")
    for k in range(1, 20):
        clock.now = 3.0 + k
        step.within("/music/long.wav", 0.02 * k)
    assert step.line() == "predicting: 0/1 files, 38 % of long.wav, 0.02 files/s, about 31 s left"
    step("/music/long.wav")
    assert step.line().startswith("predicting: 1/1 files, ")


def test_a_plain_log_shows_a_long_file_every_ten_seconds(monkeypatch, capsys):
    clock = Clock(monkeypatch)
    step = progress._PlainStep("predicting", 1, "files")
    for second in range(1, 31):  # the share of one long file, reported every second
        clock.now = float(second)
        step.within("long.wav", second / 100)
    lines = capsys.readouterr().err.splitlines()
    assert [line.split(", ")[1] for line in lines] == ["10 % of long.wav", "20 % of long.wav",
                                                       "30 % of long.wav"]  # fmt: skip


@pytest.mark.parametrize("command", ["evaluate", "train"])
def test_a_logged_corpus_job_prints_plain_progress_with_totals(
    command, corpus, tmp_path, monkeypatch
):
    monkeypatch.setattr(progress, "PLAIN_EVERY", 0.0)  # a line per step
    args = [command, "--labels", corpus.labels_csv, "--audio", corpus.audio]
    args += ["--config", corpus.config, "--labels-spec", corpus.spec, "--cache", corpus.cache]
    if command == "train":
        args += ["-o", tmp_path / "model"]
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    n = len(corpus.rows)
    assert f"extracting: {n}/{n} files" in result.output
    assert "cross-validating: 3/3 folds" in result.output
    assert "/?" not in result.output
    if command == "train":
        assert f"training on {n} clips: done in" in result.output
