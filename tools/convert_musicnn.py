"""Convert musicnn's MSD checkpoint to the numpy weights va_mood ships, plus a test reference.

Run once, by a developer, in a separate environment with TensorFlow (va_mood itself never
imports it)::

    python -m venv /tmp/tf && /tmp/tf/bin/pip install tensorflow-cpu tf_keras librosa
    /tmp/tf/bin/pip install --no-deps musicnn==0.1.0
    TF_USE_LEGACY_KERAS=1 /tmp/tf/bin/python tools/convert_musicnn.py

It writes ``src/va_mood/models/musicnn/msd_musicnn.npz`` (every trained variable of the
``MSD_musicnn`` checkpoint in the musicnn 0.1.0 wheel, by its TensorFlow name, float32; the
optimiser's slots are left out) and ``tests/data/musicnn_reference.npz``: the log-mel patches
of the first 9 s of ``data/examples/macleod_slow_burn.mp3`` and musicnn's own tag
probabilities and penultimate layer for them, computed by TensorFlow with musicnn's graph. The
tests check va_mood's numpy forward pass against that reference.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
WEIGHTS = ROOT / "src" / "va_mood" / "models" / "musicnn" / "msd_musicnn.npz"
REFERENCE = ROOT / "tests" / "data" / "musicnn_reference.npz"
EXAMPLE = ROOT / "data" / "examples" / "macleod_slow_burn.mp3"
PATCH = 187


def checkpoint_dir() -> str:
    import musicnn

    return os.path.join(os.path.dirname(musicnn.__file__), "MSD_musicnn") + "/"


def convert() -> None:
    import tensorflow as tf

    reader = tf.compat.v1.train.NewCheckpointReader(checkpoint_dir())
    names = [
        n
        for n in reader.get_variable_to_shape_map()
        if "Adam" not in n and not n.endswith("_power")
    ]
    weights = {n: reader.get_tensor(n).astype(np.float32) for n in sorted(names)}
    WEIGHTS.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(WEIGHTS, **weights)
    print(f"{WEIGHTS}: {len(weights)} arrays")


def reference() -> None:
    import librosa
    import tensorflow as tf

    tf.compat.v1.disable_eager_execution()
    from musicnn import models

    y, sr = librosa.load(EXAMPLE, sr=16000, duration=9.0)
    mel = librosa.feature.melspectrogram(y=y, sr=sr, hop_length=256, n_fft=512, n_mels=96)
    rep = np.log10(10000 * mel.T.astype(np.float32) + 1)
    patches = np.stack([rep[s : s + PATCH] for s in range(0, len(rep) - PATCH + 1, PATCH)])
    tf.compat.v1.reset_default_graph()
    with tf.name_scope("model"):
        x = tf.compat.v1.placeholder(tf.float32, [None, PATCH, 96])
        training = tf.compat.v1.placeholder(tf.bool)
        logits, *_, penultimate = models.define_model(x, training, "MSD_musicnn", 50)
    with tf.compat.v1.Session() as session:
        tf.compat.v1.train.Saver().restore(session, checkpoint_dir())
        tags, pen = session.run(
            [tf.nn.sigmoid(logits), penultimate], feed_dict={x: patches, training: False}
        )
    REFERENCE.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(REFERENCE, patches=patches, tags=tags, penultimate=pen)
    print(f"{REFERENCE}: {len(patches)} patches")


if __name__ == "__main__":
    convert()
    reference()
