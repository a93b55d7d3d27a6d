"""Progress: the total and the time left, in a log as on a terminal, for every long job."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from va_mood.cli import app, progress


def test_a_step_line_says_count_total_failures_and_time_left(monkeypatch):
    clock = iter([0.0, 10.0, 10.0])
    monkeypatch.setattr(progress.time, "monotonic", lambda: next(clock))
    step = progress.Step("extracting", None, "files")
    step("a.mp3")
    step("b.mp3", "b.mp3: truncated")
    step.set_total(12)
    assert step.line() == "extracting: 2/12 files, 1 failed, 0.2 files/s, about 50 s left"


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
