"""Is it music the model can judge? Signal checks that travel with every prediction.

The model was trained on excerpts of commercially recorded songs; asked about silence or
telephone-rate audio it would still answer, and confidently (docs/failure_modes.md). So every
prediction also extracts :data:`QUALITY_GROUP` (cached like any group, never fed to the
model), and :func:`apply_checks` gives silence no mood and band-limited audio lower
confidences, with a warning for each.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..vocabulary import AXES
from .analysis import AnalysisConfig
from .registry import feature

__all__ = [
    "QUALITY_GROUP",
    "SILENT_DB",
    "NARROW_HZ",
    "UNCERTAIN",
    "CONFIDENCE_SHRINK",
    "signal",
    "apply_checks",
]

QUALITY_GROUP = "quality.signal"
SILENT_DB = -60.0
"""Frames quieter than this (RMS, dB full scale, as decoded) count as silent."""
NARROW_HZ = 5500.0
"""Audio whose frames hold nothing above this frequency is band-limited: an 8 kHz telephone
rate reaches 4 kHz, the 16 kHz clips the model was trained on reach 8 kHz."""
BANDWIDTH_FLOOR_DB = 60.0
"""A frame's bandwidth is its highest frequency within this many dB of its strongest bin."""
UNCERTAIN = "uncertain"
"""The mood of a clip the model cannot judge (silence)."""
CONFIDENCE_SHRINK = 0.5
"""A band-limited clip's confidences move this share of the way towards 0.5 (a coin toss)."""
_HANN_DB = 10 * np.log10(8 / 3)
"""What the STFT's Hann window takes from a frame's power (its mean square is 3/8)."""
_LEVEL, _BANDWIDTH = f"{QUALITY_GROUP}_level.p90", f"{QUALITY_GROUP}_bandwidth.p90"


@feature("quality", "signal", stats=("p90",), dims=("level", "bandwidth"))
def signal(*, S: np.ndarray, sr: int, config: AnalysisConfig, gain: float) -> np.ndarray:  # noqa: N803
    """Each frame's level as decoded and its bandwidth: what the checks look at.

    Parameters
    ----------
    S : np.ndarray [shape=(1 + n_fft // 2, n_frames)]
        Magnitude STFT of the loudness-normalised clip.
    sr : int
        Sample rate.
    config : AnalysisConfig
        The analysis settings (``n_fft``).
    gain : float
        The factor loudness normalisation applied, divided out of the level.

    Returns
    -------
    np.ndarray [shape=(2, n_frames)]
        The level in dB full scale (RMS, corrected for the Hann window), and the highest
        frequency (Hz) within :data:`BANDWIDTH_FLOOR_DB` of the frame's strongest bin.
    """
    power = S**2
    total = power.sum(axis=0) * 2 / max(1, (S.shape[0] - 1) * 2) ** 2
    level = 10.0 * np.log10(np.maximum(total, 1e-12)) - 20.0 * np.log10(max(gain, 1e-12))
    level += _HANN_DB
    floor = power.max(axis=0, initial=0.0) * 10 ** (-BANDWIDTH_FLOOR_DB / 10)
    above = (power > floor) & (power > 0)
    top = np.where(above.any(axis=0), S.shape[0] - 1 - np.argmax(above[::-1], axis=0), 0)
    return np.stack([level, top * sr / config.n_fft])


def apply_checks(table: pd.DataFrame, quality: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """Give silent rows of a prediction table no mood and band-limited rows lower confidences.

    A row is silent when nine frames in ten lie below :data:`SILENT_DB`: its coordinates,
    confidences and probabilities become NaN, its quadrant empty and its mood
    :data:`UNCERTAIN`. A row is band-limited when nine frames in ten hold nothing above
    :data:`NARROW_HZ` (telephone rates, old recordings): its confidences move
    :data:`CONFIDENCE_SHRINK` of the way towards 0.5.

    Parameters
    ----------
    table : pd.DataFrame
        Predictions, indexed by path, or by (path, start, end) for windows.
    quality : pd.DataFrame
        The :data:`QUALITY_GROUP` columns of the same clips, on the index of ``table``.

    Returns
    -------
    table : pd.DataFrame
        A checked copy of ``table``.
    warnings : dict
        ``{path: one-line warning}`` for each file with silent or band-limited rows.
    """
    table = table.copy()
    level = quality[_LEVEL].reindex(table.index).to_numpy()
    bandwidth = quality[_BANDWIDTH].reindex(table.index).to_numpy()
    silent = level < SILENT_DB
    narrow = ~silent & (bandwidth < NARROW_HZ)
    confidences = [c for c in table.columns if c.endswith("_confidence") or c.startswith("p_")]
    numbers = [c for c in table.columns if c in AXES] + confidences
    if narrow.any():
        for column in [c for c in confidences if c.endswith("_confidence")]:
            values = table.loc[narrow, column].to_numpy(dtype=float)
            table.loc[narrow, column] = 0.5 + (values - 0.5) * (1 - CONFIDENCE_SHRINK)
    if silent.any():
        table.loc[silent, numbers] = np.nan
        table.loc[silent, "quadrant"] = ""
        table.loc[silent, "mood"] = UNCERTAIN
    return table, _warnings(table.index, silent, narrow, bandwidth)


def _warnings(index: pd.Index, silent: np.ndarray, narrow: np.ndarray, bandwidth: np.ndarray):
    """One line per file: its silent and band-limited rows (windows, for segments)."""
    paths = np.asarray(index.get_level_values(0) if index.nlevels > 1 else index, dtype=object)
    windowed = index.nlevels > 1
    out: dict[str, str] = {}
    for path in dict.fromkeys(paths):
        rows = paths == path
        parts = []
        if silent[rows].any():
            what = f"{silent[rows].sum()} of {rows.sum()} windows are" if windowed else "it is"
            parts.append(
                f"{what} silent or nearly (below {SILENT_DB:.0f} dBFS): no mood, mood {UNCERTAIN!r}"
            )
        if narrow[rows].any():
            top = np.nanmax(bandwidth[rows & narrow])
            parts.append(
                f"band-limited audio (nothing above {top / 1000:.1f} kHz; the model was trained "
                "on full-band music): confidence lowered"
            )
        if parts:
            out[str(path)] = f"{path}: " + "; ".join(parts)
    return out
