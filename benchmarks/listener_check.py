"""The shipped model against listeners: the ten emomusic10 clips' mean ratings.

A sanity check, not a benchmark, and nothing is tuned to it: 10 songs from the Free Music
Archive (emoMusic, MediaEval 2013), each rated by a handful of listeners on 1..9. Each clip is
predicted whole; the table gives its coordinates beside the listeners' means mapped onto the
plane ((x - 5) / 4), and the script prints Pearson r per axis and how many clips land in the
listeners' quadrant.

    python benchmarks/listener_check.py [--data ../shared/data/emomusic10] [--model DIR]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

import va_mood
from va_mood.config import load_label_spec
from va_mood.evaluation.metrics import pearson
from va_mood.labels.files import load_labels, match_audio

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared/data/emomusic10")
    parser.add_argument("--model", type=Path, default=None, help="bundle (default: shipped)")
    args = parser.parse_args()
    spec = load_label_spec(ROOT / "configs/labels/emomusic10.toml")
    labels = load_labels(args.data / "static_annotations.csv", spec)
    labels, _ = match_audio(labels, args.data / "audio", spec)
    model = va_mood.load_model(args.model)
    predicted = model.predict_files(labels["path"].tolist(), cache=False)
    predicted.index = labels.index[labels["path"].isin(predicted.index)]
    table = pd.DataFrame(
        {
            "listeners valence": labels["valence"],
            "predicted valence": predicted["valence"],
            "listeners arousal": labels["arousal"],
            "predicted arousal": predicted["arousal"],
            "listeners": labels["quadrant"],
            "predicted": predicted["quadrant"],
            "confidence v/a": [
                f"{v:.2f}/{a:.2f}"
                for v, a in zip(
                    predicted["valence_confidence"], predicted["arousal_confidence"], strict=True
                )
            ],
        }
    )
    with pd.option_context("display.float_format", "{:+.2f}".format, "display.width", 120):
        print(table.to_string())
    for axis in ("valence", "arousal"):
        r = pearson(predicted[axis], labels[axis])
        print(f"{axis}: Pearson r {r:+.2f} over {len(table)} clips")
    agree = int(np.sum(table["listeners"] == table["predicted"]))
    print(f"quadrant agrees with the listeners' means on {agree} of {len(table)} clips")


if __name__ == "__main__":
    main()
