"""One self-contained HTML page to explore predictions: the plane, hover, play, filter, export.

The page is a single file that works offline from disk: Bokeh's JavaScript (WebGL points, box
and lasso selection, hover) and the page's own script and style are inlined, nothing is
fetched. Songs' text (titles, artists, paths) comes from users' files, so it travels in one
JSON block in which ``<``, ``>``, ``&`` and U+2028/9 are escaped (:func:`script_json`) and the
page's script only ever puts it into the document as text. docs/page.md says why Bokeh and
what the page costs to load.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import ParameterError, VaMoodError
from ..quadrant import parse_quadrant
from ..util.atomic import write_text
from ..vocabulary import MOODS, QUADRANTS, SIGNS
from .playlist import m3u8_entries
from .plots import COLOURS
from .scales import SCALES, Scale, display_text
from .tag_formats import read_title_artist

__all__ = [
    "MISSING_BOKEH",
    "require_bokeh",
    "script_json",
    "song_data",
    "segment_data",
    "build_page",
    "write_page",
]

ASSETS = Path(__file__).parent / "page_assets"
"""The page's own script and style sheet, inlined into every page."""

MISSING_BOKEH = "the page needs Bokeh: pip install 'va-mood[page]' (or: pip install bokeh)"
"""What to tell a user whose installation lacks the optional dependency."""


def require_bokeh() -> None:
    """Check that the optional dependency Bokeh is installed.

    Raises
    ------
    VaMoodError
        Saying how to install it (:data:`MISSING_BOKEH`), when Bokeh cannot be imported.
    """
    try:
        import bokeh  # noqa: F401
    except ImportError:
        raise VaMoodError(MISSING_BOKEH) from None


_ESCAPES = {char: f"\\u{ord(char):04x}" for char in "<>&\u2028\u2029"}


def script_json(value: Any) -> str:
    """``value`` as JSON that is safe inside an HTML ``<script>`` element.

    ``<``, ``>`` and ``&`` become ``\\u003c``, ``\\u003e`` and ``\\u0026`` (no ``</script>``,
    ``<!--`` or entity can end or change the element) and U+2028/U+2029 are escaped too.

    Parameters
    ----------
    value : object
        Anything :func:`json.dumps` takes.

    Returns
    -------
    str
        Compact JSON that ``JSON.parse`` reads back as ``value``.

    Raises
    ------
    ValueError
        When ``value`` holds NaN or an infinity (not JSON).

    Examples
    --------
    >>> script_json({"title": "</script>"})
    '{"title":"\\\\u003c/script\\\\u003e"}'
    """
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for char, escape in _ESCAPES.items():
        text = text.replace(char, escape)
    return text


def _arousal_named(table: pd.DataFrame) -> pd.DataFrame:
    """The table with the unit scale's ``energy`` columns named ``arousal`` again."""
    return table.rename(columns={"energy": "arousal", "energy_confidence": "arousal_confidence"})


def _rounded(values: pd.Series | None, digits: int) -> list[float | None] | None:
    """Numbers for JSON: rounded, missing ones as null; None when there is no column."""
    if values is None:
        return None
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    return [None if math.isnan(v) else round(float(v), digits) for v in numbers]


def _quadrant_indices(table: pd.DataFrame) -> list[int]:
    """Each row's quadrant as 0..3, from ``quadrant`` (Q1..Q4, 1..4) or else ``mood``."""
    column = table["quadrant"] if "quadrant" in table.columns else table["mood"]
    return [QUADRANTS.index(parse_quadrant(value)) for value in column]


def _names(paths: list[str], read_tags: bool) -> tuple[list[str], list[str]]:
    """Title (the tag, else the file name without suffix) and artist (the tag, else "")."""
    titles, artists = [], []
    for raw in paths:
        title, artist = read_title_artist(raw) if read_tags else (None, None)
        titles.append(display_text(title or Path(raw).stem or raw))
        artists.append(display_text(artist or ""))
    return titles, artists


def song_data(
    table: pd.DataFrame,
    *,
    folder: str | os.PathLike = ".",
    absolute: bool = True,
    read_tags: bool = True,
) -> dict[str, Any]:
    """The page's per-song columns: where each song sits, its names, how to play and list it.

    Parameters
    ----------
    table : pd.DataFrame
        Whole-file predictions (``path``, ``valence``, ``arousal``, ``quadrant``, optional
        confidences and ``p_*``), as :func:`~va_mood.outputs.playlist.read_page_table`
        returns them, on any scale.
    folder : path
        Where exported playlists are meant to live, for relative entries (``absolute=False``).
    absolute : bool
        Playlist entries as absolute paths (a download lands wherever the browser puts it)
        or relative to ``folder``: the rule of ``va-mood playlist`` (:func:`m3u8_entries`).
    read_tags : bool
        Take titles and artists from the files' tags where present.

    Returns
    -------
    dict
        Columns of equal length: ``x``, ``y``, ``q`` (quadrant index), ``title``, ``artist``,
        ``path`` (to read: bytes of a name that are not UTF-8 shown as U+FFFD), ``url`` (an
        encoded ``file://`` URL of the file's own bytes, to play), ``entry`` (the playlist
        lines, a name that is not UTF-8 as a ``file://`` URI; None where they are the paths
        as shown), ``vc``, ``ac`` (confidences or null) and ``p`` (the four mood
        probabilities, or null).
    """
    table = _arousal_named(table)
    paths = [str(p) for p in table["path"]]
    titles, artists = _names(paths, read_tags)
    probability = [f"p_{MOODS[q].lower()}" for q in QUADRANTS]
    entries = m3u8_entries(paths, folder, absolute=absolute)  # UTF-8: file:// where not
    shown = [display_text(p) for p in paths]  # U+FFFD for bytes that are not UTF-8
    return {
        "x": _rounded(table["valence"], 4),
        "y": _rounded(table["arousal"], 4),
        "q": _quadrant_indices(table),
        "title": titles,
        "artist": artists,
        "path": shown,
        "url": [Path(p).absolute().as_uri() for p in paths],  # the file system's own bytes
        "entry": entries if entries != shown else None,  # None: the paths themselves
        "vc": _rounded(table.get("valence_confidence"), 3) or [None] * len(paths),
        "ac": _rounded(table.get("arousal_confidence"), 3) or [None] * len(paths),
        "p": [_rounded(table[c], 3) for c in probability]
        if all(c in table.columns for c in probability)
        else None,
    }


def segment_data(
    segments: pd.DataFrame, paths: list[str]
) -> tuple[dict[str, list[list[float]]], int]:
    """Each song's windows from ``predict --segment`` output, keyed by its row in ``paths``.

    Parameters
    ----------
    segments : pd.DataFrame
        Windows (``path``, ``start``, ``end``, ``valence``, ``arousal``, ``quadrant``).
    paths : list of str
        The page's songs; windows are matched to them by absolute path.

    Returns
    -------
    windows : dict
        ``{str(row): [[start, end, valence, arousal, quadrant index], ...]}``, in time order.
    n_unmatched : int
        How many segmented files are not among ``paths``.

    Raises
    ------
    ParameterError
        When ``segments`` lacks ``start`` or ``end``.
    """
    if "start" not in segments.columns or "end" not in segments.columns:
        raise ParameterError("segment predictions need start and end columns (predict --segment)")
    segments = _arousal_named(segments)
    rows = {os.path.abspath(p): k for k, p in enumerate(paths)}
    out: dict[str, list[list[float]]] = {}
    unmatched = 0
    by_file: dict[str, list[int]] = {}  # grouped in Python: pandas' strings refuse names
    for k, path in enumerate(segments["path"]):  # that are not UTF-8
        by_file.setdefault(str(path), []).append(k)
    for path in sorted(by_file):
        row = rows.get(os.path.abspath(path))
        if row is None:
            unmatched += 1
            continue
        windows = segments.iloc[by_file[path]].sort_values("start", kind="stable")
        out[str(row)] = [
            [round(float(w.start), 3), round(float(w.end), 3)]
            + [round(float(w.valence), 4), round(float(w.arousal), 4)]
            + [q]
            for w, q in zip(windows.itertuples(), _quadrant_indices(windows), strict=True)
        ]
    return out, unmatched


def _plane(scale: Scale, models: dict[str, Any], n_songs: int) -> Any:
    """The Russell plane: quadrant frame and names, the songs, the current song, a song's path."""
    from bokeh.models import BoxAnnotation, HoverTool, Label, Span, TapTool
    from bokeh.plotting import figure

    c, h = scale.centre, scale.half
    plane = figure(
        name="plane",
        x_range=(c - 1.08 * h, c + 1.08 * h),
        y_range=(c - 1.25 * h, c + 1.25 * h),
        match_aspect=True,
        sizing_mode="stretch_both",
        output_backend="webgl",
        tools="pan,wheel_zoom,box_select,lasso_select,reset",
        active_drag="box_select",
        x_axis_label="valence (negative → positive)",
        y_axis_label=f"{scale.arousal_name} (low → high)",
        toolbar_location="above",
    )
    plane.add_layout(
        BoxAnnotation(
            left=c - h, right=c + h, bottom=c - h, top=c + h, fill_alpha=0, line_color="#bbbbbb"
        )
    )
    for dimension in ("width", "height"):
        plane.add_layout(Span(location=c, dimension=dimension, line_color="#666666"))
    for q, (sx, sy) in SIGNS.items():
        plane.add_layout(
            Label(
                x=c + sx * h / 2,
                y=c + sy * 1.14 * h,
                text=f"{q} {MOODS[q]}",
                text_align="center",
                text_baseline="middle",
                text_color=COLOURS[q],
                text_font_style="bold",
            )
        )
    songs = plane.scatter(
        "x",
        "y",
        source=models["songs"],
        view=models["view"],
        size=14 if n_songs <= 100 else 9 if n_songs <= 2000 else 6,  # few songs: big points
        fill_color="colour",
        line_color="white",
        line_width=0.5,
        fill_alpha=0.85,
        nonselection_fill_alpha=0.2,
        selection_line_color="black",
        name="song-points",
    )
    plane.line("x", "y", source=models["path"], line_color="#333333", line_width=2)
    plane.scatter(
        "x", "y", source=models["path"], size=6, fill_color="colour", line_color="#333333"
    )
    plane.scatter(
        "x",
        "y",
        source=models["current"],
        size=22,
        fill_alpha=0,
        line_color="black",
        line_width=3,
        name="current-song",
    )
    tooltips = [
        ("", "@title"),
        ("artist", "@artist"),
        ("mood", "@mood"),
        ("", "@coords"),
        ("confidence", "@conf"),
        ("", "@probs"),
        ("file", "@path"),
    ]
    plane.add_tools(HoverTool(renderers=[songs], tooltips=tooltips))
    plane.add_tools(TapTool(renderers=[songs], behavior="inspect", callback=models["tap"]))
    plane.toolbar.logo = None
    return plane


def _timeline(models: dict[str, Any]) -> Any:
    """The strip of the current song's moods over time (with segment predictions)."""
    from bokeh.models import HoverTool
    from bokeh.plotting import figure

    strip = figure(
        name="timeline",
        height=110,
        sizing_mode="stretch_width",
        tools="xpan,xwheel_zoom,reset",
        x_axis_label="time (s)",
        toolbar_location="right",
        x_range=models["strip_range"],
        y_range=(0, 1),
    )
    bars = strip.quad(
        left="start",
        right="end",
        bottom=0,
        top=1,
        source=models["strip"],
        fill_color="colour",
        line_color="white",
    )
    strip.add_tools(HoverTool(renderers=[bars], tooltips=[("", "@mood"), ("", "@when")]))
    strip.yaxis.visible = False
    strip.ygrid.visible = False
    strip.toolbar.logo = None
    return strip


def _document(scale: Scale, with_timeline: bool, n_songs: int) -> Any:
    """The Bokeh document: empty data sources the page's script fills from the JSON block."""
    from bokeh.document import Document
    from bokeh.models import BooleanFilter, CDSView, ColumnDataSource, CustomJS, Range1d

    columns = ("x", "y", "colour", "title", "artist", "mood", "coords", "conf", "probs", "path")
    models: dict[str, Any] = {
        "songs": ColumnDataSource({c: [] for c in columns}, name="songs"),
        "filter": BooleanFilter(name="shown"),
        "current": ColumnDataSource({"x": [], "y": []}, name="current"),
        "path": ColumnDataSource({"x": [], "y": [], "colour": []}, name="path"),
        "strip": ColumnDataSource(
            {c: [] for c in ("start", "end", "colour", "mood", "when")}, name="strip"
        ),
        "strip_range": Range1d(0, 1),
        "tap": CustomJS(code="window.vaMood.tapped(cb_obj, cb_data)"),
    }
    models["view"] = CDSView(filter=models["filter"])
    models["songs"].selected.js_on_change("indices", CustomJS(code="window.vaMood.selected()"))
    doc = Document()
    doc.add_root(_plane(scale, models, n_songs))
    if with_timeline:
        doc.add_root(_timeline(models))
    names = ("songs", "filter", "current", "path", "strip", "strip_range")
    code = f"window.vaMood.start({{{', '.join(names)}}})"
    start = CustomJS(args={k: models[k] for k in names}, code=code)
    doc.js_on_event("document_ready", start)
    return doc


def build_page(
    table: pd.DataFrame,
    *,
    scale: str = "plane",
    segments: pd.DataFrame | None = None,
    title: str = "va_mood: songs on the mood plane",
    folder: str | os.PathLike = ".",
    absolute: bool = True,
    read_tags: bool = True,
) -> str:
    """The HTML of the page for whole-file predictions (and, optionally, their segments).

    Parameters
    ----------
    table : pd.DataFrame
        Whole-file predictions on ``scale``, as
        :func:`~va_mood.outputs.playlist.read_page_table` gives them.
    scale : {"plane", "unit", "nine"}
        The scale of ``table`` and ``segments``; the plane is drawn on it.
    segments : pd.DataFrame, optional
        Their windows (:func:`~va_mood.outputs.playlist.read_segments`), shown as a timeline
        of the song playing.
    title : str
        The page's title and heading.
    folder, absolute, read_tags
        As for :func:`song_data`.

    Returns
    -------
    str
        One self-contained HTML document.

    Raises
    ------
    VaMoodError
        Without Bokeh, saying how to install it.
    ParameterError
        When ``table`` holds segments rather than whole files.

    Examples
    --------
    >>> table, scale = playlist.read_page_table("moods.csv")  # doctest: +SKIP
    >>> html = build_page(table, scale=scale)  # doctest: +SKIP
    """
    require_bokeh()
    from bokeh.embed import file_html
    from bokeh.resources import INLINE

    if "start" in table.columns:
        raise ParameterError("the plane takes whole-file predictions; give segments separately")
    s = SCALES[scale]
    title = display_text(title)  # a title from the command line may hold any bytes
    data = song_data(table, folder=folder, absolute=absolute, read_tags=read_tags)
    paths = [str(p) for p in table["path"]]  # the real names: data["path"] is for display
    data["seg"] = segment_data(segments, paths)[0] if segments is not None else {}
    data["meta"] = {
        "xname": "valence",
        "yname": s.arousal_name,
        "moods": [MOODS[q] for q in QUADRANTS],
        "quadrants": list(QUADRANTS),
        "colours": [COLOURS[q] for q in QUADRANTS],
    }
    return file_html(
        _document(s, segments is not None, len(table)),
        INLINE,
        title=title,
        template=_template(),
        template_variables={
            "page_css": (ASSETS / "page.css").read_text(encoding="utf-8"),
            "page_js": (ASSETS / "page.js").read_text(encoding="utf-8"),
            "page_data": script_json(data),
            "with_timeline": segments is not None,
            "heading": title,
        },
    )


def _template() -> Any:
    """Bokeh's standalone page, with the page's layout, style, data and script."""
    from bokeh.core.templates import get_env

    env = get_env()
    env.autoescape = False  # only {{ heading | e }} is text; the rest is the page's own markup
    return env.from_string((ASSETS / "page.html.jinja").read_text(encoding="utf-8"))


def write_page(path: str | os.PathLike, table: pd.DataFrame, **options: Any) -> Path:
    """Write the page of :func:`build_page` to ``path`` atomically.

    Parameters
    ----------
    path : str or Path
        The HTML file; exported playlists are relative to its folder unless ``folder`` says.
    table : pd.DataFrame
        Whole-file predictions, as for :func:`build_page`.
    **options
        The other arguments of :func:`build_page`.

    Returns
    -------
    Path
        ``path``.

    Examples
    --------
    >>> write_page("moods.html", *playlist.read_page_table("moods.csv")[:1])  # doctest: +SKIP
    PosixPath('moods.html')
    """
    path = Path(path)
    options.setdefault("folder", path.absolute().parent)
    write_text(path, build_page(table, **options))
    return path
