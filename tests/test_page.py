"""The page: the builder without a browser, then the page itself in headless Chromium.

Browser tests drive Debian's Chromium with Playwright (its own browser download is not
available here) and skip, saying why, without either.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, unquote_to_bytes, urlparse

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from browser import HEADLESS_CHROMIUM_ARGS, POINT_ON_SCREEN_JS
from typer.testing import CliRunner

from va_mood.cli import app
from va_mood.errors import ParameterError, VaMoodError
from va_mood.outputs.page import (
    build_page,
    require_bokeh,
    script_json,
    segment_data,
    song_data,
    write_page,
)
from va_mood.outputs.playlist import m3u8_entries, make_playlist, read_page_table, read_segments
from va_mood.outputs.scales import to_scale

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "data" / "examples"
HOSTILE_TITLE = "<img src=x onerror=alert(1)>"
HOSTILE_ARTIST = "</script><script>window.pwned = 1</script>\u2028&amp;"
MOODS = {"Q1": "Uplifting", "Q2": "Aggressive", "Q3": "Melancholic", "Q4": "Calm"}


def _tone(path: Path, seconds: float = 0.3) -> Path:
    t = np.arange(int(8000 * seconds)) / 8000
    sf.write(path, 0.2 * np.sin(2 * np.pi * 440 * t), 8000)
    return path


def _tagged_flac(path: Path, title: str, artist: str) -> Path:
    from mutagen.flac import FLAC

    _tone(path)
    audio = FLAC(path)
    audio["title"], audio["artist"] = title, artist
    audio.save()
    return path


def _library(folder: Path, n: int = 40, seed: int = 3) -> pd.DataFrame:
    """Predictions on the plane: ``n`` songs spread over the quadrants, four of them real files.

    Rows 0-2 sit together near (0.65, 0.65), away from the rest (for box selection); row 0 is
    a tagged FLAC with a hostile title, row 1 a WAV whose name needs encoding in a URL.
    """
    rng = np.random.default_rng(seed)
    valence = rng.uniform(-0.9, 0.9, n)
    arousal = rng.uniform(-0.9, 0.9, n)
    far = (np.abs(valence - 0.65) < 0.2) & (np.abs(arousal - 0.65) < 0.2)
    valence[far] = -valence[far]  # keep the corner near (0.65, 0.65) for rows 0-2
    valence[:3], arousal[:3] = [0.6, 0.65, 0.7], [0.62, 0.7, 0.66]
    paths = [str(folder / f"song {i:02d}.mp3") for i in range(n)]
    paths[0] = str(_tagged_flac(folder / "hostile.flac", HOSTILE_TITLE, HOSTILE_ARTIST))
    paths[1] = str(_tone(folder / "a song #1 été 100%.wav"))
    paths[2] = str(_tagged_flac(folder / "known.flac", "Known Title", "Known Artist"))
    quadrant = np.where(
        arousal > 0, np.where(valence > 0, "Q1", "Q2"), np.where(valence > 0, "Q4", "Q3")
    )
    return pd.DataFrame(
        {
            "path": paths,
            "valence": valence.round(4),
            "arousal": arousal.round(4),
            "quadrant": quadrant,
            "mood": [MOODS[q] for q in quadrant],
            "valence_confidence": rng.uniform(0.5, 1, n).round(4),
            "arousal_confidence": rng.uniform(0.5, 1, n).round(4),
        }
    )


def _segments(path: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "path": [path] * 4,
            "start": [10.0, 0.0, 5.0, 15.0],
            "end": [15.0, 5.0, 10.0, 20.0],
            "valence": [0.5, -0.5, -0.2, 0.6],
            "arousal": [-0.3, 0.4, 0.2, -0.5],
            "quadrant": ["Q4", "Q2", "Q2", "Q4"],
        }
    )


# ---- the builder, no browser ---------------------------------------------------------------


def test_script_json_escapes_what_could_end_or_change_a_script() -> None:
    value = {"t": "</script><!--<b>&amp;\u2028\u2029", "n": [1, None]}
    text = script_json(value)
    for raw in ("<", ">", "&", "\u2028", "\u2029"):
        assert raw not in text
    assert json.loads(text) == value
    with pytest.raises(ValueError):
        script_json({"x": float("nan")})


@pytest.mark.parametrize("fmt", ["csv", "json"])
@pytest.mark.parametrize("scale", ["plane", "unit", "nine"])
def test_reads_predictions_of_any_scale_and_format(tmp_path: Path, scale: str, fmt: str) -> None:
    plane = _library(tmp_path, n=8)
    table = to_scale(plane, scale)
    path = tmp_path / f"moods.{fmt}"
    if fmt == "csv":
        table.to_csv(path, index=False, float_format="%.4f")
    else:
        records = table.to_dict(orient="records")
        path.write_text(json.dumps({"scale": scale, "predictions": records}))
    read, found = read_page_table(path)
    assert found == scale
    expected = table["energy" if scale == "unit" else "arousal"]
    assert np.allclose(read["arousal"], expected, atol=1e-4)
    assert read["quadrant"].tolist() == plane["quadrant"].tolist()


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("path,mood\na.mp3,Calm\n", "valence and arousal"),
        ("path,valence,arousal,mood\na.mp3,x,0.1,Calm\n", "non-numeric"),
        ("path,valence,arousal,mood\na.mp3,-3,0.1,Calm\n", "must lie in"),
        ("{not json", "not valid JSON"),
    ],
)
def test_bad_predictions_name_the_file(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / ("bad.json" if text.startswith("{") else "bad.csv")
    path.write_text(text)
    with pytest.raises(ParameterError, match=problem) as info:
        read_page_table(path)
    assert str(path) in str(info.value)


def test_song_data_names_urls_and_playlist_entries(tmp_path: Path) -> None:
    table = _library(tmp_path, n=6)
    data = song_data(table, folder=tmp_path)
    assert data["title"][:3] == [HOSTILE_TITLE, "a song #1 été 100%", "Known Title"]
    assert data["artist"][2] == "Known Artist" and data["artist"][3] == ""
    for url, path in zip(data["url"], table["path"], strict=True):
        assert url.startswith("file:///") and " " not in url and "#" not in url
        assert unquote(urlparse(url).path) == os.path.abspath(path)
    assert data["entry"] is None  # absolute paths: the lines are the paths themselves
    assert data["path"] == m3u8_entries(list(table["path"]), tmp_path, absolute=True)
    relative = song_data(table, folder=tmp_path, absolute=False, read_tags=False)
    assert relative["entry"][1] == "a song #1 été 100%.wav"
    assert relative["title"][0] == "hostile"
    assert data["p"] is None and len(data["vc"]) == 6


def test_a_file_name_that_is_not_utf8_is_shown_and_played(tmp_path: Path) -> None:
    path = tmp_path / os.fsdecode(b"caf\xe9 \xff.wav")  # Latin-1 bytes, as Python keeps them
    _tone(tmp_path / "plain.wav").rename(path)
    table = pd.DataFrame(
        {
            "path": pd.Series([str(path)], dtype=object),
            "valence": [0.5],
            "arousal": [0.5],
            "quadrant": ["Q1"],
        }
    )
    windows = _segments("elsewhere.wav")  # pandas' strings cannot hold the name: object
    windows["path"] = pd.Series([str(path)] * len(windows), dtype=object)
    html = build_page(table, segments=windows, absolute=False, folder=tmp_path / "lists")
    html.encode("utf-8")  # valid UTF-8 throughout
    data = json.loads(_data_block(html))
    assert data["title"] == ["caf\ufffd \ufffd"]
    assert data["url"][0].endswith("/caf%E9%20%FF.wav")
    assert data["path"][0].endswith("caf\ufffd \ufffd.wav")
    assert data["entry"] == [path.as_uri()]  # the exported playlist's line opens the file
    entry = Path(os.fsdecode(unquote_to_bytes(urlparse(data["entry"][0]).path)))
    assert entry.read_bytes() == path.read_bytes()
    assert len(data["seg"]["0"]) == 4  # the windows found their song by its real name


def _data_block(html: str) -> str:
    return html.split('id="va-mood-data">', 1)[1].split("</script>", 1)[0]


def test_segment_data_matches_songs_by_path_in_time_order(tmp_path: Path) -> None:
    table = _library(tmp_path, n=4)
    segments = pd.concat([_segments(table["path"][2]), _segments(str(tmp_path / "other.mp3"))])
    windows, unmatched = segment_data(segments, list(table["path"]))
    assert unmatched == 1
    assert list(windows) == ["2"]
    assert [w[0] for w in windows["2"]] == [0.0, 5.0, 10.0, 15.0]
    assert windows["2"][0] == [0.0, 5.0, -0.5, 0.4, 1]


def test_segments_must_be_segments_on_the_same_scale(tmp_path: Path) -> None:
    table = _library(tmp_path, n=4)
    whole = tmp_path / "whole.csv"
    table.to_csv(whole, index=False)
    with pytest.raises(ParameterError, match="holds no segments"):
        read_segments(whole, "plane")
    seg = tmp_path / "seg.csv"
    to_scale(_segments(table["path"][0]), "unit").to_csv(seg, index=False)
    with pytest.raises(ParameterError, match="unit scale"):
        read_segments(seg, "plane")
    assert len(read_segments(seg, "unit")) == 4


class _References(HTMLParser):
    """The page's own tags that load something (script contents are not parsed as tags)."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found += [(tag, value or "") for name, value in attrs if name in ("src", "href")]
        if tag == "link":
            self.found.append((tag, str(attrs)))


def test_page_inlines_everything_and_keeps_hostile_text_inert(tmp_path: Path) -> None:
    table = _library(tmp_path, n=10)
    html = build_page(table, segments=_segments(table["path"][1]))
    assert html.count('<script type="application/json" id="va-mood-data">') == 1
    references = _References()
    references.feed(html)
    assert references.found == []  # no src, href or stylesheet: everything is inline
    assert HOSTILE_TITLE not in html and "</script><script>window.pwned" not in html
    assert "\u2028" not in html
    block = html.split('id="va-mood-data">', 1)[1].split("</script>", 1)[0]
    assert json.loads(block)["title"][0] == HOSTILE_TITLE
    assert 'id="timeline"' in html


def test_write_page_is_atomic(tmp_path: Path) -> None:
    out = tmp_path / "moods.html"
    out.write_text("old page")
    bad = _library(tmp_path, n=3).assign(start=0.0)
    with pytest.raises(ParameterError):
        write_page(out, bad)
    assert out.read_text() == "old page"
    assert write_page(out, _library(tmp_path, n=3)) == out
    assert out.read_text().startswith("<!DOCTYPE html>")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


# ---- the command ---------------------------------------------------------------------------


def _invoke(*args: object) -> object:
    return CliRunner().invoke(app, [str(a) for a in args])


def test_command_from_a_table_and_its_errors(tmp_path: Path) -> None:
    table = _library(tmp_path, n=5)
    moods = tmp_path / "moods.csv"
    table.to_csv(moods, index=False)
    seg = tmp_path / "seg.csv"
    _segments(table["path"][0]).to_csv(seg, index=False)
    result = _invoke("page", moods, "--segments", seg, "-o", tmp_path / "p.html")
    assert result.exit_code == 0, result.output
    assert "wrote 5 song(s)" in result.output
    assert (tmp_path / "p.html").stat().st_size > 100_000
    missing = _invoke("page", tmp_path / "none.csv", "-o", tmp_path / "q.html")
    assert missing.exit_code == 3
    assert missing.output.strip() == f"error: {tmp_path / 'none.csv'}: no such predictions file"
    usage = _invoke("page", moods, "--segment", "5", "-o", tmp_path / "q.html")
    assert usage.exit_code == 2 and "--segments" in usage.output
    other = tmp_path / "other.csv"
    _segments(str(tmp_path / "elsewhere.mp3")).to_csv(other, index=False)
    noted = _invoke("page", moods, "--segments", other, "-o", tmp_path / "p.html")
    assert noted.exit_code == 0 and "1 file(s) in" in noted.output
    as_main = _invoke("page", seg, "-o", tmp_path / "q.html")
    assert as_main.exit_code == 3 and "--segments" in as_main.output
    assert "Traceback" not in missing.output + as_main.output
    assert not (tmp_path / "q.html").exists()


def test_command_without_bokeh_says_how_to_install(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "bokeh", None)
    with pytest.raises(VaMoodError, match=r"pip install 'va-mood\[page\]'"):
        require_bokeh()
    result = _invoke("page", tmp_path / "m.csv", "-o", tmp_path / "p.html")
    assert result.exit_code == 3
    assert result.output.strip().startswith("error: the page needs Bokeh: pip install")


def test_command_from_audio_predicts_first(tmp_path: Path) -> None:
    song = EXAMPLES / "macleod_hustle.mp3"
    out = tmp_path / "p.html"
    result = _invoke(
        "page",
        song,
        "--segment",
        "10",
        "--scale",
        "unit",
        "-o",
        out,
        "--cache",
        tmp_path / "cache",
        "-j",
        "1",
    )
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    data = json.loads(html.split('id="va-mood-data">', 1)[1].split("</script>", 1)[0])
    assert data["title"] == ["Hustle"] and data["artist"] == ["Kevin MacLeod"]
    assert data["meta"]["yname"] == "energy" and 0 <= data["x"][0] <= 1
    assert len(data["seg"]["0"]) >= 2 and data["p"] is not None


# ---- in a real browser ---------------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="Playwright is not installed (pip install '.[test]')"
    )
    if CHROMIUM is None:
        pytest.skip("no chromium on PATH (apt-get install chromium; .ci/run installs it)")
    with sync_api.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=list(HEADLESS_CHROMIUM_ARGS))
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def library(tmp_path_factory) -> tuple[pd.DataFrame, Path]:
    folder = tmp_path_factory.mktemp("library")
    table = _library(folder)
    page = write_page(folder / "moods.html", table, segments=_segments(table["path"][1]))
    return table, page


class Opened:
    """A page open in the browser, with what it logged and requested."""

    def __init__(self, browser, path: Path) -> None:
        self.page = browser.new_page(viewport={"width": 1200, "height": 800})
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.goto(path.as_uri())
        self.page.wait_for_selector("body[data-ready=true]", state="attached", timeout=30_000)

    def at(self, row: int) -> tuple[float, float]:
        return tuple(self.page.evaluate(POINT_ON_SCREEN_JS, row))

    def shown_rows(self) -> list[int]:
        return self.page.evaluate(
            "() => Bokeh.documents[0].get_model_by_name('shown').booleans"
            ".flatMap((b, i) => (b ? [i] : []))"
        )

    def download(self, button: str) -> list[str]:
        with self.page.expect_download() as info:
            self.page.click(button)
        return Path(info.value.path()).read_text(encoding="utf-8").splitlines()


@pytest.fixture
def opened(browser, library):
    page = Opened(browser, library[1])
    yield page
    page.page.close()


def test_loads_offline_with_no_error_and_no_request(opened, library) -> None:
    assert opened.errors == []
    assert opened.requests == [library[1].as_uri()]
    n = opened.page.evaluate("() => Bokeh.documents[0].get_model_by_name('songs').data.x.length")
    assert n == len(library[0]) == len(opened.shown_rows())
    assert opened.page.text_content("#count-Calm") == "{0} / {0}".format(
        (library[0]["mood"] == "Calm").sum()
    )


def test_hovering_a_point_shows_its_name(opened) -> None:
    opened.page.mouse.move(*opened.at(2))
    tooltip = opened.page.locator(".bk-tooltip-content", has_text="Known Title")
    tooltip.wait_for(timeout=5000)
    assert "Known Artist" in tooltip.text_content()


def test_filtering_by_mood_and_text(opened, library) -> None:
    table = library[0]
    for mood in ("Uplifting", "Aggressive", "Melancholic"):
        opened.page.uncheck(f"input[data-mood={mood}]")
    assert opened.shown_rows() == list(np.flatnonzero(table["mood"] == "Calm"))
    opened.page.check("input[data-mood=Uplifting]")
    opened.page.fill("#search", "known ARTIST")
    summary = f"1 of {len(table)} songs shown"
    script = f"document.getElementById('summary').textContent === {summary!r}"
    opened.page.wait_for_function(script, timeout=5000)
    assert opened.shown_rows() == [2]


def test_clicking_a_point_plays_its_file(opened, library) -> None:
    opened.page.mouse.click(*opened.at(1))
    src = opened.page.eval_on_selector("#player", "audio => audio.src")
    assert src == Path(library[0]["path"][1]).as_uri()
    assert "%23" in src and "%20" in src
    assert opened.page.text_content("#now-title") == "a song #1 été 100%"
    marked = opened.page.evaluate("() => Bokeh.documents[0].get_model_by_name('current').data.x")
    assert marked == [library[0]["valence"][1]]
    strip = opened.page.evaluate("() => Bokeh.documents[0].get_model_by_name('strip').data.start")
    assert strip == [0, 5, 10, 15]
    assert opened.errors == []


def test_exported_playlists_hold_the_selected_files(opened, library) -> None:
    table = library[0]
    (x0, y0), (x1, y1) = opened.at(0), opened.at(2)
    page = opened.page
    page.mouse.move(min(x0, x1) - 12, max(y0, y1) + 12)
    page.mouse.down()
    page.mouse.move((x0 + x1) / 2, (y0 + y1) / 2, steps=5)
    page.mouse.move(max(x0, x1) + 12, min(y0, y1) - 12, steps=5)
    page.mouse.up()
    assert page.text_content("#selection") == "3 song(s) selected"
    lines = opened.download("#export-selection")
    assert lines == ["#EXTM3U", *m3u8_entries(list(table["path"][:3]), ".", absolute=True)]
    page.select_option("#export-mood", label="Calm")
    lines = opened.download("#export-mood-button")
    calm = make_playlist(table, mood="Calm")
    assert lines == ["#EXTM3U", *m3u8_entries(calm, ".", absolute=True)]


def test_a_hostile_title_runs_no_script(opened) -> None:
    opened.page.mouse.move(*opened.at(0))
    opened.page.locator(".bk-tooltip-content", has_text=HOSTILE_TITLE).wait_for(timeout=5000)
    opened.page.mouse.click(*opened.at(0))
    assert opened.page.text_content("#now-title").startswith(HOSTILE_TITLE + " — </script>")
    assert opened.page.evaluate("() => window.pwned") is None
    assert opened.dialogs == []
    assert opened.page.locator("img").count() == 0


def test_twenty_thousand_songs_load(browser, tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    n = 20_000
    valence, arousal = rng.uniform(-1, 1, n), rng.uniform(-1, 1, n)
    quadrant = np.where(
        arousal > 0, np.where(valence > 0, "Q1", "Q2"), np.where(valence > 0, "Q4", "Q3")
    )
    paths = [f"/music/artist {i % 700}/song {i}.mp3" for i in range(n)]
    table = pd.DataFrame(
        {"path": paths, "valence": valence, "arousal": arousal, "quadrant": quadrant}
    )
    page = Opened(browser, write_page(tmp_path / "big.html", table, read_tags=False))
    assert page.errors == []
    assert len(page.shown_rows()) == n
    page.page.close()
