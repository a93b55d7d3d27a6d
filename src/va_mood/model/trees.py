"""Predict with a saved xgboost model in NumPy alone, so that predicting needs neither xgboost
nor scikit-learn to be imported (the two take most of a cached run's start-up time).

Reads the model files xgboost writes (UBJSON ``.ubj`` or JSON), for the two objectives va_mood
trains: ``binary:logistic`` (classifier heads) and ``reg:squarederror`` (regression heads), with
numerical splits. Each tree sends a row left when its feature is below the split (compared in
float32, as xgboost does) or missing and the node's default is left; the margin is the base
margin plus the leaf values. ``tests/test_trees.py`` checks the result against xgboost itself.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ParameterError
from ..util.atomic import write_with

__all__ = ["BoostedTrees", "read_ubjson"]

_SCALARS = {  # UBJSON marker -> big-endian struct
    ord(k): struct.Struct(f) for k, f in {
        "i": ">b", "U": ">B", "I": ">h", "l": ">i", "L": ">q", "d": ">f", "D": ">d"
    }.items()
}  # fmt: skip
_ARRAYS = {ord(k): np.dtype(f) for k, f in {
    "i": ">i1", "U": ">u1", "I": ">i2", "l": ">i4", "L": ">i8", "d": ">f4", "D": ">f8"
}.items()}  # fmt: skip
_S, _T, _F, _Z, _OPEN, _CLOSE, _OBJ, _END, _TYPE, _COUNT = b"STFZ[]{}$#"
_OBJECTIVES = ("binary:logistic", "reg:squarederror")


class _Reader:
    """A cursor over UBJSON bytes (the subset xgboost writes)."""

    def __init__(self, data: bytes) -> None:
        self.data, self.at = data, 0

    def scalar(self, marker: int) -> Any:
        unpack = _SCALARS[marker]
        value = unpack.unpack_from(self.data, self.at)[0]
        self.at += unpack.size
        return value

    def text(self) -> str:
        self.at += 1
        n = self.scalar(self.data[self.at - 1])
        self.at += n
        return self.data[self.at - n : self.at].decode("utf-8")

    def value(self, marker: int | None = None) -> Any:
        if marker is None:
            marker = self.data[self.at]
            self.at += 1
        if marker in _SCALARS:
            return self.scalar(marker)
        if marker == _OBJ:
            return self.object()
        if marker == _OPEN:
            return self.array()
        if marker == _S:
            return self.text()
        if marker in (_T, _F):
            return marker == _T
        if marker == _Z:
            return None
        raise ValueError(f"unsupported UBJSON marker {chr(marker)!r} at byte {self.at - 1}")

    def array(self) -> Any:
        data = self.data
        kind = count = None
        if data[self.at] == _TYPE:
            kind = data[self.at + 1]
            self.at += 2
        if data[self.at] == _COUNT:
            self.at += 1
            count = self.value()
        if kind in _ARRAYS and count is not None:
            dtype = _ARRAYS[kind]
            end = self.at + count * dtype.itemsize
            values = np.frombuffer(data, dtype=dtype, count=count, offset=self.at)
            self.at = end
            return values.astype(dtype.newbyteorder("="))
        items = []
        while count is None or len(items) < count:
            if count is None and data[self.at] == _CLOSE:
                self.at += 1
                break
            items.append(self.value(kind))
        return items

    def object(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        data = self.data
        while data[self.at] != _END:
            key = self.text()  # a key is a string without its S marker
            out[key] = self.value()
        self.at += 1
        return out


def read_ubjson(data: bytes) -> Any:
    """Decode UBJSON (as xgboost writes it: typed arrays become NumPy arrays)."""
    return _Reader(data).value()


@dataclass
class _Nodes:
    """Every tree's nodes in flat arrays; children are indices into the same arrays."""

    feature: np.ndarray  # split feature per node
    threshold: np.ndarray  # float32 split value per node; the leaf value at a leaf
    left: np.ndarray  # -1 at a leaf
    right: np.ndarray
    default_left: np.ndarray
    roots: np.ndarray  # the first node of each tree


class BoostedTrees:
    """A saved xgboost model that predicts like ``XGBClassifier``/``XGBRegressor``.

    Examples
    --------
    >>> head = BoostedTrees.load("arousal.ubj")  # doctest: +SKIP
    >>> head.predict_proba(features)[:, 1]  # doctest: +SKIP
    """

    def __init__(self, nodes: _Nodes, base_margin: float, objective: str, n_features: int):
        self.nodes, self.base_margin, self.objective = nodes, base_margin, objective
        self.n_features = n_features
        self.raw = b""
        """The model file's bytes, for :meth:`to_xgboost`."""

    @classmethod
    def load(cls, path: str | Path, *, cache_dir: str | Path | None = None) -> BoostedTrees:
        """Read an xgboost model file (``.ubj`` or ``.json``); ParameterError if unusable.

        With ``cache_dir``, the flat node arrays are kept there as ``.npz``, named by the
        file's SHA-256, so that the next load of the same file skips parsing it.
        """
        path = Path(path)
        try:
            raw = path.read_bytes()
            key = hashlib.sha256(raw).hexdigest()[:32]
            trees = _from_cache(cache_dir, key)
            if trees is None:
                model = json.loads(raw) if path.suffix == ".json" else read_ubjson(raw)
                trees = cls._from_model(model["learner"])
                _to_cache(cache_dir, key, trees)
        except (OSError, ValueError, KeyError, TypeError, IndexError, struct.error) as exc:
            raise ParameterError(f"{path}: not a readable xgboost model ({exc})") from None
        trees.raw = raw
        return trees

    @classmethod
    def _from_model(cls, learner: dict[str, Any]) -> BoostedTrees:
        objective = learner["objective"]["name"]
        booster = learner["gradient_booster"]
        if objective not in _OBJECTIVES or booster["name"] != "gbtree":
            raise ValueError(f"objective {objective} with {booster['name']} is not supported")
        params = learner["learner_model_param"]
        if int(params.get("num_class", 0)) > 1 or int(params.get("num_target", 1)) > 1:
            raise ValueError("only one output per row is supported")
        base = float(str(params["base_score"]).strip("[]"))
        base_margin = math.log(base / (1 - base)) if objective == "binary:logistic" else base
        return cls(cls._nodes(booster["model"]["trees"]), base_margin, objective,
                   int(params["num_feature"]))  # fmt: skip

    @staticmethod
    def _nodes(trees: list[dict[str, Any]]) -> _Nodes:
        if any(np.any(np.asarray(t["split_type"]) != 0) for t in trees):
            raise ValueError("categorical splits are not supported")
        sizes = np.array([len(t["left_children"]) for t in trees])
        roots = np.r_[0, np.cumsum(sizes)[:-1]].astype(np.int64)

        def flat(key: str, dtype: Any) -> np.ndarray:
            return np.concatenate([np.asarray(t[key], dtype=dtype) for t in trees])

        left, right = flat("left_children", np.int64), flat("right_children", np.int64)
        offset = np.repeat(roots, sizes)
        return _Nodes(
            feature=flat("split_indices", np.int64),
            threshold=flat("split_conditions", np.float32),
            left=np.where(left == -1, -1, left + offset),
            right=np.where(right == -1, -1, right + offset),
            default_left=flat("default_left", bool),
            roots=roots,
        )

    def margin(self, X: np.ndarray) -> np.ndarray:  # noqa: N803
        """The raw sum of leaf values plus the base margin, per row (float64)."""
        X = np.asarray(X, dtype=np.float32)  # noqa: N806
        if X.ndim != 2 or X.shape[1] != self.n_features:
            raise ParameterError(f"expected rows of {self.n_features} features, got {X.shape}")
        n = self.nodes
        node = np.broadcast_to(n.roots, (len(X), len(n.roots))).copy()  # every tree at once
        rows = np.arange(len(X))[:, None]
        inner = n.left[node] != -1
        while inner.any():
            at = node[inner]
            x = X[np.broadcast_to(rows, node.shape)[inner], n.feature[at]]
            go_left = np.where(np.isnan(x), n.default_left[at], x < n.threshold[at])
            node[inner] = np.where(go_left, n.left[at], n.right[at])
            inner = n.left[node] != -1
        return n.threshold[node].sum(axis=1, dtype=np.float32) + self.base_margin

    def to_xgboost(self) -> Any:
        """The same model as xgboost's own ``XGBClassifier`` or ``XGBRegressor``."""
        import xgboost

        binary = self.objective == "binary:logistic"
        estimator = xgboost.XGBClassifier() if binary else xgboost.XGBRegressor()
        estimator.load_model(bytearray(self.raw))
        return estimator

    def predict_proba(self, X: np.ndarray) -> np.ndarray:  # noqa: N803
        """``[p(negative), p(positive)]`` per row, as ``XGBClassifier.predict_proba``."""
        p = 1.0 / (1.0 + np.exp(-self.margin(X)))
        return np.column_stack([1.0 - p, p])

    def predict(self, X: np.ndarray) -> np.ndarray:  # noqa: N803
        """The regression value per row, as ``XGBRegressor.predict`` (the positive class for a
        classifier)."""
        if self.objective == "binary:logistic":
            return (self.predict_proba(X)[:, 1] > 0.5).astype(np.int64)
        return self.margin(X)


def _from_cache(cache_dir: str | Path | None, key: str) -> BoostedTrees | None:
    """The trees cached under ``key``, or None (no cache, not there, or unreadable)."""
    if cache_dir is None:
        return None
    try:
        with np.load(Path(cache_dir) / f"{key}.npz", allow_pickle=False) as stored:
            nodes = _Nodes(**{f: stored[f] for f in _Nodes.__dataclass_fields__})
            return BoostedTrees(
                nodes, float(stored["base_margin"]), str(stored["objective"]),
                int(stored["n_features"]),
            )  # fmt: skip
    except (OSError, KeyError, ValueError):
        return None


def _to_cache(cache_dir: str | Path | None, key: str, trees: BoostedTrees) -> None:
    """Keep ``trees``' arrays under ``key``; a cache that cannot be written is no error."""
    if cache_dir is None:
        return
    arrays = {f: getattr(trees.nodes, f) for f in _Nodes.__dataclass_fields__}
    meta = {"base_margin": trees.base_margin, "objective": trees.objective}

    def write(tmp: Path) -> None:
        with tmp.open("wb") as fh:  # a file object: np.savez would rename a bare path
            np.savez(fh, **arrays, **meta, n_features=trees.n_features)

    with contextlib.suppress(OSError):
        write_with(Path(cache_dir) / f"{key}.npz", write)
