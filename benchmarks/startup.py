"""Start-up time of ``va-mood predict one.mp3``, side by side with a bare ``librosa.load``.

Makes a 30-second MP3 from a shipped example, then times, in the same run and alternating so
that the machine's load falls on all three alike (each a fresh process, wall time, median of
``--repeats``):

1. bare: ``python -c "import librosa; librosa.load('one.mp3', sr=22050)"``;
2. cold: ``va-mood predict one.mp3`` with an empty feature cache;
3. cached: the same with the clip's features in the cache.

The goals: cold within 1.0 s of bare (and under 2.5 s on a quiet machine), cached under 1 s.

    python benchmarks/startup.py [--repeats 5]
"""

from __future__ import annotations

import argparse
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


def wall(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


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
        times: dict[str, list[float]] = {"bare librosa.load": [], "cold": [], "cached": []}
        for _ in range(args.repeats):
            times["bare librosa.load"].append(wall(bare))
            shutil.rmtree(cache, ignore_errors=True)
            times["cold"].append(wall(predict))
            times["cached"].append(wall(predict))
    median = {name: statistics.median(values) for name, values in times.items()}
    print(f"30 s MP3, wall time, median of {args.repeats} (fresh process each)")
    for name, value in median.items():
        print(f"  {name:<18} {value:5.2f} s")
    extra = median["cold"] - median["bare librosa.load"]
    print(f"  cold - bare        {extra:+5.2f} s  (goal <= +1.00)")
    print(f"  cached             {median['cached']:5.2f} s  (goal < 1.00)")


if __name__ == "__main__":
    main()
