"""Output scales: exact linear maps both ways, names, quadrants unchanged, mood probabilities."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from va_mood.errors import ParameterError
from va_mood.outputs.scales import (
    PROBABILITY_COLUMNS,
    SCALES,
    from_scale,
    on_scale,
    quadrant_probabilities,
    scale_values,
    to_scale,
    unscale_values,
)
from va_mood.quadrant import MOODS, quadrant_of

BINARY = {"valence": "binary", "arousal": "binary"}


def _table(n: int = 50, seed: int = 0) -> pd.DataFrame:
    """A prediction table as predict_files returns it, including both edges and the centre."""
    rng = np.random.default_rng(seed)
    v = np.concatenate([[-1.0, 0.0, 1.0, 0.5], rng.uniform(-1, 1, n - 4)])
    a = np.concatenate([[1.0, -1.0, 0.0, -0.25], rng.uniform(-1, 1, n - 4)])
    quadrant = quadrant_of(v, a)
    table = pd.DataFrame(
        {
            "valence": v,
            "arousal": a,
            "quadrant": quadrant,
            "mood": [MOODS[q] for q in quadrant],
            "valence_confidence": np.where(v > 0, (v + 1) / 2, (1 - v) / 2),
            "arousal_confidence": np.where(a > 0, (a + 1) / 2, (1 - a) / 2),
        },
        index=pd.Index([f"clip_{i}.mp3" for i in range(n)], name="path"),
    )
    return table


@pytest.mark.parametrize(
    ("scale", "expected"),
    [
        ("plane", [-1.0, -0.5, 0.0, 0.5, 1.0]),
        ("unit", [0.0, 0.25, 0.5, 0.75, 1.0]),
        ("nine", [1.0, 3.0, 5.0, 7.0, 9.0]),
    ],
)
def test_scale_values_known_points_both_ways(scale: str, expected: list[float]) -> None:
    plane = np.array([-1.0, -0.5, 0.0, 0.5, 1.0])
    assert scale_values(plane, scale).tolist() == expected
    assert unscale_values(np.array(expected), scale).tolist() == plane.tolist()


@pytest.mark.parametrize("scale", list(SCALES))
def test_round_trip_is_exact_to_the_last_bits(scale: str) -> None:
    table = _table(500)
    back = from_scale(to_scale(table, scale), scale)
    pd.testing.assert_frame_equal(back, table, check_exact=False, rtol=0, atol=4e-16)


@pytest.mark.parametrize("scale", list(SCALES))
def test_map_is_linear_and_neutral_goes_to_centre(scale: str) -> None:
    s = SCALES[scale]
    x = np.linspace(-1, 1, 101)
    y = scale_values(x, scale)
    np.testing.assert_allclose(np.diff(y), np.diff(y)[0], atol=1e-12)  # constant slope
    assert (y[0], y[50], y[-1]) == (s.low, s.centre, s.high)


def test_unit_scale_uses_spotify_names() -> None:
    table = _table()
    unit = to_scale(table, "unit")
    assert list(unit.columns) == [
        "valence",
        "energy",
        "quadrant",
        "mood",
        "valence_confidence",
        "energy_confidence",
    ]
    assert unit[["valence", "energy"]].to_numpy().min() >= 0.0
    assert unit[["valence", "energy"]].to_numpy().max() <= 1.0
    for scale in ("plane", "nine"):
        assert list(to_scale(table, scale).columns) == list(table.columns)


@pytest.mark.parametrize("scale", list(SCALES))
def test_quadrant_mood_and_confidence_do_not_depend_on_the_scale(scale: str) -> None:
    table = _table(300, seed=3)
    scaled = to_scale(table, scale)
    s = SCALES[scale]
    pd.testing.assert_series_equal(scaled["quadrant"], table["quadrant"])
    pd.testing.assert_series_equal(scaled["mood"], table["mood"])
    np.testing.assert_array_equal(
        scaled["valence_confidence"].to_numpy(), table["valence_confidence"].to_numpy()
    )
    # the side of the neutral value on the scale is the side of 0 on the plane
    again = quadrant_of(
        scaled["valence"].to_numpy() - s.centre, scaled[s.arousal_name].to_numpy() - s.centre
    )
    assert again.tolist() == table["quadrant"].tolist()


def test_to_scale_returns_a_new_table() -> None:
    table = _table()
    before = table.copy()
    out = to_scale(table, "nine")
    pd.testing.assert_frame_equal(table, before)
    assert out is not table
    assert out.index.equals(table.index)


def test_bad_scale_and_off_range_values_are_refused() -> None:
    with pytest.raises(ParameterError, match=r"unknown scale 'percent'; allowed: plane, unit"):
        to_scale(_table(), "percent")
    with pytest.raises(ParameterError, match=r"plane values must lie in -1..1, got 1.5"):
        scale_values(np.array([0.0, 1.5]), "unit")
    with pytest.raises(ParameterError, match=r"on the nine scale must lie in 1..9, got 0.5"):
        unscale_values(np.array([0.5]), "nine")
    with pytest.raises(ParameterError, match="has both 'energy' and 'arousal' columns"):
        from_scale(_table().assign(energy=0.5), "unit")


def test_from_scale_reads_unit_tables_under_either_arousal_name() -> None:
    plane = _table()
    unit = to_scale(plane, "unit")
    renamed = unit.rename(columns={"energy": "arousal", "energy_confidence": "arousal_confidence"})
    for table in (unit, renamed):
        pd.testing.assert_frame_equal(from_scale(table, "unit"), plane)


def test_quadrant_probabilities_known_values_and_sum() -> None:
    table = pd.DataFrame(
        {
            "quadrant": ["Q4", "Q2", "Q3"],
            "valence_confidence": [0.8, 1.0, 0.5],
            "arousal_confidence": [0.6, 1.0, 0.5],
        }
    )
    p = quadrant_probabilities(table, BINARY)
    assert list(p.columns) == ["p_uplifting", "p_aggressive", "p_melancholic", "p_calm"]
    np.testing.assert_allclose(p.iloc[0], [0.32, 0.08, 0.12, 0.48])
    np.testing.assert_allclose(p.iloc[1], [0.0, 1.0, 0.0, 0.0])
    np.testing.assert_allclose(p.iloc[2], [0.25, 0.25, 0.25, 0.25])
    np.testing.assert_allclose(p.sum(axis=1), 1.0)


def test_quadrant_probabilities_pick_the_predicted_quadrant() -> None:
    table = _table(400, seed=5)
    table = table[(table["valence"] != 0) & (table["arousal"] != 0)]
    p = quadrant_probabilities(table, BINARY)
    best = p.to_numpy().argmax(axis=1)
    names = {column: q for q, column in PROBABILITY_COLUMNS.items()}
    assert [names[p.columns[k]] for k in best] == table["quadrant"].tolist()
    # the predicted quadrant's probability is the product of the two confidences
    chosen = p.to_numpy()[np.arange(len(p)), best]
    np.testing.assert_allclose(
        chosen, table["valence_confidence"] * table["arousal_confidence"], atol=1e-12
    )


def test_quadrant_probabilities_need_binary_heads_on_the_plane() -> None:
    modes = {"valence": "regression", "arousal": "binary"}
    with pytest.raises(ParameterError, match="two binary heads, but the valence head"):
        quadrant_probabilities(_table(), modes)
    with pytest.raises(ParameterError, match=r"missing \['arousal_confidence'\]; compute them"):
        quadrant_probabilities(to_scale(_table(), "unit"), BINARY)


def test_present_adds_probabilities_only_for_binary_heads() -> None:
    table = _table()
    table.attrs["errors"] = {"bad.mp3": "bad.mp3: cannot decode audio"}
    shown = on_scale(table, scale="unit", modes=BINARY)
    assert list(shown.columns)[-4:] == list(PROBABILITY_COLUMNS.values())
    assert "energy" in shown.columns
    assert shown.attrs == {"errors": table.attrs["errors"], "scale": "unit"}
    regression = on_scale(table, scale="nine", modes={"valence": "regression", "arousal": "binary"})
    assert not any(c.startswith("p_") for c in regression.columns)
    assert regression["valence"].between(1, 9).all()
