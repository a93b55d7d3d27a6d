"""Segment prediction against whole-file prediction on one long recording, in the same run.

Builds a recording of ``--minutes`` minutes from the shipped example clips (looped), then
times the shipped model's whole-file prediction and its ``--segment``-second windowed
prediction, each ``--repeats`` times (best of), and prints the ratio.

    python benchmarks/segment_speed.py [--minutes 10] [--segment 5] [--hop 5]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

import va_mood
from va_mood.audio.decode import load


def best_of(repeats: int, run) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--segment", type=float, default=5.0)
    parser.add_argument("--hop", type=float, default=None)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()

    examples = sorted((Path(__file__).resolve().parents[1] / "data/examples").glob("*.mp3"))
    clips = [load(p, sr=44100)[0] for p in examples]
    n = int(args.minutes * 60 * 44100)
    y = np.resize(np.concatenate(clips), n)
    bundle = va_mood.load_model()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "long.flac"
        sf.write(path, y, 44100)
        bundle.predict_files([path], cache=False)  # warm up: imports, JIT compilation
        whole = best_of(args.repeats, lambda: bundle.predict_files([path], cache=False))
        windows = bundle.predict_files([path], segment=args.segment, hop=args.hop)
        segmented = best_of(
            args.repeats,
            lambda: bundle.predict_files([path], segment=args.segment, hop=args.hop),
        )
    print(f"{args.minutes:g}-minute recording, {len(windows)} windows of {args.segment:g} s")
    print(f"whole-file prediction: {whole:.2f} s")
    print(f"segment prediction:    {segmented:.2f} s")
    print(f"ratio segment/whole:   {segmented / whole:.2f}")


if __name__ == "__main__":
    main()
