"""Pictures people read: the Russell plane, emotion over time, and evaluation figures.

Every function draws one figure with matplotlib, writes it atomically to its argument
``path`` (str or Path) and returns that path as a :class:`~pathlib.Path`. The format follows
the suffix (``.png``, ``.svg``, ``.pdf``): another suffix raises
:class:`~va_mood.errors.ParameterError`, and a file that cannot be written raises
:class:`~va_mood.errors.OutputError`. Figures are made without pyplot, so an application's
own matplotlib backend and open figures are left as they are.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ParameterError
from ..quadrant import axis_signs
from ..util.atomic import write_with
from ..vocabulary import AXES, MOODS, QUADRANTS, SIGNS
from .scales import display_text

__all__ = [
    "plot_plane",
    "plot_timeline",
    "plot_confusion",
    "plot_per_class",
    "plot_scatter",
    "plot_reliability",
    "plot_plane_errors",
    "plot_evaluation",
]

COLOURS = dict(zip(QUADRANTS, ("#e69f00", "#d55e00", "#0072b2", "#009e73"), strict=True))
"""One colour per quadrant (Okabe-Ito, readable with colour-blindness)."""


def _figure(width: float = 7.0, height: float = 6.0) -> tuple[Any, Any]:
    """A figure of its own (no pyplot, no global backend) and its axes."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    return fig, fig.subplots()


def _save(fig: Any, path: str | os.PathLike) -> Path:
    path = Path(path)
    fmt = path.suffix.lstrip(".").lower()
    if fmt not in ("png", "svg", "pdf"):
        raise ParameterError(f"plot files must end in .png, .svg or .pdf, got {path.name!r}")
    from matplotlib import rc_context

    with rc_context({"svg.fonttype": "none"}):  # SVG text stays text: searchable, selectable
        write_with(path, lambda tmp: fig.savefig(tmp, format=fmt, dpi=150))
    return path


def _quadrant_frame(ax: Any, thresholds: tuple[float, float]) -> None:
    """Axes, boundaries and the four quadrant names, on the [-1, 1] plane.

    The names sit in a margin outside the data square, so no point ever hides them.
    """
    ax.set_xlim(-1.08, 1.08)
    ax.set_ylim(-1.25, 1.25)
    ax.set_aspect("equal")
    ax.axvline(thresholds[0], color="0.4", lw=1)
    ax.axhline(thresholds[1], color="0.4", lw=1)
    ax.add_patch(_square())
    for q, (sx, sy) in SIGNS.items():
        ax.text(
            (thresholds[0] + sx) / 2,  # the middle of its half of the plane
            1.14 * sy,
            f"{q} {MOODS[q]}",
            ha="center",
            va="center",
            fontsize=12,
            fontweight="bold",
            color=COLOURS[q],
        )
    ax.set_yticks([-1, -0.5, 0, 0.5, 1])
    ax.set_xlabel("valence (negative → positive)")
    ax.set_ylabel("arousal (low → high)")
    ax.grid(alpha=0.25)


def _square() -> Any:
    import matplotlib.patches as mpatches

    return mpatches.Rectangle((-1, -1), 2, 2, fill=False, color="0.75", lw=0.8)


def plot_plane(
    predictions: pd.DataFrame,
    path: str | os.PathLike,
    *,
    truth: pd.Series | None = None,
    thresholds: tuple[float, float] = (0.0, 0.0),
    title: str = "Predicted mood on the valence–arousal plane",
    names: Sequence[str] | None = None,
    max_labels: int = 30,
) -> Path:
    """Draw files as points on the Russell plane, coloured by quadrant.

    Up to ``max_labels`` points are named; with more, no names, and the points shrink and fade
    with their number so that dense areas stay readable.

    Parameters
    ----------
    predictions : pd.DataFrame
        ``path``, ``valence``, ``arousal`` on [-1, 1] and ``quadrant``, as ``va-mood predict``
        writes them.
    path : str or Path
    truth : pd.Series, optional
        Each row's true quadrant (same index): colour by it instead of the predicted one.
    thresholds : (float, float)
        The (valence, arousal) boundaries of the quadrants.
    title : str
        The figure's title; the number of clips is appended.
    names : sequence of str, optional
        One name per row (default: the file stems).
    max_labels : int
        The most points that are named.

    Returns
    -------
    Path
        ``path``.
    """
    fig, ax = _figure(7.0, 7.5)
    _quadrant_frame(ax, thresholds)
    colour_by = truth if truth is not None else predictions["quadrant"]
    n = len(predictions)
    size = 36.0 if n <= max_labels else max(4.0, 36.0 * np.sqrt(max_labels / n))
    alpha = 0.85 if n <= max_labels else max(0.25, 0.85 * np.sqrt(max_labels / n))
    for q in QUADRANTS:
        rows = predictions[colour_by.to_numpy() == q]
        if len(rows):
            name = f"{'true' if truth is not None else 'predicted'} {q} {MOODS[q]}"
            ax.scatter(
                rows["valence"], rows["arousal"], s=size, color=COLOURS[q], label=name,
                edgecolor="white", linewidth=0.5 if n <= max_labels else 0.0, alpha=alpha,
            )  # fmt: skip
    if n <= max_labels:
        if names is None:
            names = [Path(str(p)).stem for p in predictions["path"]]
        names = [display_text(n) for n in names]  # bytes of a name that are not UTF-8: U+FFFD
        points = zip(names, predictions["valence"], predictions["arousal"], strict=True)
        for label, x, y in points:  # names point outwards, away from the valence axis
            side = 1 if x >= 0 else -1
            ax.annotate(
                label, (x, y), fontsize=8, xytext=(4 * side, 4), textcoords="offset points",
                ha="left" if side > 0 else "right",
            )  # fmt: skip
    fig.legend(loc="outside lower center", ncols=2, fontsize=9, frameon=False)
    ax.set_title(f"{title} ({n} clips)")
    return _save(fig, path)


def plot_timeline(
    segments: pd.DataFrame,
    path: str | os.PathLike,
    *,
    ratings: pd.DataFrame | None = None,
    title: str | None = None,
) -> Path:
    """Draw one file's valence and arousal over time, over bands coloured by predicted mood.

    Parameters
    ----------
    segments : pd.DataFrame
        The windows of one file: ``start``, ``end`` (s), ``valence``, ``arousal``,
        ``quadrant`` (and ``path``, for the title).
    path : str or Path
    ratings : pd.DataFrame, optional
        A listener curve, drawn dashed: ``time`` (s), ``valence``, ``arousal`` on [-1, 1]
        (:func:`va_mood.labels.files.load_ratings`).
    title : str, optional
        Default: "Emotion over time" and the file's name.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    ParameterError
        When ``segments`` is empty (or ``path`` has another suffix).
    """
    if segments.empty:
        raise ParameterError("no segments to plot")
    segments = segments.sort_values("start")
    fig, ax = _figure(10.0, 4.5)
    centre = ((segments["start"] + segments["end"]) / 2).to_numpy()
    # each window's band runs between the midpoints to its neighbours, so overlapping
    # windows (hop < segment) still paint every moment once
    edges = np.r_[
        segments["start"].iloc[0], (centre[1:] + centre[:-1]) / 2, segments["end"].iloc[-1]
    ]
    for left, right, quadrant in zip(edges[:-1], edges[1:], segments["quadrant"], strict=True):
        ax.axvspan(left, right, color=COLOURS[quadrant], alpha=0.18, lw=0)
    ax.plot(centre, segments["valence"], "-o", color="#cc79a7", label="valence (predicted)")
    ax.plot(centre, segments["arousal"], "-s", color="#333333", label="arousal (predicted)")
    if ratings is not None:
        ax.plot(
            ratings["time"], ratings["valence"], "--", color="#cc79a7", label="valence (listeners)"
        )
        ax.plot(
            ratings["time"], ratings["arousal"], "--", color="#333333", label="arousal (listeners)"
        )
    ax.axhline(0, color="0.4", lw=1)
    ax.set_ylim(-1.05, 1.05)
    ax.set_xlim(segments["start"].min(), segments["end"].max())
    ax.set_xlabel("time (s)")
    ax.set_ylabel("value on [-1, 1]")
    import matplotlib.patches as mpatches

    bands = [
        mpatches.Patch(color=COLOURS[q], alpha=0.35, label=f"{q} {MOODS[q]}")
        for q in QUADRANTS
        if (segments["quadrant"] == q).any()
    ]
    fig.legend(
        handles=ax.get_legend_handles_labels()[0] + bands,
        loc="outside right center", fontsize=9, frameon=False,
    )  # fmt: skip
    name = display_text(Path(str(segments["path"].iloc[0])).name) if "path" in segments else ""
    ax.set_title(title or f"Emotion over time: {name}")
    ax.grid(alpha=0.25)
    return _save(fig, path)


def plot_confusion(report: dict[str, Any], path: str | os.PathLike) -> Path:
    """Draw the confusion matrix of an evaluation report, with counts and row shares.

    Parameters
    ----------
    report : dict
        From :func:`va_mood.evaluation.cross_validation.cross_validate` (its ``confusion``).
    path : str or Path

    Returns
    -------
    Path
        ``path``.
    """
    matrix = np.asarray(report["confusion"], dtype=float)
    shares = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    fig, ax = _figure(6.5, 5.5)
    image = ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    names = [f"{q}\n{MOODS[q]}" for q in QUADRANTS]
    ax.set_xticks(range(4), names)
    ax.set_yticks(range(4), names)
    for i in range(4):
        for j in range(4):
            ax.text(
                j, i, f"{int(matrix[i, j])}\n{shares[i, j]:.0%}", ha="center", va="center",
                color="white" if shares[i, j] > 0.5 else "black", fontsize=10,
            )  # fmt: skip
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    fig.colorbar(image, ax=ax, label="share of the true class")
    ax.set_title("Confusion matrix (grouped CV, summed over repeats)")
    return _save(fig, path)


def plot_per_class(report: dict[str, Any], path: str | os.PathLike) -> Path:
    """Draw precision and recall per quadrant, as bars.

    Parameters and return value as :func:`plot_confusion`; this figure reads the report's
    ``per_class``.
    """
    per_class = report["per_class"]
    x = np.arange(len(QUADRANTS))
    fig, ax = _figure(7.0, 4.5)
    precision = [per_class[q]["precision"] for q in QUADRANTS]
    recall = [per_class[q]["recall"] for q in QUADRANTS]
    bars_p = ax.bar(x - 0.2, precision, 0.4, label="precision", color="#0072b2")
    bars_r = ax.bar(x + 0.2, recall, 0.4, label="recall", color="#e69f00")
    ax.bar_label(bars_p, fmt="%.2f", fontsize=9)
    ax.bar_label(bars_r, fmt="%.2f", fontsize=9)
    ax.set_xticks(x, [f"{q} {MOODS[q]}" for q in QUADRANTS])
    ax.set_ylim(0, 1.1)
    ax.set_ylabel("score")
    ax.legend(loc="upper right", ncols=2, frameon=False)
    ax.set_title("Precision and recall per quadrant (grouped CV)")
    return _save(fig, path)


def plot_scatter(
    predicted: np.ndarray, true: np.ndarray, path: str | os.PathLike, *, axis: str
) -> Path:
    """Draw predicted against true values of one axis, with the identity line and Pearson's r.

    Parameters
    ----------
    predicted, true : np.ndarray [shape=(n_clips,)]
        Out-of-fold predictions and labels, on [-1, 1].
    path : str or Path
    axis : {"valence", "arousal"}
        The axis compared, named in the labels and title.

    Returns
    -------
    Path
        ``path``.
    """
    predicted = np.asarray(predicted, dtype=float)
    true = np.asarray(true, dtype=float)
    fig, ax = _figure(5.5, 5.5)
    ax.scatter(true, predicted, s=14, alpha=0.6, color="#0072b2", edgecolor="none")
    ax.plot([-1, 1], [-1, 1], color="0.4", lw=1, ls="--", label="perfect prediction")
    ax.set_xlim(-1.05, 1.05)
    ax.set_ylim(-1.05, 1.05)
    ax.set_aspect("equal")
    r = np.corrcoef(true, predicted)[0, 1] if len(true) > 1 and np.std(predicted) > 0 else np.nan
    ax.set_xlabel(f"true {axis} (labels, on [-1, 1])")
    ax.set_ylabel(f"predicted {axis} (out of fold)")
    ax.set_title(f"{axis.capitalize()}: predicted vs true (r = {r:.2f})")
    ax.legend(loc="upper left", frameon=False)
    ax.grid(alpha=0.25)
    return _save(fig, path)


def plot_reliability(
    confidence: np.ndarray, correct: np.ndarray, path: str | os.PathLike, *, axis: str
) -> Path:
    """Draw a head's reliability diagram: per bin of its confidence, the share it got right.

    A calibrated head's points lie on the diagonal; each point is marked with its number of
    clips, and the title gives the expected calibration error.

    Parameters
    ----------
    confidence : np.ndarray [shape=(n_clips,)]
        The probability of the side each clip was put on, on [0.5, 1].
    correct : np.ndarray [shape=(n_clips,)]
        Whether that side was right.
    path : str or Path
    axis : {"valence", "arousal"}
        The head's axis.

    Returns
    -------
    Path
        ``path``.

    See Also
    --------
    va_mood.evaluation.metrics.reliability, va_mood.evaluation.metrics.expected_calibration_error
    """
    from ..evaluation.metrics import expected_calibration_error, reliability

    mean_conf, accuracy, count = reliability(confidence, correct)
    ece = expected_calibration_error(confidence, correct)
    fig, ax = _figure(5.5, 5.5)
    ax.plot([0.5, 1], [0.5, 1], color="0.4", lw=1, ls="--", label="perfectly calibrated")
    used = count > 0
    ax.plot(mean_conf[used], accuracy[used], "o-", color="#0072b2", label="out of fold")
    for x, y, n in zip(mean_conf[used], accuracy[used], count[used], strict=True):
        ax.annotate(str(n), (x, y), fontsize=7, xytext=(4, -10), textcoords="offset points")
    ax.set_xlim(0.48, 1.02)
    ax.set_ylim(0.0, 1.02)
    ax.set_xlabel(f"{axis} confidence (probability of the side it was put on)")
    ax.set_ylabel("share of clips on that side")
    ax.set_title(f"{axis.capitalize()} head: reliability (ECE = {ece:.3f})")
    ax.legend(loc="upper left", frameon=False)
    ax.grid(alpha=0.25)
    return _save(fig, path)


def plot_plane_errors(
    predicted: pd.DataFrame, labels: pd.DataFrame, path: str | os.PathLike
) -> Path:
    """Draw each clip's true point joined to its predicted one, coloured by its true quadrant.

    Shows how far, and in which direction, the coordinates are off.

    Parameters
    ----------
    predicted : pd.DataFrame
        Out-of-fold ``valence`` and ``arousal`` on [-1, 1].
    labels : pd.DataFrame
        ``valence``, ``arousal`` and ``quadrant`` of the same clips, in the same order.
    path : str or Path

    Returns
    -------
    Path
        ``path``.
    """
    from matplotlib.collections import LineCollection

    fig, ax = _figure(7.0, 7.5)
    _quadrant_frame(ax, (0.0, 0.0))
    true = labels[["valence", "arousal"]].to_numpy(dtype=float)
    pred = predicted[["valence", "arousal"]].to_numpy(dtype=float)
    colours = [COLOURS[q] for q in labels["quadrant"]]
    ax.add_collection(
        LineCollection(np.stack([true, pred], axis=1), colors=colours, lw=0.5, alpha=0.4)
    )
    ax.scatter(true[:, 0], true[:, 1], s=10, facecolor="none", edgecolor=colours, lw=0.6,
               label="true (labels)")  # fmt: skip
    ax.scatter(pred[:, 0], pred[:, 1], s=12, color=colours, edgecolor="none",
               label="predicted (out of fold)")  # fmt: skip
    fig.legend(loc="outside lower center", ncols=2, fontsize=9, frameon=False)
    ax.set_title(f"True and predicted coordinates ({len(true)} clips)")
    return _save(fig, path)


def plot_evaluation(
    report: dict[str, Any],
    folder: str | os.PathLike,
    *,
    predicted: pd.DataFrame | None = None,
    labels: pd.DataFrame | None = None,
) -> list[Path]:
    """Write the evaluation figures into ``folder``.

    The confusion matrix and per-class bars; with one repeat's out-of-fold predictions, also
    each head's reliability diagram and, where the labels hold continuous values, each head's
    predicted-vs-true scatter and the plane of true and predicted points.

    Parameters
    ----------
    report : dict
        From :func:`va_mood.evaluation.cross_validation.cross_validate`.
    folder : str or Path
        Where the PNG files go (created if missing).
    predicted : pd.DataFrame, optional
        One repeat's out-of-fold predictions (``on_repeat`` of ``cross_validate``).
    labels : pd.DataFrame, optional
        The labels, indexed like ``predicted`` (training-only excerpts are left out).

    Returns
    -------
    list of Path
        The files written.
    """
    folder = Path(folder)
    written = [
        plot_confusion(report, folder / "confusion_matrix.png"),
        plot_per_class(report, folder / "per_class.png"),
    ]
    if predicted is None or labels is None:
        return written
    labels = labels.loc[predicted.index]  # the clips scored (no training-only excerpts)
    continuous = not labels[["valence", "arousal"]].isna().any().any()
    signs = axis_signs(labels["quadrant"].to_numpy())
    for k, axis in enumerate(AXES):
        correct = (predicted[axis].to_numpy() > 0) == (signs[:, k] > 0)
        path = folder / f"{axis}_reliability.png"
        written.append(plot_reliability(predicted[f"{axis}_confidence"], correct, path, axis=axis))
        if continuous:
            path = folder / f"{axis}_predicted_vs_true.png"
            written.append(plot_scatter(predicted[axis], labels[axis], path, axis=axis))
    if continuous:
        written.append(plot_plane_errors(predicted, labels, folder / "plane_predicted_vs_true.png"))
    return written
