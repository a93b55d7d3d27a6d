"""Labels files: loading, validation, the map onto [-1, 1], quadrants, pairing with audio."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from va_mood.config import LabelSpec, load_label_spec
from va_mood.errors import LabelsError, ParameterError
from va_mood.labels.files import from_plane, load_labels, match_audio, targets, to_plane
from va_mood.quadrant import MOODS, parse_quadrant, quadrant_of

CONFIGS = Path(__file__).resolve().parents[1] / "configs" / "labels"
HEADER = "song_id,quadrant,valence,arousal,artist,title\n"


def _csv(tmp_path: Path, body: str, header: str = HEADER) -> Path:
    path = tmp_path / "labels.csv"
    path.write_text(header + body)
    return path


def test_4q_csv_maps_scale_exactly(tmp_path):
    path = _csv(
        tmp_path,
        "a,Q1,9,9,X,t\nb,Q2,1,5,X,t\nc,Q3,5,1,Y,t\nd,Q4,3,7,Z,t\n",
    )
    labels = load_labels(path)
    assert list(labels.index) == ["a", "b", "c", "d"]
    assert labels.index.name == "id"
    assert labels["valence"].tolist() == [1.0, -1.0, 0.0, -0.5]
    assert labels["arousal"].tolist() == [1.0, 0.0, -1.0, 0.5]
    assert labels["quadrant"].tolist() == ["Q1", "Q2", "Q3", "Q4"]
    assert labels["group"].tolist() == ["X", "X", "Y", "Z"]


def test_ids_are_strings_and_stripped(tmp_path):
    labels = load_labels(_csv(tmp_path, " 007 ,Q1,6,6,A,t\n"))
    assert list(labels.index) == ["007"]


@pytest.mark.parametrize(
    ("value", "quadrant"),
    [
        ("Q1", "Q1"),
        ("q2", "Q2"),
        ("1", "Q1"),
        ("4", "Q4"),
        ("calm", "Q4"),
        ("Calm", "Q4"),
        ("Aggressive", "Q2"),
        (" melancholic ", "Q3"),
        (3, "Q3"),
    ],
)
def test_quadrant_aliases(value, quadrant):
    assert parse_quadrant(value) == quadrant


def test_quadrant_aliases_in_file(tmp_path):
    labels = load_labels(_csv(tmp_path, "a,1,6,6,A,t\nb,calm,6,4,B,t\nc,Q3,4,4,C,t\n"))
    assert labels["quadrant"].tolist() == ["Q1", "Q4", "Q3"]


@pytest.mark.parametrize("value", ["Q5", "0", "happy", ""])
def test_parse_quadrant_unknown(value):
    with pytest.raises(ParameterError, match="unknown quadrant"):
        parse_quadrant(value)


@pytest.mark.parametrize(
    ("header", "body", "match"),
    [
        (
            "song_id,quadrant,valence,artist\n",
            "a,Q1,6,X\n",
            r"labels\.csv: missing column\(s\) \['arousal'\]",
        ),
        (HEADER, "a,Q1,6,high,X,t\n", r"non-numeric 'arousal' in row\(s\) \[2\]"),
        (HEADER, "a,Q1,6,6,X,t\nb,Q1,,6,X,t\n", r"non-numeric 'valence' in row\(s\) \[3\]"),
        (
            HEADER,
            "a,Q1,6,6,X,t\nb,Q1,9.5,6,X,t\n",
            r"'valence' outside the declared scale 1\.0\.\.9\.0 in row\(s\) \[3\] \(e\.g\. 9\.5\)",
        ),
        (HEADER, "a,Q1,6,0,X,t\n", r"'arousal' outside the declared scale"),
        (HEADER, "a,Q1,6,6,X,t\na,Q2,4,6,X,t\n", r"duplicate id\(s\) \['a'\]"),
        (HEADER, "a,Q5,6,6,X,t\n", r"column 'quadrant': unknown quadrant 'Q5'"),
        (HEADER, " ,Q1,6,6,X,t\n", r"empty id in row\(s\) \[2\]"),
    ],
    ids=[
        "missing-column",
        "non-numeric",
        "empty-value",
        "off-scale-high",
        "off-scale-low",
        "duplicate-id",
        "unknown-quadrant",
        "empty-id",
    ],
)
def test_bad_labels(tmp_path, header, body, match):
    with pytest.raises(LabelsError, match=match):
        load_labels(_csv(tmp_path, body, header))


def test_missing_labels_file(tmp_path):
    with pytest.raises(LabelsError, match=r"nope\.csv: no such labels file"):
        load_labels(tmp_path / "nope.csv")


def test_emomusic_spec(tmp_path):
    spec = load_label_spec(CONFIGS / "emomusic10.toml")
    assert spec.quadrant_column is None
    assert spec.group_column is None
    assert spec.valence_column == "mean_valence"
    path = tmp_path / "static.csv"
    path.write_text(
        "song_id,mean_arousal,std_arousal,mean_valence,std_valence\n"
        "2,3.1,0.9,3.0,0.6\n"
        "3,7,1.8,7,1.7\n"
        "4,6,1,3,1\n"
        "5,2,1,8,1\n"
    )
    labels = load_labels(path, spec)
    assert list(labels.index) == ["2", "3", "4", "5"]
    np.testing.assert_allclose(labels["valence"], [-0.5, 0.5, -0.5, 0.75])
    np.testing.assert_allclose(labels["arousal"], [-0.475, 0.5, 0.25, -0.75])
    assert labels["quadrant"].tolist() == ["Q3", "Q1", "Q2", "Q4"]
    assert labels["group"].tolist() == ["2", "3", "4", "5"]


def test_4q_spec_is_the_default():
    assert load_label_spec(CONFIGS / "4q.toml") == LabelSpec()


@pytest.mark.parametrize(
    ("scale_min", "scale_max", "centre", "values", "expected"),
    [
        (1, 9, 5, [1, 5, 9, 7], [-1, 0, 1, 0.5]),
        (0, 1, 0.5, [0, 0.25, 1], [-1, -0.5, 1]),
        (0, 10, 4, [4, 10, 0], [0, 1, -4 / 6]),  # half range is the larger side
        (-1, 1, 0, [-1, 0.5], [-1, 0.5]),
    ],
)
def test_to_plane_and_back(scale_min, scale_max, centre, values, expected):
    spec = LabelSpec(scale_min=scale_min, scale_max=scale_max, centre=centre)
    np.testing.assert_allclose(to_plane(values, spec), expected)
    np.testing.assert_allclose(from_plane(to_plane(values, spec), spec), values)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"centre": 9.0}, "centre must lie strictly between"),
        ({"valence_column": None, "quadrant_column": None}, "valence_column or a quadrant_column"),
        ({"audio_pattern": "audio.mp3"}, r"audio_pattern must contain '\{id\}'"),
    ],
)
def test_bad_label_spec(kwargs, match):
    with pytest.raises(ParameterError, match=match):
        LabelSpec(**kwargs)


def test_label_spec_unknown_key(tmp_path):
    path = tmp_path / "spec.toml"
    path.write_text('id_column = "id"\nvalence_col = "v"\n')
    with pytest.raises(ParameterError, match=r"unknown key\(s\) \['valence_col'\]"):
        load_label_spec(path)


def test_match_audio(tmp_path):
    labels = load_labels(_csv(tmp_path, "a,Q1,6,6,X,t\nb,Q2,4,6,X,t\nc,Q3,4,4,Y,t\n"))
    audio = tmp_path / "audio"
    audio.mkdir()
    for name in ("a.mp3", "b.mp3", "unlabelled.mp3", "ignored.wav"):
        (audio / name).write_bytes(b"x")
    matched, problems = match_audio(labels, audio)
    assert list(matched.index) == ["a", "b"]
    assert matched["path"].tolist() == [str(audio / "a.mp3"), str(audio / "b.mp3")]
    assert problems == [
        f"{audio / 'c.mp3'}: no audio for labelled id 'c'",
        f"{audio}: 1 audio file(s) without labels ignored",
    ]


def test_match_audio_missing_folder(tmp_path):
    labels = load_labels(_csv(tmp_path, "a,Q1,6,6,X,t\n"))
    with pytest.raises(LabelsError, match="audio folder does not exist"):
        match_audio(labels, tmp_path / "nowhere")


def test_targets(tmp_path):
    labels = load_labels(_csv(tmp_path, "a,Q1,6,7,X,t\nb,Q3,3,2,X,t\nc,Q4,8,4,Y,t\n"))
    # binary: the quadrant's side, the continuous label's size
    np.testing.assert_allclose(
        targets(labels, {"valence": "binary", "arousal": "binary"}),
        [[0.25, 0.5], [-0.5, -0.75], [0.75, -0.25]],
    )
    np.testing.assert_allclose(
        targets(labels, {"valence": "regression", "arousal": "binary"}),
        [[0.25, 0.5], [-0.5, -0.75], [0.75, -0.25]],
    )
    quadrant_only = labels.assign(valence=np.nan, arousal=np.nan)
    np.testing.assert_array_equal(
        targets(quadrant_only, {"valence": "binary", "arousal": "binary"}),
        [[1, 1], [-1, -1], [1, -1]],
    )


def test_regression_targets_need_continuous_labels(tmp_path):
    path = _csv(tmp_path, "a,Q1,X\n", header="song_id,quadrant,artist\n")
    labels = load_labels(path, LabelSpec(valence_column=None, arousal_column=None))
    assert labels["valence"].isna().all()
    with pytest.raises(LabelsError, match="the valence head is a regression head"):
        targets(labels, {"valence": "regression", "arousal": "binary"})


def test_quadrant_of_thresholds_and_moods():
    v = np.array([0.5, -0.5, -0.5, 0.5, 0.0, 0.1])
    a = np.array([0.5, 0.5, -0.5, -0.5, 0.0, 0.1])
    assert quadrant_of(v, a).tolist() == ["Q1", "Q2", "Q3", "Q4", "Q3", "Q1"]
    assert quadrant_of(v, a, thresholds=(0.2, 0.2)).tolist()[-1] == "Q3"
    assert MOODS == {"Q1": "Uplifting", "Q2": "Aggressive", "Q3": "Melancholic", "Q4": "Calm"}


# ---- the real labels files ---------------------------------------------------------------------


def test_real_4q_labels(shared_data):
    labels = load_labels(shared_data / "4q" / "labels.csv", load_label_spec(CONFIGS / "4q.toml"))
    assert len(labels) == 540
    assert labels["quadrant"].value_counts().to_dict() == {q: 135 for q in MOODS}
    assert labels[["valence", "arousal"]].abs().max().max() <= 1.0
    assert labels["group"].nunique() > 5
    assert labels.index.is_unique


def test_real_emomusic_labels(shared_data):
    spec = load_label_spec(CONFIGS / "emomusic10.toml")
    labels = load_labels(shared_data / "emomusic10" / "static_annotations.csv", spec)
    assert len(labels) == 10
    assert {"3", "4", "7", "8"} <= set(labels.index)
    assert labels[["valence", "arousal"]].abs().max().max() <= 1.0
    # song 3 (DD Groove) was rated 3.3 valence, 3.5 arousal
    assert labels.loc["3", "valence"] == pytest.approx((3.3 - 5) / 4)
    assert labels.loc["3", "arousal"] == pytest.approx((3.5 - 5) / 4)
    assert labels.loc["3", "quadrant"] == "Q3"


def test_real_musemo_labels(shared_data):
    """MuSeMo's -10..10 ratings map exactly onto the plane (0 neutral, ±10 the ends)."""
    spec = load_label_spec("musemo")
    labels = load_labels(shared_data / "musemo" / "ratings.csv", spec)
    assert len(labels) == 181
    assert labels["quadrant"].value_counts().to_dict() == {"Q1": 54, "Q2": 28, "Q3": 47, "Q4": 52}
    assert labels.loc["out_blues.00002", "valence"] == pytest.approx(2.6 / 10)
    assert labels.loc["out_blues.00002", "arousal"] == pytest.approx(5.8 / 10)
    assert set(labels["group"]) == {"blues", "classical", "country", "metal", "reggae"}
    matched, problems = match_audio(labels, shared_data / "musemo" / "audio", spec)
    assert len(matched) == 181 and problems == []


def test_real_4q_labels_match_audio(shared_data):
    spec = load_label_spec(CONFIGS / "4q.toml")
    labels = load_labels(shared_data / "4q" / "labels.csv", spec)
    matched, problems = match_audio(labels, shared_data / "4q" / "audio", spec)
    assert len(matched) == 540
    assert problems == []


# ---- rows kept with a warning: a quadrant against its values, an empty group --------------


def test_a_quadrant_against_its_values_is_kept_with_one_warning_per_row(tmp_path):
    path = _csv(tmp_path, "a,Q3,8,8,X,t\nb,Q1,8,8,Y,t\nc,Q1,5,8,Z,t\nd,Q2,2,9,W,t\ne,Q4,6,2,V,t\n")
    labels = load_labels(path)
    assert list(labels.index) == ["a", "b", "c", "d", "e"]  # kept, with its quadrant
    assert labels.loc["a", "quadrant"] == "Q3"
    assert labels.attrs["warnings"] == [
        f"{path}: row 2: quadrant Q3 contradicts valence 8 and arousal 8 (Q1 on the scale "
        "1..9, centre 5); kept: its quadrant gives the sides, its values the sizes"
    ]  # c sits on the valence centre: no side to contradict
    binary = targets(labels, {"valence": "binary", "arousal": "binary"})
    np.testing.assert_allclose(binary[0], [-0.75, -0.75])  # the quadrant's sides
    regression = targets(labels, {"valence": "regression", "arousal": "regression"})
    np.testing.assert_allclose(regression[0], [0.75, 0.75])  # the values


def test_an_empty_group_makes_the_clip_a_group_of_its_own_with_a_warning(tmp_path):
    path = _csv(tmp_path, "a,Q1,6,6,X,t\nb,Q1,7,7,,t\nc,Q1,7,7,  ,t\nd,Q1,7,7,X,t\n")
    labels = load_labels(path)
    assert labels["group"].tolist() == ["X", "b", "c", "X"]  # not one group "" for b and c
    assert labels.attrs["warnings"] == [
        f"{path}: row {n}: empty 'artist' (the cross-validation group); the clip is a group "
        "of its own"
        for n in (3, 4)
    ]


def test_a_dropped_row_is_not_also_warned_about(tmp_path):
    path = _csv(tmp_path, "a,Q1,6,6,X,t\nb,Q9,8,2,,t\nc,Q3,8,8,,t\n")
    labels = load_labels(path, drop_bad_rows=True)
    assert list(labels.index) == ["a", "c"]
    assert [w.split(": ")[1] for w in labels.attrs["warnings"]] == ["row 4", "row 4"]
    assert "row(s) [3]" in labels.attrs["problems"][0]


def test_commands_that_read_labels_say_each_kept_row(corpus, tmp_path):
    from typer.testing import CliRunner

    from va_mood.cli import app

    rows = corpus.labels_csv.read_text().splitlines()
    first = rows[1].split(",")
    true_quadrant = first[1]  # the corpus' values agree with its quadrants
    first[1] = {"Q1": "Q3", "Q3": "Q1", "Q2": "Q4", "Q4": "Q2"}[true_quadrant]  # both sides
    second = rows[2].split(",")
    second[-1] = ""  # no artist
    labels = tmp_path / "labels.csv"
    labels.write_text("\n".join([rows[0], ",".join(first), ",".join(second), *rows[3:]]) + "\n")
    args = ["evaluate", "--labels", labels, "--audio", corpus.audio, "--labels-spec", corpus.spec]
    result = CliRunner().invoke(app, [*map(str, args), "--config", str(corpus.config),
                                      "--cache", str(corpus.cache)])  # fmt: skip
    assert result.exit_code == 0, result.output
    warned = [line for line in result.output.splitlines() if line.startswith("warning:")]
    assert warned == [
        f"warning: {labels}: row 2: quadrant {first[1]} contradicts valence {first[2]} and "
        f"arousal {first[3]} ({true_quadrant} on the scale 1..9, centre 5); kept: its quadrant "
        "gives the sides, its values the sizes",
        f"warning: {labels}: row 3: empty 'artist' (the cross-validation group); the clip is "
        "a group of its own",
    ]
