"""Make docs/page.png: the page of the four example clips, in headless Chromium.

Predicts the examples (whole files and 10-second windows, with the feature cache), writes the
page, opens it from ``file://``, plays one song (its path and timeline show),
box-selects two, and saves a 1280 x 800 screenshot.

    python docs/page_screenshot.py [--output docs/page.png]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
from browser import HEADLESS_CHROMIUM_ARGS, POINT_ON_SCREEN_JS  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=REPO / "docs" / "page.png")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder:
        page_path = Path(folder) / "moods.html"
        command = [sys.executable, "-m", "va_mood.cli", "page", "data/examples",
                   "--segment", "10", "-o", str(page_path)]  # fmt: skip
        subprocess.run(command, check=True, cwd=REPO)
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=args.chromium, args=list(HEADLESS_CHROMIUM_ARGS)
            )
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(page_path.as_uri())
            page.wait_for_selector("body[data-ready=true]", state="attached")
            titles = page.evaluate("Bokeh.documents[0].get_model_by_name('songs').data.title")
            page.mouse.click(*page.evaluate(POINT_ON_SCREEN_JS, titles.index("Hustle")))
            (x0, y0), (x1, y1) = (
                page.evaluate(POINT_ON_SCREEN_JS, titles.index(t))
                for t in ("DD Groove", "Slow Burn")
            )
            page.mouse.move(min(x0, x1) - 20, max(y0, y1) + 20)
            page.mouse.down()
            page.mouse.move(max(x0, x1) + 20, min(y0, y1) - 20, steps=5)
            page.mouse.up()
            page.mouse.move(5, 795)
            page.screenshot(path=str(args.output))
            browser.close()
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
