"""Start-up time of ``va-mood predict one.mp3``, side by side with a bare ``librosa.load``.

Makes a 30-second MP3 from a shipped example, then times, in the same run and alternating so
that the machine's load falls on all three alike (each a fresh process, wall time, median of
``--repeats``):

1. bare: ``python -c "import librosa; librosa.load('one.mp3', sr=22050)"``;
2. cold: ``va-mood predict one.mp3`` with an empty feature cache;
3. cached: the same with the clip's features in the cache;
4. libraries: importing what a cached run needs by the project's fixed choices (typer with
   pydantic, NumPy, pandas, pyarrow's Parquet), nothing of va_mood: the floor under (3).

Each with its CPU time (user + system) beside the wall time: on a busy machine the wall time
grows with the load, the CPU time much less.

The goals: cold within 1.0 s of bare (and under 2.5 s on a quiet machine), cached under 1 s.

    python benchmarks/startup.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import soundfile as sf

EXAMPLE = Path(__file__).resolve().parents[1] / "data" / "examples" / "macleod_hustle.mp3"
VA_MOOD = Path(sys.executable).with_name("va-mood")
LIBRARIES = "import typer, pydantic, numpy, pandas, pyarrow.parquet"


def timed(command: list[str]) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of one run of ``command``."""
    start, before = time.perf_counter(), os.times()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall, after = time.perf_counter() - start, os.times()
    user = after.children_user - before.children_user
    return wall, user + after.children_system - before.children_system


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        song = Path(tmp) / "one.mp3"
        y, sr = sf.read(EXAMPLE, frames=30 * 44100, dtype="float32")
        sf.write(song, y, sr)
        cache = Path(tmp) / "cache"
        bare = [sys.executable, "-c", f"import librosa; librosa.load({str(song)!r}, sr=22050)"]
        predict = [str(VA_MOOD), "predict", str(song), "--cache", str(cache)]
        subprocess.run([*predict[:3], "--no-cache"], check=True, capture_output=True)  # JIT caches
        runs = {"bare librosa.load": bare, "cold": predict, "cached": predict}
        runs["libraries"] = [sys.executable, "-c", LIBRARIES]
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in runs}
        for _ in range(args.repeats):
            for name, command in runs.items():
                if name == "cold":
                    shutil.rmtree(cache, ignore_errors=True)
                times[name].append(timed(command))
    print(f"30 s MP3, median of {args.repeats} (fresh process each), load {os.getloadavg()[0]:.1f}")
    print(f"  {'run':<18} {'wall':>7} {'cpu':>7}")
    median = {}
    for name, values in times.items():
        median[name] = tuple(statistics.median(v[k] for v in values) for k in (0, 1))
        print(f"  {name:<18} {median[name][0]:6.2f}s {median[name][1]:6.2f}s")
    for k, unit in enumerate(("wall", "cpu")):
        extra = median["cold"][k] - median["bare librosa.load"][k]
        print(f"  cold - bare ({unit})  {extra:+5.2f} s  (goal <= +1.00)")
    print(f"  cached (wall)       {median['cached'][0]:5.2f} s  (goal < 1.00)")


if __name__ == "__main__":
    main()
