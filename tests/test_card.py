"""Model cards name the pre-trained tagger, and its licence, exactly when a head uses it."""

from __future__ import annotations

from va_mood.model.card import render_model_card


def _meta(valence_groups: list[str]) -> dict:
    head = {"mode": "binary", "estimator": "xgboost"}
    return {
        "created": "2026-11-25T00:00:00Z",
        "versions": {"va-mood": "0.1.0"},
        "config": {
            "seed": 42,
            "arousal": {**head, "groups": ["arousal.rms"]},
            "valence": {**head, "groups": valence_groups},
        },
        "heads": {"arousal": {"columns": ["a"]}, "valence": {"columns": ["v"] * 3}},
        "thresholds": {"valence": 0.0, "arousal": 0.0},
    }


def test_card_credits_tagger_only_when_used():
    used = render_model_card(_meta(["valence.cqt", "embedding.msd_tags"]), name="m")
    assert "## Pre-trained component" in used and "ISC" in used and "musicnn" in used
    assert "`embedding.msd_tags` (3 columns)" in used
    plain = render_model_card(_meta(["valence.cqt"]), name="m")
    assert "musicnn" not in plain and "trained without cross-validation" in plain


def test_card_says_faded_edges_are_left_out_only_when_they_are():
    meta = _meta(["valence.cqt"])
    assert "faded edges" not in render_model_card(meta, name="m")
    meta["config"]["analysis"] = {"loudness": -14.0, "fade_gate": 6.0}
    card = render_model_card(meta, name="m")
    assert "faded edges (quieter than 6 LU below its loudness, at most 3 s" in card
