"""The model: two heads, their calibration, the fitted heads that predict, and bundles on disk.

:class:`~va_mood.model.estimator.MoodModel` is the scikit-learn estimator that training fits;
:class:`~va_mood.model.heads.FittedHeads` is what predicting needs of it (internal);
:mod:`~va_mood.model.bundle` writes and reads a model's folder. Users hold a
:class:`va_mood.Model` (:func:`va_mood.load_model`), which wraps all three.
"""

from __future__ import annotations

from ..util.lazy import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "FORMAT_VERSION": "bundle",
        "heads_of": "bundle",
        "estimator_of": "bundle",
        "save_bundle": "bundle",
        "read_bundle": "bundle",
        "MARGIN": "calibration",
        "CoordinateMap": "calibration",
        "ConfidenceMap": "calibration",
        "log_odds": "calibration",
        "render_model_card": "card",
        "MoodModel": "estimator",
        "make_estimator": "estimator",
        "model_from_config": "estimator",
        "fit_estimator": "estimator",
        "TABLE_COLUMNS": "heads",
        "FittedHeads": "heads",
        "check_frame": "heads",
        "head_columns": "heads",
        "METADATA_FILE": "schema",
        "HEAD_KINDS": "schema",
        "check_metadata": "schema",
        "make_manifest": "schema",
        "check_manifest": "schema",
        "check_head_mode": "schema",
        "BoostedTrees": "trees",
        "read_ubjson": "trees",
    },
)
