"""Worker processes: none outlives its parent, and none corrupts numba's cache on disk."""

from __future__ import annotations

import contextlib
import os
import pickle
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

pytestmark = pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
SR = 22050


def _children(pid: int) -> set[int]:
    found = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with_children = task / "children"
        text = with_children.read_text() if with_children.exists() else ""
        found |= {int(p) for p in text.split()}
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _gone_within(pids: set[int], seconds: float) -> set[int]:
    """The ``pids`` still alive after up to ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and any(map(_alive, pids)):
        time.sleep(0.1)
    return {pid for pid in pids if _alive(pid)}


def _kill(pids: set[int]) -> None:
    for pid in pids:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def music(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """40 names for one 20-second clip: more work than a test waits for."""
    folder = tmp_path_factory.mktemp("music")
    t = np.arange(20 * SR) / SR
    noise = 0.05 * np.random.default_rng(0).standard_normal(len(t))
    y = 0.2 * np.sin(2 * np.pi * 220 * t) + 0.2 * np.sin(2 * np.pi * 277 * t) + noise
    sf.write(folder / "clip_00.wav", y.astype(np.float32), SR)
    for k in range(1, 40):
        os.link(folder / "clip_00.wav", folder / f"clip_{k:02d}.wav")
    return folder


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGHUP])
def test_the_workers_end_when_their_parent_is_killed_or_hung_up(signum, music, tmp_path):
    command = [sys.executable, "-m", "va_mood.cli", "predict", str(music), "--jobs", "2",
               "--no-cache", "-f", "csv", "-o", str(tmp_path / "moods.csv")]  # fmt: skip
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    workers: set[int] = set()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(workers) < 2 and process.poll() is None:
            workers = _children(process.pid)
            time.sleep(0.1)
        assert len(workers) == 2, process.stderr.read() if process.poll() is not None else ""
        time.sleep(1.0)  # at work on their first files
        process.send_signal(signum)
        process.wait(timeout=30)
        left = _gone_within(workers, 5.0)
        _kill(left)  # orphans would hold stderr open
        stderr = process.stderr.read()
        assert not left, f"workers {left} outlived their parent (signal {signum})"
        if signum == signal.SIGHUP:  # a closed terminal stops the run as Ctrl-C does
            assert process.returncode == 130, stderr
            assert stderr.strip().splitlines()[-1].startswith("error: interrupted")
    finally:
        process.kill()
        _kill({pid for pid in workers if _alive(pid)})  # the old behaviour: orphans


WATCHING = {
    "forked": """
        parent = os.getpid()  # taken before the fork: the parent may die before the child runs
        child = os.fork()
        if child == 0:
            watch_parent(parent, poll=0.05)  # re-parented: its parent id changes
            time.sleep(30)
            os._exit(0)
    """,
    "multiprocessing": """
        def work(parent):
            watch_parent(parent, poll=3600)  # the sentinel, not the polling, ends it
            time.sleep(30)

        process = multiprocessing.get_context("fork").Process(target=work, args=(os.getpid(),))
        process.start()
        child = process.pid
    """,
}


@pytest.mark.parametrize("started", sorted(WATCHING))
def test_a_process_watching_its_parent_ends_with_it(started):
    # the portable way, where the kernel cannot be asked (not Linux, a fork server)
    script = "import multiprocessing, os, sys, time\n"
    script += "from va_mood.util.processes import watch_parent\n"
    script += textwrap.dedent(WATCHING[started]) + "print(child, flush=True)\ntime.sleep(30)\n"
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    child = int(process.stdout.readline())
    try:
        assert _alive(child)
        process.kill()
        process.wait(timeout=10)
        assert not _gone_within({child}, 5.0)
    finally:
        process.kill()
        _kill({child} if _alive(child) else set())


SAVES_LOGGED = """
import os, sys
from numba.core import caching

def logged(self, name, data, _save=caching.IndexDataCacheFile._save_data):
    with open(sys.argv[1], "a") as log:
        log.write(f"{os.getpid()} {name}\\n")
    return _save(self, name, data)

caching.IndexDataCacheFile._save_data = logged
from va_mood.config import AnalysisConfig
from va_mood.extraction.batch import extract_files

table, errors = extract_files(sys.argv[2:], config=AnalysisConfig(), jobs=2,
                              groups=["arousal.zcr", "valence.chroma"])
assert errors == {} and len(table) == len(sys.argv[2:]), errors
print(os.getpid())
"""


def test_a_parallel_first_run_leaves_numba_cache_whole(tmp_path):
    # numba issue 10128: two workers compiling the same cached gufunc at once leave a
    # mismatched pair of cache files, and every later use of it crashes
    cache = tmp_path / "numba_cache"
    cache.mkdir()
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache), "NUMBA_OPT": "0"}  # O0: compiles faster
    clips = []
    for k in range(3):
        clips.append(tmp_path / f"clip_{k}.wav")
        sf.write(clips[-1], np.sin(np.arange(SR) * (0.05 + 0.01 * k)).astype(np.float32), SR)
    log = tmp_path / "saves.log"
    run = subprocess.run([sys.executable, "-c", SAVES_LOGGED, str(log), *map(str, clips)],
                         env=env, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert run.returncode == 0, run.stderr
    savers = {line.split()[0] for line in log.read_text().splitlines()}
    assert savers == {run.stdout.strip()}  # compiled in the parent only, before the workers
    _assert_whole(cache)
    use = "import numpy as np, librosa\ny = np.random.default_rng(0).random(22050)\n"
    use += "librosa.feature.chroma_stft(y=y, sr=22050); librosa.feature.zero_crossing_rate(y)"
    after = subprocess.run([sys.executable, "-c", use], env=env, capture_output=True, text=True,
                           timeout=120)  # fmt: skip
    assert after.returncode == 0, after.stderr


def _assert_whole(cache: Path) -> None:
    """Every index of numba's cache names data files that exist, and each gufunc's data file
    calls the very function (the same ABI tag) that the function's own data file defines."""
    indexes = list(cache.rglob("*.nbi"))
    assert indexes
    for index in indexes:
        with index.open("rb") as fh:
            pickle.load(fh)  # numba's version
            _, overloads = pickle.loads(fh.read())
        for name in overloads.values():
            assert (index.parent / name).is_file(), f"{index.name} names a missing {name}"
    for wrapper in cache.rglob("guf-*.nbc"):
        own = wrapper.with_name(wrapper.name.removeprefix("guf-"))
        called = set(re.findall(rb"_ZN\d+librosa\w*?B\d+v\d+", wrapper.read_bytes()))
        defined = set(re.findall(rb"_ZN\d+librosa\w*?B\d+v\d+", own.read_bytes()))
        assert called and called <= defined, f"{wrapper.name} calls {called - defined}"
