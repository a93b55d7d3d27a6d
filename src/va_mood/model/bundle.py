"""Model bundles: a folder of JSON metadata and head files that cannot run code when loaded.

Layout of ``NAME/``::

    bundle.json      format, versions, configuration, label scale, thresholds, metrics,
                     per head: mode, feature columns, file, its SHA-256; and the manifest:
                     the SHA-256 of every other file and of this metadata
    MODEL_CARD.md    the model card
    arousal.ubj      an xgboost head (xgboost's own UBJSON model format), or
    arousal.skops    a scikit-learn head (skops, loaded only if every type in it is trusted)
    valence.*        likewise

Loading checks every metadata field (:mod:`va_mood.model.schema`), the format version, the
manifest (every file's hash, the metadata's included), the feature columns and that each
head file does what its mode says, and refuses anything else with a
:class:`~va_mood.errors.BundleError`. Nothing is unpickled.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..config import config_from_dict, config_to_dict, label_spec_from_dict
from ..errors import BundleError, ParameterError
from ..features.registry import columns_for
from ..util.digest import sha256_of
from ..vocabulary import AXES, BINARY, SIDES
from .calibration import ConfidenceMap, CoordinateMap
from .card import render_model_card
from .heads import FittedHeads
from .schema import (
    check_head_mode,
    check_manifest,
    check_metadata,
    make_manifest,
)
from .trees import BoostedTrees

if TYPE_CHECKING:
    from .estimator import MoodModel

__all__ = ["FORMAT_VERSION", "heads_of", "estimator_of", "save_bundle", "read_bundle"]

FORMAT = "va_mood-bundle"
FORMAT_VERSION = 3
"""2: each head's calibration maps and an integrity hash of the model-defining metadata;
3: a manifest, the hash of every file of the bundle and of its whole metadata."""
MODEL_KEYS = ("config", "labels", "feature_fingerprint", "thresholds", "heads")
"""The parts of ``bundle.json`` that decide what the model predicts: hashed as ``integrity``."""
TRUSTED_NUMPY_TYPES = frozenset({"numpy.dtype", "numpy.ndarray"})
"""Types outside scikit-learn that a head file may need beyond what skops trusts by default."""


def heads_of(predictor: Any) -> FittedHeads:
    """What predicts: ``predictor`` itself if it is fitted heads, else a fitted
    :class:`~va_mood.model.estimator.MoodModel`'s :meth:`~MoodModel.fitted_heads`."""
    return predictor if isinstance(predictor, FittedHeads) else predictor.fitted_heads()


def estimator_of(predictor: Any, *, seed: int) -> MoodModel:
    """The scikit-learn :class:`~va_mood.model.estimator.MoodModel` behind ``predictor``.

    A model trained in this process is its own estimator; for loaded heads one is built from
    them (xgboost heads as xgboost's own estimators), so that ``clone`` and ``set_params`` work.
    """
    if not isinstance(predictor, FittedHeads):
        return predictor
    from .estimator import MoodModel

    h = predictor
    return MoodModel.from_fitted(
        {axis: _sklearn_estimator(h.estimators[axis]) for axis in AXES},
        h.columns,
        thresholds=h.thresholds,
        valence_sides={k: _sklearn_estimator(v) for k, v in h.valence_sides.items()},
        sigma=h.sigma,
        coordinates=h.coordinates,
        confidence=h.confidence,
        random_state=seed,
    )


def _sklearn_estimator(head: Any) -> Any:
    """A head as scikit-learn knows it: xgboost's own estimator for a light xgboost head."""
    return head.to_xgboost() if isinstance(head, BoostedTrees) else head


def _library_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("va-mood", "xgboost-cpu", "xgboost", "scikit-learn", "librosa", "numpy"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            continue
    return out


def save_bundle(model: Any, path: str | os.PathLike) -> Path:
    """Write a trained model to the folder ``path``, replacing it atomically if it exists.

    Parameters
    ----------
    model : va_mood.Model
        What :func:`va_mood.train` or :func:`va_mood.load_model` returns (anything with its
        ``estimator``, ``config``, ``labels``, ``fingerprint``, ``metrics``, ``tuning`` and
        ``about``).
    path : str or os.PathLike
        The bundle's folder.

    Returns
    -------
    pathlib.Path
        The folder written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o777 & ~umask)
    try:
        heads = {}
        for axis in AXES:
            heads[axis] = _save_head(model.estimator, axis, tmp)
        meta = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "versions": _library_versions(),
            "config": config_to_dict(model.config),
            "labels": asdict(model.labels),
            "feature_fingerprint": model.fingerprint,
            "thresholds": dict(zip(AXES, model.estimator.thresholds_, strict=True)),
            "heads": heads,
            "metrics": model.metrics,
            "tuning": model.tuning,
            "about": model.about,
        }
        meta = json.loads(json.dumps(meta, default=_json_default))  # plain JSON values only
        meta["integrity"] = _integrity(meta)
        card = render_model_card(meta, name=path.name, about=model.about)
        (tmp / "MODEL_CARD.md").write_text(card)
        meta["manifest"] = make_manifest(tmp, meta)
        (tmp / "bundle.json").write_text(json.dumps(meta, indent=2, allow_nan=False))
        if path.exists():
            old = path.with_name(f".{path.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return path


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"cannot write {type(obj)} to JSON")


def _save_head(model: MoodModel, axis: str, folder: Path) -> dict[str, Any]:
    head = {
        "mode": model.head_modes()[axis],
        **_save_estimator(getattr(model, f"{axis}_"), folder, axis),
        "columns": list(getattr(model, f"{axis}_columns")),
        "sigma": model.sigma_.get(axis),
    }
    if axis in getattr(model, "coordinates_", {}):
        head["coordinates"] = model.coordinates_[axis].to_dict()
        head["confidence"] = model.confidence_[axis].to_dict()
    sides = getattr(model, "valence_sides_", {}) if axis == "valence" else {}
    if sides:
        head["sides"] = {
            side: _save_estimator(part, folder, f"{axis}.{side}") for side, part in sides.items()
        }
    return head


def _save_estimator(estimator: Any, folder: Path, stem: str) -> dict[str, str]:
    """Write one fitted estimator in a format that cannot run code when loaded."""
    if type(estimator).__module__.startswith("xgboost"):
        file = folder / f"{stem}.ubj"
        estimator.save_model(file)
        kind = "xgboost"
    else:
        import skops.io

        file = folder / f"{stem}.skops"
        skops.io.dump(estimator, file)
        kind = "skops"
    return {"kind": kind, "file": file.name, "sha256": sha256_of(file)}


def read_bundle(
    path: str | os.PathLike, *, cache_dir: str | os.PathLike | None = None
) -> dict[str, Any]:
    """Read a bundle folder, checking its format, files and configuration.

    Parameters
    ----------
    path, cache_dir : str or os.PathLike
        The bundle's folder; where the xgboost heads' parsed trees are kept for the next load
        (:meth:`va_mood.model.trees.BoostedTrees.load`; None: not kept).

    Returns
    -------
    dict
        The parts of a :class:`va_mood.Model`: ``predictor`` (the fitted heads), ``config``,
        ``labels``, ``metrics``, ``metadata`` (all of ``bundle.json``), ``about``, ``tuning``.

    Raises
    ------
    BundleError
        Naming the bundle and what is wrong with it.
    """
    path = Path(path)
    meta_path = path / "bundle.json"
    meta = _read_metadata(path, meta_path)
    version = meta["format_version"]
    try:
        config = config_from_dict(meta["config"])
        labels = label_spec_from_dict(meta["labels"])
    except (KeyError, TypeError, ValueError, ParameterError) as exc:
        raise BundleError(f"{meta_path}: damaged metadata ({exc})") from None
    heads = meta["heads"]
    thresholds = tuple(float(meta.get("thresholds", {}).get(axis, 0.0)) for axis in AXES)
    for axis in AXES:
        if heads[axis]["mode"] != config.head(axis).mode:
            raise BundleError(
                f"{meta_path}: the {axis} head's mode {heads[axis]['mode']!r} does not match "
                f"its configuration's {config.head(axis).mode!r}"
            )
    if meta.get("feature_fingerprint") != config.analysis.fingerprint(config.groups):
        raise BundleError(
            f"{path}: its feature fingerprint does not match its configuration under this "
            "va_mood version (edited metadata, or features changed since); retrain the model"
        )
    estimators = {}
    for axis in AXES:
        head = heads.get(axis) if isinstance(heads, dict) else None
        if not isinstance(head, dict):
            raise BundleError(f"{meta_path}: no {axis} head")
        expected = columns_for(getattr(config, axis).groups)
        if head.get("columns") != expected:
            raise BundleError(
                f"{path}: the {axis} head's feature columns do not match its configured groups"
            )
        estimators[axis] = _load_head(path, axis, head, cache_dir)
    sides = _load_sides(path, heads["valence"], config.valence.by_arousal, cache_dir)
    calibration = _calibration(heads, meta_path)
    if version >= 2 and meta.get("integrity") != _integrity(meta):
        raise BundleError(
            f"{meta_path}: edited or damaged (what the model predicts with no longer matches "
            "its integrity hash); restore the file or retrain the model"
        )
    fitted = FittedHeads(
        estimators,
        modes={axis: heads[axis].get("mode") for axis in AXES},
        columns={axis: list(heads[axis]["columns"]) for axis in AXES},
        thresholds=thresholds,
        valence_sides=sides,
        sigma={a: float(h["sigma"]) for a, h in heads.items() if h.get("sigma") is not None},
        **calibration,
    )
    return {
        "predictor": fitted,
        "config": config,
        "labels": labels,
        "metrics": meta.get("metrics", {}),
        "metadata": meta,
        "about": meta.get("about", ""),
        "tuning": meta.get("tuning") or {},
    }


def _read_metadata(path: Path, meta_path: Path) -> dict[str, Any]:
    """``bundle.json``, once its format, version, fields and manifest have been checked."""
    if not meta_path.is_file():
        raise BundleError(f"{path}: not a model bundle (no bundle.json)")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BundleError(f"{meta_path}: not valid JSON ({exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise BundleError(f"{meta_path}: not a va_mood bundle")
    version = meta.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version > FORMAT_VERSION:
        raise BundleError(
            f"{path}: bundle format version {version!r} is newer than this va_mood reads "
            f"({FORMAT_VERSION}); upgrade va_mood"
        )
    check_metadata(meta, meta_path)
    if version >= 3:
        check_manifest(path, meta)
    return meta


def _integrity(meta: dict[str, Any]) -> str:
    """SHA-256 of the model-defining parts of a bundle's metadata (:data:`MODEL_KEYS`)."""
    blob = json.dumps({k: meta.get(k) for k in MODEL_KEYS}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def _calibration(heads: dict[str, Any], meta_path: Path) -> dict[str, dict[str, Any]]:
    """Each head's stored coordinate and confidence maps (none for an older bundle)."""
    maps: dict[str, dict[str, Any]] = {"coordinates": {}, "confidence": {}}
    for axis, head in heads.items():
        if "coordinates" not in head:
            continue
        try:
            maps["coordinates"][axis] = CoordinateMap.from_dict(head["coordinates"])
            maps["confidence"][axis] = ConfidenceMap.from_dict(head["confidence"])
        except (KeyError, TypeError, ValueError) as exc:
            raise BundleError(
                f"{meta_path}: the {axis} head's calibration is damaged ({exc})"
            ) from None
    if maps["coordinates"] and set(maps["coordinates"]) != set(AXES):
        raise BundleError(f"{meta_path}: only some heads are calibrated")
    return maps


def _load_head(folder: Path, axis: str, head: dict[str, Any], cache_dir: Any = None) -> Any:
    """Load a head's estimator (an entry with ``kind``, ``file``, ``sha256`` and ``mode``)."""
    name = head.get("file")
    if not isinstance(name, str) or Path(name).name != name:
        raise BundleError(f"{folder}: the {axis} head names no valid file")
    file = folder / name
    if not file.is_file():
        raise BundleError(f"{folder}: the {axis} head's file {name} is missing")
    if sha256_of(file) != head.get("sha256"):
        raise BundleError(
            f"{file}: contents differ from the hash in bundle.json (edited or damaged)"
        )
    mode = head.get("mode")
    if head.get("kind") == "xgboost" and file.suffix == ".ubj":
        try:
            trees = BoostedTrees.load(file, cache_dir=cache_dir)
        except ParameterError as exc:
            raise BundleError(str(exc)) from None
        if (trees.objective == "binary:logistic") != (mode == BINARY):
            raise BundleError(
                f"{file}: holds an xgboost model with objective {trees.objective}, which cannot "
                f"be a {mode} head"
            )
        return trees
    if head.get("kind") == "skops" and file.suffix == ".skops":
        import skops.io

        try:
            untrusted = skops.io.get_untrusted_types(file=file)
        except Exception as exc:  # noqa: BLE001 - any failure to parse means: refuse
            raise BundleError(f"{file}: not a readable skops file ({exc})") from None
        refused = [t for t in untrusted if not _trusted_type(t)]
        if refused:
            raise BundleError(f"{file}: refuses to load types it does not trust: {refused}")
        estimator = skops.io.load(file, trusted=untrusted)
        check_head_mode(estimator, mode, file)
        return estimator
    raise BundleError(f"{file}: unknown head kind {head.get('kind')!r}")


def _load_sides(
    folder: Path, head: dict[str, Any], expected: bool, cache_dir: Any = None
) -> dict[str, Any]:
    """The valence head's high- and low-arousal parts, when its configuration has them."""
    sides = head.get("sides") or {}
    if bool(sides) != expected or (sides and set(sides) != set(SIDES)):
        raise BundleError(f"{folder}: the valence head's arousal sides do not match its config")
    return {
        side: _load_head(
            folder, f"valence ({side} arousal)", {**entry, "mode": head.get("mode")}, cache_dir
        )
        for side, entry in sides.items()
    }


def _trusted_type(name: str) -> bool:
    """Whether a type a skops file names is safe to construct: a scikit-learn estimator class
    (never a function, which skops could be made to call) or a plain numpy container type."""
    import importlib

    from sklearn.base import BaseEstimator

    if name in TRUSTED_NUMPY_TYPES:
        return True
    module, _, attr = name.rpartition(".")
    if not module.startswith("sklearn."):
        return False
    try:
        obj = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError):
        return False
    return isinstance(obj, type) and issubclass(obj, BaseEstimator)
