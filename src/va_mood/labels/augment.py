"""Training rows that teach a model that an excerpt is the same music: random crops of clips.

A user's excerpt may be a few seconds of a song, and summaries over time (means, spreads,
the tagger's patches) move with the length they see. Each labelled clip therefore gives
``crops`` more training rows: excerpts of random length in ``seconds`` at random places
(:func:`va_mood.audio.discover.excerpt`), with the clip's labels and group, so that
cross-validation keeps them with their artist and never scores them (``augmented`` is true).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..audio.decode import duration
from ..audio.discover import excerpt
from ..config import AugmentationConfig

__all__ = ["crops"]


def crops(labels: pd.DataFrame, config: AugmentationConfig, *, seed: int) -> pd.DataFrame:
    """Label rows for ``config.crops`` random excerpts of each clip (by its ``path``).

    The crops depend only on ``seed`` and the labels, so the feature cache finds them again.

    Parameters
    ----------
    labels : pd.DataFrame
        Labels with a ``path`` column (:func:`va_mood.labels.files.match_audio`).
    config : AugmentationConfig
        How many crops per clip, and their shortest and longest length in seconds.
    seed : int
        Seeds the crops' lengths and places.

    Returns
    -------
    pd.DataFrame
        One row per crop, indexed ``<id>#crop<k>``: the clip's labels and group, the
        excerpt as ``path`` and ``augmented = True``. Clips shorter than the shortest crop
        give none.
    """
    rng = np.random.default_rng(seed)
    low, high = config.seconds
    rows = []
    for clip, row in labels.iterrows():
        length = duration(row["path"])
        for k in range(config.crops):
            seconds = min(rng.uniform(low, high), length)
            start = rng.uniform(0.0, max(0.0, length - seconds))
            if seconds < low:
                continue
            crop = row.copy()
            crop["path"] = excerpt(row["path"], start, start + seconds)
            crop.name = f"{clip}#crop{k}"
            rows.append(crop)
    out = pd.DataFrame(rows, columns=labels.columns)
    out.index.name = labels.index.name
    out["augmented"] = True
    return out
