"""Harmony features for the valence head (key-invariant chroma, mode, harmonic change, dissonance)."""

__all__: list[str] = []
