"""Ways to turn the heads' answers into coordinates, compared under the evaluation protocol.

On the 4Q development clips (their continuous labels: the Warriner means of each clip's mood
tags, mapped (x - 5) / 4), grouped cross-validation by artist, out of fold:

- binary heads, their own scale: ``2p - 1`` and ``max(p, 1 - p)`` (``[calibration] folds = 0``);
- binary heads, calibrated (the shipped way): isotonic coordinate map per side, stretched to
  the labels' mean and spread, kept on the head's side; Platt-scaled confidence;
- regression heads on the continuous labels, their own scale (clipped value, normal model of
  the error), and calibrated the same way.

For each: per axis Pearson r, CCC and RMSE against the labels, the share beyond ±0.95, the
confidence's ECE, and quadrant macro-F1 (the quadrant is always the coordinates' signs).

    python benchmarks/coordinates.py [--config configs/default.toml] [--seeds 42 7] [--repeats 1]

Needs ``../shared/data/4q``; features come from the cache (``--cache``).
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

import pandas as pd

from va_mood.api import load_corpus
from va_mood.config import CalibrationConfig, Config, load_config
from va_mood.evaluation.cross_validation import cross_validate
from va_mood.locations import default_cache

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "4q"
COLUMNS = {
    "valence_pearson_r": "V r",
    "valence_ccc": "V CCC",
    "valence_rmse": "V RMSE",
    "valence_share_extreme": "V |x|>0.95",
    "valence_ece": "V ECE",
    "arousal_pearson_r": "A r",
    "arousal_ccc": "A CCC",
    "arousal_rmse": "A RMSE",
    "arousal_share_extreme": "A |x|>0.95",
    "arousal_ece": "A ECE",
    "quadrant_macro_f1": "quadrant F1",
}


def variants(config: Config) -> dict[str, Config]:
    """The ways compared, all from one configuration (same features, estimators, seed)."""
    regression = {
        axis: dataclasses.replace(config.head(axis), mode="regression", weight_floor=None)
        for axis in ("valence", "arousal")
    }
    as_regression = dataclasses.replace(config, **regression)
    off, on = CalibrationConfig(folds=0), CalibrationConfig(folds=5)
    return {
        "binary heads, 2p - 1": dataclasses.replace(config, calibration=off),
        "binary heads, calibrated (shipped)": dataclasses.replace(config, calibration=on),
        "regression heads, clipped": dataclasses.replace(as_regression, calibration=off),
        "regression heads, calibrated": dataclasses.replace(as_regression, calibration=on),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, default=ROOT / "configs" / "default.toml")
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 7])
    parser.add_argument("--repeats", type=int, default=1, help="CV repeats per seed")
    parser.add_argument("--jobs", type=int, default=0, help="extraction processes")
    parser.add_argument("--cache", type=Path, default=default_cache())
    args = parser.parse_args()
    config = load_config(args.config)
    features, labels, _ = load_corpus(
        DATA / "labels.csv", DATA / "audio", config=config, jobs=args.jobs, cache_dir=args.cache
    )
    for seed in args.seeds:
        rows = {}
        for name, variant in variants(config).items():
            evaluation = dataclasses.replace(variant.evaluation, n_repeats=args.repeats)
            variant = dataclasses.replace(variant, seed=seed, evaluation=evaluation)
            started = time.perf_counter()
            summary = cross_validate(features, labels, variant)["summary"]
            rows[name] = {label: summary[key]["mean"] for key, label in COLUMNS.items()}
            rows[name]["seconds"] = time.perf_counter() - started
        table = pd.DataFrame(rows).T
        print(
            f"\nseed {seed}: {args.repeats}x 5-fold CV grouped by artist, {len(labels)} clips, "
            f"{labels['group'].nunique()} artists"
        )
        with pd.option_context("display.float_format", "{:.3f}".format, "display.width", 160):
            print(table.to_string())


if __name__ == "__main__":
    main()
