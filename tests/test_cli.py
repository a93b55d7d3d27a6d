"""The command line: exit codes, machine-readable output, one line per bad input."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from va_mood.cli import app

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "data" / "examples"
PREDICTION_COLUMNS = [
    "path",
    "valence",
    "arousal",
    "quadrant",
    "mood",
    "valence_confidence",
    "arousal_confidence",
]
COMMANDS = sorted(c.name or c.callback.__name__ for c in app.registered_commands)


@pytest.fixture(scope="module")
def runner() -> CliRunner:
    return CliRunner()


def _run(runner: CliRunner, *args) -> object:
    return runner.invoke(app, [str(a) for a in args])


QUADRANT_PROBABILITIES = ["p_uplifting", "p_aggressive", "p_melancholic", "p_calm"]


def _check_predictions(table: pd.DataFrame, n: int) -> None:
    assert list(table.columns) == PREDICTION_COLUMNS + QUADRANT_PROBABILITIES  # binary heads
    assert np.allclose(table[QUADRANT_PROBABILITIES].sum(axis=1), 1.0, atol=1e-3)
    assert len(table) == n
    for column in ("valence", "arousal"):
        assert table[column].between(-1.0, 1.0).all()
    for column in ("valence_confidence", "arousal_confidence"):
        assert table[column].between(0.5, 1.0).all()
    assert set(table["quadrant"]) <= {"Q1", "Q2", "Q3", "Q4"}
    moods = {"Q1": "Uplifting", "Q2": "Aggressive", "Q3": "Melancholic", "Q4": "Calm"}
    assert table["mood"].tolist() == [moods[q] for q in table["quadrant"]]


def test_command_list():
    assert {"predict", "extract", "train", "evaluate"} <= set(COMMANDS)


def test_main_help(runner):
    result = _run(runner, "--help")
    assert result.exit_code == 0
    for command in COMMANDS:
        assert command in result.output


@pytest.mark.parametrize("command", COMMANDS)
def test_command_help(runner, command):
    result = _run(runner, command, "--help")
    assert result.exit_code == 0
    assert "Usage" in result.output
    assert "Traceback" not in result.output


def test_import_cli_is_light():
    code = (
        "import sys, va_mood.cli\n"
        "heavy = ['librosa', 'xgboost', 'sklearn', 'pandas', 'numpy', 'scipy']\n"
        "print(','.join(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    loaded = set(out.stdout.strip().split(",")) - {""}
    assert not loaded & {"librosa", "xgboost", "sklearn", "pandas"}


# ---- predict with the shipped model ------------------------------------------------------------


@pytest.fixture(scope="module")
def example_predictions(runner, tmp_path_factory) -> dict[str, tuple]:
    out = tmp_path_factory.mktemp("predict")
    results = {}
    for fmt in ("csv", "json"):
        path = out / f"predictions.{fmt}"
        result = _run(runner, "predict", EXAMPLES, "--format", fmt, "--output", path, "--no-cache")
        results[fmt] = (result, path)
    return results


def test_predict_examples_csv(example_predictions):
    result, path = example_predictions["csv"]
    assert result.exit_code == 0, result.output
    table = pd.read_csv(path)
    _check_predictions(table, 4)
    assert sorted(Path(p).name for p in table["path"]) == sorted(
        p.name for p in EXAMPLES.glob("*.mp3")
    )


def test_predict_examples_json(example_predictions):
    result, path = example_predictions["json"]
    assert result.exit_code == 0, result.output
    data = json.loads(path.read_text())
    assert data["errors"] == []
    assert data["model"] == "default"
    table = pd.DataFrame(data["predictions"])
    _check_predictions(table, 4)


def test_predict_formats_agree(example_predictions):
    csv = pd.read_csv(example_predictions["csv"][1])
    js = pd.DataFrame(json.loads(example_predictions["json"][1].read_text())["predictions"])
    assert csv["path"].tolist() == js["path"].tolist()
    assert csv["quadrant"].tolist() == js["quadrant"].tolist()
    np.testing.assert_allclose(csv["valence"], js["valence"], atol=1e-4)


@pytest.fixture
def mixed_folder(corpus, tmp_path) -> Path:
    folder = tmp_path / "mixed"
    folder.mkdir()
    shutil.copy(corpus.paths[0], folder / "good.wav")
    (folder / "empty.mp3").touch()
    (folder / "text.mp3").write_text("not audio at all\n" * 50)
    return folder


def test_predict_partial_failure(runner, mixed_folder, tmp_path):
    output = tmp_path / "out.csv"
    errors = tmp_path / "errors.json"
    result = _run(
        runner,
        "predict",
        mixed_folder,
        "-f",
        "csv",
        "-o",
        output,
        "--errors",
        errors,
        "--no-cache",
    )
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "empty.mp3" in result.output
    assert "text.mp3" in result.output
    table = pd.read_csv(output)
    _check_predictions(table, 1)
    assert Path(table["path"][0]).name == "good.wav"
    rows = json.loads(errors.read_text())
    assert sorted(Path(r["path"]).name for r in rows) == ["empty.mp3", "text.mp3"]
    assert all(r["error"] for r in rows)
    messages = {Path(r["path"]).name: r["error"] for r in rows}
    assert "empty file" in messages["empty.mp3"]
    assert "cannot decode" in messages["text.mp3"]


def test_predict_partial_json_lists_errors(runner, mixed_folder):
    result = _run(runner, "predict", mixed_folder, "-f", "json", "--no-cache")
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    start = result.stdout.index("{")
    data = json.loads(result.stdout[start:])
    assert len(data["predictions"]) == 1
    assert sorted(Path(e["path"]).name for e in data["errors"]) == ["empty.mp3", "text.mp3"]


def test_predict_only_bad_files(runner, mixed_folder, tmp_path):
    (mixed_folder / "good.wav").unlink()
    errors = tmp_path / "errors.json"
    output = tmp_path / "out.csv"
    result = _run(runner, "predict", mixed_folder, "-o", output, "--errors", errors, "--no-cache")
    assert result.exit_code == 3
    assert "Traceback" not in result.output
    assert "no input could be predicted" in result.output
    assert not output.exists()
    assert len(json.loads(errors.read_text())) == 2


def test_predict_nothing_found(runner, tmp_path):
    result = _run(runner, "predict", tmp_path, "--no-cache")
    assert result.exit_code == 3
    assert "folder holds no audio files" in result.output
    assert "Traceback" not in result.output


def test_predict_bad_model(runner, tmp_path, corpus):
    result = _run(runner, "predict", corpus.paths[0], "--model", tmp_path, "--no-cache")
    assert result.exit_code == 3
    assert "not a model bundle" in result.output
    assert "Traceback" not in result.output


def test_predict_table_format(runner, corpus):
    result = _run(runner, "predict", corpus.paths[0], "--no-cache")
    assert result.exit_code == 0, result.output
    assert corpus.paths[0].name in result.stdout
    assert "valence" in result.stdout


# ---- extract, train, evaluate on the synthetic corpus ------------------------------------------


def test_extract_parquet(runner, corpus, tmp_path):
    from va_mood.config import load_config
    from va_mood.extraction.table import FINGERPRINT_KEY
    from va_mood.features import columns_for

    config = load_config(corpus.config)
    output = tmp_path / "features.parquet"
    files = corpus.paths[:3]
    result = _run(
        runner, "extract", *files, "-o", output, "--config", corpus.config, "--cache", corpus.cache
    )
    assert result.exit_code == 0, result.output
    table = pd.read_parquet(output)
    assert list(table.columns) == ["path", *columns_for(config.groups)]
    assert table["path"].tolist() == [str(p) for p in files]
    assert np.isfinite(table.drop(columns="path").to_numpy()).all()
    metadata = pq.read_schema(output).metadata
    assert metadata[FINGERPRINT_KEY] == config.analysis.fingerprint(config.groups).encode()


def test_extract_partial(runner, corpus, mixed_folder, tmp_path):
    output = tmp_path / "features.parquet"
    result = _run(
        runner, "extract", mixed_folder, "-o", output, "--config", corpus.config, "--no-cache"
    )
    assert result.exit_code == 1
    assert len(pd.read_parquet(output)) == 1
    assert "Traceback" not in result.output


@pytest.fixture(scope="module")
def cli_trained(runner, corpus, tmp_path_factory) -> tuple:
    output = tmp_path_factory.mktemp("cli_train") / "model"
    result = _run(
        runner,
        "train",
        "--labels",
        corpus.labels_csv,
        "--audio",
        corpus.audio,
        "--labels-spec",
        corpus.spec,
        "--config",
        corpus.config,
        "--cache",
        corpus.cache,
        "--output",
        output,
    )
    return result, output


def test_train_writes_bundle(cli_trained):
    from va_mood.api import load_model

    result, output = cli_trained
    assert result.exit_code == 0, result.output
    assert "quadrant_macro_f1" in result.output
    bundle = load_model(output, cache=False)
    assert bundle.config.evaluation.n_splits == 3
    assert bundle.metrics["n_clips"] == 24
    assert bundle.metrics["n_groups"] == 12


def test_predict_with_trained_model(runner, cli_trained, corpus, tmp_path):
    _, model = cli_trained
    output = tmp_path / "pred.csv"
    result = _run(
        runner, "predict", corpus.audio, "--model", model, "-f", "csv", "-o", output, "--no-cache"
    )
    assert result.exit_code == 0, result.output
    table = pd.read_csv(output)
    _check_predictions(table, 24)
    truth = {f"{row['song_id']}.wav": row["quadrant"] for row in corpus.rows}
    predicted = dict(zip((Path(p).name for p in table["path"]), table["quadrant"], strict=True))
    # trained on these very clips, the model gets (nearly) all of them right
    assert np.mean([predicted[k] == q for k, q in truth.items()]) >= 0.9


def _evaluate_args(corpus, config) -> list:
    """``evaluate`` on the synthetic corpus with ``config``."""
    return [
        "evaluate", "--labels", corpus.labels_csv, "--audio", corpus.audio,
        "--labels-spec", corpus.spec, "--config", config, "--cache", corpus.cache,
    ]  # fmt: skip


def test_evaluate_report(runner, corpus, tmp_path):
    report = tmp_path / "report.json"
    result = _run(runner, *_evaluate_args(corpus, corpus.config), "--report", report)
    assert result.exit_code == 0, result.output
    assert "quadrant_macro_f1" in result.stdout
    data = json.loads(report.read_text())
    assert {"summary", "per_class", "confusion"} <= set(data)
    assert set(data["per_class"]) == {"Q1", "Q2", "Q3", "Q4"}
    assert np.sum(data["confusion"]) == 24
    assert data["n_clips"] == 24
    assert data["n_groups"] == 12
    # the synthetic classes are built to be learnable from the article's features
    assert data["summary"]["quadrant_macro_f1"]["mean"] > 0.6
    assert data["summary"]["arousal_accuracy"]["mean"] > 0.8


def test_evaluate_regression(runner, corpus, tmp_path):
    report = tmp_path / "report.json"
    result = _run(runner, *_evaluate_args(corpus, corpus.regression), "--report", report)
    assert result.exit_code == 0, result.output
    assert "valence_r2" in result.stdout
    summary = json.loads(report.read_text())["summary"]
    assert {"valence_r2", "arousal_r2", "valence_rmse", "arousal_rmse"} <= set(summary)
    assert summary["arousal_r2"]["mean"] > 0.0


def test_evaluate_bad_config(runner, corpus, tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text(
        '[arousal]\ngroups = ["arousal.nope"]\n[valence]\ngroups = ["valence.chroma"]\n'
    )
    result = _run(
        runner,
        "evaluate",
        "--labels",
        corpus.labels_csv,
        "--audio",
        corpus.audio,
        "--config",
        config,
        "--no-cache",
    )
    assert result.exit_code == 3
    assert "unknown feature group(s) ['arousal.nope']" in result.output
    assert "Traceback" not in result.output


def test_evaluate_missing_labels(runner, corpus, tmp_path):
    result = _run(
        runner,
        "evaluate",
        "--labels",
        tmp_path / "nope.csv",
        "--audio",
        corpus.audio,
        "--config",
        corpus.config,
        "--no-cache",
    )
    assert result.exit_code == 3
    assert "no such labels file" in result.output
