"""Why does a shorter excerpt change the answer? Feature shifts and flips, the middle 6 s and 15 s.

On the subset of :mod:`invariance` (``--n`` clips, as many per quadrant, ``--seed``), each clip
is decoded once and written again as a mono WAV (the reference), and its middle 6 s and 15 s
are written too. For every feature column of the model's groups, against the reference:

- **shift**: the mean signed change, in units of the column's spread over the reference clips
  (a systematic shift: the excerpt's value is expected elsewhere than the whole clip's);
- **noise**: the spread of the change in the same units, and **r** the correlation across clips
  of the excerpt's value with the reference's.

Feature groups are ranked by their mean |shift|. Then every copy is predicted out of fold, as
in :mod:`invariance` (5-fold CV grouped by artist over the 540 clips), and the script counts
which axis changed side, and how often the quadrant still changes when the excerpt's values of
one group are replaced by the reference's (that group's share of the flips), or when every
column's mean shift is taken out (what is left is noise, not a systematic shift).

    python benchmarks/excerpt_shift.py --jobs 2              # the shipped model's config
    python benchmarks/excerpt_shift.py --no-models           # feature shifts only

Needs ``../shared/data/4q``.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from invariance import (  # noqa: E402
    DATA,
    copy_features,
    make_copies,
    predict_out_of_fold,
    subset,
    subset_parser,
)

from va_mood.api import load_corpus, load_model  # noqa: E402
from va_mood.config import LabelSpec, load_config  # noqa: E402
from va_mood.features.registry import REGISTRY  # noqa: E402
from va_mood.labels.files import load_labels, match_audio  # noqa: E402

EXCERPTS = ("middle 6 s", "middle 15 s")


def column_groups(groups: tuple[str, ...]) -> dict[str, str]:
    """``{column: group}`` for every column of ``groups``."""
    return {c: g for g in groups for c in REGISTRY[g].columns}


def shifts(reference: pd.DataFrame, excerpt: pd.DataFrame) -> pd.DataFrame:
    """Per column: mean signed change and spread of the change (in reference SD), and r."""
    sd = reference.std().replace(0.0, np.nan)
    change = excerpt - reference
    r = [np.corrcoef(reference[c], excerpt[c])[0, 1] if sd[c] > 0 else np.nan for c in sd.index]
    return pd.DataFrame(
        {"shift": change.mean() / sd, "noise": change.std() / sd, "r": r}, index=reference.columns
    )


def by_group(table: pd.DataFrame, groups: dict[str, str]) -> pd.DataFrame:
    """Columns' shifts summarised per feature group, largest mean |shift| first."""
    table = table.assign(group=table.index.map(groups), abs_shift=table["shift"].abs())
    summary = table.groupby("group").agg(
        columns=("shift", "size"),
        mean_abs_shift=("abs_shift", "mean"),
        max_abs_shift=("abs_shift", "max"),
        mean_noise=("noise", "mean"),
        median_r=("r", "median"),
    )
    return summary.sort_values("mean_abs_shift", ascending=False)


def variants(
    reference: pd.DataFrame, excerpt: pd.DataFrame, groups: dict[str, str]
) -> dict[str, pd.DataFrame]:
    """The excerpt's features as they are, with each group's values put back to the
    reference's, and with every column's mean shift taken out."""
    out = {"as extracted": excerpt}
    for group in dict.fromkeys(groups.values()):
        cols = [c for c, g in groups.items() if g == group]
        out[f"{group} from reference"] = excerpt.assign(**{c: reference[c] for c in cols})
    out["mean shift removed"] = excerpt - (excerpt - reference).mean()
    return out


def flips(
    tables: dict[str, pd.DataFrame],
    reference: pd.DataFrame,
    features: pd.DataFrame,
    labels: pd.DataFrame,
    config,
) -> pd.DataFrame:
    """Share of clips whose quadrant, valence side or arousal side differs from the
    reference's, for each table of features (indexed by clip id), predicted out of fold."""
    predicted = predict_out_of_fold({"reference": reference, **tables}, features, labels, config)
    ref = predicted.pop("reference")
    rows = {}
    for name, got in predicted.items():
        rows[name] = {
            "quadrant": float((got["quadrant"] != ref["quadrant"]).mean()),
            "valence side": float((np.sign(got["valence"]) != np.sign(ref["valence"])).mean()),
            "arousal side": float((np.sign(got["arousal"]) != np.sign(ref["arousal"])).mean()),
        }
    return pd.DataFrame(rows).T


def main() -> None:
    parser = subset_parser(__doc__.split("\n\n")[0])
    parser.add_argument("--top", type=int, default=15, help="columns listed per excerpt")
    parser.add_argument("--no-models", action="store_true", help="feature shifts only")
    args = parser.parse_args()
    if not DATA.is_dir():
        sys.exit(f"needs the 4Q clips in {DATA}")
    config = load_config(args.config) if args.config else load_model().config
    started = time.perf_counter()
    spec = LabelSpec()
    labels, _ = match_audio(load_labels(DATA / "labels.csv", spec), DATA / "audio", spec)
    ids = subset(labels, args.n, args.seed)
    with tempfile.TemporaryDirectory(prefix="va_mood_excerpts.") as folder:
        copies = make_copies(ids, Path(folder), list(EXCERPTS))
        per = copy_features(copies, config, jobs=args.jobs, cache=args.cache)
    groups = column_groups(config.groups)
    show = {"display.float_format": "{:.3f}".format, "display.width": 140}
    print(f"{len(ids)} clips (subset seed {args.seed}); shifts in SD over the reference clips")
    for name in EXCERPTS:
        columns = shifts(per["reference"], per[name])
        top = columns.reindex(columns["shift"].abs().sort_values(ascending=False).index)
        with pd.option_context(*[x for kv in show.items() for x in kv]):
            print(f"\n{name}: groups by mean |shift|\n{by_group(columns, groups).to_string()}")
            print(f"\n{name}: the {args.top} columns shifted most")
            print(top.head(args.top).to_string())
    if not args.no_models:
        features, corpus, _ = load_corpus(
            DATA / "labels.csv", DATA / "audio", config=config, jobs=args.jobs, cache_dir=args.cache
        )
        tables = {
            f"{name}: {variant}": values
            for name in EXCERPTS
            for variant, values in variants(per["reference"], per[name], groups).items()
        }
        result = flips(tables, per["reference"], features, corpus, config)
        with pd.option_context(*[x for kv in show.items() for x in kv], "display.max_rows", 200):
            print(f"\nchanged against the reference (out of fold, seed {config.seed})")
            print(result.to_string())
    print(f"\n{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
