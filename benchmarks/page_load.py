"""Time to interactive of the page (``va-mood page``) for a library of 20,000 songs.

Builds the page for a synthetic predictions table (20,000 rows by default), opens it from
``file://`` in headless Chromium (Debian's, through Playwright) and reports, per run and as the
median: the time from navigation to the first frame after the page's script has filled the
plane and wired the controls (hover, click, filters and selection work from then on), and
how long a mood filter takes to apply. Also prints the file's size and the build time.

    python benchmarks/page_load.py [--songs 20000] [--runs 5] [--chromium /usr/bin/chromium]

The target is under 3 s to interactive; results are in docs/page.md.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from va_mood.outputs.page import write_page

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from browser import HEADLESS_CHROMIUM_ARGS  # noqa: E402


def synthetic_table(n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` songs spread over the plane, with confidences and the four mood probabilities."""
    rng = np.random.default_rng(seed)
    valence, arousal = rng.uniform(-1, 1, n), rng.uniform(-1, 1, n)
    quadrant = np.where(
        arousal > 0, np.where(valence > 0, "Q1", "Q2"), np.where(valence > 0, "Q4", "Q3")
    )
    p = rng.dirichlet(np.ones(4), n)
    return pd.DataFrame(
        {
            "path": [
                f"/music/Artist {i % 900}/Album {i % 97}/{i:05d} Song {i}.mp3" for i in range(n)
            ],
            "valence": valence.round(4),
            "arousal": arousal.round(4),
            "quadrant": quadrant,
            "valence_confidence": rng.uniform(0.5, 1, n).round(4),
            "arousal_confidence": rng.uniform(0.5, 1, n).round(4),
            "p_uplifting": p[:, 0].round(4),
            "p_aggressive": p[:, 1].round(4),
            "p_melancholic": p[:, 2].round(4),
            "p_calm": p[:, 3].round(4),
        }
    )


FILTER = """async () => {
  const box = document.querySelector('input[data-mood=Calm]');
  const t0 = performance.now();
  box.click();
  await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
  const took = performance.now() - t0;
  box.click();
  return took;
}"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--songs", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder:
        page_path = Path(folder) / "moods.html"
        table = synthetic_table(args.songs)
        started = time.perf_counter()
        write_page(page_path, table, read_tags=False)
        built = time.perf_counter() - started
        size = page_path.stat().st_size
        ready, filters = [], []
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=args.chromium, args=list(HEADLESS_CHROMIUM_ARGS)
            )
            for _ in range(args.runs):
                page = browser.new_page(viewport={"width": 1280, "height": 800})
                page.goto(page_path.as_uri())
                page.wait_for_selector("body[data-ready=true]", state="attached", timeout=60_000)
                ready.append(page.evaluate("window.vaMood.readyAt") / 1000)
                filters.append(page.evaluate(FILTER) / 1000)
                page.close()
            version = browser.version
            browser.close()
    print(f"{args.songs} songs, Chromium {version} (headless), {args.runs} runs")
    print(f"file size: {size / 1e6:.2f} MB; built in {built:.2f} s")
    print(
        f"time to interactive: median {statistics.median(ready):.2f} s "
        f"(runs: {', '.join(f'{t:.2f}' for t in ready)}); target < 3 s"
    )
    print(f"mood filter applied and drawn: median {statistics.median(filters) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
