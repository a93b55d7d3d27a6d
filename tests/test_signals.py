"""SIGTERM and SIGINT stop a batch cleanly: workers stopped, finished files kept, exit 130."""

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
    assert stderr.strip().splitlines()[-1].startswith("error: interrupted")
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
