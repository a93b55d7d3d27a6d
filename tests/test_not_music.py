"""What is not music the model can judge: silence, noise and steady tones get no mood,
band-limited audio a warning.

The signals here (noise of three colours, noise shaped like speech, a sine, an organ drone)
are also what ``benchmarks/not_music.py`` measures the checks' margins on.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.signal
import soundfile as sf
import soxr
from typer.testing import CliRunner

from va_mood.audio.decode import load
from va_mood.cli import EXIT_OK, app
from va_mood.config import AnalysisConfig
from va_mood.features import extract_clip
from va_mood.features.quality import (
    NARROW_HZ,
    NOISE_TONAL,
    QUALITY_GROUP,
    SILENT_DB,
    STEADY_CHANGE,
    UNCERTAIN,
    apply_checks,
)
from va_mood.features.registry import columns_for

SR = 22050
EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "examples"
EXAMPLE = EXAMPLES / "macleod_hustle.mp3"
VOWELS = {  # F1, F2, F3 in Hz (Peterson and Barney's means for men)
    "a": (730, 1090, 2440),
    "e": (530, 1840, 2480),
    "i": (270, 2290, 3010),
    "o": (570, 840, 2410),
    "u": (300, 870, 2240),
}


def white_noise(n: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    """Gaussian white noise."""
    return rng.standard_normal(n)


def coloured_noise(n: int, sr: int, rng: np.random.Generator, exponent: float) -> np.ndarray:
    """Noise whose power falls as 1 / f**exponent from 20 Hz up (1: pink, 2: brown)."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1 / sr)
    shape = np.where(f >= 20.0, np.maximum(f, 20.0) ** (-exponent / 2), 0.0)
    return np.fft.irfft(spectrum * shape, n)


def formants(x: np.ndarray, sr: int, freqs, bandwidths=(80, 100, 150)) -> np.ndarray:
    """``x`` through a cascade of two-pole resonators at ``freqs`` (Hz)."""
    for f, bw in zip(freqs, bandwidths, strict=False):
        r = np.exp(-np.pi * bw / sr)
        x = scipy.signal.lfilter([1 - r], [1, -2 * r * np.cos(2 * np.pi * f / sr), r * r], x)
    return x


def speech_like_noise(n: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    """Noise through the formants of a new vowel each syllable, at about 4 syllables a second,
    each syllable rising and falling."""
    out = np.zeros(n)
    start = 0
    while start < n:
        length = min(n - start, int(sr / rng.uniform(3.0, 5.0)))
        vowel = VOWELS[list(VOWELS)[rng.integers(len(VOWELS))]]
        syllable = formants(rng.standard_normal(length), sr, vowel)
        out[start : start + length] = syllable * np.sin(np.pi * np.arange(length) / length) ** 2
        start += length
    return out


def _voiced(pitch: np.ndarray, sr: int) -> np.ndarray:
    """A glottal source: a pulse per period of the gliding ``pitch`` (Hz per sample), its
    spectrum falling with frequency."""
    pulses = np.diff(np.floor(np.cumsum(pitch / sr)), prepend=0.0)
    source = scipy.signal.lfilter([1.0], [1, -0.97], pulses)
    return np.diff(scipy.signal.lfilter([1.0], [1, -0.9], source), prepend=0.0)


def _syllable(sr: int, rng: np.random.Generator, pitch: float) -> np.ndarray:
    """A consonant (a hiss, a plosive burst or a nasal hum) and a voiced vowel."""
    consonant = rng.standard_normal(int(rng.uniform(0.04, 0.1) * sr))
    kind = rng.integers(3)
    if kind == 0:  # fricative
        band = scipy.signal.butter(4, [3500, 0.45 * sr], "band", fs=sr, output="sos")
        consonant = 0.3 * scipy.signal.sosfilt(band, consonant)
    elif kind == 1:  # plosive: a closure, then a burst
        consonant[: len(consonant) * 2 // 3] = 0.0
        consonant *= 0.5
    else:  # nasal
        consonant = 0.05 * formants(consonant, sr, (250, 1000, 2500))
    length = int(rng.uniform(0.1, 0.22) * sr)
    glide = pitch * np.linspace(1.0, rng.uniform(0.85, 1.1), length)
    vowel = formants(_voiced(glide, sr), sr, VOWELS[list(VOWELS)[rng.integers(len(VOWELS))]])
    ramp = np.minimum(1.0, np.minimum(np.arange(length), length - np.arange(length)) / (0.02 * sr))
    return np.concatenate([consonant, vowel * ramp / (np.abs(vowel).max() + 1e-12)])


def synthetic_speech(
    n: int, sr: int, rng: np.random.Generator, *, pitch: float = 120.0, floor_db: float = -50.0
) -> np.ndarray:
    """Words of one to three consonant-vowel syllables, the pitch falling over each phrase,
    pauses between words and phrases, a short room reverberation and a noise floor
    ``floor_db`` below the speech."""
    pieces, total, phrase = [np.zeros(int(0.2 * sr))], 0, 0.0
    while total < n:
        for _ in range(rng.integers(1, 4)):
            syllable = _syllable(sr, rng, pitch * (1.2 - 0.1 * phrase) * rng.uniform(0.9, 1.15))
            pieces.append(syllable)
            total += len(syllable)
        pause = rng.uniform(0.03, 0.15) + (rng.uniform(0.3, 0.7) if phrase >= 2 else 0.0)
        phrase = 0.0 if phrase >= 2 else phrase + 1
        pieces.append(np.zeros(int(pause * sr)))
        total += len(pieces[-1])
    dry = np.concatenate(pieces)[:n]
    room = rng.standard_normal(int(0.4 * sr)) * np.exp(-np.arange(int(0.4 * sr)) / (0.05 * sr))
    wet = scipy.signal.fftconvolve(dry, room)[:n]
    out = dry + 0.3 * wet * dry.std() / (wet.std() + 1e-12)
    return out + 10 ** (floor_db / 20) * out.std() * rng.standard_normal(n)


def sine(n: int, sr: int, rng: np.random.Generator, freq: float = 440.0) -> np.ndarray:
    """A steady sine at ``freq`` Hz."""
    return np.sin(2 * np.pi * freq * np.arange(n) / sr + rng.uniform(0, 2 * np.pi))


def organ_drone(n: int, sr: int, rng: np.random.Generator, root: float = 130.81) -> np.ndarray:
    """A C major chord held on an organ-like stop: root, third, fifth and octave, each with
    eight harmonics falling as 1/h."""
    t = np.arange(n) / sr
    y = np.zeros(n)
    for semitones in (0, 4, 7, 12):
        f = root * 2 ** (semitones / 12)
        for h in range(1, 9):
            if f * h < 0.45 * sr:
                y += np.sin(2 * np.pi * f * h * t + rng.uniform(0, 2 * np.pi)) / h
    return y


NOISE_REASON = "it sounds like noise, not music"
STEADY_REASON = "it is a steady tone (its spectrum does not change), not music"
KINDS = {  # name: (signal, the reason its warning gives)
    "white_noise": (white_noise, NOISE_REASON),
    "pink_noise": (lambda n, sr, rng: coloured_noise(n, sr, rng, 1.0), NOISE_REASON),
    "brown_noise": (lambda n, sr, rng: coloured_noise(n, sr, rng, 2.0), NOISE_REASON),
    "speech_like_noise": (speech_like_noise, NOISE_REASON),
    "sine_440": (sine, STEADY_REASON),
    "organ_drone": (organ_drone, STEADY_REASON),
}
"""The kinds of input that are not music and that va_mood tells apart."""


def make(kind: str, seconds: float, sr: int = SR, *, seed: int = 0) -> np.ndarray:
    """``seconds`` of the signal of ``kind`` (a :data:`KINDS` name, or "synthetic_speech"),
    peaking at -6 dBFS."""
    signal = synthetic_speech if kind == "synthetic_speech" else KINDS[kind][0]
    y = signal(int(seconds * sr), sr, np.random.default_rng(seed))
    return (0.5 * y / (np.abs(y).max() + 1e-12)).astype(np.float32)


def _quality(y: np.ndarray) -> dict[str, float]:
    values = extract_clip(y.astype(np.float32), SR, config=AnalysisConfig(), groups=[QUALITY_GROUP])
    names = [c.removeprefix(f"{QUALITY_GROUP}_") for c in columns_for([QUALITY_GROUP])]
    return dict(zip(names, values, strict=True))


def test_quality_group_measures_level_and_bandwidth():
    t = np.arange(3 * SR) / SR
    tone = _quality(0.1 * np.sin(2 * np.pi * 440 * t))
    # a -23 dBFS-RMS sine, as decoded: normalisation divided out
    assert -24 < tone["level.p90"] < -22
    assert tone["bandwidth.p90"] < 1000
    rng = np.random.default_rng(0)
    noise = rng.standard_normal(3 * SR) * 0.1
    assert _quality(noise)["bandwidth.p90"] > 10_000
    hiss = _quality(noise * 10 ** (-70 / 20))
    assert hiss["level.p90"] < SILENT_DB
    assert hiss["tonal.p50"] == 1.0 and hiss["change.p90"] == 1.0  # silent frames judge nothing
    assert _quality(np.zeros(3 * SR))["level.p90"] < SILENT_DB


@pytest.mark.parametrize("sr", [16000, 22050, 44100])
def test_noise_has_no_lasting_partials_and_tones_do_not_change(sr):
    def measures(kind):  # made at ``sr``, decoded at SR as a file of that rate is
        return _quality(soxr.resample(make(kind, 4.0, sr), sr, SR) if sr != SR else make(kind, 4.0))

    for kind in ("white_noise", "pink_noise", "brown_noise", "speech_like_noise"):
        assert abs(measures(kind)["tonal.p50"]) < 0.75 * NOISE_TONAL, kind
    for kind in ("sine_440", "organ_drone"):
        tone = measures(kind)
        assert tone["tonal.p50"] > 0.5 and tone["change.p90"] < 0.75 * STEADY_CHANGE, kind


def test_apply_checks_on_a_table():
    index = pd.Index(["music", "silence", "phone", "noise", "tone"], name="path")
    table = pd.DataFrame(
        {
            "valence": [0.3, 0.6, -0.5, -0.4, -0.2],
            "arousal": [0.2, 0.6, 0.1, 0.8, -0.3],
            "quadrant": ["Q1", "Q1", "Q2", "Q2", "Q3"],
            "mood": ["Uplifting", "Uplifting", "Aggressive", "Aggressive", "Melancholic"],
            "valence_confidence": [0.9, 0.8, 0.9, 0.83, 0.7],
            "arousal_confidence": [0.7, 0.8, 0.6, 0.98, 0.6],
        },
        index=index,
    )
    quality = pd.DataFrame(
        {
            f"{QUALITY_GROUP}_level.p90": [-15.0, -90.0, -20.0, -12.0, -20.0],
            f"{QUALITY_GROUP}_bandwidth.p90": [10_000.0, 0.0, NARROW_HZ - 1700, 11_000.0, 500.0],
            f"{QUALITY_GROUP}_tonal.p50": [0.5, 1.0, 0.4, NOISE_TONAL / 2, 0.99],
            f"{QUALITY_GROUP}_change.p90": [0.4, 1.0, 0.4, 0.3, STEADY_CHANGE / 2],
        },
        index=index,
    )
    out, warnings = apply_checks(table, quality)
    assert out.loc["music"].equals(table.loc["music"])
    for name in ("silence", "noise", "tone"):
        assert out.loc[name, "mood"] == UNCERTAIN and out.loc[name, "quadrant"] == ""
        assert out.loc[name, ["valence", "arousal", "valence_confidence"]].isna().all()
    assert out.loc["phone", "valence_confidence"] == pytest.approx(0.7)
    assert out.loc["phone", "arousal_confidence"] == pytest.approx(0.55)
    assert out.loc["phone", "mood"] == "Aggressive"
    assert set(warnings) == {"silence", "phone", "noise", "tone"}
    assert "silent" in warnings["silence"] and "band-limited" in warnings["phone"]
    assert warnings["noise"].startswith(f"noise: {NOISE_REASON}")
    assert warnings["tone"] == f"tone: {STEADY_REASON}: no mood, mood {UNCERTAIN!r}"  # not narrow


@pytest.fixture(scope="module")
def kinds_run(tmp_path_factory) -> tuple[dict, str, dict[str, Path]]:
    """Each kind as an 8 s, 16-bit WAV, and the four example songs, through one predict."""
    folder = tmp_path_factory.mktemp("kinds")
    files = {}
    for kind in KINDS:
        files[kind] = folder / f"{kind}.wav"
        sf.write(files[kind], make(kind, 8.0), SR, subtype="PCM_16")
    files |= {path.stem: path for path in sorted(EXAMPLES.glob("*.mp3"))}
    output = folder / "out.json"
    result = CliRunner().invoke(
        app,
        ["predict", *map(str, files.values()), "--no-cache", "-j", "1", "-f", "json", "-o",
         str(output)],
    )  # fmt: skip
    assert result.exit_code == EXIT_OK, result.output
    rows = {Path(r["path"]).stem: r for r in json.loads(output.read_text())["predictions"]}
    return rows, result.stderr, files


@pytest.mark.parametrize("kind", KINDS)
def test_not_music_gets_no_mood_and_one_warning(kinds_run, kind):
    rows, stderr, files = kinds_run
    row = rows[kind]
    assert row["mood"] == UNCERTAIN and row["quadrant"] == ""
    numbers = ("valence", "arousal", "valence_confidence", "arousal_confidence", "p_calm")
    assert all(row[name] is None for name in numbers)
    lines = [line for line in stderr.splitlines() if str(files[kind]) in line]
    reason = KINDS[kind][1]
    assert lines == [f"warning: {files[kind]}: {reason}: no mood, mood {UNCERTAIN!r}"]


def test_music_is_not_flagged(kinds_run):
    rows, stderr, files = kinds_run
    examples = sorted(EXAMPLES.glob("*.mp3"))
    assert len(examples) == 4
    for path in examples:
        assert rows[path.stem]["mood"] != UNCERTAIN and rows[path.stem]["valence"] is not None
        assert str(path) not in stderr
        y, _ = load(path, sr=SR, max_duration=30.0)
        measures = _quality(y)
        assert measures["tonal.p50"] > 2 * NOISE_TONAL, path.name
        assert measures["change.p90"] > 1.5 * STEADY_CHANGE, path.name


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("not_music")
    y, _ = load(EXAMPLE, sr=SR, max_duration=12.0)
    rng = np.random.default_rng(1)
    noise = make("white_noise", 8.0) * np.float32(np.sqrt(np.mean(y**2)) / 0.5 * 2)
    files = {
        "silence": (np.zeros(8 * SR), SR),
        "hiss": (rng.standard_normal(8 * SR) * 10 ** (-75 / 20), SR),
        "phone": (soxr.resample(y, SR, 8000), 8000),
        "music": (y, SR),
        "half": (np.concatenate([y[: 8 * SR], np.zeros(8 * SR, np.float32)]), SR),
        "then_noise": (np.concatenate([y[: 8 * SR], noise]), SR),
    }
    out = {}
    for name, (signal, rate) in files.items():
        out[name] = folder / f"{name}.wav"
        sf.write(out[name], signal, rate, subtype="PCM_24")
    return out


def test_cli_silence_and_band_limited_audio(inputs, tmp_path):
    files = [str(inputs[n]) for n in ("silence", "hiss", "phone", "music")]
    output = tmp_path / "out.json"
    result = CliRunner().invoke(
        app, ["predict", *files, "--no-cache", "-j", "1", "-f", "json", "-o", str(output)]
    )
    assert result.exit_code == EXIT_OK, result.output
    rows = {Path(r["path"]).stem: r for r in json.loads(output.read_text())["predictions"]}
    for name in ("silence", "hiss"):
        assert rows[name]["mood"] == UNCERTAIN and rows[name]["quadrant"] == ""
        assert rows[name]["valence"] is None and rows[name]["p_calm"] is None
        assert f"warning: {inputs[name]}: it is silent or nearly" in result.stderr
    assert rows["phone"]["mood"] != UNCERTAIN
    assert max(rows["phone"]["valence_confidence"], rows["phone"]["arousal_confidence"]) <= 0.75
    assert f"warning: {inputs['phone']}: band-limited audio" in result.stderr
    assert str(inputs["music"]) not in result.stderr


def test_segments_of_a_half_silent_file(inputs):
    result = CliRunner().invoke(
        app, ["predict", str(inputs["half"]), "--segment", "4", "--no-cache", "-f", "csv"]
    )
    assert result.exit_code == EXIT_OK, result.output
    assert "2 of 4 windows are silent or nearly" in result.stderr
    moods = [line.split(",")[6] for line in result.stdout.splitlines()[1:]]
    assert moods[2:] == [UNCERTAIN, UNCERTAIN] and UNCERTAIN not in moods[:2]


def test_segments_of_music_then_noise(inputs):
    result = CliRunner().invoke(
        app, ["predict", str(inputs["then_noise"]), "--segment", "4", "--no-cache", "-f", "csv"]
    )
    assert result.exit_code == EXIT_OK, result.output
    assert f"{inputs['then_noise']}: 2 of 4 windows sound like noise, not music" in result.stderr
    moods = [line.split(",")[6] for line in result.stdout.splitlines()[1:]]
    assert moods[2:] == [UNCERTAIN, UNCERTAIN] and UNCERTAIN not in moods[:2]
