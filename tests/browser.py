"""Driving the page in headless Chromium: shared by the page tests, benchmarks/page_load.py
and docs/page_screenshot.py (which put this folder on ``sys.path`` to import it)."""

from __future__ import annotations

HEADLESS_CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
"""Flags for headless Chromium offline (tests, benchmarks): it must not try the network."""

POINT_ON_SCREEN_JS = """(i) => {
  const view = Object.values(Bokeh.index).find((v) => v.model.name === 'plane');
  const songs = Bokeh.documents[0].get_model_by_name('songs');
  const box = view.canvas_view.el.getBoundingClientRect();
  return [box.left + view.frame.x_scale.compute(songs.data.x[i]),
          box.top + view.frame.y_scale.compute(songs.data.y[i])];
}"""
"""JavaScript giving the screen position of song ``i``'s point on a page (for a browser driver)."""
