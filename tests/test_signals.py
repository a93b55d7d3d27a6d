"""SIGTERM and SIGINT stop a batch cleanly: workers stopped, finished files kept (in the cache,
or written to the output marked incomplete), exit 130, and the last line says which."""

from __future__ import annotations

import functools
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "examples"


def _children(pid: int) -> set[int]:
    found = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        text = (task / "children").read_text() if (task / "children").exists() else ""
        found |= {int(p) for p in text.split()}
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_the_workers_keeps_finished_files_and_exits_130(signum, tmp_path):
    music = tmp_path / "music"
    music.mkdir()
    for i in range(24):  # enough that a fast machine is still busy after the first 10 s line
        for clip in sorted(EXAMPLES.glob("*.mp3")):
            shutil.copy(clip, music / f"{i}_{clip.name}")
    cache = tmp_path / "cache"
    command = [sys.executable, "-m", "va_mood.cli", "extract", str(music), "-o",
               str(tmp_path / "f.parquet"), "--jobs", "2", "--cache", str(cache)]  # fmt: skip
    # a shell's background job inherits SIGINT ignored, and then Ctrl-C is meant to pass it by:
    # the child gets SIGINT's default back, as in the terminal whose Ctrl-C this test plays
    restore = functools.partial(signal.signal, signal.SIGINT, signal.SIG_DFL)
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, preexec_fn=restore)
    deadline = time.monotonic() + 120
    workers: set[int] = set()
    while time.monotonic() < deadline and len(workers) < 2:
        workers = _children(process.pid)
        time.sleep(0.2)
    seen, done = [], None
    for line in process.stderr:  # a progress line every 10 s: wait until a file is finished
        seen.append(line)
        done = re.match(r"extracting: (\d+)/", line)
        if done and int(done.group(1)) >= 1:  # fewer than a checkpoint's worth
            break
    assert done, f"the batch ended before its first progress line: {''.join(seen)}"
    process.send_signal(signum)
    _, rest = process.communicate(timeout=60)
    stderr = "".join(seen) + rest
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("error: interrupted; ") and f"feature cache {cache}" in last
    assert last.endswith("(run the same command again to resume)")  # true: there is a cache
    time.sleep(0.5)
    assert workers and not [pid for pid in workers if _alive(pid)]  # no orphan left running
    rows = sum(1 for _ in cache.rglob("*.parquet"))
    assert rows >= 1  # what finished before the signal was saved
    again = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr


def test_a_cache_that_cannot_be_written_is_a_warning_and_the_results_are_kept(tmp_path):
    from typer.testing import CliRunner

    from va_mood.cli import app

    cache = tmp_path / "cache"
    cache.mkdir()
    cache.chmod(0o500)
    if os.access(cache, os.W_OK):
        cache.chmod(0o700)
        cache = tmp_path / "not_a_folder"
        cache.write_text("a file where the cache folder should be")
    out = tmp_path / "moods.csv"
    args = ["predict", str(EXAMPLES / "macleod_hustle.mp3"), "-f", "csv", "-o", str(out)]
    result = CliRunner().invoke(app, [*args, "--cache", str(cache)])
    assert result.exit_code == 0, result.output
    assert "warning: " in result.output and "cannot write the feature cache" in result.output
    assert "the results are kept" in result.output
    assert len(out.read_text().splitlines()) == 2


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
def test_an_interrupt_without_a_cache_writes_the_finished_rows_marked_incomplete(tmp_path):
    import numpy as np
    import soundfile as sf

    music = tmp_path / "music"
    music.mkdir()
    t = np.arange(20 * 22050) / 22050
    sf.write(music / "clip_00.wav", (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), 22050)
    for k in range(1, 40):  # more work than the test waits for
        os.link(music / "clip_00.wav", music / f"clip_{k:02d}.wav")
    out = tmp_path / "moods.csv"
    quick = "from va_mood.cli import progress; progress.PLAIN_EVERY = 0.5\n"
    quick += "from va_mood.cli import app; app()"  # a progress line every half second
    command = [sys.executable, "-c", quick, "predict", str(music), "--jobs", "2", "--no-cache",
               "-f", "csv", "-o", str(out)]  # fmt: skip
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    seen, done = [], None
    try:
        for line in process.stderr:
            seen.append(line)
            done = re.match(r"predicting: (\d+)/", line)
            if done and int(done.group(1)) >= 1:
                break
        assert done, f"the run ended before its first progress line: {''.join(seen)}"
        process.send_signal(signal.SIGTERM)
        _, rest = process.communicate(timeout=60)
    finally:
        process.kill()
    stderr = "".join(seen) + rest
    assert process.returncode == 130, stderr
    rows = out.read_text().splitlines()
    assert rows[0].startswith("path,valence,arousal") and len(rows) >= 2
    assert f"warning: {out} is incomplete" in stderr
    said = f"the {len(rows) - 1} finished file(s) written to {out}, marked incomplete"
    assert stderr.strip().splitlines()[-1] == f"error: interrupted; {said}"
    assert "resume" not in stderr  # nothing to resume from without a cache


@pytest.mark.parametrize("cached", [False, True])
def test_an_interrupted_json_says_it_is_incomplete_and_the_last_line_says_what_was_kept(
    cached, tmp_path, monkeypatch
):
    import json

    from typer.testing import CliRunner

    from va_mood import api
    from va_mood.cli import app
    from va_mood.extraction.batch import Interrupted

    def first_then_interrupted(files, **options):
        features, errors = real(files[:1], **options)
        raise Interrupted(features, errors, str(tmp_path / "cache") if cached else None)

    real = api.extract_files
    monkeypatch.setattr(api, "extract_files", first_then_interrupted)
    out = tmp_path / "moods.json"
    clips = [str(p) for p in sorted(EXAMPLES.glob("*.mp3"))[:2]]
    args = ["predict", *clips, "-f", "json", "-o", str(out)]
    args += ["--cache", str(tmp_path / "cache")] if cached else ["--no-cache"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 130, result.output
    written = json.loads(out.read_text())
    assert written["complete"] is False and len(written["predictions"]) == 1
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("error: interrupted; ")
    assert f"the 1 finished file(s) written to {out}, marked incomplete" in last
    assert ("run the same command again to resume" in last) is cached
    assert (str(tmp_path / "cache") in last) is cached


def test_an_interrupt_that_says_nothing_of_its_work_is_said_plainly():
    from va_mood.cli.progress import interrupted_message

    assert interrupted_message(KeyboardInterrupt()) == "interrupted"


def test_a_run_that_was_not_interrupted_says_its_json_is_complete(tmp_path):
    import json

    from typer.testing import CliRunner

    from va_mood.cli import app

    out = tmp_path / "moods.json"
    clip = str(EXAMPLES / "macleod_hustle.mp3")
    result = CliRunner().invoke(app, ["predict", clip, "-f", "json", "-o", str(out), "--no-cache"])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["complete"] is True
