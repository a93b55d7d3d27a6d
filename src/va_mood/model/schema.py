"""What a model bundle's ``bundle.json`` may hold, and the manifest that vouches for its files.

:mod:`va_mood.model.bundle` reads a bundle only after :func:`check_metadata` has found every field
of
the right type and range (numbers finite, thresholds inside (-1, 1), each head's mode one of
:data:`~va_mood.vocabulary.HEAD_MODES`, hashes of the right form) and :func:`check_manifest`
has found every file of the bundle, the metadata included, as it was written. The manifest
detects damage and edits, not forgery: whoever can edit the files can recompute the hashes
(see the README's "Model bundles").
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import BundleError
from ..util.digest import sha256_of
from ..vocabulary import AXES, BINARY, HEAD_MODES, SIDES

__all__ = [
    "METADATA_FILE",
    "HEAD_KINDS",
    "check_metadata",
    "make_manifest",
    "check_manifest",
    "check_head_mode",
]

METADATA_FILE = "bundle.json"
HEAD_KINDS = ("xgboost", "skops")
"""How a head file is stored: xgboost's own UBJSON, or skops."""
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_TOP_LEVEL = {
    "format": str,
    "format_version": int,
    "created": str,
    "versions": dict,
    "config": dict,
    "labels": dict,
    "feature_fingerprint": str,
    "thresholds": dict,
    "heads": dict,
    "metrics": dict,
    "tuning": dict,
    "about": str,
    "integrity": str,
    "manifest": dict,
}
"""Every top-level key a bundle may hold, and its JSON type (the keys a bundle of an older
format lacks may be absent)."""
REQUIRED = ("format", "format_version", "config", "labels", "feature_fingerprint", "heads")


def _numbers(value: Any, where: str) -> Iterator[tuple[str, Any]]:
    """Every number in a parsed JSON value, with where it sits (``heads.valence.sigma``)."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _numbers(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _numbers(item, f"{where}[{i}]")
    elif isinstance(value, float | int) and not isinstance(value, bool):
        yield where, value


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def check_metadata(meta: Any, where: Path) -> None:
    """Refuse metadata with a missing field, a field of the wrong type, a number that is not
    finite, thresholds outside (-1, 1) or a head entry that is malformed.

    Raises
    ------
    BundleError
        Naming ``where`` (the ``bundle.json``) and the first field that is wrong.
    """
    if not isinstance(meta, dict):
        raise BundleError(f"{where}: not a va_mood bundle")
    _check_fields(meta, where)
    thresholds = meta.get("thresholds", {a: 0.0 for a in AXES})
    if set(thresholds) != set(AXES):
        raise BundleError(f"{where}: thresholds must name {AXES}, got {sorted(thresholds)}")
    for axis, value in thresholds.items():
        if not _is_number(value) or not -1 < value < 1:
            raise BundleError(
                f"{where}: the {axis} threshold must be a number inside (-1, 1), got {value!r}"
            )
    heads = meta["heads"]
    for axis in AXES:
        if not isinstance(heads.get(axis), dict):
            raise BundleError(f"{where}: no {axis} head")
        _check_head(heads[axis], f"the {axis} head", where, with_mode=True)
        for side, entry in (heads[axis].get("sides") or {}).items():
            if side not in SIDES or not isinstance(entry, dict):
                raise BundleError(f"{where}: the {axis} head has a malformed side {side!r}")
            _check_head(entry, f"the {axis} head's {side}-arousal part", where, with_mode=False)
    if set(heads) != set(AXES):
        raise BundleError(f"{where}: heads must be {AXES}, got {sorted(heads)}")


def _check_fields(meta: dict[str, Any], where: Path) -> None:
    """Every number finite, every required field present, every field of its JSON type."""
    for path, number in _numbers(meta, ""):
        if not math.isfinite(number):
            raise BundleError(f"{where}: {path} must be a finite number, got {number}")
    for key in REQUIRED:
        if key not in meta:
            raise BundleError(f"{where}: damaged metadata (no {key!r})")
    for key, value in meta.items():
        kind = _TOP_LEVEL.get(key)
        if kind is None:
            raise BundleError(f"{where}: unknown field {key!r}")
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise BundleError(f"{where}: {key} must be a JSON {kind.__name__}, got {value!r}")


def _check_head(head: dict[str, Any], name: str, where: Path, *, with_mode: bool) -> None:
    """One head entry: its mode, kind, file name, hash, columns and spread."""
    if with_mode and head.get("mode") not in HEAD_MODES:
        raise BundleError(
            f"{where}: {name}'s mode must be one of {HEAD_MODES}, got {head.get('mode')!r}"
        )
    file = head.get("file")
    if not isinstance(file, str) or not file or Path(file).name != file:
        raise BundleError(f"{where}: {name} names no valid file ({file!r})")
    if head.get("kind") not in HEAD_KINDS:
        raise BundleError(f"{where}: {name}'s kind must be one of {HEAD_KINDS}")
    if not isinstance(head.get("sha256"), str) or not _SHA256.match(head["sha256"]):
        raise BundleError(f"{where}: {name}'s sha256 is not a SHA-256 hex digest")
    if not with_mode:
        return
    columns = head.get("columns")
    if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
        raise BundleError(f"{where}: {name}'s columns must be a list of names")
    sigma = head.get("sigma")
    if sigma is not None and not (_is_number(sigma) and sigma > 0):
        raise BundleError(f"{where}: {name}'s sigma must be a positive number, got {sigma!r}")
    if ("coordinates" in head) != ("confidence" in head):
        raise BundleError(f"{where}: {name} needs both coordinate and confidence maps, or none")


def _metadata_hash(meta: dict[str, Any]) -> str:
    """SHA-256 of the metadata as canonical JSON, the manifest itself left out."""
    plain = {k: v for k, v in meta.items() if k != "manifest"}
    text = json.dumps(plain, sort_keys=True, ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()


def make_manifest(folder: Path, meta: dict[str, Any]) -> dict[str, Any]:
    """The manifest of a bundle being written: the SHA-256 of every file in ``folder`` but
    the metadata, and of the metadata (``meta``, as it will be written, without this)."""
    files = {
        p.name: sha256_of(p)
        for p in sorted(folder.iterdir())
        if p.is_file() and p.name != METADATA_FILE
    }
    return {"files": files, "metadata": _metadata_hash(meta)}


def check_manifest(folder: Path, meta: dict[str, Any]) -> None:
    """Refuse a bundle whose metadata or any listed file differs from its manifest, or whose
    manifest leaves out a file the metadata names."""
    manifest = meta.get("manifest")
    where = folder / METADATA_FILE
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(files, dict) or not all(isinstance(v, str) for v in files.values()):
        raise BundleError(f"{where}: no valid manifest")
    if manifest.get("metadata") != _metadata_hash(meta):
        raise BundleError(
            f"{where}: edited or damaged (its contents no longer match the manifest's hash); "
            "restore the file or retrain the model"
        )
    for name, digest in files.items():
        file = folder / name
        if Path(name).name != name or not file.is_file():
            raise BundleError(f"{folder}: the file {name} is missing (the manifest lists it)")
        if sha256_of(file) != digest:
            raise BundleError(
                f"{file}: contents differ from the manifest in {METADATA_FILE} (edited or damaged)"
            )
    heads = meta["heads"].values()
    named = {h.get("file") for h in heads} | {
        s.get("file") for h in heads for s in (h.get("sides") or {}).values()
    }
    if not named <= set(files):
        raise BundleError(f"{where}: the manifest leaves out {sorted(named - set(files))}")


def check_head_mode(estimator: Any, mode: str, file: Path) -> None:
    """Refuse a head file whose estimator does not do what its mode says (a classifier for a
    binary head, a regressor for a regression head)."""
    from sklearn.base import is_classifier, is_regressor

    if type(estimator).__module__.startswith("xgboost"):
        config = json.loads(estimator.get_booster().save_config())
        objective = config["learner"]["objective"]["name"]
        fits = objective.startswith("binary:") if mode == BINARY else objective.startswith("reg:")
        held = f"an xgboost model with objective {objective}"
    else:
        fits = is_classifier(estimator) if mode == BINARY else is_regressor(estimator)
        held = f"a {type(estimator).__name__}"
    if not fits:
        raise BundleError(f"{file}: holds {held}, which cannot be a {mode} head")
