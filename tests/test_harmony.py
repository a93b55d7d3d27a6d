"""Harmony groups on synthetic signals with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from va_mood.config import AnalysisConfig
from va_mood.features import REGISTRY, columns_for, extract_clip, harmony
from va_mood.features.analysis import Analysis

SR = 22050
CONFIG = AnalysisConfig()
GROUPS = [k for k, g in REGISTRY.items() if g.func.__module__ == "va_mood.features.harmony"]


def midi_hz(note: float) -> float:
    return 440.0 * 2.0 ** ((note - 69) / 12)


def chord(notes: list[float], seconds: float = 2.0, sr: int = SR) -> np.ndarray:
    """Sines at the given MIDI notes, each with three decaying harmonics."""
    t = np.arange(int(seconds * sr)) / sr
    y = sum(np.sin(2 * np.pi * midi_hz(n) * k * t) / k for n in notes for k in range(1, 4)) / len(
        notes
    )
    return (0.3 * y).astype(np.float32)


def analyse(y: np.ndarray) -> Analysis:
    return Analysis(y, SR, CONFIG)


def values(y: np.ndarray, group: str) -> dict[str, float]:
    out = extract_clip(y, SR, config=CONFIG, groups=[group])
    return dict(zip(columns_for([group]), out, strict=True))


C_MAJOR = [60, 64, 67]
A_MINOR = [57, 60, 64]


def test_groups_registered_under_valence():
    assert set(GROUPS) == {
        "valence.chroma_key_invariant",
        "valence.key",
        "valence.local_key",
        "valence.harmonic_change",
        "valence.chords",
        "valence.dissonance",
        "valence.harmonicity",
    }


def test_c_major_triad_has_tonic_c_and_major_mode():
    assert harmony.estimate_key(analyse(chord(C_MAJOR)).chroma) == (0, True)
    assert values(chord(C_MAJOR), "valence.key")["valence.key.mode"] > 0


def test_a_minor_triad_is_minor():
    assert harmony.estimate_key(analyse(chord(A_MINOR)).chroma) == (9, False)
    assert values(chord(A_MINOR), "valence.key")["valence.key.mode"] < 0


@pytest.mark.parametrize("shift", [1, 5])
def test_key_invariant_chroma_ignores_transposition(shift):
    group = "valence.chroma_key_invariant"
    base = extract_clip(chord(A_MINOR), SR, config=CONFIG, groups=[group])
    moved = extract_clip(chord([n + shift for n in A_MINOR]), SR, config=CONFIG, groups=[group])
    np.testing.assert_allclose(moved, base, atol=0.05)
    # pitch-class chroma does change
    plain = [
        extract_clip(chord([n + s for n in A_MINOR]), SR, config=CONFIG, groups=["valence.chroma"])
        for s in (0, shift)
    ]
    assert np.abs(plain[0] - plain[1]).max() > 0.5


def test_key_invariant_chroma_puts_minor_third_of_a_minor():
    v = values(chord(A_MINOR), "valence.chroma_key_invariant")
    third, minor_third = (v[f"valence.chroma_key_invariant_{d}.mean"] for d in ("III", "bIII"))
    assert minor_third > third + 0.3


def test_chord_templates():
    root, kind, fit = harmony.chord_labels(analyse(chord(C_MAJOR)).chroma.mean(axis=1)[:, None])
    assert (int(root[0]), harmony.CHORD_TYPES[kind[0]]) == (0, "major")
    dim = np.zeros(12)
    dim[[11, 2, 5]] = 1.0  # B diminished
    root, kind, fit = harmony.chord_labels(dim[:, None])
    assert (int(root[0]), harmony.CHORD_TYPES[kind[0]], round(float(fit[0]), 6)) == (
        11,
        "diminished",
        1.0,
    )
    root, kind, _ = harmony.chord_labels(np.ones((12, 1)))
    assert harmony.CHORD_TYPES[kind[0]] == "other"


def test_two_chords_give_one_change_and_harmonic_flux():
    y = np.concatenate([chord(C_MAJOR), chord(A_MINOR)])
    v = values(y, "valence.chords")
    assert v["valence.chords.major"] == pytest.approx(0.5, abs=0.15)
    assert v["valence.chords.minor"] == pytest.approx(0.5, abs=0.15)
    seconds = len(y) / SR
    assert 1 <= round(v["valence.chords.change_rate"] * seconds) <= 3  # a mixed block between
    steady = values(chord(C_MAJOR, seconds=4.0), "valence.chords")
    assert steady["valence.chords.change_rate"] == 0.0
    change = values(y, "valence.harmonic_change")
    still = values(chord(C_MAJOR, seconds=4.0), "valence.harmonic_change")
    for dim in ("tonnetz_flux", "chroma_flux"):  # one large jump among small fluctuations
        key = f"valence.harmonic_change_{dim}.std"
        assert change[key] > 4 * still[key]


def test_local_key_agrees_with_a_steady_key():
    v = values(chord(C_MAJOR, seconds=10.0), "valence.local_key")
    assert v["valence.local_key.agree"] == 1.0
    assert v["valence.local_key.changes"] == 0.0
    assert v["valence.local_key.fifths"] == 0.0


def test_roughness_of_pure_tones():
    f = np.array([[440.0], [440.0 * 2 ** (1 / 12)]])
    semitone = harmony.roughness(f, np.ones((2, 1)))
    octave = harmony.roughness(np.array([[440.0], [880.0]]), np.ones((2, 1)))
    assert semitone[0] > 10 * octave[0] >= 0
    assert harmony.roughness(f, np.zeros((2, 1)))[0] == 0.0


def test_dissonant_cluster_is_rougher_than_triad():
    cluster = values(chord([60, 61, 62]), "valence.dissonance")["valence.dissonance.mean"]
    triad = values(chord(C_MAJOR), "valence.dissonance")["valence.dissonance.mean"]
    assert cluster > triad


def test_tone_is_more_harmonic_than_noise():
    noise = np.random.default_rng(0).standard_normal(SR * 2).astype(np.float32) * 0.1
    tone, hiss = values(chord([57]), "valence.harmonicity"), values(noise, "valence.harmonicity")
    for dim in ("tonalness", "comb", "concentration"):
        key = f"valence.harmonicity_{dim}.mean"
        assert tone[key] > hiss[key]


@pytest.mark.parametrize(
    "y",
    [
        np.zeros(SR // 2, dtype=np.float32),
        np.zeros(SR * 3, dtype=np.float32),
        np.random.default_rng(1).standard_normal(SR // 2).astype(np.float32) * 0.1,
        chord(C_MAJOR, seconds=0.5),
    ],
    ids=["silence-0.5s", "silence-3s", "noise-0.5s", "triad-0.5s"],
)
def test_finite_for_silence_short_clips_and_noise(y):
    out = extract_clip(y, SR, config=CONFIG, groups=GROUPS)
    assert out.shape == (len(columns_for(GROUPS)),)
    assert np.isfinite(out).all()


def test_silence_is_neutral():
    v = values(np.zeros(SR, dtype=np.float32), "valence.harmonic_change")
    assert all(x == 0.0 for x in v.values())
