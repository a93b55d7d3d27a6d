"""Extraction at scale: computed once, all cores, killed and resumed, long files in blocks, Dask."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from typer.testing import CliRunner

from va_mood.audio.decode import load, stream
from va_mood.cli import app
from va_mood.config import AnalysisConfig, load_config
from va_mood.errors import ParameterError
from va_mood.extraction import batch as extract_module
from va_mood.extraction.batch import extract_files
from va_mood.extraction.cache import FeatureCache, file_key
from va_mood.extraction.long_files import SAMPLED_PER_BLOCK, TOLERANCE, extract_blocks
from va_mood.features import REGISTRY, analysis, columns_for, extract_clip
from va_mood.features.analysis import Analysis
from va_mood.util.threads import n_jobs

SR = 22050
CONFIG = AnalysisConfig(sr=SR)
GROUPS = sorted(REGISTRY)


def _music(seconds: float, seed: int = 0) -> np.ndarray:
    """Chords changing every 2 s over a 120 BPM click and a little noise: every group has
    something to measure."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    y = np.zeros_like(t)
    for k, start in enumerate(np.arange(0.0, seconds, 2.0)):
        root = 220.0 * 2 ** (rng.integers(0, 12) / 12)
        third = 4 if k % 2 else 3
        part = (t >= start) & (t < start + 2.0)
        for s in (0, third, 7):
            y[part] += np.sin(2 * np.pi * root * 2 ** (s / 12) * t[part]) / 3
    clicks = (t % 0.5) < 0.01
    y = 0.4 * y + 0.5 * clicks * rng.standard_normal(len(t)) + 0.01 * rng.standard_normal(len(t))
    return np.clip(y, -1, 1).astype(np.float32)


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    folder = tmp_path_factory.mktemp("clips")
    paths = []
    for k in range(6):
        path = folder / f"clip_{k}.wav"
        sf.write(path, _music(2.0 + 0.5 * k, seed=k), SR)
        paths.append(str(path))
    return paths


def test_spectral_peaks_found_once(monkeypatch):
    calls = []
    original = analysis.spectral_peaks

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(analysis, "spectral_peaks", counting)
    extract_clip(
        _music(2.0), SR, config=CONFIG, groups=["valence.dissonance", "valence.harmonicity"]
    )
    assert len(calls) == 1


def test_n_jobs_default_is_every_core():
    assert n_jobs(None) == n_jobs(0) == (os.cpu_count() or 1)
    assert n_jobs(2) == 2


def test_two_jobs_equal_one_exactly(clips):
    one, errors_one = extract_files(clips, config=CONFIG, groups=GROUPS, jobs=1)
    two, errors_two = extract_files(clips, config=CONFIG, groups=GROUPS, jobs=2)
    assert errors_one == errors_two == {}
    pd.testing.assert_frame_equal(one, two, check_exact=True)


@pytest.mark.skipif(
    not os.path.isdir("/proc/self/task") or (os.cpu_count() or 1) < 2,
    reason="counts threads in /proc; needs two cores for a threaded BLAS",
)
def test_workers_inherit_one_blas_thread_without_starting_any(clips, scratch_registry):
    # Setting the limit again in a forked worker restarts OpenBLAS's threads, which then spin
    # for some 0.1 s each, on the cores the other workers need: a worker must inherit it.
    from threadpoolctl import threadpool_info

    from va_mood.features.registry import feature

    @feature("arousal", "test_threads", stats=None, dims=("threads", "blas"))
    def threads(*, y: np.ndarray) -> np.ndarray:
        square = np.ones((300, 300))
        square @ square  # a matrix product, as the tagger's
        blas = max(pool["num_threads"] for pool in threadpool_info())
        return np.array([len(os.listdir("/proc/self/task")), blas], dtype=float)

    square = np.ones((300, 300))
    square @ square  # this process's own BLAS threads running
    table, errors = extract_files(clips, config=CONFIG, groups=["arousal.test_threads"], jobs=2)
    assert errors == {}
    assert table["arousal.test_threads.blas"].eq(1).all()  # one BLAS thread in each worker
    assert table["arousal.test_threads.threads"].eq(1).all()  # and no thread started for it


def test_workers_get_the_largest_files_first(tmp_path):
    sizes = {"short.wav": 100, "long.wav": 900, "middle.wav": 500}
    for name, size in sizes.items():
        (tmp_path / name).write_bytes(b"x" * size)
    todo = [(str(tmp_path / name), ["arousal.rms"]) for name in [*sizes, "missing.wav"]]
    ordered = [os.path.basename(path) for path, _ in extract_module._longest_first(todo)]
    assert ordered == ["long.wav", "middle.wav", "short.wav", "missing.wav"]


def test_errors_come_in_the_order_of_the_paths(clips, tmp_path):
    broken = []
    for k in range(4):  # growing sizes: the workers get them in the reverse order
        path = tmp_path / f"broken_{k}.wav"
        path.write_bytes(b"not audio " * (10 + 50 * k))
        broken.append(str(path))
    paths = [clips[0], broken[0], broken[1], clips[1], broken[2], broken[3]]
    table, errors = extract_files(paths, config=CONFIG, groups=["arousal.rms"], jobs=2)
    assert list(errors) == broken
    assert list(table.index) == [clips[0], clips[1]]


def test_blocks_match_whole_clip():
    y = _music(20.0)
    whole = extract_clip(y, SR, config=CONFIG, groups=GROUPS)
    pieces = np.array_split(y, 7)  # chunk edges fall anywhere, not on frames
    blocks = extract_blocks(pieces, SR, config=CONFIG, groups=GROUPS, block_seconds=3.0)
    columns = np.array(columns_for(GROUPS))
    sampled = np.isin(columns, columns_for(sorted(SAMPLED_PER_BLOCK)))
    close = np.isclose(blocks, whole, **TOLERANCE) | sampled
    assert close.all(), list(zip(columns[~close], whole[~close], blocks[~close], strict=True))
    # the tagger runs on other patches in blocks: its tag probabilities are estimates of the
    # whole-file ones, not equal to them (same steady music throughout, so close)
    tags = np.char.startswith(columns.astype(str), "embedding.msd_tags_") & np.char.endswith(
        columns.astype(str), ".mean"
    )
    assert tags.sum() == 50 and np.abs(blocks[tags] - whole[tags]).max() < 0.1
    assert not np.array_equal(blocks[sampled], whole[sampled])


def test_blocks_refuse_a_short_signal():
    with pytest.raises(ParameterError, match="too short"):
        extract_blocks([np.zeros(100, np.float32)], SR, config=CONFIG, groups=["arousal.rms"])


def test_stream_equals_load(tmp_path):
    path = tmp_path / "a.wav"
    sf.write(path, np.stack([_music(3.0), _music(3.0, seed=1)], axis=1), 44100)
    y, _ = load(path, sr=SR)
    streamed = np.concatenate(list(stream(path, sr=SR, chunk_seconds=0.7)))
    assert len(streamed) == len(y)
    np.testing.assert_allclose(streamed, y, atol=1e-5)


def test_long_file_extracted_in_blocks(tmp_path, monkeypatch):
    path = tmp_path / "long.wav"
    sf.write(path, _music(12.0), SR)
    used = []
    original = extract_module.extract_long
    monkeypatch.setattr(
        extract_module, "extract_long", lambda *a, **k: used.append(1) or original(*a, **k)
    )
    blocks, _ = extract_files([path], config=CONFIG, groups=GROUPS, jobs=1, long_file=10.0)
    whole, _ = extract_files([path], config=CONFIG, groups=GROUPS, jobs=1, long_file=None)
    assert used == [1]
    np.testing.assert_allclose(blocks.to_numpy(), whole.to_numpy(), **TOLERANCE)


KILLED_RUN = """
import sys
from va_mood.config import AnalysisConfig
from va_mood.extraction.batch import extract_files

def progress(path, error):
    print("done", path, flush=True)

extract_files(sys.argv[2:], config=AnalysisConfig(), groups={groups!r}, jobs=1,
              cache_dir=sys.argv[1], checkpoint=2, progress=progress)
"""


def test_sigkill_leaves_a_usable_cache(tmp_path, monkeypatch):
    groups = ["arousal.rms", "valence.chroma"]
    paths = []
    for k in range(16):
        path = tmp_path / f"song_{k:02d}.wav"
        sf.write(path, _music(1.0, seed=k), SR)
        paths.append(str(path))
    cache_dir = tmp_path / "cache"
    script = textwrap.dedent(KILLED_RUN.format(groups=groups))
    child = subprocess.Popen(
        [sys.executable, "-c", script, str(cache_dir), *paths],
        stdout=subprocess.PIPE,
        text=True,
    )
    done = 0
    for line in child.stdout:
        done += line.startswith("done")
        if done == 3:  # past the first checkpoint (after two files)
            child.send_signal(signal.SIGKILL)
            break
    child.wait(timeout=60)
    assert child.returncode == -signal.SIGKILL
    cache = FeatureCache(cache_dir, CONFIG)
    segments = sorted(cache.folder.glob("*.parquet"))
    assert segments
    cached = sum(len(pd.read_parquet(s)) for s in segments)  # readable, not half-written
    assert 2 <= cached < len(paths)
    assert cache.rows == cached
    extracted = []
    original = extract_module._extract_path
    monkeypatch.setattr(
        extract_module,
        "_extract_path",
        lambda path, *a: extracted.append(path) or original(path, *a),
    )
    table, errors = extract_files(paths, config=CONFIG, groups=groups, jobs=1, cache_dir=cache_dir)
    assert errors == {}
    assert len(table) == len(paths)
    assert len(extracted) == len(paths) - cached
    assert FeatureCache(cache_dir, CONFIG).rows == len(paths)


def test_dask_backend_same_rows_and_cache(clips, tmp_path, monkeypatch):
    """The library and ``va-mood extract --backend dask`` on a LocalCluster: the rows of a
    local run, and a cache a local run then reads."""
    distributed = pytest.importorskip("distributed")
    config_file = tmp_path / "config.toml"
    config_file.write_text(
        f"[arousal]\ngroups = {GROUPS[:5]!r}\n[valence]\ngroups = {GROUPS[5:]!r}\n".replace(
            "'", '"'
        )
    )
    groups = load_config(config_file).groups
    local, _ = extract_files(clips, config=CONFIG, groups=groups, jobs=1)
    cache_dir = tmp_path / "cache"
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        output = tmp_path / "features.parquet"
        result = CliRunner().invoke(
            app,
            ["extract", *clips, "-o", str(output), "--config", str(config_file), "--no-cache",
             "--backend", "dask", "--scheduler", cluster.scheduler_address],
        )  # fmt: skip
        on_dask, errors = extract_files(
            [*clips, str(tmp_path / "missing.wav")],
            config=CONFIG,
            groups=groups,
            cache_dir=cache_dir,
            backend="dask",
            scheduler=client,
        )
    assert list(errors) == [str(tmp_path / "missing.wav")]
    pd.testing.assert_frame_equal(on_dask, local, check_exact=True)
    assert result.exit_code == 0, result.output
    from_cli = pd.read_parquet(output).set_index("path")
    np.testing.assert_array_equal(from_cli.to_numpy(), local.to_numpy())
    extracted = []
    monkeypatch.setattr(extract_module, "_extract_path", lambda *a: extracted.append(a))
    again, _ = extract_files(clips, config=CONFIG, groups=groups, jobs=1, cache_dir=cache_dir)
    assert extracted == []
    pd.testing.assert_frame_equal(again, local, check_exact=True)


def test_unknown_backend():
    with pytest.raises(ParameterError, match="backend must be one of"):
        extract_files([], config=CONFIG, groups=GROUPS, backend="spark")
    with pytest.raises(ParameterError, match="needs a scheduler"):
        extract_files([], config=CONFIG, groups=GROUPS, backend="dask")


def _counting(monkeypatch) -> list[tuple[str, list[str]]]:
    """Record (path, groups) of each file extraction."""
    calls = []
    original = extract_module._extract_path

    def counting(path, config, groups, *rest):
        calls.append((path, list(groups)))
        return original(path, config, groups, *rest)

    monkeypatch.setattr(extract_module, "_extract_path", counting)
    return calls


def test_cache_extracts_only_missing_groups(clips, tmp_path, monkeypatch):
    cache_dir = tmp_path / "cache"
    first = ["arousal.rms", "valence.chroma"]
    both = ["arousal.rms", "valence.key", "valence.chroma"]
    calls = _counting(monkeypatch)
    extract_files(clips[:3], config=CONFIG, groups=first, jobs=1, cache_dir=cache_dir)
    assert calls == [(p, first) for p in clips[:3]]
    calls.clear()
    table, errors = extract_files(clips, config=CONFIG, groups=both, jobs=1, cache_dir=cache_dir)
    assert errors == {}
    assert calls == [(p, ["valence.key"]) for p in clips[:3]] + [(p, both) for p in clips[3:]]
    whole, _ = extract_files(clips, config=CONFIG, groups=both, jobs=1)
    pd.testing.assert_frame_equal(table, whole, check_exact=True)
    calls.clear()
    again, _ = extract_files(clips, config=CONFIG, groups=both, jobs=1, cache_dir=cache_dir)
    assert calls == []
    pd.testing.assert_frame_equal(again, whole, check_exact=True)
    # a new extractor version re-extracts that group only
    bumped = dataclasses.replace(REGISTRY["valence.key"], version=99)
    monkeypatch.setitem(REGISTRY, "valence.key", bumped)
    extract_files(clips[:2], config=CONFIG, groups=both, jobs=1, cache_dir=cache_dir)
    assert calls == [(p, ["valence.key"]) for p in clips[:2]]


def test_unreadable_cache_is_rebuilt(clips, tmp_path, monkeypatch):
    cache_dir = tmp_path / "cache"
    cache_dir.mkdir()
    folder = FeatureCache(cache_dir, CONFIG).folder
    folder.mkdir()
    (folder / "0-damaged.parquet").write_bytes(b"not parquet")
    calls = _counting(monkeypatch)
    table, _ = extract_files(
        clips[:2], config=CONFIG, groups=["arousal.rms"], jobs=1, cache_dir=cache_dir
    )
    assert len(calls) == 2 and len(table) == 2
    assert FeatureCache(cache_dir, CONFIG).rows == 2


def test_cqt_filter_banks_built_once_values_unchanged():
    from librosa.core import constantq

    original = vars(constantq)["__vqt_filter_fft"]
    y = _music(3.0)
    plain = Analysis(y, SR, CONFIG).C  # librosa as it is
    analysis._filter_banks.clear()
    with analysis.memoised_cqt_filters() as active:
        assert active
        fresh = Analysis(y, SR, CONFIG).C  # banks built by librosa itself
        built = len(analysis._filter_banks)
        assert built > 0
        again = Analysis(y, SR, CONFIG).C  # banks from the memo (librosa rescales them in place)
        assert len(analysis._filter_banks) == built
    np.testing.assert_array_equal(fresh, again)
    np.testing.assert_array_equal(plain, fresh)
    assert vars(constantq)["__vqt_filter_fft"] is original  # librosa given back as it was


FAULTS_AFTER_FREE = """
import resource, sys
import numpy as np
if sys.argv[1] == "keep":
    from va_mood.util.memory import keep_freed_memory
    keep_freed_memory()
for _ in range(3):  # a clip's arrays: allocated, written, freed, again for the next clip
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    block = np.ones(8 << 20)  # 64 MiB
    print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
    del block
"""


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or os.confstr("CS_GNU_LIBC_VERSION") is None,
    reason="glibc's malloc only",
)
def test_kept_memory_is_not_faulted_in_again():
    def faults(mode: str) -> list[int]:
        run = [sys.executable, "-c", FAULTS_AFTER_FREE, mode]
        return [int(n) for n in subprocess.run(run, capture_output=True, text=True).stdout.split()]

    default, kept = faults("default"), faults("keep")  # counts depend on page sizes (THP)
    assert len(default) == len(kept) == 3
    assert min(default) >= 100  # glibc unmapped the array: every reuse faults it in again
    assert kept[0] >= 100 and max(kept[1:]) <= kept[0] // 20  # kept: faulted in once


CONCURRENT_RUN = """
import sys, time
from pathlib import Path
from va_mood.config import AnalysisConfig
from va_mood.extraction.batch import extract_files

while not Path(sys.argv[1]).exists():  # start together
    time.sleep(0.01)
extract_files(sys.argv[3:], config=AnalysisConfig(), groups=["arousal.rms"], jobs=1,
              cache_dir=sys.argv[2], checkpoint=1)
"""


def test_two_runs_sharing_a_cache_lose_no_rows(tmp_path):
    """Two extractions at once, saving after every file into one cache: every row is kept."""
    paths = []
    for k in range(24):
        path = tmp_path / f"song_{k:02d}.wav"
        sf.write(path, _music(0.6, seed=100 + k), SR)
        paths.append(str(path))
    cache_dir, go = tmp_path / "cache", tmp_path / "go"
    runs = [
        subprocess.Popen([sys.executable, "-c", CONCURRENT_RUN, str(go), str(cache_dir), *part])
        for part in (paths[::2], paths[1::2])
    ]
    go.touch()
    assert [run.wait(timeout=300) for run in runs] == [0, 0]
    cache = FeatureCache(cache_dir, CONFIG)
    assert cache.rows == len(paths)
    keys = {file_key(p) for p in paths}
    assert all(cache.lookup(k, ["arousal.rms"])[0] is not None for k in keys)


def test_many_segments_are_compacted_and_old_caches_read(tmp_path):
    from va_mood.extraction.cache import MAX_SEGMENTS

    cache_dir = tmp_path / "cache"
    columns = columns_for(["arousal.rms"])
    old = FeatureCache(cache_dir, CONFIG)
    for k in range(MAX_SEGMENTS + 2):  # one segment per save
        old.put(f"key{k}", ["arousal.rms"], np.full(len(columns), float(k)))
        old.save()
    assert len(list(old.folder.glob("*.parquet"))) == MAX_SEGMENTS + 2
    # the single file an older va_mood wrote, beside them
    legacy = pd.DataFrame([np.full(len(columns), -1.0)], index=["legacy"], columns=columns)
    legacy.index.name = "key"
    legacy.to_parquet(old.legacy)
    import pyarrow.parquet as pq

    table = pq.read_table(old.legacy)
    versions = json.dumps({"arousal.rms": REGISTRY["arousal.rms"].version}).encode()
    metadata = {**table.schema.metadata, b"va_mood.group_versions": versions}
    pq.write_table(table.replace_schema_metadata(metadata), old.legacy)
    cache = FeatureCache(cache_dir, CONFIG)  # reads all, compacts into one
    assert cache.rows == MAX_SEGMENTS + 3
    assert list(cache.folder.glob("*.parquet")) and not old.legacy.exists()
    assert len(list(cache.folder.glob("*.parquet"))) == 1
    assert FeatureCache(cache_dir, CONFIG).lookup("legacy", ["arousal.rms"])[0][0] == -1.0


def test_segments_of_a_long_file_stream_through_blocks(tmp_path, monkeypatch):
    """--segment on a long file: the block analysis, window rows as the whole-clip windows."""
    from va_mood.extraction import long_files

    path = tmp_path / "long.wav"
    sf.write(path, _music(23.0, seed=3), SR)
    streamed = []
    original = long_files.extract_block_windows

    def small_blocks(*args, **kwargs):  # several blocks, windows across their joins
        streamed.append(1)
        return original(*args, **{**kwargs, "block_seconds": 4.0})

    monkeypatch.setattr(long_files, "extract_block_windows", small_blocks)
    blocks, _ = extract_files(
        [path], config=CONFIG, groups=GROUPS, jobs=1, long_file=10.0, segment=5.0, hop=3.0
    )
    whole, _ = extract_files(
        [path], config=CONFIG, groups=GROUPS, jobs=1, long_file=None, segment=5.0, hop=3.0
    )
    assert streamed == [1]
    assert list(blocks.index) == list(whole.index) and len(whole) == 7
    columns = np.array(columns_for(GROUPS))
    sampled = np.isin(columns, columns_for(sorted(SAMPLED_PER_BLOCK)))
    close = np.isclose(blocks.to_numpy(), whole.to_numpy(), **TOLERANCE) | sampled
    bad = sorted({c for c in columns[np.flatnonzero(~close.all(axis=0))]})
    assert close.all(), bad
