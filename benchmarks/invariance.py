"""Does the answer stay put when only the playback changes? Level, excerpt, rate, channels, codec.

On a stratified subset of the 4Q development clips (``--n`` clips, the same number from each
quadrant, drawn with ``--seed``), each clip is decoded once and written again as a mono WAV at
its own rate: that is the reference. Each transform is applied to that signal and written as a
new file: gains of -20, -12, -6 and +6 dB (+6 dB limited to a peak of 0.99, never clipped),
the middle 6 s and 15 s, resampled to 22.05 and 48 kHz, stereo (the mono channel twice), and
MP3 at 128 kbps (constant bitrate, libsndfile's LAME encoder).

Every file is predicted out of fold: 5-fold cross-validation grouped by artist over all 540
clips (the evaluation protocol, the model configuration's seed), each fold's model trained on
the original clips of the other folds' artists and predicting the reference and transformed
copies of its own clips. For each transform the script prints the share of clips whose quadrant
changes against the reference, the mean |change| of valence and arousal, and the quadrant
accuracy of the transformed copies against the labels.

    python benchmarks/invariance.py                 # 200 clips, the shipped model's config
    python benchmarks/invariance.py --n 540 --jobs 2 --config configs/default.toml
    python benchmarks/invariance.py --only "middle 6 s" "middle 15 s"   # chosen transforms

Needs ``../shared/data/4q``. Features are cached (``--cache``), so a second run only predicts.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf
import soxr

from va_mood.api import load_corpus, load_model, train
from va_mood.config import load_config
from va_mood.evaluation.cross_validation import grouped_folds
from va_mood.extraction.batch import extract_files
from va_mood.locations import default_cache

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "4q"
MP3_LEVEL = 0.65
"""libsndfile's compression level that gives LAME's 128 kbps at constant bitrate."""


def _gain(db: float) -> Callable[[np.ndarray, int], tuple[np.ndarray, int]]:
    def apply(y: np.ndarray, sr: int) -> tuple[np.ndarray, int]:
        gain = 10 ** (db / 20)
        peak = float(np.abs(y).max()) or 1.0
        return y * min(gain, 0.99 / peak) if db > 0 else y * gain, sr

    return apply


def _middle(seconds: float) -> Callable[[np.ndarray, int], tuple[np.ndarray, int]]:
    def apply(y: np.ndarray, sr: int) -> tuple[np.ndarray, int]:
        n = int(seconds * sr)
        start = max(0, (len(y) - n) // 2)
        return y[start : start + n], sr

    return apply


def _rate(rate: int) -> Callable[[np.ndarray, int], tuple[np.ndarray, int]]:
    return lambda y, sr: (soxr.resample(y, sr, rate).astype(np.float32), rate)


TRANSFORMS: dict[str, Callable[[np.ndarray, int], tuple[np.ndarray, int]]] = {
    "gain -20 dB": _gain(-20),
    "gain -12 dB": _gain(-12),
    "gain -6 dB": _gain(-6),
    "gain +6 dB (limited)": _gain(6),
    "middle 6 s": _middle(6.0),
    "middle 15 s": _middle(15.0),
    "resampled to 22.05 kHz": _rate(22050),
    "resampled to 48 kHz": _rate(48000),
    "stereo (mono twice)": lambda y, sr: (np.stack([y, y], axis=1), sr),
    "MP3 128 kbps": lambda y, sr: (y, sr),  # the codec is the transform: see _write
}


def _write(path: Path, y: np.ndarray, sr: int, name: str) -> Path:
    if name == "MP3 128 kbps":
        path = path.with_suffix(".mp3")
        sf.write(path, y, sr, format="MP3", bitrate_mode="CONSTANT", compression_level=MP3_LEVEL)
    else:
        sf.write(path, y, sr, subtype="PCM_16")
    return path


def subset(labels: pd.DataFrame, n: int, seed: int) -> list[str]:
    """``n`` clip ids, as many from each quadrant, drawn with ``seed``."""
    per = n // labels["quadrant"].nunique()
    picked = labels.groupby("quadrant", group_keys=False).sample(per, random_state=seed)
    return sorted(picked.index)


def make_copies(
    ids: list[str], folder: Path, names: list[str] | None = None
) -> dict[str, dict[str, str]]:
    """``{transform: {id: path}}`` of the reference and every transformed copy (or only the
    transforms ``names``)."""
    names = list(TRANSFORMS) if names is None else names
    copies: dict[str, dict[str, str]] = {"reference": {}, **{t: {} for t in names}}
    for clip in ids:
        y, sr = sf.read(DATA / "audio" / f"{clip}.mp3", dtype="float32", always_2d=True)
        y = y.mean(axis=1)
        copies["reference"][clip] = str(_write(folder / f"{clip}.ref.wav", y, sr, "reference"))
        for k, (name, transform) in enumerate(TRANSFORMS.items()):
            if name not in names:
                continue
            out, rate = transform(y, sr)
            copies[name][clip] = str(_write(folder / f"{clip}.t{k}.wav", out, rate, name))
    return copies


def copy_features(
    copies: dict[str, dict[str, str]], config, *, jobs: int, cache: Path
) -> dict[str, pd.DataFrame]:
    """The features of every copy, ``{transform: table indexed by clip id}`` (a copy that
    failed to extract is reported and left out)."""
    paths = [p for by_id in copies.values() for p in by_id.values()]
    table, errors = extract_files(
        paths, config=config.analysis, groups=config.groups, jobs=jobs, cache_dir=cache
    )
    for message in errors.values():
        print(f"error: {message}", file=sys.stderr)
    tables = {}
    for name, by_id in copies.items():
        done = {clip: p for clip, p in by_id.items() if p in table.index}
        tables[name] = table.loc[list(done.values())].set_axis(pd.Index(list(done), name="id"))
    return tables


def predict_out_of_fold(
    tables: dict[str, pd.DataFrame], features: pd.DataFrame, labels: pd.DataFrame, config
) -> dict[str, pd.DataFrame]:
    """Each table's clips (rows indexed by clip id) predicted by the model of the fold that
    holds their artist out."""
    out: dict[str, list[pd.DataFrame]] = {name: [] for name in tables}
    for train_rows, test_rows in grouped_folds(labels, config):
        bundle = train(features.iloc[train_rows], labels.iloc[train_rows], config)
        for name, table in tables.items():
            held_out = table.index.intersection(labels.index[test_rows])
            if len(held_out):
                part = bundle.predict_features(table.loc[held_out])
                out[name].append(part.set_axis(held_out))
    return {name: pd.concat(parts).sort_index() for name, parts in out.items()}


def summarise(predicted: dict[str, pd.DataFrame], labels: pd.DataFrame) -> pd.DataFrame:
    """One row per transform: quadrant changes, mean |change| per axis, quadrant accuracy."""
    reference = predicted["reference"]
    rows = []
    for name, table in predicted.items():
        ref = reference.loc[table.index]
        rows.append(
            {
                "transform": name,
                "clips": len(table),
                "quadrant changed": float((table["quadrant"] != ref["quadrant"]).mean()),
                "mean |Δvalence|": float((table["valence"] - ref["valence"]).abs().mean()),
                "mean |Δarousal|": float((table["arousal"] - ref["arousal"]).abs().mean()),
                "quadrant accuracy": float(
                    (table["quadrant"] == labels.loc[table.index, "quadrant"]).mean()
                ),
            }
        )
    return pd.DataFrame(rows).set_index("transform")


def subset_parser(description: str) -> argparse.ArgumentParser:
    """The options every benchmark on a subset of the 4Q clips takes."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--n", type=int, default=200, help="clips in the subset (default 200)")
    parser.add_argument("--seed", type=int, default=42, help="seed of the subset (default 42)")
    parser.add_argument("--config", type=Path, help="model configuration (default: shipped)")
    parser.add_argument("--jobs", type=int, default=0, help="extraction processes (0: all)")
    parser.add_argument("--cache", type=Path, default=default_cache(), help="feature cache")
    return parser


def main() -> None:
    parser = subset_parser(__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, help="also write the table here")
    parser.add_argument(
        "--only",
        nargs="+",
        choices=list(TRANSFORMS),
        metavar="TRANSFORM",
        help=f"run only these transforms (default: all of {', '.join(TRANSFORMS)})",
    )
    args = parser.parse_args()
    if not DATA.is_dir():
        sys.exit(f"needs the 4Q clips in {DATA}")
    config = load_config(args.config) if args.config else load_model().config
    started = time.perf_counter()
    features, labels, _ = load_corpus(
        DATA / "labels.csv", DATA / "audio", config=config, jobs=args.jobs, cache_dir=args.cache
    )
    ids = subset(labels, args.n, args.seed)
    with tempfile.TemporaryDirectory(prefix="va_mood_invariance.") as folder:
        copies = make_copies(ids, Path(folder), args.only)
        tables = copy_features(copies, config, jobs=args.jobs, cache=args.cache)
    predicted = predict_out_of_fold(tables, features, labels, config)
    table = summarise(predicted, labels)
    print(
        f"{len(ids)} clips ({args.n // 4} per quadrant, subset seed {args.seed}); out of fold, "
        f"5-fold CV grouped by artist over {len(labels)} clips, seed {config.seed}; "
        f"{time.perf_counter() - started:.0f} s"
    )
    with pd.option_context("display.float_format", "{:.3f}".format, "display.width", 120):
        print(table.to_string())
    if args.json:
        args.json.write_text(json.dumps(table.reset_index().to_dict(orient="records"), indent=2))


if __name__ == "__main__":
    main()
