"""Compare feature assignments of the two heads under the evaluation protocol.

Extracts every registered feature group once (cached), then runs the repeated, artist-grouped
cross-validation of :func:`va_mood.evaluation.cross_validation.cross_validate` for: the article's
split; the
article's split plus the harmony groups on the valence head; each head given every handcrafted
group; the default configuration (``configs/default.toml``) without the pre-trained tagger's
groups, with them on the valence head only, without its valence head's sample weights and
split by arousal, and whole; and the default without each of its valence groups in turn. The
named configurations run again on fresh splits (``--check-seed``). Writes markdown tables to
``docs/feature_study.md``.

Run from the repository root::

    python benchmarks/feature_study.py
"""

from __future__ import annotations

import argparse
import dataclasses
import platform
import shlex
import sys
import time
from pathlib import Path

import pandas as pd

import va_mood
from va_mood.config import Config, load_config
from va_mood.evaluation.cross_validation import cross_validate
from va_mood.extraction.batch import extract_files
from va_mood.features import REGISTRY
from va_mood.labels.files import load_labels, match_audio
from va_mood.util.atomic import write_text

FIGURES = (
    ("arousal_accuracy", "arousal acc."),
    ("valence_accuracy", "valence acc."),
    ("quadrant_accuracy", "quadrant acc."),
    ("quadrant_macro_f1", "quadrant macro-F1"),
)


def groups_of(module: str) -> list[str]:
    """The groups registered by ``module`` (e.g. ``va_mood.features.harmony``), in registry
    order."""
    return [k for k, g in REGISTRY.items() if g.func.__module__ == module]


def without(groups: tuple[str, ...] | list[str], drop: list[str]) -> list[str]:
    return [g for g in groups if g not in drop]


def with_groups(
    config: Config, *, arousal: list[str] | None = None, valence: list[str] | None = None
) -> Config:
    """``config`` with other feature groups for one or both heads (everything else kept)."""
    return dataclasses.replace(
        config,
        arousal=dataclasses.replace(config.arousal, groups=tuple(arousal or config.arousal.groups)),
        valence=dataclasses.replace(config.valence, groups=tuple(valence or config.valence.groups)),
    )


def configurations(article: Config, default: Config) -> dict[str, Config]:
    """Name -> configuration of every row of the study, in table order."""
    embedding = groups_of("va_mood.features.embedding")
    handcrafted = without(list(REGISTRY), embedding)
    unweighted = dataclasses.replace(
        default, valence=dataclasses.replace(default.valence, weight_floor=None)
    )
    pooled = dataclasses.replace(
        unweighted, valence=dataclasses.replace(unweighted.valence, by_arousal=False)
    )
    runs = {
        "article": article,
        "article + harmony (valence)": with_groups(
            article, valence=[*article.valence.groups, *groups_of("va_mood.features.harmony")]
        ),
        "all handcrafted groups, both heads": with_groups(
            article, arousal=handcrafted, valence=handcrafted
        ),
        "default without the tagger (the previous default)": with_groups(
            default,
            arousal=without(default.arousal.groups, embedding),
            valence=without(default.valence.groups, embedding),
        ),
        "default, tagger on the valence head only": with_groups(
            default, arousal=without(default.arousal.groups, embedding)
        ),
        "default without valence by arousal and weights": pooled,
        "default without weights": unweighted,
        "default": default,
    }
    for group in default.valence.groups:
        runs[f"default, valence without {group}"] = with_groups(
            default, valence=without(default.valence.groups, [group])
        )
    return runs


NAMED = 8
"""The rows before the ablation: also run on fresh splits with ``--check-seed``."""


def feature_table(args: argparse.Namespace) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Labels with audio, and every registered group extracted for them (same index)."""
    labels, problems = match_audio(load_labels(args.labels), args.audio)
    for problem in problems:
        print(problem, file=sys.stderr)
    start = time.perf_counter()
    table, errors = extract_files(
        list(labels["path"]),
        config=load_config(args.article).analysis,
        groups=list(REGISTRY),
        jobs=args.jobs,
        cache_dir=args.cache,
    )
    print(f"features for {len(table)} clips in {time.perf_counter() - start:.0f} s")
    for error in errors.values():
        print(error, file=sys.stderr)
    labels = labels[labels["path"].isin(table.index)]
    features = table.loc[list(labels["path"])]
    features.index = labels.index
    return features, labels


def cell(summary: dict, key: str) -> str:
    return f"{summary[key]['mean']:.3f} ± {summary[key]['std']:.3f}"


def head_groups(config: Config) -> str:
    short = {"arousal": "A", "valence": "V"}
    return "; ".join(
        f"{short[axis]}: {len(getattr(config, axis).groups)}" for axis in ("arousal", "valence")
    )


def table(rows: list[tuple[str, Config, dict]]) -> list[str]:
    """Markdown rows: configuration, groups per head, each figure as mean ± std."""
    lines = [
        "| configuration | groups | " + " | ".join(label for _, label in FIGURES) + " |",
        "|---|---|" + "---|" * len(FIGURES),
    ]
    for name, config, result in rows:
        cells = " | ".join(cell(result["summary"], key) for key, _ in FIGURES)
        lines.append(f"| {name} | {head_groups(config)} | {cells} |")
    return lines


def report(
    rows: list[tuple[str, Config, dict]],
    fresh: list[tuple[str, Config, dict]],
    args: argparse.Namespace,
    n: dict,
) -> str:
    """The study as markdown."""
    command = "python " + " ".join(shlex.quote(a) for a in sys.argv)
    first = rows[0][2]
    lines = [
        "# Feature study: which groups feed which head",
        "",
        f"Generated by `{command}` (va_mood {va_mood.__version__}, "
        f"Python {platform.python_version()}).",
        "",
        f"Data: `{args.labels}` with audio from `{args.audio}`: {n['clips']} clips, "
        f"{n['groups']} artists. Protocol: {first['protocol']}; each figure is the mean ± std "
        "over repeats of the pooled out-of-fold predictions. Binary heads (xgboost).",
        "",
        "Groups per head are counted in the second column; the article's split and the default "
        "are in `configs/article.toml` and `configs/default.toml`. Handcrafted groups are every "
        "group but the pre-trained tagger's (`embedding.*`, `va_mood.features.embedding`). The "
        "default fits its valence head separately on high- and low-arousal clips "
        "(`by_arousal`) and weighs its training clips by how clearly their labels are positive "
        "or negative (`weight_floor`); the two rows before it take those away in turn. The "
        "ablation rows drop one group from the default valence head (the arousal head "
        "unchanged).",
        "",
        *table(rows),
    ]
    if fresh:
        lines += [
            "",
            f"The default was chosen on the splits above (seed {rows[0][1].seed}). The named "
            f"configurations again on fresh splits (seed {fresh[0][1].seed}), which played no "
            "part in any choice:",
            "",
            *table(fresh),
        ]
    lines += ["", "Groups of the named configurations:", ""]
    for name, config, _ in rows[:NAMED]:
        lines.append(f"- **{name}**: arousal `{', '.join(config.arousal.groups)}`; ")
        lines[-1] += f"valence `{', '.join(config.valence.groups)}`"
    lines.append("")
    return "\n".join(lines)


def run(
    name: str,
    config: Config,
    features: pd.DataFrame,
    labels: pd.DataFrame,
    args: argparse.Namespace,
) -> dict:
    """Cross-validate one configuration with the study's repeats; print a progress line."""
    config = dataclasses.replace(
        config, evaluation=dataclasses.replace(config.evaluation, n_repeats=args.repeats)
    )
    start = time.perf_counter()
    result = cross_validate(features, labels, config)
    s = result["summary"]
    print(
        f"{name:<60} seed {config.seed} {time.perf_counter() - start:4.0f} s  valence "
        f"{cell(s, 'valence_accuracy')}  F1 {cell(s, 'quadrant_macro_f1')}",
        flush=True,
    )
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", default="../shared/data/4q/labels.csv")
    parser.add_argument("--audio", default="../shared/data/4q/audio")
    parser.add_argument("--cache", default=".cache/features")
    parser.add_argument("--repeats", type=int, default=3, help="CV repeats (5 folds each)")
    parser.add_argument("--jobs", type=int, default=2, help="extraction worker processes")
    parser.add_argument("--article", default="configs/article.toml")
    parser.add_argument("--default", default="configs/default.toml")
    parser.add_argument("--out", default="docs/feature_study.md")
    parser.add_argument(
        "--check-seed", type=int, default=7, help="seed of the fresh splits (-1: none)"
    )
    args = parser.parse_args(argv)

    article, default = load_config(args.article), load_config(args.default)
    features, labels = feature_table(args)
    runs = configurations(article, default)
    rows = [
        (name, config, run(name, config, features, labels, args)) for name, config in runs.items()
    ]
    fresh = []
    if args.check_seed >= 0:
        for name, config in list(runs.items())[:NAMED]:
            config = dataclasses.replace(config, seed=args.check_seed)
            fresh.append((name, config, run(name, config, features, labels, args)))
    n = {"clips": len(labels), "groups": labels["group"].nunique()}
    write_text(Path(args.out), report(rows, fresh, args, n))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
