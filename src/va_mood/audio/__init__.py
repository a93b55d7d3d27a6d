"""Audio in: which files to read, decoding them to mono at one rate, and their loudness."""

from __future__ import annotations

from ..util.lazy import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "excerpt": "discover",
        "split_excerpt": "discover",
        "MIN_DURATION": "decode",
        "load": "decode",
        "stream": "decode",
        "duration": "decode",
        "MIN_RATE": "decode",
        "MAX_RATE": "decode",
        "MAX_CHANNELS": "decode",
        "MAX_DURATION": "decode",
        "native_samples": "decode",
        "DECODER": "decode",
        "AUDIO_EXTENSIONS": "discover",
        "find_audio": "discover",
        "readable_file": "discover",
        "TARGET_LUFS": "loudness",
        "MAX_GAIN_DB": "loudness",
        "LoudnessMeter": "loudness",
        "k_weighting": "loudness",
        "integrated_loudness": "loudness",
        "FADE_SECONDS": "loudness",
        "normalising_gain": "loudness",
    },
)
