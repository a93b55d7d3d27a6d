"""Is it music the model can judge? Signal checks that travel with every prediction.

The model was trained on excerpts of commercially recorded songs; asked about silence, noise,
a test tone or telephone-rate audio it would still answer, and confidently
(docs/failure_modes.md). So every prediction also extracts :data:`QUALITY_GROUP` (cached like
any group, never fed to the model), and :func:`apply_checks` gives silence, noise and steady
tones no mood and band-limited audio lower confidences, with a warning for each.

Each check reads one series of the group, computed from the clip's STFT ``S``, a frame at a
time, so that windows of a clip (``--segment``) and the blocks of a long recording are
judged as a whole clip is:

- ``level``: how loud each frame is as decoded (silence);
- ``bandwidth``: the highest frequency each frame holds (band-limited audio);
- ``tonal``: how much of a frame's spectral fine structure (the partials of notes, standing
  out of their neighbourhood) was already there a few frames earlier. Notes and chords last; the
  fine structure of noise, whatever its colour, and of noise shaped like speech, is new in
  every frame (noise);
- ``change``: how much a frame's spectrum differs from that of the last frame before it that
  shares none of its samples. Music moves; a test tone or a held drone does not (steady
  tones).

A frame quieter than :data:`SILENT_DB` says nothing about what the sound is: it counts as
tonal and changing, so that only silence itself is judged silent.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.ndimage import uniform_filter1d

from ..vocabulary import AXES
from .analysis import AnalysisConfig
from .registry import feature

__all__ = [
    "QUALITY_GROUP",
    "SILENT_DB",
    "NARROW_HZ",
    "NOISE_TONAL",
    "STEADY_CHANGE",
    "UNCERTAIN",
    "CONFIDENCE_SHRINK",
    "signal",
    "tonal",
    "change",
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
NOISE_TONAL = 0.03
"""A clip sounds like noise when in half its frames the fine structure's correlation with
that of :data:`TONAL_LAG` frames earlier (``tonal``) is below this; chosen with
benchmarks/not_music.py, whose figures are in docs/failure_modes.md."""
STEADY_CHANGE = 0.07
"""A clip is a steady tone when nine frames in ten differ from the last frame sharing none of
their samples by less than this share of their magnitude (``change``); chosen as
:data:`NOISE_TONAL`."""
TONAL_BAND = (100.0, 1500.0)
"""The frequencies, in Hz, whose fine structure ``tonal`` follows: where the partials of
melody, chords and bass lie, and below the telephone band's upper edge."""
TONAL_SMOOTH_BINS = 9
"""The fine structure is each bin's log power less its mean over this many bins around it."""
TONAL_LAG = 3
"""Frames between the two whose fine structures are compared: enough that the two share only
a quarter of their samples (so the fine structure of noise is new in the later one), few
enough that a note is still sounding."""
TONAL_FLOOR = 1e-3
"""Bins quieter than this share of their frame's mean power in the band count as this quiet,
so that a codec's empty bins do not pass for structure."""
UNCERTAIN = "uncertain"
"""The mood of a clip the model cannot judge (silence, noise, a steady tone)."""
CONFIDENCE_SHRINK = 0.5
"""A band-limited clip's confidences move this share of the way towards 0.5 (a coin toss)."""
_HANN_DB = 10 * np.log10(8 / 3)
"""What the STFT's Hann window takes from a frame's power (its mean square is 3/8)."""
_COLUMNS = {
    name: f"{QUALITY_GROUP}_{name}.{stat}"
    for name, stat in (("level", "p90"), ("bandwidth", "p90"), ("tonal", "p50"), ("change", "p90"))
}
"""The column each check reads."""


@feature(
    "quality",
    "signal",
    stats=("p50", "p90"),
    dims=("level", "bandwidth", "tonal", "change"),
    version=2,
)
def signal(*, S: np.ndarray, sr: int, config: AnalysisConfig, gain: float) -> np.ndarray:  # noqa: N803
    """Each frame's level as decoded, bandwidth, lasting fine structure and change.

    Parameters
    ----------
    S : np.ndarray [shape=(1 + n_fft // 2, n_frames)]
        Magnitude STFT of the loudness-normalised clip.
    sr : int
        Sample rate.
    config : AnalysisConfig
        The analysis settings (``n_fft``, ``hop_length``).
    gain : float
        The factor loudness normalisation applied, divided out of the level.

    Returns
    -------
    np.ndarray [shape=(4, n_frames)]
        The level in dB full scale (RMS, corrected for the Hann window); the highest
        frequency (Hz) within :data:`BANDWIDTH_FLOOR_DB` of the frame's strongest bin; the
        correlation of the frame's fine structure in :data:`TONAL_BAND` with that of the
        frame :data:`TONAL_LAG` frames earlier (:func:`tonal`); and the share of its
        magnitude that differs from the frame ``n_fft // hop_length`` frames earlier, the
        last that shares none of its samples (:func:`change`). Silent frames have ``tonal``
        and ``change`` 1.

    Examples
    --------
    >>> import numpy as np
    >>> from va_mood.config import AnalysisConfig
    >>> from va_mood.features import extract_clip
    >>> y = np.sin(2 * np.pi * 440 * np.arange(3 * 22050) / 22050).astype(np.float32)
    >>> values = extract_clip(y, 22050, config=AnalysisConfig(), groups=[QUALITY_GROUP])
    >>> values.shape  # p50 and p90 of each series
    (8,)
    """
    power = S**2
    total = power.sum(axis=0) * 2 / max(1, (S.shape[0] - 1) * 2) ** 2
    level = 10.0 * np.log10(np.maximum(total, 1e-12)) - 20.0 * np.log10(max(gain, 1e-12))
    level += _HANN_DB
    floor = power.max(axis=0, initial=0.0) * 10 ** (-BANDWIDTH_FLOOR_DB / 10)
    above = (power > floor) & (power > 0)
    top = np.where(above.any(axis=0), S.shape[0] - 1 - np.argmax(above[::-1], axis=0), 0)
    silent = level < SILENT_DB
    lasting = np.where(silent, 1.0, tonal(S=S, sr=sr, n_fft=config.n_fft))
    moving = np.where(silent, 1.0, change(S=S, lag=max(1, config.n_fft // config.hop_length)))
    return np.stack([level, top * sr / config.n_fft, lasting, moving])


def _partners(n_frames: int, lag: int) -> np.ndarray:
    """The frame each frame is compared with: ``lag`` frames earlier, or later for the first
    frames, ``lag`` shortened to half a clip too short for it."""
    lag = max(1, min(lag, n_frames // 2))
    frames = np.arange(n_frames)
    return np.where(frames >= lag, frames - lag, np.minimum(frames + lag, n_frames - 1))


def tonal(*, S: np.ndarray, sr: int, n_fft: int) -> np.ndarray:  # noqa: N803
    """How much of each frame's fine structure was there :data:`TONAL_LAG` frames earlier.

    The fine structure is the log power of each bin in :data:`TONAL_BAND` less its mean
    over the :data:`TONAL_SMOOTH_BINS` bins around it: the partials standing out of the
    spectral envelope, and the valleys between them. The two frames' fine structures are
    correlated over the band (Pearson).

    Parameters
    ----------
    S : np.ndarray [shape=(1 + n_fft // 2, n_frames)]
        Magnitude STFT.
    sr, n_fft : int
        Sample rate and the STFT's window length.

    Returns
    -------
    np.ndarray [shape=(n_frames,)]
        Between -1 and 1: near 1 for held notes, near 0 for noise of any colour.

    Examples
    --------
    >>> import numpy as np
    >>> S = np.full((1025, 40), 1e-3)
    >>> S[40] = 1.0  # one partial, held
    >>> round(float(tonal(S=S, sr=22050, n_fft=2048).min()), 6)
    1.0
    """
    lo = max(1, int(np.ceil(TONAL_BAND[0] * n_fft / sr)))
    hi = min(S.shape[0], int(TONAL_BAND[1] * n_fft / sr) + 1)
    power = S[lo:hi].astype(np.float64) ** 2
    floor = TONAL_FLOOR * power.mean(axis=0, keepdims=True)
    logs = np.log(np.maximum(power, floor) + 1e-30)
    fine = logs - uniform_filter1d(logs, TONAL_SMOOTH_BINS, axis=0, mode="nearest")
    fine -= fine.mean(axis=0, keepdims=True)
    fine /= np.maximum(np.sqrt((fine**2).sum(axis=0, keepdims=True)), 1e-12)
    return (fine * fine[:, _partners(S.shape[1], TONAL_LAG)]).sum(axis=0)


def change(*, S: np.ndarray, lag: int) -> np.ndarray:  # noqa: N803
    """The share of each frame's magnitude spectrum that differs from ``lag`` frames earlier.

    Parameters
    ----------
    S : np.ndarray [shape=(1 + n_fft // 2, n_frames)]
        Magnitude STFT.
    lag : int
        Frames between the two compared (later ones for the first frames).

    Returns
    -------
    np.ndarray [shape=(n_frames,)]
        ``sum |S[:, t] - S[:, u]| / sum (S[:, t] + S[:, u])``: 0 for the same spectrum, 1
        for spectra with nothing in common.

    Examples
    --------
    >>> import numpy as np
    >>> S = np.ones((1025, 100))
    >>> float(change(S=S, lag=43).max())
    0.0
    """
    other = S[:, _partners(S.shape[1], lag)]
    differ = np.abs(S - other).sum(axis=0)
    return differ / np.maximum((S + other).sum(axis=0), 1e-12)


def apply_checks(table: pd.DataFrame, quality: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """Give rows that are not music no mood, and band-limited rows lower confidences.

    A row is silent when nine frames in ten lie below :data:`SILENT_DB`; noise when in half
    its frames no fine structure lasts (``tonal`` below :data:`NOISE_TONAL`); a steady tone
    when nine frames in ten differ from the last frame sharing none of their samples by less
    than :data:`STEADY_CHANGE` (``change``). Such a row's coordinates, confidences and
    probabilities become NaN, its quadrant empty and its mood :data:`UNCERTAIN`. Any other
    row is band-limited when nine frames in ten hold nothing above :data:`NARROW_HZ`
    (telephone rates, old recordings): its confidences move :data:`CONFIDENCE_SHRINK` of the
    way towards 0.5.

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
        ``{path: one-line warning}`` for each file with rows that are not music or are
        band-limited.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"valence": [0.3], "arousal": [0.2], "quadrant": ["Q1"],
    ...                       "mood": ["Uplifting"]}, index=pd.Index(["hiss.wav"], name="path"))
    >>> quality = pd.DataFrame({f"{QUALITY_GROUP}_level.p90": [-20.0],
    ...                         f"{QUALITY_GROUP}_bandwidth.p90": [11000.0],
    ...                         f"{QUALITY_GROUP}_tonal.p50": [0.0],
    ...                         f"{QUALITY_GROUP}_change.p90": [0.3]}, index=table.index)
    >>> checked, warnings = apply_checks(table, quality)
    >>> checked.loc["hiss.wav", "mood"]
    'uncertain'
    >>> print(warnings["hiss.wav"])
    hiss.wav: it sounds like noise, not music: no mood, mood 'uncertain'
    """
    table = table.copy()
    value = {k: quality[c].reindex(table.index).to_numpy(float) for k, c in _COLUMNS.items()}
    flags = {"silent": value["level"] < SILENT_DB}
    flags["noise"] = ~flags["silent"] & (value["tonal"] < NOISE_TONAL)
    flags["steady"] = ~flags["silent"] & ~flags["noise"] & (value["change"] < STEADY_CHANGE)
    uncertain = flags["silent"] | flags["noise"] | flags["steady"]
    flags["narrow"] = ~uncertain & (value["bandwidth"] < NARROW_HZ)
    confidences = [c for c in table.columns if c.endswith("_confidence") or c.startswith("p_")]
    numbers = [c for c in table.columns if c in AXES] + confidences
    narrow = flags["narrow"]
    if narrow.any():
        for column in [c for c in confidences if c.endswith("_confidence")]:
            values = table.loc[narrow, column].to_numpy(dtype=float)
            table.loc[narrow, column] = 0.5 + (values - 0.5) * (1 - CONFIDENCE_SHRINK)
    if uncertain.any():
        table.loc[uncertain, numbers] = np.nan
        table.loc[uncertain, "quadrant"] = ""
        table.loc[uncertain, "mood"] = UNCERTAIN
    return table, _warnings(table.index, flags, value["bandwidth"])


_NO_MOOD = f"no mood, mood {UNCERTAIN!r}"
_REASONS = {  # (a whole clip, some windows): what the warning says of them
    "silent": (
        "it is silent or nearly",
        "are silent or nearly",
        f" (below {SILENT_DB:.0f} dBFS): {_NO_MOOD}",
    ),
    "noise": ("it sounds like noise", "sound like noise", f", not music: {_NO_MOOD}"),
    "steady": (
        "it is a steady tone",
        "are a steady tone",
        f" (its spectrum does not change), not music: {_NO_MOOD}",
    ),
}


def _warnings(index: pd.Index, flags: dict[str, np.ndarray], bandwidth: np.ndarray) -> dict:
    """One line per file: its rows (windows, for segments) that are not music or are
    band-limited, for each reason."""
    paths = np.asarray(index.get_level_values(0) if index.nlevels > 1 else index, dtype=object)
    windowed = index.nlevels > 1
    out: dict[str, str] = {}
    for path in dict.fromkeys(paths):
        rows = paths == path
        parts = []
        for reason, (whole, some, rest) in _REASONS.items():
            hit = flags[reason][rows]
            if hit.any():
                what = f"{hit.sum()} of {rows.sum()} windows {some}" if windowed else whole
                parts.append(what + rest)
        if flags["narrow"][rows].any():
            top = np.nanmax(bandwidth[rows & flags["narrow"]])
            parts.append(
                f"band-limited audio (nothing above {top / 1000:.1f} kHz; the model was trained "
                "on full-band music): confidence lowered"
            )
        if parts:
            out[str(path)] = f"{path}: " + "; ".join(parts)
    return out
