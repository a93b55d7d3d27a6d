"""How often the checks for input that is not music fire: on real music, and on what is not.

The quality group (:data:`va_mood.features.quality.QUALITY_GROUP`) is extracted with the
shipped model's analysis settings, as ``va-mood predict`` extracts it, and cached (``--cache``):

- on real music: the 540 4Q clips (``../shared/data/4q/audio``) and the 181 MuSeMo clips
  (``../shared/data/musemo/audio``), none of which may be flagged, whole and in windows of
  ``--segment`` seconds (as ``va-mood predict --segment`` judges each window);
- on synthetic input that is not music, written to a temporary folder: each kind of
  ``tests/test_not_music.py`` (white, pink and brown noise, noise shaped like speech, a
  440 Hz sine, an organ drone) and its synthetic voiced speech, ``--seeds`` signals of each,
  8 s and 30 s long, made at 16, 22.05 and 44.1 kHz, as 16-bit WAV and as 128 kbps MP3.

:func:`va_mood.features.quality.apply_checks` then judges every clip as a prediction is
judged. The script prints the share flagged, by reason, per corpus and per kind, and for each
threshold its margin: the music clip closest to it and the non-music case closest to it, and
how many times the threshold each lies away.

    python benchmarks/not_music.py                   # 3 seeds, 5 s windows, 2 jobs
    python benchmarks/not_music.py --seeds 5 --segment 0 --jobs 4 --cache /tmp/features
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf

from va_mood.api import load_model
from va_mood.extraction.batch import extract_files
from va_mood.features.quality import (
    NOISE_TONAL,
    QUALITY_GROUP,
    SILENT_DB,
    STEADY_CHANGE,
    UNCERTAIN,
    apply_checks,
)
from va_mood.locations import default_cache

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT / "tests"))
from test_not_music import KINDS, make  # noqa: E402

CORPORA = {"4q": DATA / "4q" / "audio", "musemo": DATA / "musemo" / "audio"}
RATES = (16000, 22050, 44100)
SECONDS = (8.0, 30.0)
MP3_LEVEL = 0.65
"""libsndfile's compression level that gives LAME's 128 kbps at constant bitrate."""
REASONS = ("silent", "noise", "steady")
COLUMN = {
    "noise": (f"{QUALITY_GROUP}_tonal.p50", NOISE_TONAL),
    "steady": (f"{QUALITY_GROUP}_change.p90", STEADY_CHANGE),
}
"""Each check's column and threshold: a clip is flagged when its value is below it."""
MEANT = {"noise": [k for k in KINDS if "noise" in k], "steady": ["sine_440", "organ_drone"]}
"""The kinds each check is meant to catch."""


def _write(path: Path, y: np.ndarray, rate: int) -> None:
    """A 16-bit WAV, or an MP3 at 128 kbps, by the name's suffix."""
    if path.suffix == ".mp3":
        mp3 = {"format": "MP3", "bitrate_mode": "CONSTANT", "compression_level": MP3_LEVEL}
        sf.write(path, y, rate, **mp3)
    else:
        sf.write(path, y, rate, subtype="PCM_16")


def write_synthetic(folder: Path, seeds: int) -> pd.DataFrame:
    """Write every synthetic case; returns its kind, seed, length, rate and format by path."""
    rows = {}
    kinds = [*KINDS, "synthetic_speech"]
    for kind, seed, seconds, rate in itertools.product(kinds, range(seeds), SECONDS, RATES):
        y = make(kind, seconds, rate, seed=seed)
        for fmt in ("wav", "mp3"):
            path = folder / f"{kind}_{seed}_{seconds:.0f}s_{rate}.{fmt}"
            _write(path, y, rate)
            rows[str(path)] = (kind, seed, seconds, rate, fmt)
    return pd.DataFrame.from_dict(
        rows, orient="index", columns=["kind", "seed", "seconds", "rate", "format"]
    )


def judge(quality: pd.DataFrame) -> pd.Series:
    """The reason each row is flagged for ("" for none), in the order
    :func:`~va_mood.features.quality.apply_checks` tries them; checked against its moods."""
    table = pd.DataFrame(
        {"valence": 0.0, "arousal": 0.0, "quadrant": "Q1", "mood": "Uplifting"},
        index=quality.index,
    )
    checked, _ = apply_checks(table, quality)
    below = {
        "silent": quality[f"{QUALITY_GROUP}_level.p90"] < SILENT_DB,
        **{check: quality[column] < threshold for check, (column, threshold) in COLUMN.items()},
    }
    reason = pd.Series(np.select(list(below.values()), list(below), ""), index=quality.index)
    assert (checked["mood"].eq(UNCERTAIN) == reason.ne("")).all()
    return reason


def shares(reason: pd.Series, groups: pd.Series) -> pd.DataFrame:
    """The share of each group flagged, by reason and in all, and its number of clips."""
    out = pd.DataFrame({r: reason.eq(r).groupby(groups).mean() for r in REASONS})
    out["any"] = reason.ne("").groupby(groups).mean()
    out["n"] = reason.groupby(groups).size()
    return out


def _name(row: str | tuple) -> str:
    """A file's name, and a window's bounds."""
    if isinstance(row, tuple):
        return f"{Path(row[0]).name} {row[1]:g}-{row[2]:g} s"
    return Path(row).name


def margins(music: pd.DataFrame, synthetic: pd.DataFrame, cases: pd.DataFrame) -> pd.DataFrame:
    """Per check: the closest music clip and the closest case meant to be caught, each with
    its value and how many times the threshold away it lies."""
    rows = []
    for check, (column, threshold) in COLUMN.items():
        meant = synthetic.loc[cases["kind"].isin(MEANT[check]), column]
        clip, case = music[column].idxmin(), meant.idxmax()
        rows.append(
            {
                "check": f"{check}: {column.split('_', 1)[1]} < {threshold}",
                "music min": music.loc[clip, column],
                "x threshold": music.loc[clip, column] / threshold,
                "closest music clip": _name(clip),
                "non-music max": meant[case],
                "threshold x": threshold / meant[case] if meant[case] > 0 else np.inf,
                "closest non-music case": _name(case),
            }
        )
    return pd.DataFrame(rows).set_index("check")


def extract_music(analysis, jobs: int, cache: Path, segment: float | None) -> pd.DataFrame:
    """The quality group of every music clip (of its windows, with ``segment``), with the
    name of its corpus in a ``corpus`` column."""
    tables = []
    for name, folder in CORPORA.items():
        paths = sorted(str(p) for p in folder.iterdir() if p.suffix in (".mp3", ".wav"))
        table, errors = extract_files(
            paths,
            config=analysis,
            groups=[QUALITY_GROUP],
            jobs=jobs,
            cache_dir=cache,
            segment=segment,
        )
        assert not errors, errors
        tables.append(table.assign(corpus=name))
    return pd.concat(tables)


def main() -> None:
    """Extract, judge and print; see the module's docstring."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=3, help="signals of each synthetic kind")
    parser.add_argument("--jobs", type=int, default=2, help="extraction worker processes")
    parser.add_argument("--cache", type=Path, default=None, help="feature cache folder")
    parser.add_argument("--segment", type=float, default=5.0, help="window seconds (0: none)")
    args = parser.parse_args()
    analysis = load_model().config.analysis
    cache = args.cache or default_cache()
    started = time.perf_counter()
    music = extract_music(analysis, args.jobs, cache, None)
    windows = extract_music(analysis, args.jobs, cache, args.segment) if args.segment else None
    with tempfile.TemporaryDirectory() as tmp:
        cases = write_synthetic(Path(tmp), args.seeds)
        synthetic, errors = extract_files(
            list(cases.index), config=analysis, groups=[QUALITY_GROUP], jobs=args.jobs
        )
        assert not errors, errors
    cases = cases.loc[synthetic.index]
    pd.set_option("display.width", 200)
    pd.set_option("display.precision", 3)
    print(f"quality group extracted in {time.perf_counter() - started:.0f} s\n")
    print("Real music: share of clips flagged\n")
    print(shares(judge(music), music["corpus"]).to_string(), "\n")
    if windows is not None:
        print(f"Real music in {args.segment:g} s windows (--segment): share of windows flagged\n")
        print(shares(judge(windows), windows["corpus"]).to_string(), "\n")
    print("Synthetic input that is not music: share flagged\n")
    print(shares(judge(synthetic), cases["kind"]).to_string(), "\n")
    print("Margins (whole clips)\n")
    print(margins(music, synthetic, cases).to_string(), "\n")
    if windows is not None:
        print(f"Margins ({args.segment:g} s windows of the music)\n")
        print(margins(windows, synthetic, cases).to_string(), "\n")
    columns = [c for c, _ in COLUMN.values()]
    print("Each synthetic kind's values (min and max over its cases)\n")
    print(synthetic[columns].groupby(cases["kind"]).agg(["min", "max"]).to_string(), "\n")
    print("The music's values (quantiles over clips)\n")
    print(music[columns].quantile([0.0, 0.01, 0.05, 0.5]).to_string())


if __name__ == "__main__":
    main()
