"""Model bundles: exact round trips, and refusal of anything damaged, edited or executable."""

from __future__ import annotations

import hashlib
import json
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from va_mood.api import Model, load_model
from va_mood.config import LabelSpec, config_from_dict
from va_mood.errors import BundleError
from va_mood.features import columns_for
from va_mood.labels.files import targets
from va_mood.model.bundle import FORMAT_VERSION, save_bundle
from va_mood.model.estimator import model_from_config
from va_mood.model.schema import make_manifest

AROUSAL_GROUPS = ["arousal.rms", "arousal.zcr"]
VALENCE_GROUPS = ["valence.tonnetz"]
XGB = {"estimator": "xgboost", "params": {"n_estimators": 10, "max_depth": 2}}
SKLEARN = {"estimator": "sklearn.linear_model.LogisticRegression", "scale": True}

METRICS = {
    "protocol": "1x repeated 3-fold cross-validation grouped by artist",
    "n_clips": 60,
    "n_groups": 60,
    "summary": {"quadrant_macro_f1": {"mean": 0.5, "std": 0.0}},
    "per_class": {
        q: {"precision": 0.5, "recall": 0.5, "f1": 0.5} for q in ("Q1", "Q2", "Q3", "Q4")
    },
    "confusion": [[5, 5, 0, 0], [5, 5, 0, 0], [0, 0, 5, 5], [0, 0, 5, 5]],
}

HEADS = {
    "xgboost": (XGB, XGB),
    "sklearn": (SKLEARN, SKLEARN),
    "mixed": (XGB, SKLEARN),
    "regression": (
        {**XGB, "mode": "regression"},
        {"estimator": "xgboost", "mode": "regression", "params": {"n_estimators": 10}},
    ),
    "by_arousal": (XGB, {**XGB, "by_arousal": True}),
    "by_arousal_sklearn": (XGB, {**SKLEARN, "by_arousal": True}),
}


def _config(kind: str):
    arousal, valence = HEADS[kind]
    return config_from_dict(
        {
            "seed": 3,
            "arousal": {"groups": AROUSAL_GROUPS, **arousal},
            "valence": {"groups": VALENCE_GROUPS, **valence},
            "thresholds": {"valence": 0.1, "arousal": -0.1},
        }
    )


def _features(n: int = 60, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    columns = columns_for(AROUSAL_GROUPS + VALENCE_GROUPS)
    X = pd.DataFrame(rng.normal(size=(n, len(columns))), columns=columns)  # noqa: N806
    v = np.tanh(X["valence.tonnetz_fifth_x.mean"].to_numpy())
    a = np.tanh(X["arousal.rms.mean"].to_numpy())
    labels = pd.DataFrame(
        {
            "valence": v,
            "arousal": a,
            "quadrant": np.where(a > 0, np.where(v > 0, "Q1", "Q2"), np.where(v > 0, "Q4", "Q3")),
        }
    )
    return X, labels


def _bundle(kind: str) -> Model:
    config = _config(kind)
    X, labels = _features()  # noqa: N806
    modes = {"valence": config.valence.mode, "arousal": config.arousal.mode}
    model = model_from_config(config).fit(X, targets(labels, modes))
    return Model(model, config, LabelSpec(), metrics=METRICS)


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> dict[str, tuple[Model, Path]]:
    root = tmp_path_factory.mktemp("saved")
    out = {}
    for kind in HEADS:
        bundle = _bundle(kind)
        out[kind] = (bundle, save_bundle(bundle, root / kind))
    return out


@pytest.fixture
def xgb_copy(saved, tmp_path) -> Path:
    """A private copy of a saved xgboost bundle, free to damage."""
    import shutil

    return Path(shutil.copytree(saved["xgboost"][1], tmp_path / "copy"))


@pytest.fixture
def sk_copy(saved, tmp_path) -> Path:
    import shutil

    return Path(shutil.copytree(saved["sklearn"][1], tmp_path / "copy"))


def _meta(path: Path) -> dict:
    return json.loads((path / "bundle.json").read_text())


def _write_meta(path: Path, meta: dict, *, seal: bool = True) -> None:
    """Write edited metadata; sealed, with a manifest recomputed to vouch for the edit and
    for whatever the files now hold (a forger's move: the checks past the manifest must
    still refuse the edit)."""
    if seal and "manifest" in meta:
        meta["manifest"] = make_manifest(path, meta)
    (path / "bundle.json").write_text(json.dumps(meta))


def _rehash(path: Path, axis: str) -> None:
    """Make bundle.json vouch for whatever the head file now holds (a forger's move)."""
    meta = _meta(path)
    head = meta["heads"][axis]
    head["sha256"] = hashlib.sha256((path / head["file"]).read_bytes()).hexdigest()
    _write_meta(path, meta)  # sealed: the manifest vouches for the new file too


# ---- round trips -------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(HEADS))
def test_round_trip_identical_predictions(saved, kind):
    bundle, path = saved[kind]
    loaded = load_model(path, cache=False)
    X, _ = _features(n=25, seed=1)  # noqa: N806
    expected = bundle.predict_features(X)
    got = loaded.predict_features(X)
    pd.testing.assert_frame_equal(got, expected)
    assert loaded.config == bundle.config
    assert loaded.labels == bundle.labels
    assert loaded.metrics == METRICS
    assert loaded.estimator.thresholds_ == (0.1, -0.1)
    assert loaded.fingerprint == bundle.fingerprint


@pytest.mark.parametrize(("kind", "files"), [("xgboost", {"ubj"}), ("sklearn", {"skops"})])
def test_head_file_formats(saved, kind, files):
    _, path = saved[kind]
    meta = _meta(path)
    assert meta["format_version"] == FORMAT_VERSION
    assert {Path(h["file"]).suffix[1:] for h in meta["heads"].values()} == files
    names = {p.name for p in path.iterdir()}
    assert {"bundle.json", *(h["file"] for h in meta["heads"].values())} <= names
    assert not [n for n in names if n.endswith((".pkl", ".pickle", ".joblib"))]
    for head in meta["heads"].values():
        assert head["sha256"] == hashlib.sha256((path / head["file"]).read_bytes()).hexdigest()


def test_regression_bundle_keeps_sigma(saved):
    bundle, path = saved["regression"]
    loaded = load_model(path, cache=False)
    assert loaded.estimator.sigma_ == pytest.approx(bundle.estimator.sigma_)
    assert set(loaded.estimator.sigma_) == {"valence", "arousal"}


def test_save_replaces_existing(saved, tmp_path):
    path = tmp_path / "model"
    save_bundle(saved["xgboost"][0], path)
    save_bundle(saved["sklearn"][0], path)
    assert {h["kind"] for h in _meta(path)["heads"].values()} == {"skops"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]
    load_model(path, cache=False)


def test_default_model_loads():
    from va_mood.api import DEFAULT_MODEL, load_model

    bundle = load_model()
    assert (DEFAULT_MODEL / "bundle.json").is_file()
    assert bundle.estimator.head_modes() == {"valence": "binary", "arousal": "binary"}


# ---- refusals ----------------------------------------------------------------------------------


def test_refuses_newer_format_version(xgb_copy):
    meta = _meta(xgb_copy)
    meta["format_version"] = FORMAT_VERSION + 1
    _write_meta(xgb_copy, meta)
    with pytest.raises(BundleError, match=rf"format version {FORMAT_VERSION + 1} is newer"):
        load_model(xgb_copy, cache=False)


def test_refuses_missing_head_file(xgb_copy):
    (xgb_copy / "valence.ubj").unlink()
    with pytest.raises(BundleError, match=r"file valence\.ubj is missing"):
        load_model(xgb_copy, cache=False)


def test_refuses_edited_head_file(xgb_copy):
    with (xgb_copy / "arousal.ubj").open("ab") as fh:
        fh.write(b"\0")
    with pytest.raises(BundleError, match=r"arousal\.ubj: contents differ from the"):
        load_model(xgb_copy, cache=False)


def test_refuses_edited_groups(xgb_copy):
    meta = _meta(xgb_copy)
    meta["config"]["arousal"]["groups"] = ["arousal.rms"]
    _write_meta(xgb_copy, meta)
    with pytest.raises(BundleError, match="feature fingerprint does not match its configuration"):
        load_model(xgb_copy, cache=False)


def test_refuses_edited_groups_and_fingerprint(xgb_copy):
    # a consistent-looking edit: the fingerprint is recomputed, but the head's columns are not
    from va_mood.config import config_from_dict as build

    meta = _meta(xgb_copy)
    meta["config"]["arousal"]["groups"] = ["arousal.rms"]
    config = build(meta["config"])
    meta["feature_fingerprint"] = config.analysis.fingerprint(config.groups)
    _write_meta(xgb_copy, meta)
    with pytest.raises(BundleError, match="the arousal head's feature columns do not match"):
        load_model(xgb_copy, cache=False)


def test_refuses_edited_analysis(xgb_copy):
    meta = _meta(xgb_copy)
    meta["config"]["analysis"]["hop_length"] = 256
    _write_meta(xgb_copy, meta)
    with pytest.raises(BundleError, match="feature fingerprint does not match"):
        load_model(xgb_copy, cache=False)


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda m: m.pop("heads"), "damaged metadata"),
        (lambda m: m["config"]["valence"].update(groups=["valence.nope"]), "damaged metadata"),
        (lambda m: m.update(format="something-else"), "not a va_mood bundle"),
        (lambda m: m.update(format_version="1"), "format version '1'"),
        (lambda m: m["heads"]["valence"].update(file="../valence.ubj"), "names no valid file"),
        (lambda m: m["heads"]["valence"].pop("valence", None) or m["heads"].pop("valence"), "no"),
    ],
    ids=["no-heads", "unknown-group", "wrong-format", "string-version", "path-escape", "no-head"],
)
def test_refuses_damaged_metadata(xgb_copy, edit, match):
    meta = _meta(xgb_copy)
    edit(meta)
    _write_meta(xgb_copy, meta)
    with pytest.raises(BundleError, match=match):
        load_model(xgb_copy, cache=False)


def test_refuses_not_a_bundle(tmp_path):
    with pytest.raises(BundleError, match=r"not a model bundle \(no bundle\.json\)"):
        load_model(tmp_path, cache=False)
    with pytest.raises(BundleError, match="not a model bundle"):
        load_model(tmp_path / "nowhere", cache=False)
    (tmp_path / "bundle.json").write_text("{not json")
    with pytest.raises(BundleError, match="not valid JSON"):
        load_model(tmp_path, cache=False)
    (tmp_path / "bundle.json").write_text("[1, 2]")
    with pytest.raises(BundleError, match="not a va_mood bundle"):
        load_model(tmp_path, cache=False)


# ---- executable payloads -----------------------------------------------------------------------


class _Payload:
    """Unpickling this object writes ``marker``: what a malicious model file would do."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (exec, (f"open({self.marker!r}, 'w').write('pwned')",))


def _pickle_payload(marker: Path) -> bytes:
    data = pickle.dumps(_Payload(marker))
    # the payload is live: unpickling it elsewhere does create its marker
    probe = marker.with_name("probe_" + marker.name)
    pickle.loads(pickle.dumps(_Payload(probe)))
    assert probe.exists()
    probe.unlink()
    return data


def _skops_exec_payload(marker: Path) -> bytes:
    """A skops file whose only 'type' is ``builtins.exec``, called with attacker code."""
    code = f"open({str(marker)!r}, 'w').write('pwned')"
    schema = {
        "__class__": "exec",
        "__module__": "builtins",
        "__loader__": "ConstructorFromReduceNode",
        "content": {
            "__class__": "tuple",
            "__module__": "builtins",
            "__loader__": "TupleNode",
            "content": [
                {
                    "__class__": "str",
                    "__module__": "builtins",
                    "__loader__": "JsonNode",
                    "content": json.dumps(code),
                    "is_json": True,
                    "__id__": 2,
                }
            ],
            "__id__": 3,
        },
        "__id__": 1,
        "protocol": 2,
        "_skops_version": "0.16.0",
    }
    import io

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("schema.json", json.dumps(schema))
    return buffer.getvalue()


def _skops_custom_type(marker: Path) -> bytes:
    import io

    import skops.io

    buffer = io.BytesIO()
    buffer.write(skops.io.dumps(_Payload(marker)))
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("kind", "file", "make", "match"),
    [
        ("skops", "arousal.skops", _pickle_payload, r"arousal\.skops: not a readable skops file"),
        ("xgboost", "arousal.ubj", _pickle_payload, r"arousal\.ubj: not a readable xgboost"),
        ("pickle", "arousal.pkl", _pickle_payload, r"arousal head's kind must be one of"),
        ("joblib", "arousal.joblib", _pickle_payload, r"arousal head's kind must be one of"),
        ("skops", "arousal.pkl", _pickle_payload, r"unknown head kind 'skops'"),
        ("skops", "arousal.skops", _skops_custom_type, r"refuses to load types.*_Payload"),
        ("skops", "arousal.skops", _skops_exec_payload, r"refuses to load types.*builtins\.exec"),
    ],
    ids=[
        "pickle-as-skops",
        "pickle-as-ubj",
        "pickle-kind",
        "joblib-kind",
        "skops-kind-pkl-suffix",
        "skops-custom-type",
        "skops-builtins-exec",
    ],
)
def test_refuses_executable_head(xgb_copy, tmp_path, kind, file, make, match):
    marker = tmp_path / "marker.txt"
    (xgb_copy / "arousal.ubj").unlink()
    (xgb_copy / file).write_bytes(make(marker))
    meta = _meta(xgb_copy)
    meta["heads"]["arousal"].update(kind=kind, file=file)
    _write_meta(xgb_copy, meta)
    _rehash(xgb_copy, "arousal")
    try:
        with pytest.raises(BundleError, match=match):
            load_model(xgb_copy, cache=False)
    finally:
        ran = marker.exists()
        marker.unlink(missing_ok=True)
    assert not ran, "loading the bundle ran code from its head file"


def test_skops_head_with_foreign_type_refused(sk_copy, tmp_path):
    """An sklearn head file rewritten to hold a non-sklearn object is refused (by type)."""
    marker = tmp_path / "marker.txt"
    (sk_copy / "valence.skops").write_bytes(_skops_custom_type(marker))
    _rehash(sk_copy, "valence")
    with pytest.raises(BundleError, match=r"valence\.skops: refuses to load types"):
        load_model(sk_copy, cache=False)
    assert not marker.exists()


# ---- predicting with mismatched features -------------------------------------------------------


def test_predict_features_missing_columns(saved):
    bundle, path = saved["xgboost"]
    X, _ = _features(n=5)  # noqa: N806
    with pytest.raises(BundleError, match=r"features do not match the model: .*arousal\.zcr"):
        load_model(path, cache=False).predict_features(X.drop(columns=["arousal.zcr.mean"]))


def test_predict_features_fingerprint_mismatch(saved):
    bundle, _ = saved["xgboost"]
    X, _ = _features(n=5)  # noqa: N806
    with pytest.raises(BundleError, match="features were extracted with fingerprint 0000"):
        bundle.predict_features(X, fingerprint="0000")
    table = bundle.predict_features(X, fingerprint=bundle.fingerprint)
    assert len(table) == 5


# ---- valence by arousal ------------------------------------------------------------------------


def test_by_arousal_bundle_stores_both_sides(saved):
    _, path = saved["by_arousal"]
    sides = _meta(path)["heads"]["valence"]["sides"]
    assert set(sides) == {"high", "low"}
    for entry in sides.values():
        assert (path / entry["file"]).is_file()
        assert entry["sha256"] == hashlib.sha256((path / entry["file"]).read_bytes()).hexdigest()


def test_refuses_edited_side_file(saved, tmp_path):
    import shutil

    path = Path(shutil.copytree(saved["by_arousal"][1], tmp_path / "copy"))
    side = _meta(path)["heads"]["valence"]["sides"]["low"]["file"]
    with open(path / side, "ab") as fh:
        fh.write(b"x")
    with pytest.raises(BundleError, match=r"valence\.low\.ubj: contents differ from the"):
        load_model(path, cache=False)


def test_refuses_sides_that_do_not_match_the_config(saved, tmp_path):
    import shutil

    path = Path(shutil.copytree(saved["by_arousal"][1], tmp_path / "copy"))
    meta = _meta(path)
    del meta["heads"]["valence"]["sides"]
    _write_meta(path, meta)
    with pytest.raises(BundleError, match="arousal sides do not match"):
        load_model(path, cache=False)


# ---- calibration and integrity -----------------------------------------------------------------


def test_calibration_survives_save_and_load(saved):
    bundle, path = saved["by_arousal"]
    loaded = load_model(path, cache=False)
    assert set(bundle.estimator.coordinates_) == {"valence", "arousal"}
    assert loaded.estimator.coordinates_ == bundle.estimator.coordinates_
    assert loaded.estimator.confidence_ == bundle.estimator.confidence_
    X, _ = _features(n=25, seed=2)  # noqa: N806
    pd.testing.assert_frame_equal(
        loaded.estimator.predict_table(X), bundle.estimator.predict_table(X)
    )


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda m: m["heads"]["valence"]["coordinates"]["y"].__setitem__(0, -0.99), "edited"),
        (lambda m: m["heads"]["arousal"]["confidence"].__setitem__("slope", 0.5), "edited"),
        (lambda m: m["thresholds"].__setitem__("arousal", -0.3), "edited"),
        (lambda m: m["thresholds"].__setitem__("valence", float("nan")), "finite number"),
        (lambda m: m["heads"]["valence"]["coordinates"].pop("y"), "calibration is damaged"),
    ],
)
def test_refuses_edited_calibration_or_thresholds(xgb_copy, edit, match):
    meta = _meta(xgb_copy)
    edit(meta)
    _write_meta(xgb_copy, meta)
    with pytest.raises(BundleError, match=match):
        load_model(xgb_copy, cache=False)


# ---- the metadata's schema and the manifest (issue 18) -----------------------------------------


def test_shipped_model_has_a_manifest():
    from va_mood.api import DEFAULT_MODEL

    meta = _meta(DEFAULT_MODEL)
    assert meta["format_version"] == FORMAT_VERSION == 3
    assert set(meta["manifest"]["files"]) == {
        "MODEL_CARD.md", "arousal.ubj", "valence.ubj", "valence.high.ubj", "valence.low.ubj"
    }  # fmt: skip
    load_model(DEFAULT_MODEL, cache=False)


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda p: _edit_json(p, lambda m: m["thresholds"].update(arousal=-0.95)), "manifest"),
        (lambda p: _edit_json(p, lambda m: m.update(about="trained on everything")), "manifest"),
        (lambda p: (p / "MODEL_CARD.md").write_text("# a better model\n"), r"MODEL_CARD\.md"),
        (lambda p: (p / "MODEL_CARD.md").unlink(), r"file MODEL_CARD\.md is missing"),
    ],
    ids=["threshold", "about", "card-edited", "card-removed"],
)
def test_unsealed_edits_are_refused(xgb_copy, edit, match):
    """Any change to any file of the bundle, the metadata included, is refused."""
    load_model(xgb_copy, cache=False)
    edit(xgb_copy)
    with pytest.raises(BundleError, match=match):
        load_model(xgb_copy, cache=False)


def _edit_json(path: Path, change) -> None:
    meta = _meta(path)
    change(meta)
    _write_meta(path, meta, seal=False)


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda m: m["thresholds"].update(valence="abc"), "valence threshold must be a number"),
        (lambda m: m["thresholds"].update(valence="NaN"), "valence threshold must be a number"),
        (lambda m: m["thresholds"].update(valence=True), "valence threshold must be a number"),
        (lambda m: m["thresholds"].update(arousal=1.5), r"inside \(-1, 1\)"),
        (lambda m: m["heads"]["arousal"].update(sigma=-1.0), "sigma must be a positive"),
        (lambda m: m["heads"]["arousal"].update(mode="ordinal"), "mode must be one of"),
        (lambda m: m["heads"]["arousal"].update(sha256="abc"), "not a SHA-256"),
        (lambda m: m["heads"]["arousal"].update(columns="arousal.rms"), "list of names"),
        (lambda m: m.update(metrics=[]), "metrics must be a JSON dict"),
        (lambda m: m.update(surprise=1), "unknown field 'surprise'"),
        (lambda m: m["config"]["analysis"].update(n_fft="abc"), "n_fft must be an integer"),
        (lambda m: m["config"]["analysis"].update(sr=22050.5), "sr must be an integer"),
        (lambda m: m["config"].update(seed="x"), "seed"),
        (lambda m: m["labels"].update(scale_max="9"), "scale_max must be a finite number"),
        (lambda m: m["heads"]["arousal"]["confidence"].update(slope=1e999), "finite number"),
        (lambda m: m["heads"]["arousal"].update(mode="regression"), "does not match its config"),
    ],
)
def test_sealed_but_invalid_metadata_is_refused(xgb_copy, edit, match):
    """Edits that come with a recomputed manifest still meet the schema: one clear line."""
    meta = _meta(xgb_copy)
    edit(meta)
    _write_meta(xgb_copy, meta)
    with pytest.raises(BundleError, match=match):
        load_model(xgb_copy, cache=False)


def test_regression_mode_on_a_classifier_file_is_refused(xgb_copy):
    meta = _meta(xgb_copy)
    meta["heads"]["arousal"]["mode"] = "regression"
    meta["config"]["arousal"]["mode"] = "regression"
    _write_meta(xgb_copy, meta)
    with pytest.raises(BundleError, match=r"arousal\.ubj: holds .* cannot be a regression head"):
        load_model(xgb_copy, cache=False)


def test_cli_names_an_edited_bundle_in_one_line(xgb_copy, tmp_path):
    from typer.testing import CliRunner

    from va_mood.cli import app

    _edit_json(xgb_copy, lambda m: m["thresholds"].update(valence="abc"))
    clip = tmp_path / "clip.wav"
    import soundfile as sf

    sf.write(clip, np.sin(np.arange(22050 * 2) / 9.0) * 0.3, 22050)
    result = CliRunner().invoke(app, ["predict", str(clip), "--model", str(xgb_copy), "--no-cache"])
    assert result.exit_code == 3
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.output
    assert result.stderr.startswith("error: ") and "bundle.json" in result.stderr


def test_musicnn_weights_are_hash_checked(tmp_path, monkeypatch):
    from va_mood.features import musicnn

    copy = tmp_path / "msd_musicnn.npz"
    copy.write_bytes(musicnn.WEIGHTS.read_bytes() + b"\0")
    monkeypatch.setattr(musicnn, "WEIGHTS", copy)
    musicnn._weights.cache_clear()
    try:
        with pytest.raises(BundleError, match=r"msd_musicnn\.npz: contents differ from the hash"):
            musicnn._weights()
    finally:
        musicnn._weights.cache_clear()


def test_format_2_bundle_without_manifest_still_loads(xgb_copy):
    meta = _meta(xgb_copy)
    del meta["manifest"]
    meta["format_version"] = 2
    _write_meta(xgb_copy, meta)
    assert load_model(xgb_copy, cache=False).estimator.head_modes()["arousal"] == "binary"
