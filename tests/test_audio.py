"""Decoding: every format and layout comes out mono float32 at the requested rate."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from va_mood.audio.decode import MIN_DURATION, load
from va_mood.audio.discover import find_audio
from va_mood.errors import AudioError

EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "examples"
SAMPLE_RATES = (22050, 16000, 44100)

# (suffix, native rate, channels, subtype, seconds)
LAYOUTS = [
    (".wav", 44100, 2, "PCM_16", 1.0),
    (".wav", 8000, 1, "PCM_16", 1.5),
    (".flac", 96000, 1, "PCM_24", 1.0),
    (".wav", 48000, 6, "FLOAT", 1.0),
    (".flac", 44100, 2, "PCM_16", 1.0),
    (".wav", 22050, 1, "PCM_24", 0.8),
    (".ogg", 44100, 2, "VORBIS", 1.0),
]


def _write(path: Path, native_sr: int, channels: int, subtype: str, seconds: float) -> int:
    n = int(round(native_sr * seconds))
    t = np.arange(n) / native_sr
    data = np.stack([0.3 * np.sin(2 * np.pi * 220 * (c + 1) * t) for c in range(channels)], axis=1)
    sf.write(path, data, native_sr, subtype=subtype)
    return n


@pytest.mark.parametrize("sr", SAMPLE_RATES)
@pytest.mark.parametrize(
    ("suffix", "native_sr", "channels", "subtype", "seconds"),
    LAYOUTS,
    ids=[f"{s[1:]}-{r}Hz-{c}ch-{t}" for s, r, c, t, _ in LAYOUTS],
)
def test_load_formats(tmp_path, sr, suffix, native_sr, channels, subtype, seconds):
    path = tmp_path / f"clip{suffix}"
    n = _write(path, native_sr, channels, subtype, seconds)
    y, out_sr = load(path, sr=sr)
    assert out_sr == sr
    assert y.dtype == np.float32
    assert y.ndim == 1
    # a lossy codec's decoder trims the encoder's padding as it reads the container: FFmpeg's
    # Ogg reader can differ from libvorbis's by one short Vorbis block (128 samples)
    slack = 128 if subtype == "VORBIS" else 0
    assert abs(len(y) - n * sr / native_sr) <= 1 + slack * sr / native_sr
    assert np.all(np.isfinite(y))
    assert 0.05 < np.abs(y).max() <= 1.0


@pytest.mark.parametrize("sr", SAMPLE_RATES)
def test_load_mp3_example(sr):
    path = sorted(EXAMPLES.glob("*.mp3"))[0]
    info = sf.info(path)
    y, out_sr = load(path, sr=sr, max_duration=2.0)
    assert out_sr == sr
    assert y.dtype == np.float32
    assert y.ndim == 1
    assert abs(len(y) - int(2.0 * info.samplerate) * sr / info.samplerate) <= 1
    assert np.abs(y).max() > 0.01


def test_examples_ship_four_mp3s():
    assert len(sorted(EXAMPLES.glob("*.mp3"))) == 4


def test_downmix_is_channel_mean(tmp_path):
    path = tmp_path / "stereo.wav"
    data = np.column_stack([np.full(22050, 0.5), np.full(22050, 0.1)])
    sf.write(path, data, 22050, subtype="FLOAT")
    y, _ = load(path, sr=22050)
    np.testing.assert_allclose(y, 0.3, rtol=1e-6)


def test_max_duration_truncates(tmp_path):
    path = tmp_path / "long.wav"
    _write(path, 22050, 1, "PCM_16", 3.0)
    y, _ = load(path, sr=22050, max_duration=1.0)
    assert len(y) == 22050


def _missing(tmp_path: Path) -> Path:
    return tmp_path / "nothing_here.mp3"


def _empty(tmp_path: Path) -> Path:
    path = tmp_path / "empty.mp3"
    path.touch()
    return path


def _text(tmp_path: Path) -> Path:
    path = tmp_path / "notes.mp3"
    path.write_text("this is not audio, just some text pretending to be an mp3\n" * 20)
    return path


def _random_bytes(tmp_path: Path) -> Path:
    path = tmp_path / "noise.wav"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    return path


def _folder(tmp_path: Path) -> Path:
    path = tmp_path / "a_folder.mp3"
    path.mkdir()
    return path


def _too_short(tmp_path: Path) -> Path:
    path = tmp_path / "short.wav"
    _write(path, 22050, 1, "PCM_16", 0.1)
    return path


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (_missing, r"nothing_here\.mp3: no such file"),
        (_empty, r"empty\.mp3: empty file \(0 bytes\)"),
        (_text, r"notes\.mp3: cannot decode audio"),
        (_random_bytes, r"noise\.wav: cannot decode audio"),
        (_folder, r"a_folder\.mp3: is a folder, not an audio file"),
        (_too_short, rf"short\.wav: too short: 0\.10 s, minimum is {MIN_DURATION} s"),
    ],
    ids=["missing", "empty", "text", "random-bytes", "folder", "too-short"],
)
def test_load_refuses(tmp_path, make, match):
    with pytest.raises(AudioError, match=match):
        load(make(tmp_path), sr=22050)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "a" / "deeper").mkdir(parents=True)
    (tmp_path / "empty").mkdir()
    for rel in ("a/one.wav", "a/deeper/two.FLAC", "three.ogg", "a/deeper/four.mp3"):
        (tmp_path / rel).write_bytes(b"x")
    (tmp_path / "a" / "readme.txt").write_text("not audio")
    (tmp_path / "empty" / "cover.jpg").write_bytes(b"x")
    return tmp_path


def test_find_audio_folder_is_recursive(tree):
    files, problems = find_audio([tree])
    assert files == sorted(
        [
            tree / "a" / "one.wav",
            tree / "a" / "deeper" / "two.FLAC",
            tree / "three.ogg",
            tree / "a" / "deeper" / "four.mp3",
        ]
    )
    assert problems == {}


def test_find_audio_glob(tree):
    pattern = str(tree / "**" / "*.wav")
    files, problems = find_audio([pattern])
    assert files == [tree / "a" / "one.wav"]
    assert problems == {}


def test_find_audio_no_repeats(tree):
    files, _ = find_audio([tree / "a", tree / "a" / "one.wav", str(tree / "a" / "*.wav")])
    assert len(files) == len(set(files)) == 3


def test_find_audio_reports_folder_without_audio(tree):
    files, problems = find_audio([tree / "empty"])
    assert files == []
    assert list(problems) == [str(tree / "empty")]
    assert problems[str(tree / "empty")].endswith("folder holds no audio files")


def test_find_audio_reports_glob_without_match(tree):
    pattern = str(tree / "*.aiff*")
    files, problems = find_audio([pattern])
    assert files == []
    assert problems == {pattern: f"{pattern}: pattern matched no files"}


def test_find_audio_keeps_named_files(tree):
    # a file named explicitly is kept whatever its suffix, so decoding can say what is wrong
    files, problems = find_audio([tree / "a" / "readme.txt", tree / "missing.mp3"])
    assert files == [tree / "a" / "readme.txt", tree / "missing.mp3"]
    assert problems == {}
