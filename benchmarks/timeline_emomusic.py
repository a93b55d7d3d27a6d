"""Predicted emotion trajectories against listeners' 2 Hz ratings on the emomusic10 clips.

A sanity check, not a benchmark: 10 songs, rated by a handful of listeners each, from a corpus
(Free Music Archive) unlike the model's training data (4Q AllMusic previews). Windows of
``--segment`` seconds every ``--hop`` seconds are predicted; each window's value is placed at
its centre and interpolated to the rating times (15-45 s at 2 Hz). Per song and pooled over
songs: Pearson r and RMSE on the [-1, 1] plane. Within-song r is undefined (NaN) where a
curve is flat.

    python benchmarks/timeline_emomusic.py [--data ../shared/data/emomusic10] [--model DIR]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

import va_mood
from va_mood.labels.files import load_ratings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    root = Path(__file__).resolve().parents[1]
    parser.add_argument("--data", type=Path, default=root.parent / "shared/data/emomusic10")
    parser.add_argument("--model", type=Path, default=None, help="bundle (default: shipped)")
    parser.add_argument("--segment", type=float, default=5.0)
    parser.add_argument("--hop", type=float, default=0.5)
    args = parser.parse_args()

    bundle = va_mood.load_model(args.model)
    files = sorted((args.data / "audio").glob("*.mp3"), key=lambda p: int(p.stem))
    start = time.perf_counter()
    windows = bundle.predict_files(files, segment=args.segment, hop=args.hop).reset_index()
    seconds = time.perf_counter() - start
    rows, pooled = [], []
    for path in files:
        ratings = load_ratings(args.data, path.stem)
        song = windows[windows["path"] == str(path)]
        centre = ((song["start"] + song["end"]) / 2).to_numpy()
        row = {"song": path.stem}
        for axis in ("valence", "arousal"):
            predicted = np.interp(ratings["time"], centre, song[axis].to_numpy())
            truth = ratings[axis].to_numpy()
            flat = np.std(predicted) < 1e-9 or np.std(truth) < 1e-9
            row[f"{axis}_r"] = np.nan if flat else np.corrcoef(predicted, truth)[0, 1]
            row[f"{axis}_rmse"] = float(np.sqrt(np.mean((predicted - truth) ** 2)))
            pooled.append((axis, predicted, truth))
        rows.append(row)
    table = pd.DataFrame(rows).set_index("song")
    print(
        f"{len(files)} songs, windows of {args.segment} s every {args.hop} s, "
        f"{len(windows)} windows predicted in {seconds:.1f} s"
    )
    print(table.round(3).to_string())
    print("\nmean over songs:", table.mean().round(3).to_dict())
    for axis in ("valence", "arousal"):
        p = np.concatenate([pr for a, pr, _ in pooled if a == axis])
        t = np.concatenate([tr for a, _, tr in pooled if a == axis])
        r = np.corrcoef(p, t)[0, 1]
        rmse = np.sqrt(np.mean((p - t) ** 2))
        print(f"pooled {axis}: r = {r:.3f}, RMSE = {rmse:.3f} ({len(t)} rating points)")


if __name__ == "__main__":
    main()
