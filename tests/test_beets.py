"""The beets plugin against a real beets library made in a temporary folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

pytest.importorskip("beets", reason="beets is not installed (pip install 'va-mood[beets]')")

from va_mood.audio.decode import load  # noqa: E402
from va_mood.outputs.tagging import read_tags  # noqa: E402
from va_mood.quadrant import MOODS  # noqa: E402

SR = 22050
EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "examples"


def _clip(kind: str, seed: int) -> np.ndarray:
    """Two seconds of music: a loud excerpt of one example clip, or a quiet one of another."""
    name = "macleod_hustle.mp3" if kind == "loud" else "macleod_slow_burn.mp3"
    y, _ = load(EXAMPLES / name, sr=SR)
    start = (4 + 3 * seed) * SR
    return np.asarray(y[start : start + 2 * SR] * (0.9 if kind == "loud" else 0.2), np.float32)


def _library(tmp_path: Path, *, auto: bool, write: bool) -> tuple[Path, dict[str, str]]:
    """A beets config and three FLAC files (not yet imported); returns (music dir, env)."""
    music = tmp_path / "music"
    music.mkdir()
    for k, kind in enumerate(("loud", "quiet", "loud")):
        sf.write(music / f"track{k}.flac", _clip(kind, k), SR)
    (tmp_path / "config.yaml").write_text(
        f"directory: {tmp_path / 'library'}\n"
        f"library: {tmp_path / 'library.db'}\n"
        "plugins: vamood\n"
        f"import:\n  copy: no\n  write: {'yes' if write else 'no'}\n  autotag: no\n"
        f"vamood:\n  auto: {'yes' if auto else 'no'}\n"
    )
    env = {**os.environ, "BEETSDIR": str(tmp_path), "HOME": str(tmp_path)}
    return music, env


def _beet(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "beets", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"beet {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _moods(env: dict[str, str]) -> dict[str, str]:
    out = _beet(env, "ls", "-f", "$path\t$vamood_mood")
    return dict(line.split("\t") for line in out.splitlines() if line.strip())


def test_beet_vamood_stores_attributes_that_queries_find(tmp_path: Path) -> None:
    music, env = _library(tmp_path, auto=False, write=False)
    _beet(env, "import", "-A", "-q", str(music))
    assert set(_moods(env).values()) == {"$vamood_mood"}  # imported, not analysed (unset)
    _beet(env, "vamood")
    moods = _moods(env)
    assert sorted(moods) == sorted(str(p) for p in music.glob("*.flac"))
    assert set(moods.values()) <= set(MOODS.values())
    for mood in set(moods.values()):
        listed = _beet(env, "ls", "-p", f"vamood_mood:{mood}").split()
        assert sorted(listed) == sorted(p for p, m in moods.items() if m == mood)
    values = _beet(env, "ls", "-f", "$vamood_valence $vamood_arousal $vamood_model").split("\n")
    for line in filter(None, values):
        valence, arousal, model = line.split()
        assert -1 <= float(valence) <= 1 and -1 <= float(arousal) <= 1
        assert model.startswith("va_mood-")
    positive = _beet(env, "ls", "-p", "vamood_valence:0..").split()
    assert positive == sorted(positive) and set(positive) <= set(moods)
    for path in moods:  # import.write is off: the files are left alone
        assert read_tags(path) == {}
    again = subprocess.run(
        [sys.executable, "-m", "beets", "vamood"], env=env, capture_output=True, text=True
    )
    assert "3 item(s) already analysed by va_mood-" in again.stdout + again.stderr


def test_auto_import_writes_tags_when_beets_writes(tmp_path: Path) -> None:
    music, env = _library(tmp_path, auto=True, write=True)
    _beet(env, "import", "-A", "-q", str(music))
    moods = _moods(env)
    assert len(moods) == 3 and set(moods.values()) <= set(MOODS.values())
    for path, mood in moods.items():
        tags = read_tags(path)
        assert tags["MOOD"] == mood
        assert tags["VAMOOD_SCALE"] == "plane"
    # beets' record of each file's mtime follows the tag write: no change behind its back
    from beets.library import Library

    lib = Library(str(tmp_path / "library.db"), str(tmp_path / "library"))
    for item in lib.items():
        assert item.mtime == item.current_mtime()
