"""The CLI's outputs people look at or act on: segments, plots, tags, playlists."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from va_mood.cli import EXIT_NOTHING, EXIT_OK, app

EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "examples"
CLIP = EXAMPLES / "macleod_hustle.mp3"  # 45 s
PNG = b"\x89PNG\r\n\x1a\n"


def _run(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def segments_csv(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("seg") / "segments.csv"
    summary = out.with_name("summary.json")
    result = _run(
        "predict", CLIP, "--segment", 5, "-f", "csv", "-o", out, "--summary", summary, "--no-cache"
    )
    assert result.exit_code == EXIT_OK, result.output
    return out


@pytest.fixture(scope="module")
def predictions_csv(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("pred") / "predictions.csv"
    result = _run("predict", EXAMPLES, "-f", "csv", "-o", out, "--no-cache")
    assert result.exit_code == EXIT_OK, result.output
    return out


def _is_png(path: Path, min_bytes: int = 10_000) -> bool:
    return path.read_bytes()[:8] == PNG and path.stat().st_size >= min_bytes


def test_segments_of_a_45_second_clip(segments_csv):
    table = pd.read_csv(segments_csv)
    assert len(table) in (8, 9)
    assert table["start"].is_monotonic_increasing
    assert (table["end"] - table["start"]).between(2.5, 5.0).all()
    assert table[["valence", "arousal"]].abs().le(1.0).all().all()
    summary = json.loads(segments_csv.with_name("summary.json").read_text())
    assert summary["summary"][0]["n_segments"] == len(table)
    shares = [v for k, v in summary["summary"][0].items() if k.startswith("share_")]
    assert sum(shares) == pytest.approx(1.0)


def test_summary_needs_segment(tmp_path):
    result = _run("predict", CLIP, "--summary", tmp_path / "s.csv", "--no-cache")
    assert result.exit_code == 2
    assert "--summary needs --segment" in result.output


def test_plot_plane(predictions_csv, tmp_path):
    out = tmp_path / "plane.png"
    result = _run("plot", "plane", predictions_csv, "-o", out)
    assert result.exit_code == 0, result.output
    assert _is_png(out)


SCALES_AND_FORMATS = [(s, f) for s in ("plane", "unit", "nine") for f in ("csv", "json")]


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> dict[tuple[str, str, bool], Path]:
    """What ``predict`` writes on every scale and format, whole files and segments."""
    folder = tmp_path_factory.mktemp("written")
    cache = folder / "cache"
    out = {}
    for scale, fmt in SCALES_AND_FORMATS:
        for segments in (False, True):
            path = folder / f"{scale}{'-seg' if segments else ''}.{fmt}"
            args = ["predict", CLIP if segments else EXAMPLES, "-f", fmt, "--scale", scale]
            args += ["-o", path, "--cache", cache] + (["--segment", 15] if segments else [])
            result = _run(*args)
            assert result.exit_code == EXIT_OK, result.output
            out[scale, fmt, segments] = path
    return out


@pytest.mark.parametrize(("scale", "fmt"), SCALES_AND_FORMATS)
def test_every_plot_reads_every_scale_and_format(written, scale, fmt, tmp_path):
    from va_mood.outputs.playlist import read_on_plane

    plane = read_on_plane(written["plane", "csv", False])
    table = read_on_plane(written[scale, fmt, False])
    np.testing.assert_allclose(
        table[["valence", "arousal"]], plane[["valence", "arousal"]], atol=2e-4
    )
    result = _run("plot", "plane", written[scale, fmt, False], "-o", tmp_path / "plane.png")
    assert result.exit_code == EXIT_OK, result.output
    assert _is_png(tmp_path / "plane.png")
    result = _run("plot", "timeline", written[scale, fmt, True], "-o", tmp_path / "time.png")
    assert result.exit_code == EXIT_OK, result.output
    assert _is_png(tmp_path / "time.png")


def test_plot_plane_coloured_by_labels(predictions_csv, tmp_path):
    labels = tmp_path / "labels.csv"
    names = [p.stem for p in sorted(EXAMPLES.glob("*.mp3"))]
    labels.write_text(
        "song_id,quadrant,valence,arousal,artist\n"
        + "".join(f"{n},Q{i % 4 + 1},5,5,a{i}\n" for i, n in enumerate(names))
    )
    out = tmp_path / "plane.svg"
    result = _run("plot", "plane", predictions_csv, "-o", out, "--labels", labels)
    assert result.exit_code == 0, result.output
    assert "true Q1 Uplifting" in out.read_text()


def test_plot_timeline_with_listener_ratings(segments_csv, tmp_path):
    ratings = tmp_path / "ratings"
    ratings.mkdir()
    times = [f"sample_{ms}ms" for ms in range(15000, 45001, 500)]
    for axis in ("valence", "arousal"):
        curve = ",".join(f"{0.3 * np.sin(i / 5):.3f}" for i in range(len(times)))
        (ratings / f"{axis}_cont_average.csv").write_text(
            "song_id," + ",".join(times) + f"\nmacleod_hustle,{curve}\n"
        )
    out = tmp_path / "timeline.png"
    result = _run("plot", "timeline", segments_csv, "-o", out, "--ratings", ratings)
    assert result.exit_code == 0, result.output
    assert _is_png(out)


def test_plot_timeline_refuses_whole_file_predictions(predictions_csv, tmp_path):
    result = _run("plot", "timeline", predictions_csv, "-o", tmp_path / "t.png")
    assert result.exit_code == EXIT_NOTHING
    assert "holds no segments" in result.output


def test_evaluate_plots(corpus, tmp_path):
    figures = tmp_path / "figures"
    result = _run(
        "evaluate", "--labels", corpus.labels_csv, "--audio", corpus.audio,
        "--labels-spec", corpus.spec, "--config", corpus.regression, "--cache", corpus.cache,
        "--plots", figures,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    names = {p.name for p in figures.iterdir()}
    assert names == {
        "confusion_matrix.png",
        "per_class.png",
        "valence_predicted_vs_true.png",
        "arousal_predicted_vs_true.png",
        "valence_reliability.png",
        "arousal_reliability.png",
        "plane_predicted_vs_true.png",
    }
    assert all(_is_png(figures / n) for n in names)


def test_tag_then_skip(tmp_path):
    from mutagen.id3 import ID3

    song = Path(shutil.copy(CLIP, tmp_path / "song.mp3"))
    result = _run("tag", song, "--no-cache")
    assert result.exit_code == EXIT_OK, result.output
    tags = ID3(song)
    assert str(tags["TMOO"]) in {"Uplifting", "Aggressive", "Melancholic", "Calm"}
    assert -1.0 <= float(str(tags["TXXX:VAMOOD_VALENCE"])) <= 1.0
    again = _run("tag", song, "--no-cache")
    assert again.exit_code == EXIT_OK, again.output
    assert "skip" in again.output.lower()


def test_playlist_by_mood(predictions_csv, tmp_path):
    table = pd.read_csv(predictions_csv)
    mood = table["mood"].iloc[0]
    out = tmp_path / "list.m3u8"
    result = _run("playlist", predictions_csv, "--mood", mood, "-o", out, "--absolute")
    assert result.exit_code == 0, result.output
    entries = [line for line in out.read_text().splitlines() if not line.startswith("#")]
    expected = {str(Path(p).resolve()) for p in table.loc[table["mood"] == mood, "path"]}
    assert set(entries) == expected


def test_playlist_refuses_segments(segments_csv, tmp_path):
    result = _run("playlist", segments_csv, "--mood", "Calm", "-o", tmp_path / "x.m3u8")
    assert result.exit_code == EXIT_NOTHING
    assert "holds segments" in result.output


def test_the_plane_names_few_points_by_their_tags_and_svg_keeps_text(predictions_csv, tmp_path):
    out = tmp_path / "plane.svg"
    result = _run("plot", "plane", predictions_csv, "-o", out)
    assert result.exit_code == EXIT_OK, result.output
    svg = out.read_text()
    for title in ("DD Groove", "Dirt Rhodes", "Hustle", "Slow Burn"):  # from the ID3 tags
        assert f"Kevin MacLeod – {title}" in svg
    assert "Uplifting" in svg  # quadrant names as text, not glyph outlines


def test_the_plane_names_no_point_when_there_are_many(tmp_path):
    from va_mood.outputs.plots import plot_plane

    rng = np.random.default_rng(0)
    table = pd.DataFrame(
        {
            "path": [f"song_{i:03d}.mp3" for i in range(200)],
            "valence": rng.uniform(-1, 1, 200),
            "arousal": rng.uniform(-1, 1, 200),
        }
    )
    table["quadrant"] = np.select(
        [(table.valence >= 0) & (table.arousal >= 0), table.arousal >= 0, table.valence < 0],
        ["Q1", "Q2", "Q3"],
        "Q4",
    )
    svg = plot_plane(table, tmp_path / "many.svg").read_text()
    assert "song_000" not in svg
    few = plot_plane(table.head(30), tmp_path / "few.svg").read_text()
    assert "song_000" in few and "song_029" in few
