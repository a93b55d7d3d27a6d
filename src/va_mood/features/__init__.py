"""Features: the registry of named groups, a clip's shared intermediates, and the extractors.

Importing this package registers every built-in group, in the order listed below, so that
any part of it (``va_mood.features.registry`` included) sees them all: energy and motion
(:mod:`~va_mood.features.energy`), pitch content (:mod:`~va_mood.features.pitch`), timbre
(:mod:`~va_mood.features.timbre`), harmony (:mod:`~va_mood.features.harmony`), the pre-trained
tagger's outputs (:mod:`~va_mood.features.embedding`) and the signal checks
(:mod:`~va_mood.features.quality`). An application registers its own groups with
:func:`~va_mood.features.registry.feature`.
"""

from __future__ import annotations

from ..util.lazy import lazy_exports
from . import embedding, energy, harmony, pitch, quality, timbre  # noqa: F401 - registered here

__all__, __getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "AnalysisConfig": "analysis",
        "Analysis": "analysis",
        "analysis_of": "analysis",
        "tempogram": "analysis",
        "spectral_peaks": "analysis",
        "memoised_cqt_filters": "analysis",
        "MAX_AMPLITUDE": "analysis",
        "extract_clip": "clip",
        "msd_tags": "embedding",
        "msd_embedding": "embedding",
        "rms": "energy",
        "zcr": "energy",
        "contrast": "energy",
        "tempo_lags": "energy",
        "tempo_summary": "energy",
        "onset": "energy",
        "TEMPO_BANDS": "energy",
        "KK_MAJOR": "harmony",
        "KK_MINOR": "harmony",
        "DEGREES": "harmony",
        "key_correlations": "harmony",
        "estimate_key": "harmony",
        "chord_labels": "harmony",
        "roughness": "harmony",
        "chroma_key_invariant": "harmony",
        "key": "harmony",
        "local_key": "harmony",
        "harmonic_change": "harmony",
        "chords": "harmony",
        "dissonance": "harmony",
        "harmonicity": "harmony",
        "TAGS": "musicnn",
        "SR": "musicnn",
        "PATCH_FRAMES": "musicnn",
        "log_mel": "musicnn",
        "patch_starts": "musicnn",
        "patches": "musicnn",
        "forward": "musicnn",
        "frame_series": "musicnn",
        "PITCH_CLASSES": "pitch",
        "CQT_BANDS": "pitch",
        "chroma": "pitch",
        "cqt": "pitch",
        "tonnetz": "pitch",
        "QUALITY_GROUP": "quality",
        "SILENT_DB": "quality",
        "NARROW_HZ": "quality",
        "NOISE_TONAL": "quality",
        "STEADY_CHANGE": "quality",
        "UNCERTAIN": "quality",
        "CONFIDENCE_SHRINK": "quality",
        "signal": "quality",
        "tonal": "quality",
        "change": "quality",
        "apply_checks": "quality",
        "REGISTRY": "registry",
        "STAT_FUNCTIONS": "registry",
        "FeatureGroup": "registry",
        "feature": "registry",
        "summarise": "registry",
        "columns_for": "registry",
        "check_groups": "registry",
        "feature_fingerprint": "registry",
        "mfcc": "timbre",
        "spectral": "timbre",
    },
)
