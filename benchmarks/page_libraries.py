"""Which plotting library the page uses: Plotly (scattergl) or Bokeh (WebGL), measured.

Writes the same 20,000 songs as one self-contained HTML file with each library (every script
inline, points coloured by mood, a hover showing each song's name) and opens each from
``file://`` in headless Chromium (Debian's, through Playwright). Reports the file size and the
time from navigation to the first frame after the plot is drawn and hoverable (median of
``--runs``). The choice and its figures are in docs/page.md.

    python benchmarks/page_libraries.py [--songs 20000] [--runs 5]

Needs plotly installed as well (``pip install plotly``); the package itself needs only Bokeh.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np

from va_mood.outputs.page import script_json

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from browser import HEADLESS_CHROMIUM_ARGS  # noqa: E402

COLOURS = ["#e69f00", "#d55e00", "#0072b2", "#009e73"]
READY = "requestAnimationFrame(() => { window.readyAt = performance.now(); });"


def songs(n: int) -> dict[str, list]:
    rng = np.random.default_rng(0)
    x, y = rng.uniform(-1, 1, n).round(4), rng.uniform(-1, 1, n).round(4)
    q = np.where(y > 0, np.where(x > 0, 0, 1), np.where(x > 0, 3, 2))
    names = [f"Song {i} by Artist {i % 900}" for i in range(n)]
    return {"x": x.tolist(), "y": y.tolist(), "q": q.tolist(), "name": names}


def plotly_page(data: dict[str, list], path: Path) -> None:
    """plotly.js inline; one scattergl trace per mood, hover text from the data block."""
    import plotly.offline

    script = """
const D = JSON.parse(document.getElementById('data').textContent);
const traces = [0, 1, 2, 3].map((k) => {
  const rows = D.q.flatMap((q, i) => (q === k ? [i] : []));
  return {type: 'scattergl', mode: 'markers', x: rows.map((i) => D.x[i]),
          y: rows.map((i) => D.y[i]), text: rows.map((i) => D.name[i]),
          hovertemplate: '%{text}<extra></extra>', marker: {color: COLOURS[k], size: 7}};
});
Plotly.newPlot('plane', traces, {dragmode: 'lasso', margin: {t: 20}},
               {displaylogo: false}).then(() => { READY });
""".replace("COLOURS", json.dumps(COLOURS)).replace("READY", READY)
    path.write_text(
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<script>{plotly.offline.get_plotlyjs()}</script></head><body>"
        "<div id='plane' style='width:1200px;height:760px'></div>"
        f"<script type='application/json' id='data'>{script_json(data)}</script>"
        f"<script>{script}</script></body></html>",
        encoding="utf-8",
    )


def bokeh_page(data: dict[str, list], path: Path) -> None:
    """Bokeh's JavaScript inline (INLINE resources); WebGL scatter, hover tooltip."""
    from bokeh.document import Document
    from bokeh.embed import file_html
    from bokeh.models import ColumnDataSource, CustomJS, HoverTool
    from bokeh.plotting import figure
    from bokeh.resources import INLINE

    source = ColumnDataSource(
        {"x": data["x"], "y": data["y"], "c": [COLOURS[q] for q in data["q"]], "name": data["name"]}
    )
    plot = figure(
        width=1200,
        height=760,
        output_backend="webgl",
        tools="pan,wheel_zoom,box_select,lasso_select,tap,reset",
    )
    plot.scatter("x", "y", color="c", size=7, source=source)
    plot.add_tools(HoverTool(tooltips=[("", "@name")]))
    doc = Document()
    doc.add_root(plot)
    doc.js_on_event("document_ready", CustomJS(code=READY))
    path.write_text(file_html(doc, INLINE, "bokeh"), encoding="utf-8")


def time_to_ready(path: Path, runs: int, chromium: str) -> list[float]:
    from playwright.sync_api import sync_playwright

    times = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=list(HEADLESS_CHROMIUM_ARGS))
        for _ in range(runs):
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(path.as_uri())
            page.wait_for_function("window.readyAt !== undefined", timeout=60_000)
            times.append(page.evaluate("window.readyAt") / 1000)
            page.close()
        browser.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--songs", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    args = parser.parse_args()
    import bokeh
    import plotly

    data = songs(args.songs)
    with tempfile.TemporaryDirectory() as folder:
        for name, version, make in (
            ("plotly", plotly.__version__, plotly_page),
            ("bokeh", bokeh.__version__, bokeh_page),
        ):
            path = Path(folder) / f"{name}.html"
            make(data, path)
            times = time_to_ready(path, args.runs, args.chromium)
            print(
                f"{name} {version}: {path.stat().st_size / 1e6:.2f} MB, ready in median "
                f"{statistics.median(times):.2f} s (runs: {', '.join(f'{t:.2f}' for t in times)})"
            )


if __name__ == "__main__":
    main()
