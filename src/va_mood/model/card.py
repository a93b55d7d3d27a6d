"""Model cards: what a bundle was trained on, how it was evaluated, and how well it did.

Rendered from the bundle's own metadata and metrics, so the figures a card shows are always
those of the run that produced the model.
"""

from __future__ import annotations

from typing import Any

from ..audio.loudness import FADE_SECONDS
from ..vocabulary import AXES, MOODS, QUADRANTS

__all__ = ["render_model_card"]

FIGURES = (
    ("quadrant_macro_f1", "quadrant macro-F1"),
    ("quadrant_accuracy", "quadrant accuracy"),
    *(
        (f"{axis}_{key}", f"{axis} {name}")
        for axis in AXES
        for key, name in (
            ("accuracy", "side accuracy"),
            ("ccc", "CCC (coordinate vs continuous label)"),
            ("pearson_r", "Pearson r"),
            ("rmse", "RMSE"),
            ("r2", "R²"),
            ("share_extreme", "share of clips beyond ±0.95"),
            ("ece", "confidence ECE (10 bins)"),
        )
    ),
)


TAGGER = (
    "The `embedding.msd_*` groups are the outputs of a pre-trained music tagger, musicnn's "
    'Million Song Dataset model (J. Pons and X. Serra, "musicnn: pre-trained convolutional '
    'neural networks for music audio tagging", ISMIR 2019 late-breaking demo; Music Technology '
    "Group, Universitat Pompeu Fabra), run by `va_mood.features.musicnn`; its weights ship with "
    "va_mood "
    "under musicnn's ISC licence (`va_mood/models/musicnn/LICENSE`). It was trained on Last.fm "
    "tags of the Million Song Dataset, mostly Western popular music, so this model inherits "
    "that tagger's view of music as well as its training clips'. Some evaluation clips may be "
    "songs whose audio the tagger heard in training (with Last.fm tags, not these labels), "
    "which could flatter the figures below a little."
)


def render_model_card(meta: dict[str, Any], *, name: str, about: str = "") -> str:
    """Markdown model card for a bundle's ``bundle.json`` contents ``meta``.

    ``about`` (markdown) describes the training data: its sources, citations and licence.
    """
    config = meta["config"]
    metrics = meta.get("metrics") or {}
    lines = [
        f"# Model card: {name}",
        "",
        f"Created {meta['created']} with va_mood {meta['versions'].get('va-mood', '?')}.",
        "",
        "## What it predicts",
        "",
        "Valence and arousal on [-1, 1] (0 = the neutral boundary) and the quadrant mood: "
        + ", ".join(f"{q} {MOODS[q]}" for q in QUADRANTS)
        + ".",
        "",
        *_meaning(config),
        "| head | mode | estimator | feature groups |",
        "|---|---|---|---|",
    ]
    for axis in AXES:
        head = config[axis]
        groups = ", ".join(f"`{g}`" for g in head["groups"])
        n_columns = len(meta["heads"][axis]["columns"])
        lines.append(
            f"| {axis} | {head['mode']} | {head['estimator']} | {groups} ({n_columns} columns) |"
        )
    thresholds = meta["thresholds"]
    lines += _tuning(meta.get("tuning") or {})
    lines += [
        "",
        f"Quadrant thresholds: valence {thresholds['valence']:+.2f}, "
        f"arousal {thresholds['arousal']:+.2f}. Seed {config['seed']}.",
        "",
        "## Training data",
        "",
        about.strip() or "Not described.",
        "",
    ]
    if any(g.startswith("embedding.msd_") for axis in AXES for g in config[axis]["groups"]):
        lines += ["## Pre-trained component", "", TAGGER, ""]
    if "summary" in metrics:
        lines += _figures(metrics)
    else:
        lines += ["## Evaluation", "", "This bundle was trained without cross-validation.", ""]
    lines += [
        "## Limits",
        "",
        "- The figures are for clips like the training clips (30-second previews of commercial "
        "recordings, labelled from mood tags). Music far from them (other genres, recording "
        "styles or loudness) may do worse.",
        "- Mood is not a property of audio alone; listeners disagree, and the quadrant "
        "boundary is a convention. Clips near 0 on an axis (low confidence) are near a coin toss.",
        "- The same music at another playback level, sample rate, channel count or MP3 "
        "encoding gets the same answer; a short excerpt may not, as the excerpt may sound "
        "different from the whole. `benchmarks/invariance.py` measures both and "
        "`benchmarks/listener_check.py` compares the model with listeners' ratings "
        "(figures in va_mood's docs/coordinates.md).",
        "",
    ]
    return "\n".join(lines)


def _meaning(config: dict[str, Any]) -> list[str]:
    """What the numbers are, as the configuration makes them."""
    calibrated = (config.get("calibration") or {}).get("folds", 0)
    analysis = config.get("analysis") or {}
    loudness, fade_gate = analysis.get("loudness"), analysis.get("fade_gate")
    lines = []
    if calibrated:
        lines.append(
            "A value estimates where the clip sits on the continuous scale of the training "
            "labels (0 = their neutral midpoint, ±1 = the ends of their scale), learnt from "
            f"out-of-fold scores of {calibrated} inner folds grouped by artist; its sign is the "
            "head's decision. A confidence is the calibrated probability that the clip is on "
            "the side it was put on."
        )
    else:
        lines.append(
            "Values are the heads' own scale (a binary head's 2p - 1), not estimates of the "
            "labels; confidences are the heads' probabilities, uncalibrated."
        )
    if loudness is not None:
        lines.append(
            f"Every clip is brought to {loudness:g} LUFS (ITU-R BS.1770) before analysis, so "
            "the playback level does not change the answer."
        )
    if fade_gate is not None:
        lines.append(
            f"A whole clip's faded edges (quieter than {fade_gate:g} LU below its loudness, "
            f"at most {FADE_SECONDS:g} s at either end) are left out of its analysis, so that "
            "a fade in or out does not make a clip sound more dynamic than its middle."
        )
    return [" ".join(lines), ""]


def _tuning(tuning: dict[str, Any]) -> list[str]:
    """Where the heads' estimators and parameters came from, when a study chose them."""
    heads = tuning.get("heads") or {}
    if not heads:
        return []
    lines = [
        "",
        f"The heads come from the package's own optuna studies (`va-mood tune`, then "
        f"`va-mood train --params-from-study`), storage `{tuning.get('storage')}`:",
        "",
        "| head | study | search space | finished trials | best trial | objective |",
        "|---|---|---|---|---|---|",
    ]
    for axis, h in heads.items():
        lines.append(
            f"| {axis} | `{h['study']}` | `{h.get('search_space')}` | {h['finished_trials']} "
            f"| {h['best_trial']} | {h.get('metric')} {h['best_value']:.3f} |"
        )
    return lines


def _figures(metrics: dict[str, Any]) -> list[str]:
    summary = metrics["summary"]
    lines = [
        "## Evaluation",
        "",
        f"Protocol: {metrics['protocol']}; {metrics['n_clips']} clips by "
        f"{metrics['n_groups']} artists. Every clip is predicted by a model that never heard "
        "its artist. Mean ± standard deviation over repeats.",
        "",
        "| figure | value |",
        "|---|---|",
    ]
    for key, label in FIGURES:
        if key in summary:
            value = summary[key]
            lines.append(f"| {label} | {value['mean']:.3f} ± {value['std']:.3f} |")
    lines += ["", "| quadrant | precision | recall | F1 |", "|---|---|---|---|"]
    for q, m in metrics["per_class"].items():
        lines.append(
            f"| {q} {MOODS[q]} | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} |"
        )
    lines += [
        "",
        "Confusion matrix (rows: true quadrant, columns: predicted; summed over repeats):",
        "",
        "| | " + " | ".join(QUADRANTS) + " |",
        "|---" * (len(QUADRANTS) + 1) + "|",
    ]
    for q, row in zip(QUADRANTS, metrics["confusion"], strict=True):
        lines.append(f"| {q} | " + " | ".join(str(v) for v in row) + " |")
    lines.append("")
    return lines
