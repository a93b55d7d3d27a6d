"""The feature cache reads only the rows a run asks for, and the same values as a full read."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import soundfile as sf

from va_mood.config import AnalysisConfig
from va_mood.extraction import cache as cache_module
from va_mood.extraction.batch import extract_files
from va_mood.extraction.cache import ROW_GROUP, FeatureCache, file_key
from va_mood.features.registry import REGISTRY, columns_for

CONFIG = AnalysisConfig()
GROUPS = ["arousal.rms", "arousal.zcr"]


@pytest.fixture
def library(tmp_path):
    """A cache of 3 segments: 3 row groups' worth of files, then two updates of some."""
    folder = tmp_path / "cache"
    cache = FeatureCache(folder, CONFIG)
    width = len(columns_for(GROUPS))
    for k in range(3 * ROW_GROUP):
        cache.put(f"song{k}", GROUPS, np.full(width, float(k)))
    cache.save()
    cache.put("song5", ["arousal.rms"], np.full(len(columns_for(["arousal.rms"])), -5.0))
    cache.save()
    cache.put("new", GROUPS, np.full(width, 0.5))
    cache.save()
    return folder


def test_only_the_rows_asked_for_are_read_and_they_equal_a_full_read(library, monkeypatch):
    read_groups = []
    original = pq.ParquetFile.read_row_groups

    def spy(self, groups, *args, **kwargs):
        read_groups.append(list(groups))
        return original(self, groups, *args, **kwargs)

    monkeypatch.setattr(pq.ParquetFile, "read_row_groups", spy)
    everything = FeatureCache(library, CONFIG)
    wanted = {"song5", f"song{2 * ROW_GROUP + 1}", "new", "not cached"}
    some = FeatureCache(library, CONFIG, keys=wanted)
    assert everything.rows == 3 * ROW_GROUP + 1
    assert some.rows == 3  # the three that are cached
    assert read_groups == [[0, 2], [0], [0]]  # of the big segment, only the groups holding them
    for key in wanted:
        assert _same(some.lookup(key, GROUPS), everything.lookup(key, GROUPS))
    values, missing = some.lookup("song5", GROUPS)
    assert missing == [] and values[0] == -5.0 and values[-1] == 5.0  # the later segment's rms
    assert some.lookup("song7", GROUPS) == (None, GROUPS)  # not asked for: not read


def test_a_segment_pandas_wrote_is_read_by_key(tmp_path):
    """Segments of earlier versions were written through pandas, the keys as its index."""
    cache = FeatureCache(tmp_path, CONFIG)
    columns = columns_for(["arousal.rms"])
    table = pd.DataFrame(np.arange(2.0)[:, None] * np.ones(len(columns)), columns=columns)
    table.index = pd.Index(["a", "b"], name="key")
    arrow = pa.Table.from_pandas(table)
    versions = f'{{"arousal.rms": {REGISTRY["arousal.rms"].version}}}'.encode()
    arrow = arrow.replace_schema_metadata(
        {**arrow.schema.metadata, cache_module.GROUP_VERSIONS_KEY: versions}
    )
    cache.folder.mkdir(parents=True)
    pq.write_table(arrow, cache.folder / "0-old.parquet")
    some = FeatureCache(tmp_path, CONFIG, keys={"b"})
    assert some.rows == 1
    assert some.lookup("b", ["arousal.rms"])[0][0] == 1.0


def test_saved_rows_are_found_again_with_their_keys(tmp_path):
    cache = FeatureCache(tmp_path, CONFIG, keys={"x"})
    assert cache.rows == 0
    cache.put("x", ["arousal.zcr"], np.arange(len(columns_for(["arousal.zcr"])), dtype=float))
    cache.save()
    assert cache.lookup("x", ["arousal.zcr"])[1] == []
    again = FeatureCache(tmp_path, CONFIG, keys={"x"})
    np.testing.assert_array_equal(
        again.lookup("x", ["arousal.zcr"])[0], cache.lookup("x", ["arousal.zcr"])[0]
    )


@pytest.fixture
def paths(tmp_path) -> list[str]:
    """Five one-second WAV files of noise."""
    made = []
    for k in range(5):
        path = tmp_path / f"song{k}.wav"
        sf.write(path, np.random.default_rng(k).standard_normal(22050) * 0.1, 22050)
        made.append(str(path))
    return made


def _same(a, b) -> bool:
    (va, ma), (vb, mb) = a, b
    return ma == mb and (va is None and vb is None or np.array_equal(va, vb))


def test_a_run_leaves_one_segment_however_many_checkpoints(paths, tmp_path):
    """Each checkpoint writes a segment; at its end a run merges its own into one."""
    folder = tmp_path / "cache"
    other = FeatureCache(folder, CONFIG)  # another run's segment, left alone
    other.put("elsewhere", ["arousal.rms"], np.zeros(len(columns_for(["arousal.rms"]))))
    other.save()
    table, errors = extract_files(
        paths, config=CONFIG, groups=["arousal.rms"], jobs=1, cache_dir=folder, checkpoint=2
    )
    assert errors == {} and len(table) == 5
    assert len(list(other.folder.glob("*.parquet"))) == 2  # the other run's, and this run's
    cache = FeatureCache(folder, CONFIG)
    assert cache.rows == 6
    for path, row in table.iterrows():
        np.testing.assert_array_equal(cache.lookup(file_key(path), ["arousal.rms"])[0], row)


def test_a_cached_batch_is_reported_as_it_is_hashed_not_after_every_file(
    paths, tmp_path, monkeypatch
):
    """A large cached library: progress moves while the files are hashed, a batch at a time."""
    from va_mood.extraction import batch as extract_module

    folder = tmp_path / "cache"
    extract_files(paths, config=CONFIG, groups=["arousal.rms"], jobs=1, cache_dir=folder)
    events = []
    monkeypatch.setattr(extract_module, "PLAN_BATCH", 2)
    monkeypatch.setattr(
        extract_module, "file_key", lambda path: events.append(("hash", path)) or file_key(path)
    )
    extract_files(
        paths,
        config=CONFIG,
        groups=["arousal.rms"],
        jobs=1,
        cache_dir=folder,
        progress=lambda path, error: events.append(("done", path)),
    )
    kinds = "".join(kind[0] for kind, _ in events)
    assert kinds == "hhddhhhddd"  # batches of 2, then 4 (3 left)
    assert [path for kind, path in events if kind == "done"] == paths
