"""Harmony heard relative to the tonic: key and mode, chords, harmonic change, dissonance.

The pitch groups (:mod:`va_mood.features.pitch`) describe pitch classes, which depend on the
key a song happens to be in: a happy song in D and a happy song in Ab share little chroma.
What listeners hear as positive or negative is relative to the tonic (major or minor mode,
how settled the key is, how often and how far the harmony moves, how rough the sound is).
Each group here measures one of those from the shared intermediates of
:mod:`va_mood.features.analysis`, with numpy over whole arrays (no loops over frames).
"""

from __future__ import annotations

import numpy as np

from .analysis import AnalysisConfig
from .registry import feature

__all__ = [
    "KK_MAJOR",
    "KK_MINOR",
    "DEGREES",
    "key_correlations",
    "estimate_key",
    "chord_labels",
    "roughness",
    "chroma_key_invariant",
    "key",
    "local_key",
    "harmonic_change",
    "chords",
    "dissonance",
    "harmonicity",
]

KK_MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
"""Krumhansl-Kessler major-key profile, tonic first."""
KK_MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])
"""Krumhansl-Kessler minor-key profile, tonic first."""
DEGREES = ("I", "bII", "II", "bIII", "III", "IV", "bV", "V", "bVI", "VI", "bVII", "VII")
"""Scale degrees, in semitones above the tonic."""

LOCAL_KEY_SECONDS = 6.0
"""Length of the windows the local key is estimated over (half-overlapping)."""
CHORD_SECONDS = 0.5
"""Length of the blocks chroma is averaged over before chords are matched."""
CHORD_MIN_FIT = 0.75
"""A block whose best triad template fits worse than this (cosine) is labelled "other"."""
HARMONICS = (0, 12, 19, 24, 28, 31)
"""Semitone offsets of the first six harmonics above a fundamental."""
_EPS = 1e-10


def _zscore(x: np.ndarray, axis: int = 0) -> np.ndarray:
    """Standardise along ``axis``; a constant vector becomes zeros."""
    centred = x - x.mean(axis=axis, keepdims=True)
    return centred / (centred.std(axis=axis, keepdims=True) + _EPS)


def _profiles() -> np.ndarray:
    """The 24 key profiles [shape=(24, 12)], z-scored: C..B major, then C..B minor."""
    rows = [np.roll(p, k) for p in (KK_MAJOR, KK_MINOR) for k in range(12)]
    return _zscore(np.array(rows), axis=1)


_PROFILES = _profiles()


def key_correlations(chroma: np.ndarray) -> np.ndarray:
    """Pearson correlation of chroma vectors with the 24 major and minor key profiles.

    The Krumhansl-Kessler probe-tone profiles (:data:`KK_MAJOR`, :data:`KK_MINOR`) rotated
    to each tonic, correlated with the chroma as in Krumhansl's key-finding algorithm.

    Parameters
    ----------
    chroma : np.ndarray [shape=(12,) or (12, n)]
        Pitch-class energy, C first.

    Returns
    -------
    np.ndarray [shape=(24,) or (24, n)]
        Rows 0-11 are C..B major, rows 12-23 C..B minor; a flat chroma correlates 0 with all.

    Examples
    --------
    >>> c_major = np.array([1, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0.0])
    >>> int(np.argmax(key_correlations(c_major)))
    0

    References
    ----------
    .. [1] C. L. Krumhansl and E. J. Kessler, "Tracing the dynamic changes in perceived tonal
           organization in a spatial representation of musical keys", Psychological Review
           89(4), 1982.
    .. [2] C. L. Krumhansl, "Cognitive Foundations of Musical Pitch", Oxford University
           Press, 1990.
    """
    return _PROFILES @ _zscore(np.asarray(chroma, dtype=np.float64), axis=0) / 12.0


def estimate_key(chroma: np.ndarray) -> tuple[int, bool]:
    """The key whose profile best correlates with a chromagram's mean.

    Parameters
    ----------
    chroma : np.ndarray [shape=(12, n_frames)]
        Chromagram, C first.

    Returns
    -------
    tonic : int
        The tonic's pitch class, 0 (C) to 11 (B).
    is_major : bool
        Whether the key is major.

    Examples
    --------
    >>> a_minor = np.array([1, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0.0])[:, None]
    >>> estimate_key(a_minor)
    (9, False)
    """
    best = int(np.argmax(key_correlations(_mean(chroma))))
    return best % 12, best < 12


def _mean(chroma: np.ndarray) -> np.ndarray:
    """The chromagram's mean over time; zeros for an empty one."""
    return chroma.mean(axis=1) if chroma.shape[1] else np.zeros(12)


def _blocks(x: np.ndarray, n: int) -> np.ndarray:
    """Average ``x`` [shape=(d, n_frames)] over consecutive blocks of ``n`` frames (>= 1 block)."""
    n_blocks = max(1, x.shape[1] // max(1, n))
    n = x.shape[1] // n_blocks if x.shape[1] else 0
    if n == 0:
        return np.zeros((x.shape[0], 1))
    return x[:, : n_blocks * n].reshape(x.shape[0], n_blocks, n).mean(axis=2)


def _frames(seconds: float, sr: int, config: AnalysisConfig) -> int:
    """Analysis frames in ``seconds`` (one at least)."""
    return max(1, round(seconds * sr / config.hop_length))


@feature("valence", "chroma_key_invariant", dims=DEGREES)
def chroma_key_invariant(*, chroma: np.ndarray) -> np.ndarray:
    """Chroma rotated to the estimated tonic: energy per scale degree, not per pitch class.

    The same harmonic language in another key gives the same degrees, so a model learns
    "much bIII and bVI" (minor colour) instead of memorising which keys its songs were in.

    Parameters
    ----------
    chroma : np.ndarray [shape=(12, n_frames)]
        Chromagram, C first (:attr:`~va_mood.features.analysis.Analysis.chroma`).

    Returns
    -------
    np.ndarray [shape=(12, n_frames)]
        Energy per degree of :data:`DEGREES`, tonic first (:func:`estimate_key`).
    """
    tonic, _ = estimate_key(chroma)
    return np.roll(chroma, -tonic, axis=0)


@feature("valence", "key", stats=None, dims=("major", "minor", "mode", "clarity", "margin"))
def key(*, chroma: np.ndarray) -> np.ndarray:
    """Global key-profile fit: best major and minor correlations, mode strength, key clarity.

    Major mode is the classic cue of positive valence; a clear, settled tonality sounds
    different from an ambiguous or atonal one.

    Parameters
    ----------
    chroma : np.ndarray [shape=(12, n_frames)]
        As :func:`chroma_key_invariant` takes it.

    Returns
    -------
    np.ndarray [shape=(5,)]
        ``major`` and ``minor``, the best correlation of a major and of a minor key
        (:func:`key_correlations` of the mean chroma); ``mode``, their difference;
        ``clarity``, the best key's correlation; ``margin``, its lead over the second best.
    """
    r = key_correlations(_mean(chroma))
    major, minor = r[:12].max(), r[12:].max()
    top2 = np.sort(r)[-2:]
    return np.array([major, minor, major - minor, top2[1], top2[1] - top2[0]])


@feature(
    "valence",
    "local_key",
    stats=None,
    dims=("agree", "major_share", "mode_mean", "mode_std", "clarity", "changes", "fifths"),
)
def local_key(*, chroma: np.ndarray, sr: int, config: AnalysisConfig) -> np.ndarray:
    """Key and mode over half-overlapping windows, and how stable they are.

    Modulation, modal mixture and tonal ambiguity colour a song beyond its global key.

    Parameters
    ----------
    chroma : np.ndarray [shape=(12, n_frames)]
        Chromagram, C first (:attr:`~va_mood.features.analysis.Analysis.chroma`).
    sr, config : int, AnalysisConfig
        Sample rate and analysis settings, for the length of a frame.

    Returns
    -------
    np.ndarray [shape=(7,)]
        Over windows of :data:`LOCAL_KEY_SECONDS`: ``agree``, the share in the global key;
        ``major_share``, the share in a major key; ``mode_mean`` and ``mode_std``, the local
        mode strength; ``clarity``, the mean best local correlation; ``changes``, the share of
        window steps where the key changes; ``fifths``, the mean distance of the local keys
        from the global one on the circle of fifths (0-1, relative keys coincide).
    """
    n = chroma.shape[1]
    width = min(n, _frames(LOCAL_KEY_SECONDS, sr, config))
    if width == 0:
        return np.zeros(7)
    step = max(1, width // 2)
    csum = np.concatenate([np.zeros((12, 1)), np.cumsum(chroma, axis=1)], axis=1)
    starts = np.arange(0, n - width + 1, step)
    windows = (csum[:, starts + width] - csum[:, starts]) / width
    r = key_correlations(windows)
    best = np.argmax(r, axis=0)
    glob = int(np.argmax(key_correlations(_mean(chroma))))
    mode = r[:12].max(axis=0) - r[12:].max(axis=0)
    fifths = _fifths_distance(best, glob)
    return np.array(
        [
            np.mean(best == glob),
            np.mean(best < 12),
            mode.mean(),
            mode.std(),
            r.max(axis=0).mean(),
            np.mean(best[1:] != best[:-1]) if len(best) > 1 else 0.0,
            fifths.mean() / 6.0,
        ]
    )


def _fifths_distance(keys: np.ndarray, ref: int) -> np.ndarray:
    """Circle-of-fifths distance (0-6) between key indices (0-23), minor keys as relative major."""

    def position(k: np.ndarray) -> np.ndarray:
        major_tonic = np.where(k < 12, k, k + 3) % 12
        return (7 * major_tonic) % 12

    d = np.abs(position(np.asarray(keys)) - position(np.asarray(ref)))
    return np.minimum(d, 12 - d)


@feature(
    "valence", "harmonic_change", dims=("tonnetz_flux", "chroma_flux"), stats=("mean", "std", "p90")
)
def harmonic_change(
    *, chroma: np.ndarray, tonnetz: np.ndarray, sr: int, config: AnalysisConfig
) -> np.ndarray:
    """How fast the harmony moves: tonal-centroid and chroma distance between blocks.

    Static drones and slow harmonic rhythm against busy, restless changes (and their peaks)
    separate calm from tense music. The chroma and tonnetz are averaged over blocks of half
    :data:`CHORD_SECONDS` first.

    Parameters
    ----------
    chroma : np.ndarray [shape=(12, n_frames)]
        Chromagram, C first (:attr:`~va_mood.features.analysis.Analysis.chroma`).
    tonnetz : np.ndarray [shape=(6, n_frames)]
        Tonal centroids (:attr:`~va_mood.features.analysis.Analysis.tonnetz`).
    sr, config : int, AnalysisConfig
        Sample rate and analysis settings, for the length of a frame.

    Returns
    -------
    np.ndarray [shape=(2, n_blocks - 1)]
        ``tonnetz_flux``, the Euclidean distance of consecutive blocks' tonal centroids
        (Harte's harmonic change detection function); ``chroma_flux``, one minus the cosine
        similarity of consecutive blocks' chroma (0 between silent blocks).

    References
    ----------
    .. [1] C. Harte, M. Sandler and M. Gasser, "Detecting harmonic change in musical audio",
           Proc. 1st ACM Workshop on Audio and Music Computing Multimedia, 2006.
    """
    n = _frames(CHORD_SECONDS / 2, sr, config)
    t = _blocks(tonnetz, n)
    c = _unit(_blocks(chroma, n))
    if t.shape[1] < 2:
        return np.zeros((2, 1))
    tonnetz_flux = np.linalg.norm(np.diff(t, axis=1), axis=0)
    chroma_flux = 0.5 * ((c[:, 1:] - c[:, :-1]) ** 2).sum(axis=0)
    return np.vstack([tonnetz_flux, chroma_flux])


def _unit(x: np.ndarray) -> np.ndarray:
    """Columns scaled to unit length (zero columns stay zero)."""
    return x / (np.linalg.norm(x, axis=0, keepdims=True) + _EPS)


def _templates() -> tuple[np.ndarray, np.ndarray]:
    """Unit triad templates [shape=(36, 12)] (major, minor, diminished on each root) and types."""
    shapes = ((0, 4, 7), (0, 3, 7), (0, 3, 6))
    rows = []
    for shape in shapes:
        for root in range(12):
            row = np.zeros(12)
            row[[(root + i) % 12 for i in shape]] = 1.0
            rows.append(row)
    return np.array(rows) / np.sqrt(3.0), np.repeat(np.arange(3), 12)


_TEMPLATES, _TEMPLATE_TYPE = _templates()
CHORD_TYPES = ("major", "minor", "diminished", "other")


def chord_labels(chroma: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Best triad per chroma column, by cosine similarity with triad templates.

    Parameters
    ----------
    chroma : np.ndarray [shape=(12, n)]
        Chroma vectors, C first.

    Returns
    -------
    root : np.ndarray [shape=(n,)]
        Root pitch class (-1 for "other").
    kind : np.ndarray [shape=(n,)]
        Index into :data:`CHORD_TYPES`; 3 ("other") when no template fits at least
        :data:`CHORD_MIN_FIT`.
    fit : np.ndarray [shape=(n,)]
        Cosine similarity of the best template.

    Examples
    --------
    >>> root, kind, _ = chord_labels(np.array([0, 0, 1, 0, 0, 1, 0, 0, 0, 1, 0, 0.0])[:, None])
    >>> int(root[0]), CHORD_TYPES[int(kind[0])]
    (2, 'minor')
    """
    sim = _TEMPLATES @ _unit(np.asarray(chroma, dtype=np.float64))
    best = np.argmax(sim, axis=0)
    fit = sim[best, np.arange(sim.shape[1])]
    other = fit < CHORD_MIN_FIT
    return np.where(other, -1, best % 12), np.where(other, 3, _TEMPLATE_TYPE[best]), fit


@feature(
    "valence",
    "chords",
    stats=None,
    dims=(*CHORD_TYPES, "balance", "change_rate", "fit"),
)
def chords(*, chroma: np.ndarray, sr: int, config: AnalysisConfig) -> np.ndarray:
    """Template chord estimate on blocks of chroma: chord-type shares and chord-change rate.

    Minor and diminished chords and their share against major ones are the most direct
    harmonic cue of negative valence; harmonic rhythm hints at tension.

    Parameters
    ----------
    chroma, sr, config : np.ndarray, int, AnalysisConfig
        The chromagram and what a frame lasts, as :func:`local_key` takes them.

    Returns
    -------
    np.ndarray [shape=(7,)]
        Over blocks of :data:`CHORD_SECONDS` labelled by :func:`chord_labels`: the shares of
        major, minor, diminished and unmatched (``other``) blocks; ``balance``, (major -
        minor) / (major + minor); ``change_rate``, chord changes per second; ``fit``, the
        mean template fit.
    """
    n = _frames(CHORD_SECONDS, sr, config)
    root, kind, fit = chord_labels(_blocks(chroma, n))
    shares = np.bincount(kind, minlength=4)[:4] / len(kind)
    balance = (shares[0] - shares[1]) / (shares[0] + shares[1] + _EPS)
    label = kind * 12 + root
    seconds = len(label) * n * config.hop_length / sr
    change_rate = np.count_nonzero(label[1:] != label[:-1]) / seconds
    return np.array([*shares, balance, change_rate, fit.mean()])


def roughness(freq: np.ndarray, amp: np.ndarray) -> np.ndarray:
    """Sethares' sensory roughness of sets of partials, relative to their energy.

    Each pair of partials adds its product of amplitudes weighted by Sethares'
    parametrisation of the Plomp-Levelt dissonance curve.

    Parameters
    ----------
    freq, amp : np.ndarray [shape=(n_partials, n_frames)]
        Partial frequencies (Hz) and amplitudes.

    Returns
    -------
    np.ndarray [shape=(n_frames,)]
        Sum over pairs of ``a_i a_j (exp(-3.51 s df) - exp(-5.75 s df))`` with
        ``s = 0.24 / (0.0207 min(f_i, f_j) + 18.96)``, divided by the sum of squared
        amplitudes; 0 for a frame without energy.

    Examples
    --------
    >>> unison = roughness(np.array([[440.0], [440.0]]), np.ones((2, 1)))
    >>> semitone = roughness(np.array([[440.0], [466.2]]), np.ones((2, 1)))
    >>> fifth = roughness(np.array([[440.0], [660.0]]), np.ones((2, 1)))
    >>> float(unison[0]), bool(semitone[0] > fifth[0])
    (0.0, True)

    References
    ----------
    .. [1] R. Plomp and W. J. M. Levelt, "Tonal consonance and critical bandwidth", JASA
           38(4), 1965.
    .. [2] W. A. Sethares, "Local consonance and the relationship between timbre and scale",
           JASA 94(3), 1993.
    """
    f_i, f_j = freq[:, None], freq[None, :]
    s = 0.24 / (0.0207 * np.minimum(f_i, f_j) + 18.96)
    df = np.abs(f_i - f_j)
    curve = np.exp(-3.51 * s * df) - np.exp(-5.75 * s * df)
    pairs = (amp[:, None] * amp[None, :] * curve).sum(axis=(0, 1)) / 2.0
    return pairs / ((amp**2).sum(axis=0) + _EPS)


@feature("valence", "dissonance", stats=("mean", "std", "p10", "p50", "p90"))
def dissonance(*, peaks: tuple[np.ndarray, np.ndarray, np.ndarray]) -> np.ndarray:
    """Sensory roughness of the strongest spectral peaks of each frame.

    Beating between close partials is heard as harsh and tense, a low-level cue that
    separates aggressive from uplifting music at the same loudness.

    Parameters
    ----------
    peaks : tuple of np.ndarray
        :attr:`~va_mood.features.analysis.Analysis.peaks`: peak frequencies and magnitudes
        [shape=(n_peaks, n_frames)], and each frame's power in the band.

    Returns
    -------
    np.ndarray [shape=(n_frames,)]
        :func:`roughness` of each frame's peaks.
    """
    freq, amp, _ = peaks
    return roughness(freq, amp)


@feature("valence", "harmonicity", dims=("tonalness", "comb", "concentration"))
def harmonicity(
    *,
    peaks: tuple[np.ndarray, np.ndarray, np.ndarray],
    C: np.ndarray,  # noqa: N803
    chroma: np.ndarray,
) -> np.ndarray:
    """How pitched (against noisy) the sound is, three ways per frame.

    Clean, consonant, pitched textures sound different from noisy, distorted ones.

    Parameters
    ----------
    peaks : tuple of np.ndarray
        :attr:`~va_mood.features.analysis.Analysis.peaks`.
    C : np.ndarray [shape=(n_bins, n_frames)]
        Magnitude constant-Q transform.
    chroma : np.ndarray [shape=(12, n_frames)]
        Chromagram.

    Returns
    -------
    np.ndarray [shape=(3, n_frames)]
        ``tonalness``, the share of the band's STFT power in its strongest peaks; ``comb``,
        the share of the CQT power explained by the best harmonic comb (a fundamental and
        five harmonics, :data:`HARMONICS`), an inverse inharmonicity; ``concentration``, 1
        minus the normalised entropy of the chroma (0 for a silent frame).
    """
    _, amp, total = peaks
    tonalness = (amp**2).sum(axis=0) / (total + _EPS)
    power = C**2
    reach = power.shape[0] - HARMONICS[-1]
    comb = sum(power[h : h + reach] for h in HARMONICS) if reach > 0 else power
    comb_share = comb.max(axis=0) / (power.sum(axis=0) + _EPS)
    p = chroma / (chroma.sum(axis=0, keepdims=True) + _EPS)
    entropy = -(p * np.log(p + _EPS)).sum(axis=0) / np.log(12)
    silent = chroma.sum(axis=0) <= _EPS
    concentration = np.where(silent, 0.0, 1.0 - entropy)
    series = [tonalness, comb_share, concentration]
    n = min(len(x) for x in series)  # the CQT can have one frame more than the STFT
    return np.vstack([x[:n] for x in series])
