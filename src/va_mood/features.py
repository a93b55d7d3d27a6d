"""Named feature groups: a registry of pure extractors and the names of their columns.

Each extractor is a keyword-only function of shared intermediates (see :mod:`va_mood.analysis`)
registered with :func:`feature`. It returns either a time series ``[shape=(n_dims, n_frames)]``,
summarised over time by the declared ``stats``, or clip-level values ``[shape=(n_dims,)]``.
Column names are ``family.name.stat`` (``arousal.rms.mean``) or, for a group with several
dimensions, ``family.name_dim.stat`` (``valence.chroma_C.mean``), declared once here.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .analysis import Analysis
from .config import AnalysisConfig
from .errors import ParameterError

__all__ = [
    "REGISTRY",
    "FeatureGroup",
    "feature",
    "summarise",
    "columns_for",
    "extract_clip",
    "analysis_of",
]

PITCH_CLASSES = ("C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B")
STAT_FUNCTIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "mean": lambda x: x.mean(axis=-1),
    "std": lambda x: x.std(axis=-1),
    "p10": lambda x: np.percentile(x, 10, axis=-1),
    "p50": lambda x: np.percentile(x, 50, axis=-1),
    "p90": lambda x: np.percentile(x, 90, axis=-1),
    "delta_mean": lambda x: (
        np.abs(np.diff(x, axis=-1)).mean(axis=-1) if x.shape[-1] > 1 else np.zeros(x.shape[:-1])
    ),
}


@dataclass(frozen=True)
class FeatureGroup:
    """A registered extractor with the names of the columns it produces."""

    family: str
    name: str
    func: Callable[..., np.ndarray]
    dims: tuple[str, ...] | None
    stats: tuple[str, ...] | None
    inputs: tuple[str, ...]
    version: int = 1

    @property
    def key(self) -> str:
        return f"{self.family}.{self.name}"

    @property
    def columns(self) -> list[str]:
        if self.stats is None:
            return [f"{self.key}.{d}" for d in self.dims]
        if self.dims is None:
            return [f"{self.key}.{s}" for s in self.stats]
        return [f"{self.key}_{d}.{s}" for d in self.dims for s in self.stats]

    def compute(self, analysis: Analysis) -> np.ndarray:
        """Run the extractor on ``analysis`` and return one finite value per column."""
        return self.finish(self.raw(analysis))

    def raw(self, analysis: Analysis) -> np.ndarray:
        """The extractor's own output on ``analysis``: a time series, or clip-level values."""
        kwargs = {name: getattr(analysis, name) for name in self.inputs}
        return np.asarray(self.func(**kwargs), dtype=np.float64)

    def finish(self, out: np.ndarray) -> np.ndarray:
        """Summarise a :meth:`raw` output over time (if it is a series); one finite value per
        column."""
        if self.stats is not None:
            out = summarise(np.atleast_2d(out), self.stats).ravel()
        out = np.nan_to_num(out, nan=0.0, posinf=0.0, neginf=0.0)
        if out.shape != (len(self.columns),):
            raise RuntimeError(
                f"{self.key} returned {out.shape}, expected {len(self.columns)} values"
            )
        return out


REGISTRY: dict[str, FeatureGroup] = {}


def feature(
    family: str,
    name: str,
    *,
    stats: Sequence[str] | None = ("mean", "std"),
    dims: Sequence[str] | int | None = None,
    version: int = 1,
) -> Callable:
    """Register an extractor as the feature group ``family.name``.

    ``dims`` names the rows of a multi-dimensional output (an int ``n`` names them ``0..n-1``);
    ``stats=None`` marks an extractor that already returns clip-level values, one per ``dims``.
    Bump ``version`` whenever the extractor's output changes: cached features and models
    trained on the old output are then recognised as stale.
    """
    if isinstance(dims, int):
        dims = tuple(f"{i:02d}" for i in range(dims))
    unknown = set(stats or ()) - set(STAT_FUNCTIONS)
    if unknown:
        raise ParameterError(f"unknown stats {sorted(unknown)}; allowed: {sorted(STAT_FUNCTIONS)}")

    def register(func: Callable) -> Callable:
        inputs = tuple(inspect.signature(func).parameters)
        group = FeatureGroup(
            family,
            name,
            func,
            None if dims is None else tuple(dims),
            stats and tuple(stats),
            inputs,
            version,
        )
        REGISTRY[group.key] = group
        return func

    return register


def summarise(x: np.ndarray, stats: Sequence[str]) -> np.ndarray:
    """Summarise each row of ``x`` [shape=(n_dims, n_frames)] over time.

    Returns [shape=(n_dims, len(stats))]; an empty series summarises to zeros.
    """
    if x.shape[-1] == 0:
        return np.zeros((x.shape[0], len(stats)))
    return np.stack([STAT_FUNCTIONS[s](x) for s in stats], axis=-1)


def columns_for(groups: Sequence[str]) -> list[str]:
    """The column names the given feature groups produce, in order."""
    unknown = [g for g in groups if g not in REGISTRY]
    if unknown:
        raise ParameterError(f"unknown feature group(s) {unknown}; known: {sorted(REGISTRY)}")
    return [c for g in groups for c in REGISTRY[g].columns]


def extract_clip(
    y: np.ndarray, sr: int, *, config: AnalysisConfig, groups: Sequence[str]
) -> np.ndarray:
    """Compute the named feature groups for one mono clip.

    Returns
    -------
    np.ndarray [shape=(len(columns_for(groups)),)]
        Finite values in the order of :func:`columns_for`.

    Examples
    --------
    >>> import numpy as np
    >>> from va_mood.config import AnalysisConfig
    >>> y = np.sin(2 * np.pi * 440 * np.arange(22050) / 22050).astype(np.float32)
    >>> extract_clip(y, 22050, config=AnalysisConfig(), groups=["arousal.rms"]).shape
    (5,)
    """
    columns_for(groups)
    analysis = analysis_of(y, sr, config)
    return np.concatenate([REGISTRY[g].compute(analysis) for g in groups])


MAX_AMPLITUDE = 1e3
"""Samples are clipped to ±this (decoded audio lies within ±1), so no power overflows."""


def analysis_of(y: np.ndarray, sr: int, config: AnalysisConfig) -> Analysis:
    """The shared :class:`Analysis` of a clip, after checking and sanitising its samples.

    NaN and infinite samples become 0 and samples are clipped to ±:data:`MAX_AMPLITUDE`;
    a clip shorter than :data:`va_mood.audio.MIN_DURATION` is refused.
    """
    from .audio import MIN_DURATION

    y = np.asarray(y, dtype=np.float32).ravel()
    if len(y) < MIN_DURATION * sr:
        raise ParameterError(
            f"too short: {len(y)} samples ({len(y) / sr:.2f} s), minimum is {MIN_DURATION} s"
        )
    y = np.clip(np.nan_to_num(y, nan=0.0, posinf=0.0, neginf=0.0), -MAX_AMPLITUDE, MAX_AMPLITUDE)
    return Analysis(y, sr, config)


def _db(x: np.ndarray, floor: float = 1e-5) -> np.ndarray:
    return 20.0 * np.log10(np.maximum(x, floor))


# ---- arousal: energy and motion ---------------------------------------------------------------


@feature("arousal", "rms", stats=("mean", "std", "p10", "p90", "delta_mean"))
def rms(*, S: np.ndarray) -> np.ndarray:  # noqa: N803
    """Frame loudness in dB (RMS of the STFT frame)."""
    power = (S**2).sum(axis=0) * 2 / max(1, (S.shape[0] - 1) * 2) ** 2
    return 10.0 * np.log10(np.maximum(power, 1e-10))


ZCR_THRESHOLD = 1e-10
"""Samples this close to 0 count as 0 (librosa's ``zero_crossings`` default)."""


@feature("arousal", "zcr", stats=("mean", "std", "p10", "p90"))
def zcr(*, y: np.ndarray, config: AnalysisConfig) -> np.ndarray:
    """Zero-crossing rate per frame: noisiness and brightness of the signal.

    ``librosa.feature.zero_crossing_rate(y, frame_length=n_fft, hop_length=hop_length)[0]``,
    to the bit, but the crossings are found once for the signal and counted per frame from
    their running sum, instead of once per overlapping frame.
    """
    n_fft, hop = config.n_fft, config.hop_length
    y = np.pad(y, n_fft // 2, mode="edge")  # librosa's centred frames
    threshold = np.asarray(ZCR_THRESHOLD, dtype=y.dtype)  # librosa's, at the signal's precision
    negative = np.signbit(y) & (np.abs(y) > threshold)  # smaller magnitudes count as +0
    running = np.concatenate([[0], np.cumsum(negative[1:] != negative[:-1])])
    starts = np.arange(1 + (len(y) - n_fft) // hop) * hop
    # a frame counts the crossings between its own consecutive samples
    return (running[starts + n_fft - 1] - running[starts]) / n_fft


CONTRAST_FMIN = 200.0
CONTRAST_BANDS = 6


@feature("arousal", "contrast", dims=tuple(f"b{i}" for i in range(CONTRAST_BANDS + 1)))
def contrast(*, S: np.ndarray, sr: int, config: AnalysisConfig) -> np.ndarray:  # noqa: N803
    """Spectral contrast (peak against valley, dB) in seven octave bands from 200 Hz.

    At low sample rates the octaves above Nyquist do not exist: their rows are zero.
    """
    import librosa

    n_bands = CONTRAST_BANDS
    while n_bands > 0 and CONTRAST_FMIN * 2 ** (n_bands - 1) >= sr / 2:
        n_bands -= 1  # librosa needs every band's lower edge below Nyquist
    out = np.zeros((CONTRAST_BANDS + 1, S.shape[1]))
    if n_bands >= 1:
        out[: n_bands + 1] = librosa.feature.spectral_contrast(
            S=S, sr=sr, n_fft=config.n_fft, fmin=CONTRAST_FMIN, n_bands=n_bands
        )
    return out


TEMPO_BANDS = (30, 45, 60, 80, 100, 120, 140, 170, 210, 300)
"""Edges, in BPM, of the bands the tempo-lag profile is pooled into."""


@feature(
    "arousal",
    "tempogram",
    stats=None,
    dims=tuple(f"lag_{lo}_{hi}" for lo, hi in zip(TEMPO_BANDS[:-1], TEMPO_BANDS[1:], strict=True))
    + ("tempo_log2", "peak_strength", "pulse_clarity", "stability", "tempo_std", "strength_std"),
)
def tempogram(*, tempogram: np.ndarray, sr: int, config: AnalysisConfig) -> np.ndarray:
    """What the tempogram says over time, not its plain mean.

    The tempo-lag profile (mean autocorrelation pooled into BPM bands); the dominant tempo
    (log2 BPM) and its strength; pulse clarity (peak over median of the profile); stability
    (share of frames whose own peak lies within 5 % of the dominant tempo, or an octave of it);
    the spread of the per-frame tempo (octaves) and of the per-frame peak strength.
    """
    T, bpm = tempo_lags(tempogram, sr, config)  # noqa: N806
    if T.size == 0:
        return np.zeros(len(TEMPO_BANDS) - 1 + 6)
    return tempo_summary(T.mean(axis=1), bpm[np.argmax(T, axis=0)], T.max(axis=0), bpm)


def tempo_lags(
    tempogram: np.ndarray, sr: int, config: AnalysisConfig
) -> tuple[np.ndarray, np.ndarray]:
    """The tempogram rows whose lag lies in the :data:`TEMPO_BANDS` range, and their BPM."""
    lags = np.arange(1, tempogram.shape[0])
    bpm = 60.0 * sr / (config.hop_length * lags)
    keep = (bpm >= TEMPO_BANDS[0]) & (bpm <= TEMPO_BANDS[-1])
    return tempogram[1:][keep], bpm[keep]


def tempo_summary(
    profile: np.ndarray, frame_tempo: np.ndarray, frame_strength: np.ndarray, bpm: np.ndarray
) -> np.ndarray:
    """The tempogram group's values from the mean tempo-lag ``profile`` (over frames), each
    frame's peak tempo (BPM) and peak strength, and the BPM of each lag."""
    bands = [
        profile[(bpm >= lo) & (bpm < hi)].mean() if np.any((bpm >= lo) & (bpm < hi)) else 0.0
        for lo, hi in zip(TEMPO_BANDS[:-1], TEMPO_BANDS[1:], strict=True)
    ]
    peak = int(np.argmax(profile))
    tempo = bpm[peak]
    octave_error = np.abs(np.log2(frame_tempo / tempo))
    stable = np.minimum(octave_error, np.abs(octave_error - 1.0)) < np.log2(1.05)
    return np.array(
        [
            *bands,
            np.log2(tempo),
            profile[peak],
            profile[peak] - np.median(profile),
            stable.mean(),
            np.log2(frame_tempo).std(),
            frame_strength.std(),
        ]
    )


@feature("arousal", "onset", stats=("mean", "std", "p90"))
def onset(*, onset_env: np.ndarray) -> np.ndarray:
    """Onset strength: how much and how often new sound events start."""
    return onset_env


# ---- valence: harmony -------------------------------------------------------------------------


@feature("valence", "chroma", dims=PITCH_CLASSES)
def chroma(*, chroma: np.ndarray) -> np.ndarray:
    """Chromagram from the CQT: energy per pitch class, C first."""
    return chroma


CQT_BANDS = 21
"""Bands the constant-Q spectrum is pooled into: 4 semitones each with the default 84 bins."""


@feature("valence", "cqt", dims=CQT_BANDS)
def cqt(*, C: np.ndarray) -> np.ndarray:  # noqa: N803
    """Constant-Q spectrum in dB relative to the clip's peak, pooled into 21 bands."""
    pooled = np.stack([band.mean(axis=0) for band in np.array_split(C, CQT_BANDS, axis=0)])
    peak = pooled.max() if pooled.size else 1.0
    return _db(pooled / max(peak, 1e-10), floor=1e-4)


@feature(
    "valence", "tonnetz", dims=("fifth_x", "fifth_y", "minor_x", "minor_y", "major_x", "major_y")
)
def tonnetz(*, tonnetz: np.ndarray) -> np.ndarray:
    """Tonal centroids: the chroma projected on circles of fifths and thirds."""
    return tonnetz


# ---- timbre: usable by either head ------------------------------------------------------------


@feature("timbre", "mfcc", dims=20)
def mfcc(*, mel_db: np.ndarray, config: AnalysisConfig) -> np.ndarray:
    """Mel-frequency cepstral coefficients: the spectral envelope, i.e. timbre."""
    import scipy.fft

    return scipy.fft.dct(mel_db, axis=0, type=2, norm="ortho")[: config.n_mfcc]


@feature("timbre", "spectral", dims=("centroid", "bandwidth", "rolloff", "flatness"))
def spectral(*, S: np.ndarray, sr: int, config: AnalysisConfig) -> np.ndarray:  # noqa: N803
    """Spectral centroid, bandwidth, 85 % roll-off (log2 Hz) and flatness per frame.

    Centroid and bandwidth come from the power spectrum's moments (one matrix product, in
    float64: the bandwidth is a difference of two of them); flatness is
    ``librosa.feature.spectral_flatness(S=S)``, to the bit.
    """
    import librosa

    freq = librosa.fft_frequencies(sr=sr, n_fft=config.n_fft)
    power = S**2
    moments = np.stack([np.ones_like(freq), freq, freq**2]) @ power.astype(np.float64)
    total = moments[0] + 1e-12
    centroid = moments[1] / total
    bandwidth = np.sqrt(np.maximum(moments[2] / total - centroid**2, 0.0))
    # roll-off: the first bin whose running power reaches 85 % (bin 0 where none does), as
    # the count of bins below; a running sum row by row is twice as fast as np.cumsum here
    threshold, running = 0.85 * total, np.zeros(S.shape[1], dtype=power.dtype)
    rolloff = np.zeros(S.shape[1], dtype=np.intp)
    for row in power:
        running += row
        rolloff += running < threshold
    rolloff[rolloff == len(power)] = 0
    floored = np.maximum(power, 1e-10)  # librosa's amin
    flatness = np.exp(np.log(floored).mean(axis=0)) / floored.mean(axis=0)
    return np.stack(
        [np.log2(centroid + 1.0), np.log2(bandwidth + 1.0), np.log2(freq[rolloff] + 1.0), flatness]
    )


from . import harmony as _harmony  # noqa: E402,F401 - registers the harmony groups
from . import musicnn as _musicnn  # noqa: E402,F401 - registers the embedding groups
