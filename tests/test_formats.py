"""Every common format a music library holds decodes, through one decoder (FFmpeg, via PyAV).

Each file is written here by PyAV's own encoders (the FFmpeg in its wheel); none is committed.
A format whose encoder that wheel lacks is skipped, saying so.
"""

from __future__ import annotations

import contextlib
import shutil
import struct
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from va_mood.api import load_model
from va_mood.audio import decode
from va_mood.audio.decode import DECODER, load, stream
from va_mood.audio.discover import AUDIO_EXTENSIONS, excerpt, find_audio
from va_mood.cli import app
from va_mood.config import AnalysisConfig
from va_mood.errors import AudioError
from va_mood.extraction.cache import FeatureCache
from va_mood.features.registry import columns_for

EXAMPLE = Path(__file__).resolve().parents[1] / "data" / "examples" / "macleod_hustle.mp3"
PITCH = 440.0
SECONDS = 2.0

# name: (suffix, FFmpeg muxer, encoder, sample rate, channels, encoder options)
FORMATS = {
    "mp3": (".mp3", "mp3", "libmp3lame", 44100, 2, {}),
    "wav": (".wav", "wav", "pcm_s16le", 44100, 2, {}),
    "flac": (".flac", "flac", "flac", 48000, 1, {}),
    "ogg-vorbis": (".ogg", "ogg", "vorbis", 44100, 2, {"strict": "-2"}),  # experimental; 2 ch
    "ogg-flac": (".oga", "ogg", "flac", 44100, 2, {}),
    "opus": (".opus", "ogg", "libopus", 48000, 2, {}),
    "m4a-aac": (".m4a", "ipod", "aac", 44100, 2, {}),
    "m4a-alac": (".m4a", "ipod", "alac", 44100, 2, {}),
    "aiff": (".aiff", "aiff", "pcm_s16be", 44100, 1, {}),
    "wma": (".wma", "asf", "wmav2", 44100, 2, {"b": "128000"}),
    "wavpack": (".wv", "wv", "wavpack", 44100, 2, {}),
    "mka-opus": (".mka", "matroska", "libopus", 48000, 2, {}),
}


def chord(rate: int, channels: int, seconds: float = SECONDS) -> np.ndarray:
    """An A4 with a quieter fifth above it [shape=(channels, n)], in every channel."""
    t = np.arange(int(seconds * rate)) / rate
    y = 0.4 * np.sin(2 * np.pi * PITCH * t) + 0.15 * np.sin(2 * np.pi * 1.5 * PITCH * t)
    return np.repeat(y[None, :], channels, axis=0)


def tune(rate: int, channels: int, seconds: float = SECONDS) -> np.ndarray:
    """A plucked arpeggio, a note every quarter of a second [shape=(channels, n)]: music that
    moves, where :func:`chord` is a steady tone."""
    t = np.arange(int(seconds * rate)) / rate
    step = (t // 0.25).astype(int)
    pitch = PITCH * 2 ** (np.array([0, 4, 7, 12, 7, 4, 0, -5])[step % 8] / 12)
    y = 0.5 * np.sin(2 * np.pi * pitch * t) * np.exp(-8 * (t % 0.25))
    return np.repeat(y[None, :], channels, axis=0)


def encode(path: Path, name: str, seconds: float = SECONDS, signal=chord) -> Path:
    """Write ``signal`` (:func:`chord`) in format ``name`` of :data:`FORMATS` with PyAV's
    encoder."""
    _, muxer, codec, rate, channels, options = FORMATS[name]
    try:
        formats = [f.name for f in av.Codec(codec, "w").audio_formats]
    except Exception:  # noqa: BLE001 - which error depends on the PyAV version
        pytest.skip(f"this PyAV's FFmpeg has no {codec} encoder")
    sample = next(f for f in ("fltp", "flt", "s16p", "s16", "s32p", "s32") if f in formats)
    y = signal(rate, channels, seconds).astype(np.float32)
    if sample.startswith("s"):
        y = np.round(y * (2 ** (int(sample[1:3]) - 1) - 1)).astype(f"int{sample[1:3]}")
    data = y if sample.endswith("p") else y.T.reshape(1, -1)
    layout = "stereo" if channels == 2 else "mono"
    with av.open(str(path), "w", format=muxer) as out:
        stream_ = out.add_stream(codec, rate=rate, layout=layout, options=options)
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(data), format=sample, layout=layout)
        frame.sample_rate, frame.pts, frame.time_base = rate, 0, Fraction(1, rate)
        for packet in [*stream_.encode(frame), *stream_.encode(None)]:
            out.mux(packet)
    return path


def peak_hz(y: np.ndarray, sr: int) -> float:
    """The frequency of the strongest bin of the signal's spectrum."""
    spectrum = np.abs(np.fft.rfft(y * np.hanning(len(y))))
    return float(np.fft.rfftfreq(len(y), 1 / sr)[np.argmax(spectrum)])


@pytest.mark.parametrize("name", FORMATS)
def test_each_format_decodes_to_its_length_and_pitch(tmp_path, name):
    path = encode(tmp_path / f"clip{FORMATS[name][0]}", name)
    y, sr = load(path, sr=22050)
    assert y.dtype == np.float32 and y.ndim == 1
    assert abs(len(y) / sr - SECONDS) < 0.03 * SECONDS  # codecs' padding: within 3 %
    assert abs(peak_hz(y, sr) - PITCH) < 2.0
    assert 0.3 < np.abs(y).max() < 0.7


@pytest.mark.parametrize("name", ["m4a-aac", "opus", "mp3", "flac"])
def test_stream_and_excerpts_are_the_signal_load_gives(tmp_path, name):
    path = encode(tmp_path / f"clip{FORMATS[name][0]}", name)
    rate = FORMATS[name][3]
    whole, _ = load(path, sr=rate)
    part, _ = load(excerpt(path, 0.5, 1.5), sr=rate)
    np.testing.assert_array_equal(part, whole[rate // 2 : rate // 2 + rate])
    streamed = np.concatenate(list(stream(path, sr=rate, chunk_seconds=0.3)))
    np.testing.assert_array_equal(streamed, whole)
    resampled = np.concatenate(list(stream(path, sr=22050, chunk_seconds=0.3)))
    np.testing.assert_allclose(resampled, load(path, sr=22050)[0], atol=1e-3)


def upper_case_library(folder: Path) -> list[Path]:
    """One clip per format, named with upper-case endings, beside files that are not audio."""
    folder.mkdir()
    files = []
    for name, (suffix, *_) in FORMATS.items():
        files.append(encode(folder / f"{name}{suffix.upper()}", name, signal=tune))
    (folder / "cover.JPG").write_bytes(b"\xff\xd8\xff")
    (folder / "notes.TXT").write_text("liner notes")
    return sorted(files)


def test_a_folder_of_every_format_with_upper_case_endings_is_found(tmp_path):
    files = upper_case_library(tmp_path / "library")
    found, problems = find_audio([tmp_path / "library"])
    assert found == files and problems == {}
    for ending in (".m4a", ".opus", ".aiff", ".aif", ".wma", ".mp3", ".flac", ".ogg", ".wav"):
        assert ending in AUDIO_EXTENSIONS


def test_predict_folder_predicts_every_format(tmp_path):
    upper_case_library(tmp_path / "library")
    out = tmp_path / "moods.csv"
    args = ["predict", str(tmp_path / "library"), "--no-cache", "--jobs", "1"]
    result = CliRunner().invoke(app, [*args, "-f", "csv", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "error:" not in result.output and "warning:" not in result.output
    table = pd.read_csv(out)
    assert sorted(Path(p).stem for p in table["path"]) == sorted(FORMATS)
    assert np.isfinite(table[["valence", "arousal"]].to_numpy()).all()


def wav_claiming(path: Path, seconds_declared: float, seconds_held: float, rate: int) -> Path:
    """A 16-bit mono WAV whose data chunk declares ``seconds_declared`` and holds fewer."""
    held = (chord(rate, 1, seconds_held)[0] * 32767).astype("<i2").tobytes()
    fmt = struct.pack("<HHIIHH", 1, 1, rate, 2 * rate, 2, 16)
    size = int(seconds_declared * rate) * 2
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", size) + held
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    return path


TRUNCATED = r"truncated: decodes to \d+\.\d s of the \d+\.\d (s|min|h) its header declares$"


def test_a_wav_whose_header_claims_hours_it_lacks_is_truncated_like_an_mp3(tmp_path):
    liar = wav_claiming(tmp_path / "liar.wav", 10 * 3600, 2.0, 22050)
    with pytest.raises(AudioError, match=rf"^{liar}: {TRUNCATED}") as wav_error:
        load(liar)
    assert str(wav_error.value).endswith("decodes to 2.0 s of the 10.0 h its header declares")
    with pytest.raises(AudioError, match=TRUNCATED):
        next(stream(liar))
    cut = tmp_path / "cut.mp3"
    cut.write_bytes(EXAMPLE.read_bytes()[: EXAMPLE.stat().st_size // 5])
    with pytest.raises(AudioError, match=rf"^{cut}: {TRUNCATED}"):
        load(cut)
    args = ["predict", str(liar), str(cut), "--no-cache", "--jobs", "1", "-f", "csv"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code != 0
    errors = [line for line in result.stderr.splitlines() if "truncated" in line]
    assert errors[0] == f"error: {wav_error.value}"
    assert errors[1].startswith(f"error: {cut}: truncated: decodes to") and len(errors) == 2


def test_a_wav_that_holds_what_it_declares_is_not_truncated(tmp_path):
    honest = wav_claiming(tmp_path / "honest.wav", 2.0, 2.0, 22050)
    assert len(load(honest, sr=22050)[0]) == 2 * 22050


@pytest.mark.parametrize("name", ["m4a-aac", "opus", "mp3"])
def test_max_duration_refuses_from_the_header_before_decoding(tmp_path, name, monkeypatch):
    path = encode(tmp_path / f"minute{FORMATS[name][0]}", name, seconds=60.0)

    def never(*args, **kwargs):
        raise AssertionError("decoding started")

    monkeypatch.setattr(decode, "_frames", never)
    limit = r"1\.0 min long, over the limit of 10\.0 s \(--max-duration raises it\)$"
    with pytest.raises(AudioError, match=rf"^{path}: {limit}"):
        load(path, longest=10.0)
    with pytest.raises(AudioError, match=limit):
        next(stream(path, longest=10.0))
    args = ["predict", str(path), "--no-cache", "--jobs", "1", "--max-duration", "10"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code != 0 and "over the limit of 10.0 s" in result.stderr


def test_a_damaged_packet_is_skipped_as_players_skip_it(tmp_path):
    path = encode(tmp_path / "damaged.m4a", "m4a-aac")
    raw = bytearray(path.read_bytes())
    middle = len(raw) // 2
    raw[middle : middle + 200] = np.random.default_rng(0).bytes(200)
    path.write_bytes(bytes(raw))
    y, sr = load(path, sr=22050)
    assert abs(len(y) / sr - SECONDS) < 0.1 * SECONDS
    assert abs(peak_hz(y, sr) - PITCH) < 2.0


def test_what_is_not_audio_says_so_in_one_line(tmp_path):
    video = tmp_path / "film.mp4"
    with av.open(str(video), "w", format="mp4") as out:
        picture = out.add_stream("mpeg4", rate=25)
        picture.width = picture.height = 64
        for k in range(5):
            frame = av.VideoFrame.from_ndarray(np.zeros((64, 64, 3), np.uint8), format="rgb24")
            frame.pts = k
            for packet in picture.encode(frame):
                out.mux(packet)
        for packet in picture.encode(None):
            out.mux(packet)
    playlist = tmp_path / "list.mp3"
    playlist.write_text("#EXTM3U\n#EXTINF:10,\nfile:///etc/hostname\n")
    picture_named_mp3 = tmp_path / "cover.mp3"
    picture_named_mp3.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    with pytest.raises(AudioError, match=rf"^{video}: cannot decode audio \(holds no audio"):
        load(video)
    for path in (playlist, picture_named_mp3):
        with pytest.raises(AudioError, match="not a recognised audio format"):
            load(path)


def test_decoding_broken_files_prints_nothing_of_its_own(tmp_path, capfd):
    cut = tmp_path / "cut.mp3"
    cut.write_bytes(EXAMPLE.read_bytes()[:30_000])
    noise = tmp_path / "noise.m4a"
    noise.write_bytes(np.random.default_rng(2).bytes(50_000))
    damaged = encode(tmp_path / "damaged.opus", "opus")
    raw = bytearray(damaged.read_bytes())
    raw[len(raw) // 2 : len(raw) // 2 + 300] = bytes(300)
    damaged.write_bytes(bytes(raw))
    for path in (cut, noise, damaged):
        with contextlib.suppress(AudioError):
            load(path)
    assert capfd.readouterr().err == ""


def test_features_of_the_earlier_decoder_are_not_reused(tmp_path):
    """The cache of the libsndfile decoder (a folder named by the fingerprint alone) is left
    alone; the model's feature fingerprint, which the shipped bundle checks, is unchanged."""
    config = AnalysisConfig()
    earlier = FeatureCache(tmp_path, config)
    earlier.put("song", ["arousal.rms"], np.zeros(len(columns_for(["arousal.rms"]))))
    earlier.save()
    shutil.move(earlier.folder, tmp_path / config.fingerprint(()))
    cache = FeatureCache(tmp_path, config)
    assert cache.rows == 0 and cache.folder.name == f"{config.fingerprint(())}-{DECODER}"
    load_model()  # refuses to load if the feature fingerprint had changed
