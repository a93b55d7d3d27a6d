"""Extraction speed and memory: a naive librosa reference against va_mood, in one run.

On the first ``-n`` clips of ``--folder`` (default: the 4Q clips in ../shared/data) it times

(a) a naive reference: one decode per clip, then plain ``librosa.feature.*`` calls, each
    computing its own STFT, CQT or onset envelope from the audio, the way the article did,
    summarised with va_mood's statistics;
(b) va_mood's extractor on the same groups, with one job (in this warmed-up process, and in
    a process forked for it, as a ``--jobs N`` run forks its workers) and with every core,
    and with the shipped model's groups (harmony included) with one job;

checks that (a) and (b) agree on the features both define the same way, and prints seconds of
audio per CPU-second for each and the ratios, beside how the machine itself scales to every
core at that moment (a fixed STFT and pure-Python workload in a warm pool: the ceiling for
the ``--jobs`` ratio, which on a shared VM moves from minute to minute). It splits one job's
time per clip into decoding, each shared transform and the groups' own work
(``transforms``). Then it times a second, cached run over ``--cache-clips`` clips (first
filling the cache at ``--cache-dir``), measures the peak memory of a ``--long-minutes``
recording extracted in blocks (in a subprocess), whole and in ``--long-segment``-second
windows (``predict --segment``), and compares block against whole-file
statistics on a ``--compare-minutes`` recording.

    python benchmarks/extract_speed.py [-n 100] [--cache-clips 500] [--long-minutes 60]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import resource
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from va_mood.config import AnalysisConfig
from va_mood.extraction.batch import extract_files
from va_mood.extraction.long_files import SAMPLED_PER_BLOCK, TOLERANCE
from va_mood.features.registry import REGISTRY, columns_for
from va_mood.util.memory import keep_freed_memory

ROOT = Path(__file__).resolve().parents[1]
GROUPS = [
    "arousal.tempogram",
    "arousal.rms",
    "arousal.zcr",
    "arousal.contrast",
    "arousal.onset",
    "valence.chroma",
    "valence.cqt",
    "valence.tonnetz",
    "timbre.mfcc",
    "timbre.spectral",
]
"""The article's groups and the timbre groups: what the naive reference computes."""
SAME_DEFINITION = {"arousal.zcr", "arousal.contrast", "valence.chroma", "valence.cqt"}
"""Groups the naive calls define exactly as va_mood does (plus tonnetz and flatness below).
The others differ by design: librosa's onset, tempogram and MFCC clip the mel spectrogram at
80 dB below its peak, its RMS is unwindowed, its centroid, bandwidth and roll-off weigh
magnitudes rather than power."""
AGREE = {"rtol": 1e-4, "atol": 1e-5}


def naive(path: str, config: AnalysisConfig) -> np.ndarray:
    """The article's way: decode, then one librosa call per feature, each from the audio."""
    import librosa

    c = config
    y, sr = librosa.load(path, sr=c.sr)
    frames = {"n_fft": c.n_fft, "hop_length": c.hop_length}
    cq = {"hop_length": c.hop_length, "fmin": c.fmin, "bins_per_octave": c.bins_per_octave}
    rms = librosa.feature.rms(y=y, frame_length=c.n_fft, hop_length=c.hop_length)[0]
    series = {
        "arousal.rms": 20 * np.log10(np.maximum(rms, 1e-5)),
        "arousal.zcr": librosa.feature.zero_crossing_rate(
            y, frame_length=c.n_fft, hop_length=c.hop_length
        )[0],
        "arousal.contrast": librosa.feature.spectral_contrast(
            y=y, sr=sr, fmin=200.0, n_bands=6, **frames
        ),
        "arousal.onset": librosa.onset.onset_strength(y=y, sr=sr, hop_length=c.hop_length),
        "valence.chroma": librosa.feature.chroma_cqt(
            y=y, sr=sr, n_octaves=c.n_bins // c.bins_per_octave, tuning=0.0, **cq
        ),
        "valence.tonnetz": np.nan_to_num(
            librosa.feature.tonnetz(
                y=y, sr=sr, n_octaves=c.n_bins // c.bins_per_octave, tuning=0.0, **cq
            )
        ),
        "timbre.mfcc": librosa.feature.mfcc(y=y, sr=sr, n_mfcc=c.n_mfcc, n_mels=c.n_mels, **frames),
        "timbre.spectral": np.vstack(
            [
                np.log2(librosa.feature.spectral_centroid(y=y, sr=sr, **frames)[0] + 1),
                np.log2(librosa.feature.spectral_bandwidth(y=y, sr=sr, **frames)[0] + 1),
                np.log2(
                    librosa.feature.spectral_rolloff(y=y, sr=sr, roll_percent=0.85, **frames)[0] + 1
                ),
                librosa.feature.spectral_flatness(y=y, **frames)[0],
            ]
        ),
    }
    C = np.abs(librosa.cqt(y, sr=sr, n_bins=c.n_bins, **cq))  # noqa: N806
    series["valence.cqt"] = REGISTRY["valence.cqt"].func(C=C)
    tempogram = librosa.feature.tempogram(
        y=y, sr=sr, hop_length=c.hop_length, win_length=c.tempogram_win_length
    )
    series["arousal.tempogram"] = REGISTRY["arousal.tempogram"].func(
        tempogram=tempogram, sr=sr, config=c
    )
    return np.concatenate([REGISTRY[g].finish(np.asarray(series[g], float)) for g in GROUPS])


def naive_timed(paths: list[str], config: AnalysisConfig) -> tuple[np.ndarray, float, float]:
    """:func:`naive`'s table of ``paths``, with the CPU and wall seconds it took, timed in the
    process that runs it."""
    cpu0, wall0 = time.process_time(), time.perf_counter()
    table = np.vstack([naive(p, config) for p in paths])
    return table, time.process_time() - cpu0, time.perf_counter() - wall0


def one_job(paths: list[str], config: AnalysisConfig):
    """``--jobs 1``'s table of :data:`GROUPS`."""
    return extract_files(paths, config=config, groups=GROUPS, jobs=1)[0]


def one_job_in_a_fresh_process(paths: list[str], config: AnalysisConfig):
    """:func:`one_job` in a worker process forked for it, as a ``--jobs N`` run forks its
    workers (with one BLAS thread, inherited): a fresh process's first clip included, which
    a warmed-up process does not pay."""
    from concurrent.futures import ProcessPoolExecutor

    from threadpoolctl import threadpool_limits

    with threadpool_limits(1), ProcessPoolExecutor(1) as pool:
        return pool.submit(one_job, paths, config).result()


def cpu() -> float:
    """CPU seconds of this process and its finished children."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def timed(run):
    cpu0, wall0 = cpu(), time.perf_counter()
    result = run()
    return result, cpu() - cpu0, time.perf_counter() - wall0


def audio_seconds(paths: list[str]) -> float:
    return sum(sf.info(p).duration for p in paths)


def speed(paths, config, args) -> None:
    from concurrent.futures import ProcessPoolExecutor

    from threadpoolctl import threadpool_limits

    from va_mood.api import load_model

    seconds = audio_seconds(paths)
    print(
        f"{len(paths)} clips, {seconds:.0f} s of audio ({seconds / len(paths):.1f} s each), "
        f"best of {args.repeats} runs"
    )
    cores = os.cpu_count() or 1
    shipped = load_model().config
    handcrafted = [
        g for g in shipped.groups if REGISTRY[g].func.__module__ != "va_mood.features.embedding"
    ]
    as_decoded = dataclasses.replace(shipped.analysis, loudness=None, fade_gate=None)
    # The reference runs in a worker of its own, forked (with one BLAS thread) before va_mood's
    # first CQT memoises librosa's filter banks in this process: stock librosa, timed in the
    # same repeats as va_mood, so the machine's drift hits both alike.
    reference = ProcessPoolExecutor(1)
    with threadpool_limits(1):
        reference.submit(naive_timed, paths[:1], config).result()  # warm up its imports
    extract_files(paths[:1], config=config, groups=GROUPS, jobs=1)  # warm up
    runs = {
        "one": lambda: one_job(paths, config),
        "many": lambda: extract_files(paths, config=config, groups=GROUPS, jobs=cores)[0],
        "fresh": lambda: one_job_in_a_fresh_process(paths, config),
        "full": lambda: extract_files(
            paths, config=shipped.analysis, groups=shipped.groups, jobs=1
        )[0],
        "untagged": lambda: extract_files(
            paths, config=shipped.analysis, groups=handcrafted, jobs=1
        )[0],
        "as decoded": lambda: extract_files(
            paths, config=as_decoded, groups=shipped.groups, jobs=1
        )[0],
    }
    measured = {name: [] for name in runs}
    scaling = {name: [] for name in KERNELS}
    references = []
    with reference, ProcessPoolExecutor(cores) as kernels:
        for kernel, _ in KERNELS.values():
            kernel(2)
            list(kernels.map(kernel, [2] * cores))  # warm every worker
        for _ in range(args.repeats):  # interleaved, so drifting machine load hits each alike
            for name, (kernel, rounds) in KERNELS.items():
                scaling[name].append(machine_scaling(kernels, kernel, rounds, cores))
            references.append(reference.submit(naive_timed, paths, config).result())
            for name, run in runs.items():
                measured[name].append(timed(run))
    ref = references[0][0]
    ref_cpu, ref_wall = min(r[1] for r in references), min(r[2] for r in references)
    (
        (one, one_cpu, one_wall),
        (many, many_cpu, many_wall),
        (fresh, fresh_cpu, fresh_wall),
        (_, full_cpu, full_wall),
        (_, untagged_cpu, untagged_wall),
        (_, decoded_cpu, decoded_wall),
    ) = ((m[0][0], min(x[1] for x in m), min(x[2] for x in m)) for m in measured.values())
    rows = [
        ("(a) naive librosa reference, 1 process", ref_cpu, ref_wall),
        ("(b) va_mood, same groups, --jobs 1", one_cpu, one_wall),
        (f"(b) va_mood, same groups, --jobs {cores}", many_cpu, many_wall),
        ("(b) va_mood, same groups, --jobs 1 in a fresh worker", fresh_cpu, fresh_wall),
        ("(b) va_mood, shipped model's groups, --jobs 1", full_cpu, full_wall),
        ("(b) va_mood, shipped groups but the tagger's, --jobs 1", untagged_cpu, untagged_wall),
        ("(b) va_mood, shipped groups, as decoded (no gain, no gate)", decoded_cpu, decoded_wall),
    ]
    print(f"{'':58s} {'CPU s':>7s} {'wall s':>7s} {'audio s/CPU s':>14s} {'x real time':>12s}")
    for name, c, w in rows:
        print(f"{name:58s} {c:7.2f} {w:7.2f} {seconds / c:14.1f} {seconds / w:12.1f}")
    print(f"va_mood --jobs 1 against naive (CPU): {ref_cpu / one_cpu:.2f}x faster (target >= 3)")
    print(
        f"va_mood --jobs {cores} against --jobs 1 (wall): {one_wall / many_wall:.2f}x faster "
        f"(target >= 1.8 on 2 cores)"
    )
    pairs = [a[2] / b[2] for a, b in zip(measured["one"], measured["many"], strict=True)]
    print(
        f"  each run's own pair: {', '.join(f'{r:.2f}x' for r in pairs)}; the workers spent "
        f"{many_cpu / one_cpu - 1:.0%} more CPU than one job (each one's first clip, shared "
        f"caches and memory)"
    )
    pairs = [a[2] / b[2] for a, b in zip(measured["fresh"], measured["many"], strict=True)]
    print(
        f"va_mood --jobs {cores} against --jobs 1 in a fresh worker process, as a new va-mood "
        f"command runs (wall): {fresh_wall / many_wall:.2f}x faster (each run's own pair: "
        f"{', '.join(f'{r:.2f}x' for r in pairs)})"
    )
    for name, ratios in scaling.items():
        print(
            f"  the machine itself, {cores} processes of {name} against one, just before each "
            f"run: {', '.join(f'{r:.2f}x' for r in ratios)}"
        )
    print(
        f"real time per core, with decoding: {seconds / one_cpu:.0f}x (same groups), "
        f"{seconds / full_cpu:.0f}x (shipped groups) (target >= 250)"
    )
    print(
        f"the shipped configuration against the same groups as decoded, without level "
        f"normalisation and fade gate (CPU): "
        f"{full_cpu / decoded_cpu - 1:+.1%} (target: at most +10 %)"
    )
    print(
        f"the tagger's share of the shipped groups' CPU time: {1 - untagged_cpu / full_cpu:.0%}; "
        f"without it {full_cpu / untagged_cpu:.2f}x faster"
    )
    assert (one.to_numpy() == many.to_numpy()).all(), "--jobs N differs from --jobs 1"
    assert (one.to_numpy() == fresh.to_numpy()).all(), "a fresh worker differs from --jobs 1"
    print(f"--jobs {cores} rows equal --jobs 1 rows exactly: yes")
    columns = np.array(columns_for(GROUPS))
    same = np.array(
        [
            c.split(".")[0] + "." + c.split(".")[1].split("_")[0] in SAME_DEFINITION
            or c.startswith(("valence.tonnetz", "timbre.spectral_flatness"))
            for c in columns
        ]
    )
    ours = one.loc[paths].to_numpy()
    close = np.isclose(ref, ours, **AGREE)
    print(
        f"naive against va_mood on {same.sum()} same-definition columns: "
        f"all within rtol={AGREE['rtol']}, atol={AGREE['atol']}: {bool(close[:, same].all())}; "
        f"max abs diff {np.abs(ref - ours)[:, same].max():.2g}"
    )
    differing = columns[same][~close[:, same].all(axis=0)]
    if len(differing):
        print("  differing:", ", ".join(differing))
    other = ~same
    rel = np.abs(ref - ours)[:, other] / (np.abs(ours[:, other]) + 1e-6)
    print(
        f"other {other.sum()} columns (different definitions): median relative difference "
        f"{np.median(rel):.2g}"
    )


NOISE = np.random.default_rng(0).standard_normal(30 * 22050).astype(np.float32)
"""30 s of noise at 22.05 kHz: the input of :func:`stft_rounds`."""


def stft_rounds(rounds: int) -> float:
    """Wall seconds of ``rounds`` magnitude STFTs of :data:`NOISE`, one thread."""
    import librosa
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        start = time.perf_counter()
        for _ in range(rounds):
            np.abs(librosa.stft(NOISE))
        return time.perf_counter() - start


def python_rounds(rounds: int) -> float:
    """Wall seconds of ``rounds`` of a pure-Python loop (no memory traffic to speak of)."""
    start = time.perf_counter()
    for _ in range(rounds):
        sum(i * i for i in range(100_000))
    return time.perf_counter() - start


KERNELS = {"librosa STFTs": (stft_rounds, 50), "pure Python": (python_rounds, 150)}
"""Each workload with its rounds: about half a second of one core here."""


def machine_scaling(pool, kernel, rounds: int, cores: int) -> float:
    """How this machine itself scales to every core right now: ``rounds`` of ``kernel`` run alone,
    then the same work in each of ``pool``'s ``cores`` processes at once (a pool already
    started and warmed: no start-up, no first touch of memory). The ceiling for a ``--jobs``
    ratio."""
    alone = kernel(rounds)
    together = max(pool.map(kernel, [rounds] * cores))
    return cores * alone / together


TRANSFORMS = ("S", "onset_env", "tempogram", "C")
"""The shared transforms every group of :data:`GROUPS` is built on (mel_db within onset_env)."""


def transforms(paths: list[str], config: AnalysisConfig) -> None:
    """Median CPU ms per clip of decoding, of each shared transform, and of the groups' own
    work on top of them: where the time of the 10 groups goes, against 250x's budget."""
    from threadpoolctl import threadpool_limits

    from va_mood.audio.decode import load
    from va_mood.features.analysis import Analysis

    spent: dict[str, list[float]] = {k: [] for k in ("decode", *TRANSFORMS, "groups")}
    with threadpool_limits(1):
        extract_files(paths[:1], config=config, groups=GROUPS, jobs=1)  # warm up
        for path in paths:
            start = time.process_time()
            y, sr = load(path, sr=config.sr)
            spent["decode"].append(time.process_time() - start)
            analysis = Analysis(y, sr, config)
            for name in TRANSFORMS:
                start = time.process_time()
                getattr(analysis, name)
                spent[name].append(time.process_time() - start)
            start = time.process_time()
            for group in GROUPS:  # chroma and tonnetz included: two groups' own intermediates
                REGISTRY[group].compute(analysis)
            spent["groups"].append(time.process_time() - start)
    median = {k: float(np.median(v)) * 1000 for k, v in spent.items()}
    shared = sum(median[k] for k in ("decode", *TRANSFORMS))
    seconds = audio_seconds(paths) / len(paths)
    print(f"median CPU ms per clip over {len(paths)} clips ({seconds:.1f} s each), one thread:")
    print("  " + ", ".join(f"{k} {v:.1f}" for k, v in median.items()))
    print(
        f"  decoding and shared transforms {shared:.0f} ms, groups on top {median['groups']:.0f}"
        f" ms; 250x allows {seconds / 250 * 1000:.0f} ms in all"
    )


def cached_rerun(folder: Path, config: AnalysisConfig, n: int, cache_dir: Path) -> None:
    from va_mood.api import load_model

    shipped = load_model().config
    paths = sorted(str(p) for p in folder.glob("*.mp3"))[:n]
    _, _, fill = timed(
        lambda: extract_files(
            paths, config=shipped.analysis, groups=shipped.groups, cache_dir=cache_dir
        )
    )
    _, c, wall = timed(
        lambda: extract_files(
            paths, config=shipped.analysis, groups=shipped.groups, cache_dir=cache_dir
        )
    )
    print(
        f"cache: {len(paths)} clips, first run {fill:.1f} s (0 when already cached), "
        f"second run over the unchanged folder {wall:.2f} s wall, {c:.2f} s CPU (target < 5 s)"
    )


def recording(folder: Path, minutes: float, path: Path, sr: int = 44100) -> None:
    """A recording of ``minutes`` built from the clips, written piece by piece (stereo FLAC)."""
    import soxr

    clips = sorted(folder.glob("*.mp3"))
    need = int(minutes * 60 * sr)
    with sf.SoundFile(path, "w", samplerate=sr, channels=2, format="FLAC") as out:
        k = 0
        while need > 0:
            y, native = sf.read(clips[k % len(clips)], dtype="float32", always_2d=True)
            if y.shape[1] == 1:
                y = np.repeat(y, 2, axis=1)
            y = soxr.resample(y[:, :2], native, sr)[:need]
            out.write(y)
            need -= len(y)
            k += 1


MEMORY_RUN = """
import resource, sys, time
from va_mood.api import load_model
from va_mood.extraction.batch import extract_files
from va_mood.util.memory import keep_freed_memory
keep_freed_memory()  # as the va-mood command and its workers do: the larger peak
shipped = load_model().config
segment = None if sys.argv[2] == "none" else float(sys.argv[2])
start = time.perf_counter()
table, errors = extract_files([sys.argv[1]], config=shipped.analysis, groups=shipped.groups,
                              jobs=1, segment=segment)
assert not errors, errors
print(time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def long_memory(folder: Path, minutes: float, segment: float | None = None) -> None:
    """Peak memory of the shipped groups on one recording of ``minutes``, whole and (with
    ``segment``) in windows of that many seconds, each in a fresh process."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "long.flac"
        recording(folder, minutes, path)
        for windows in [None] + ([segment] if segment else []):
            out = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    textwrap.dedent(MEMORY_RUN),
                    str(path),
                    f"{windows}".lower(),
                ],
                capture_output=True,
                text=True,
                check=True,
            )
            wall, rss = out.stdout.split()
            how = "whole file" if windows is None else f"--segment {windows:g}"
            print(
                f"{minutes:g}-minute recording (44.1 kHz stereo FLAC), shipped groups, in blocks, "
                f"{how}: {float(wall):.1f} s, peak RSS {int(rss) / 1024:.0f} MiB "
                "(target < 1024 MiB)"
            )


def block_against_whole(folder: Path, minutes: float, config: AnalysisConfig) -> None:
    from va_mood.api import load_model

    shipped = load_model().config
    groups = shipped.groups
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "compare.flac"
        recording(folder, minutes, path)
        # the block path keeps a recording's faded edges, a whole file's analysis may not
        analysis = dataclasses.replace(shipped.analysis, fade_gate=None)
        kwargs = {"config": analysis, "groups": groups, "jobs": 1}
        whole, _ = extract_files([path], long_file=None, **kwargs)
        blocks, _ = extract_files([path], long_file=1.0, **kwargs)
    columns = np.array(columns_for(groups))
    sampled = np.isin(columns, columns_for([g for g in groups if g in SAMPLED_PER_BLOCK]))
    w, b = whole.to_numpy()[0], blocks.to_numpy()[0]
    if sampled.any():
        print(
            f"  {sampled.sum()} columns of {', '.join(sorted(SAMPLED_PER_BLOCK & set(groups)))} "
            f"sample each block (not held to the tolerance): max abs diff "
            f"{np.abs(b - w)[sampled].max():.2g}"
        )
    columns, w, b = columns[~sampled], w[~sampled], b[~sampled]
    diff = np.abs(b - w)
    rel = diff / np.maximum(np.abs(w), 1e-9)
    worst = np.argsort(-diff)[:5]
    print(
        f"{minutes:g}-minute recording, blocks of 60 s against whole file, {len(w)} columns: "
        f"{(diff == 0).sum()} identical, max abs diff {diff.max():.2g}, "
        f"max rel diff {rel.max():.2g}; within {TOLERANCE}: "
        f"{bool(np.isclose(b, w, **TOLERANCE).all())}"
    )
    print("  largest:", ", ".join(f"{columns[j]} {diff[j]:.2g} (of {w[j]:.3g})" for j in worst))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, default=ROOT / "../shared/data/4q/audio")
    parser.add_argument(
        "-n",
        type=int,
        default=100,
        help="Clips to time (100: a pooled run's fixed cost of starting and stopping its "
        "workers, 0.1-0.2 s here, weighs 6-12 %% over 40 clips, 2-5 %% over 100).",
    )
    parser.add_argument("--repeats", type=int, default=2, help="Best of this many runs.")
    parser.add_argument("--cache-clips", type=int, default=500)
    parser.add_argument(
        "--cache-dir", type=Path, default=Path(tempfile.gettempdir()) / "va_mood_bench_cache"
    )
    parser.add_argument("--long-minutes", type=float, default=60.0)
    parser.add_argument(
        "--long-segment",
        type=float,
        default=10.0,
        help="Also measure the long recording's memory with --segment this (0: whole only).",
    )
    parser.add_argument("--compare-minutes", type=float, default=3.0)
    parser.add_argument(
        "--only",
        choices=["speed", "transforms", "cache", "memory", "compare"],
        action="append",
    )
    args = parser.parse_args()
    keep_freed_memory()  # as the va-mood command and its workers do, for every run here
    config = AnalysisConfig(loudness=None)  # as decoded, as the naive reference reads it
    folder = args.folder.resolve()
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    steps = args.only or ["speed", "transforms", "cache", "memory", "compare"]
    paths = sorted(str(p) for p in folder.glob("*.mp3"))[: args.n]
    if "speed" in steps:
        speed(paths, config, args)
    if "transforms" in steps:
        transforms(paths, config)
    if "cache" in steps:
        cached_rerun(folder, config, args.cache_clips, args.cache_dir)
    if "compare" in steps:
        block_against_whole(folder, args.compare_minutes, config)
    if "memory" in steps:
        long_memory(folder, args.long_minutes, args.long_segment or None)
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
