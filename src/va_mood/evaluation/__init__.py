"""Evaluation: the protocol (cross-validation grouped by artist) and the figures it reports."""

from __future__ import annotations

from ..util.lazy import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "cross_validate": "cross_validation",
        "grouped_folds": "cross_validation",
        "out_of_fold": "cross_validation",
        "score_axis": "cross_validation",
        "score_predictions": "cross_validation",
        "format_report": "cross_validation",
        "EXTREME": "metrics",
        "N_BINS": "metrics",
        "concordance": "metrics",
        "pearson": "metrics",
        "rmse": "metrics",
        "share_extreme": "metrics",
        "reliability": "metrics",
        "expected_calibration_error": "metrics",
    },
)
