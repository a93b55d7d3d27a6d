"""A pre-trained music tagger: musicnn's MSD model, in plain numpy.

musicnn (Pons & Serra, 2019) is a convolutional network trained to predict the Million Song
Dataset's 50 most frequent tags, mood words among them, from far more songs than a labelled
mood corpus holds. Its tag probabilities and penultimate layer are the ``embedding`` feature
groups (:mod:`va_mood.features.embedding`). The weights ship with va_mood (``models/musicnn``,
ISC licence, converted by ``tools/convert_musicnn.py``); the forward pass is numpy matrix
products, so no deep-learning framework is needed, and it reproduces musicnn's own TensorFlow
outputs (a test checks them).
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..errors import BundleError
from ..util.digest import sha256_of

__all__ = [
    "TAGS",
    "SR",
    "PATCH_FRAMES",
    "log_mel",
    "patch_starts",
    "patches",
    "forward",
    "frame_series",
]

SR = 16000
N_FFT = 512
HOP = 256
N_MELS = 96
PATCH_FRAMES = 187
"""Mel frames per patch: 3 s at 16 kHz with a hop of 256, the length musicnn was trained on."""
MAX_PATCHES = 10
"""Patches analysed per file at most: 30 s of audio, as many as a 30 s clip has. A longer
file gets them spread evenly over it, so the tagger costs the same on every file, not a
time proportional to its length."""
WEIGHTS = Path(__file__).parents[1] / "models" / "musicnn" / "msd_musicnn.npz"
WEIGHTS_SHA256 = "cfd806777e3fd9fe7ab41c80ab2622ef2ad77b28d982b3af4fb60dead4dc0c35"
"""The SHA-256 of the weights file va_mood ships: an edited or damaged file is refused, as a
model bundle's head files are."""
BN_EPSILON = 1e-3  # TensorFlow's batch_normalization default, which musicnn used
TAGS = (
    "rock", "pop", "alternative", "indie", "electronic", "female_vocalists", "dance", "00s",
    "alternative_rock", "jazz", "beautiful", "metal", "chillout", "male_vocalists",
    "classic_rock", "soul", "indie_rock", "mellow", "electronica", "80s", "folk", "90s", "chill",
    "instrumental", "punk", "oldies", "blues", "hard_rock", "ambient", "acoustic",
    "experimental", "female_vocalist", "guitar", "hip_hop", "70s", "party", "country",
    "easy_listening", "sexy", "catchy", "funk", "electro", "heavy_metal", "progressive_rock",
    "60s", "rnb", "indie_pop", "sad", "house", "happy",
)  # fmt: skip
"""The MSD model's 50 tags, in its output order (spaces and dashes as underscores)."""
EMBEDDING_DIMS = 200


@functools.cache
def _weights() -> dict[str, np.ndarray]:
    """The network's variables by TensorFlow name, loaded once per process (no pickle), from
    a file whose hash is :data:`WEIGHTS_SHA256`."""
    if sha256_of(WEIGHTS) != WEIGHTS_SHA256:
        raise BundleError(
            f"{WEIGHTS}: contents differ from the hash va_mood ships with (edited or damaged); "
            "reinstall va_mood"
        )
    with np.load(WEIGHTS, allow_pickle=False) as stored:
        return {name: stored[name].astype(np.float32) for name in stored.files}


def _batch_norm(x: np.ndarray, index: int) -> np.ndarray:
    """Inference-time batch normalisation with the ``index``-th layer's moving statistics."""
    prefix = "batch_normalization" + (f"_{index}" if index else "")
    w = _weights()
    scale = w[f"{prefix}/gamma"] / np.sqrt(w[f"{prefix}/moving_variance"] + BN_EPSILON)
    return x * scale + (w[f"{prefix}/beta"] - w[f"{prefix}/moving_mean"] * scale)


FRONT_CHUNK = 32
"""Frames (timbral filters) or mel bands (temporal filters) the front end convolves at a time,
so that their windows stay in cache; the values do not depend on it."""


def _conv(index: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``index``-th convolution's kernel [shape=(time, freq, 1, filters)] and bias."""
    w = _weights()
    suffix = f"_{index}" if index else ""
    return w[f"conv2d{suffix}/kernel"], w[f"conv2d{suffix}/bias"]


def _linear(windows: np.ndarray, index: int) -> np.ndarray:
    """The ``index``-th convolution, given its input windows [shape=(..., *kernel)], before
    its ReLU."""
    kernel, bias = _conv(index)
    flat = windows.reshape(-1, kernel.shape[0] * kernel.shape[1])
    out = flat @ kernel.reshape(-1, kernel.shape[-1]) + bias
    return out.reshape(*windows.shape[:-2], -1)


@functools.cache
def _front_filters(index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[int, int]]:
    """The ``index``-th front-end convolution as ``(kernel, bias, sign, (k_time, k_freq))``,
    each filter negated where the batch norm after it has a negative scale, and those signs."""
    # ReLU then batch norm is monotonic in a filter's output, rising or falling with the sign
    # of the norm's scale, so the max over frequency can be taken first: of the output where
    # it rises, of its negation (the min, negated) where it falls. The bias, constant over
    # frequency, is added after the max. Negating is exact: the values are the network's.
    kernel, bias = _conv(index)
    sign = np.where(_weights()[f"batch_normalization_{index + 1}/gamma"] >= 0, 1.0, -1.0)
    sign = sign.astype(np.float32)
    flat = np.ascontiguousarray(kernel.reshape(-1, kernel.shape[-1]) * sign)
    return flat, bias * sign, sign, kernel.shape[:2]


def _frequency_pooled(x: np.ndarray, index: int) -> np.ndarray:
    """A front-end block: 2-D convolution over a patch [shape=(time, mel)], max over mel,
    one matrix product per chunk of :data:`FRONT_CHUNK` windows."""
    # Timbral filters span 7 frames (the patch padded by 3 frames each side, frequency
    # 'valid'); temporal filters span 128, 64 or 32 frames and one band (time padded 'same').
    kernel, bias, sign, (k_time, k_freq) = _front_filters(index)
    n_time, n_mel = x.shape
    peak = np.full((n_time, kernel.shape[1]), -np.inf, dtype=np.float32)
    if k_freq > 1:
        windows = sliding_window_view(np.pad(x, ((3, 3), (0, 0))), (k_time, k_freq))
        for start in range(0, n_time, FRONT_CHUNK):  # (time, freq', k_time, k_freq)
            part = windows[start : start + FRONT_CHUNK]
            z = part.reshape(-1, kernel.shape[0]) @ kernel
            peak[start : start + FRONT_CHUNK] = z.reshape(len(part), -1, len(bias)).max(axis=1)
    else:
        before = (k_time - 1) // 2
        bands = np.pad(x.T, ((0, 0), (before, k_time - 1 - before)))  # (mel, time + k_time - 1)
        windows = sliding_window_view(bands, k_time, axis=1)  # (mel, time, k_time)
        for start in range(0, n_mel, FRONT_CHUNK):
            part = windows[start : start + FRONT_CHUNK]
            z = part.reshape(-1, k_time) @ kernel
            np.maximum(peak, z.reshape(len(part), n_time, -1).max(axis=0), out=peak)
    return _batch_norm(np.maximum(sign * (peak + bias), 0.0), index + 1)


def _temporal(x: np.ndarray, index: int) -> np.ndarray:
    """A mid-end block: convolution over 7 frames of every feature [shape=(time, features)]."""
    windows = sliding_window_view(np.pad(x, ((3, 3), (0, 0))), 7, axis=0)  # (time, feat, 7)
    z = _linear(windows.transpose(0, 2, 1), index)
    return _batch_norm(np.maximum(z, 0.0), index + 1)


def forward(patch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Run the network on one patch: its tag probabilities and penultimate layer.

    The MSD ``musicnn`` architecture: a front end of timbral and temporal convolutions
    pooled over frequency, a mid end of three temporal convolutions (the last two residual),
    and a back end that pools over time (max and mean) into a dense layer and 50 sigmoids.

    Parameters
    ----------
    patch : np.ndarray [shape=(187, 96)]
        A log-mel patch from :func:`patches`.

    Returns
    -------
    tags : np.ndarray [shape=(50,)]
        The probability of each of :data:`TAGS`.
    penultimate : np.ndarray [shape=(200,)]
        The layer before the output: learnt descriptors of the music.

    Raises
    ------
    BundleError
        When the shipped weights file differs from :data:`WEIGHTS_SHA256`.

    References
    ----------
    .. [1] J. Pons and X. Serra, "musicnn: Pre-trained convolutional neural networks for
           music audio tagging", Late-Breaking/Demo, ISMIR 2019.
    """
    x = _batch_norm(np.asarray(patch, dtype=np.float32), 0)
    front = np.concatenate([_frequency_pooled(x, i) for i in range(5)], axis=1)
    mid1 = _temporal(front, 5)
    mid2 = _temporal(mid1, 6) + mid1
    mid3 = _temporal(mid2, 7) + mid2
    frames = np.concatenate([front, mid1, mid2, mid3], axis=1)
    pooled = np.stack([frames.max(axis=0), frames.mean(axis=0)], axis=1).ravel()  # interleaved
    w = _weights()
    hidden = np.maximum(_batch_norm(pooled, 9) @ w["dense/kernel"] + w["dense/bias"], 0.0)
    penultimate = _batch_norm(hidden, 10)
    logits = penultimate @ w["dense_1/kernel"] + w["dense_1/bias"]
    return 1.0 / (1.0 + np.exp(-logits)), penultimate


def log_mel(y: np.ndarray, sr: int) -> np.ndarray:
    """musicnn's input representation of a signal: a log-compressed mel spectrogram.

    Parameters
    ----------
    y : np.ndarray [shape=(n_samples,)]
        Mono signal; resampled to :data:`SR` when ``sr`` differs.
    sr : int
        Its sample rate.

    Returns
    -------
    np.ndarray [shape=(n_mel_frames, 96)]
        ``log10(1 + 10⁴ · mel power)``, frames of :data:`HOP` samples at :data:`SR`.
    """
    import librosa
    import soxr

    y16 = np.asarray(soxr.resample(y, sr, SR, quality="HQ") if sr != SR else y, np.float32)
    y16 = np.pad(y16, (0, max(0, N_FFT - len(y16))))  # one whole window at least
    mel = librosa.feature.melspectrogram(y=y16, sr=SR, n_fft=N_FFT, hop_length=HOP, n_mels=N_MELS)
    return np.log10(10000.0 * mel.T.astype(np.float32) + 1.0)


def patch_starts(n_mel_frames: int, max_patches: int = MAX_PATCHES) -> np.ndarray:
    """First mel frames of the patches the tagger runs on.

    Back-to-back 3 s patches (a tail shorter than a patch is left out, as musicnn does), or
    for a longer file ``max_patches`` of them spread evenly from its first to its last, so
    the tagger's cost does not grow with the file's length.

    Parameters
    ----------
    n_mel_frames : int
        Length of the log-mel representation (:func:`log_mel`).
    max_patches : int
        The most patches analysed.

    Returns
    -------
    np.ndarray [shape=(n_patches,), dtype=int]
        Multiples of :data:`PATCH_FRAMES`; one patch at least.

    Examples
    --------
    >>> patch_starts(600).tolist()
    [0, 187, 374]
    """
    n = max(1, n_mel_frames // PATCH_FRAMES)
    chosen = np.arange(n) if n <= max_patches else np.linspace(0, n - 1, max_patches)
    return np.round(chosen).astype(int) * PATCH_FRAMES


def patches(rep: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Cut the patches the network reads from a log-mel representation.

    A representation shorter than one patch is repeated to fill it (as musicnn was trained).

    Parameters
    ----------
    rep : np.ndarray [shape=(n_mel_frames, 96)]
        From :func:`log_mel`.
    starts : np.ndarray [shape=(n_patches,)]
        First frames, from :func:`patch_starts`.

    Returns
    -------
    np.ndarray [shape=(n_patches, 187, 96)]
    """
    if len(rep) < PATCH_FRAMES:  # np.resize repeats whole rows, the mel bands staying aligned
        rep = np.resize(
            rep if len(rep) else np.zeros((1, N_MELS), np.float32), (PATCH_FRAMES, N_MELS)
        )
    return np.stack([rep[s : s + PATCH_FRAMES] for s in starts])


def frame_series(
    y: np.ndarray, sr: int, n_frames: int, hop_length: int
) -> tuple[np.ndarray, np.ndarray]:
    """musicnn's outputs laid on the analysis frame grid.

    Each analysis frame carries the output of the analysed patch whose centre is nearest, so
    clip statistics weigh patches by the time they stand for, and a window of
    :mod:`va_mood.extraction.segments` averages the patches it overlaps (on a file longer
    than :data:`MAX_PATCHES` patches, the nearest analysed ones).

    Parameters
    ----------
    y : np.ndarray [shape=(n_samples,)]
        Mono signal.
    sr : int
        Its sample rate.
    n_frames : int
        Analysis frames to fill.
    hop_length : int
        Samples per analysis frame, at ``sr``.

    Returns
    -------
    tags : np.ndarray [shape=(50, n_frames)]
        Tag probabilities, as :func:`forward` gives them.
    penultimate : np.ndarray [shape=(200, n_frames)]
        The penultimate layer.
    """
    rep = log_mel(y, sr)
    starts = patch_starts(len(rep))
    outputs = [forward(p) for p in patches(rep, starts)]
    tags = np.stack([t for t, _ in outputs], axis=1)
    penultimate = np.stack([e for _, e in outputs], axis=1)
    centres = (starts + PATCH_FRAMES / 2) * HOP / SR
    which = np.searchsorted((centres[1:] + centres[:-1]) / 2, np.arange(n_frames) * hop_length / sr)
    return tags[:, which], penultimate[:, which]
