"""Tags written into audio files: per container, read back by mutagen and ffprobe, audio intact."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from pathlib import Path

import mutagen
import numpy as np
import pytest
import soundfile as sf

from va_mood.errors import ParameterError
from va_mood.outputs import tag_formats, tagging
from va_mood.outputs.tagging import (
    TagResult,
    already_tagged,
    model_version,
    read_tags,
    tag_values,
    write_tags,
)

REPO = Path(__file__).resolve().parents[1]
EXAMPLE_MP3 = REPO / "data" / "examples" / "macleod_hustle.mp3"
SR = 22050
ROW = {"valence": 0.25, "arousal": -0.5, "quadrant": "Q4", "mood": "Calm"}
VERSION = "va_mood-test00000000"
FFMPEG = shutil.which("ffmpeg")
FFPROBE = shutil.which("ffprobe")
CONTAINERS = ("mp3", "flac", "ogg", "opus", "m4a")


def _signal() -> np.ndarray:
    t = np.arange(int(1.5 * SR)) / SR
    left = 0.3 * np.sin(2 * np.pi * 440 * t)
    right = 0.2 * np.sin(2 * np.pi * 660 * t)
    return np.column_stack([left, right]).astype(np.float32)


def _make(kind: str, folder: Path) -> Path:
    """A short stereo file of ``kind`` with a title and artist tag of its own."""
    path = folder / f"clip.{kind}"
    if kind == "mp3":
        shutil.copyfile(EXAMPLE_MP3, path)  # carries its own ID3 tags, with a picture
        return path
    if kind == "m4a":
        if FFMPEG is None:
            pytest.skip("m4a cannot be generated without ffmpeg (apt-get install ffmpeg)")
        subprocess.run(
            [FFMPEG, "-v", "error", "-y", "-f", "lavfi", "-i", "sine=frequency=440:duration=1.5"]
            + ["-c:a", "aac", "-metadata", "title=Sine", "-metadata", "artist=Tester", str(path)],
            check=True,
        )
        return path
    if kind == "opus":
        sf.write(path, _signal(), 48000, format="OGG", subtype="OPUS")
    else:
        sf.write(path, _signal(), SR)
    audio = mutagen.File(path)
    if audio.tags is None:
        audio.add_tags()
    audio["TITLE"] = ["Sine"]
    audio["ARTIST"] = ["Tester"]
    audio.save()
    return path


def _decode(path: Path) -> np.ndarray:
    """Decoded samples: libsndfile where it can, else ffmpeg's decoder (m4a)."""
    if path.suffix == ".m4a":
        raw = subprocess.run(
            [FFMPEG, "-v", "error", "-i", str(path), "-f", "f32le", "-"],
            check=True,
            capture_output=True,
        ).stdout
        return np.frombuffer(raw, dtype=np.float32)
    data, _ = sf.read(path, dtype="float32")
    return data


def _other_tags(path: Path) -> dict[str, str]:
    """Every tag that is not va_mood's, as comparable text."""
    ours = ("TMOO", "MOOD", "----:COM.APPLE.ITUNES:MOOD")
    tags = mutagen.File(path).tags
    return {
        key: repr(value)
        for key, value in tags.items()
        if key.upper() not in ours and "VAMOOD_" not in key.upper()
    }


@pytest.fixture(params=CONTAINERS)
def clip(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    return _make(request.param, tmp_path)


def test_write_and_read_back_each_container(clip: Path) -> None:
    samples = _decode(clip)
    others = _other_tags(clip)
    result = write_tags(clip, ROW, model_version=VERSION, scale="unit")
    assert result.status == "written", result.line()
    assert read_tags(clip) == {
        "MOOD": "Calm",
        "VAMOOD_VALENCE": "0.6250",
        "VAMOOD_ENERGY": "0.2500",
        "VAMOOD_QUADRANT": "Q4",
        "VAMOOD_SCALE": "unit",
        "VAMOOD_MODEL": VERSION,
    }
    np.testing.assert_array_equal(_decode(clip), samples)  # the audio is untouched
    assert _other_tags(clip) == others  # and so is every other tag
    assert not [p.name for p in clip.parent.iterdir() if p.name.startswith(".")]  # no temp


def test_container_names_in_the_result() -> None:
    assert tag_formats.container_names("id3", {"MOOD": "Calm", "VAMOOD_SCALE": "nine"}) == {
        "TMOO": "Calm",
        "TXXX:VAMOOD_SCALE": "nine",
    }
    assert tag_formats.container_names("mp4", {"MOOD": "Calm"}) == {
        "----:com.apple.iTunes:MOOD": "Calm"
    }
    assert tag_formats.container_names("vorbis", {"MOOD": "Calm"}) == {"MOOD": "Calm"}


@pytest.mark.skipif(FFPROBE is None, reason="ffprobe not installed (apt-get install ffmpeg)")
def test_a_second_reader_sees_the_tags(clip: Path) -> None:
    write_tags(clip, ROW, model_version=VERSION, scale="nine")
    out = subprocess.run(
        [FFPROBE, "-v", "error", "-show_entries", "format_tags:stream_tags", "-of", "json", clip],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    data = json.loads(out)
    found = {k.upper(): v for k, v in data.get("format", {}).get("tags", {}).items()}
    for stream in data.get("streams", []):  # ogg/opus keep their comments on the stream
        found.update({k.upper(): v for k, v in stream.get("tags", {}).items()})
    assert found.get("TMOO" if clip.suffix == ".mp3" else "MOOD") == "Calm"
    assert found["VAMOOD_VALENCE"] == "6.0000"
    assert found["VAMOOD_AROUSAL"] == "3.0000"
    assert found["VAMOOD_SCALE"] == "nine"
    assert found["VAMOOD_MODEL"] == VERSION
    assert found["TITLE"] == ("Hustle" if clip.suffix == ".mp3" else "Sine")


def test_same_model_is_skipped_unless_overwrite(tmp_path: Path) -> None:
    clip = _make("flac", tmp_path)
    assert write_tags(clip, ROW, model_version=VERSION).status == "written"
    before = clip.read_bytes()
    again = write_tags(clip, {**ROW, "valence": 0.9}, model_version=VERSION)
    assert again.status == "skipped"
    assert "already tagged by va_mood-test00000000 (scale plane)" in again.message
    assert clip.read_bytes() == before
    assert already_tagged(clip, VERSION)
    forced = write_tags(clip, {**ROW, "valence": 0.9}, model_version=VERSION, overwrite=True)
    assert forced.status == "written"
    assert read_tags(clip)["VAMOOD_VALENCE"] == "0.9000"
    newer = write_tags(clip, ROW, model_version="va_mood-other", scale="nine")
    assert newer.status == "written"
    tags = read_tags(clip)
    assert "VAMOOD_ENERGY" not in tags and tags["VAMOOD_AROUSAL"] == "3.0000"


def test_changing_scale_replaces_the_axis_tag(tmp_path: Path) -> None:
    clip = _make("mp3", tmp_path)
    write_tags(clip, ROW, model_version=VERSION, scale="unit")
    write_tags(clip, ROW, model_version=VERSION, scale="plane", overwrite=True)
    tags = read_tags(clip)
    assert "VAMOOD_ENERGY" not in tags
    assert (tags["VAMOOD_AROUSAL"], tags["VAMOOD_SCALE"]) == ("-0.5000", "plane")
    assert len(mutagen.File(clip).tags.getall("TMOO")) == 1


def test_dry_run_changes_nothing(tmp_path: Path) -> None:
    clip = _make("ogg", tmp_path)
    before = clip.read_bytes()
    result = write_tags(clip, ROW, model_version=VERSION, dry_run=True)
    assert result.status == "would write"
    assert result.tags["MOOD"] == "Calm"
    assert result.tags["VAMOOD_AROUSAL"] == "-0.5000"
    assert clip.read_bytes() == before
    assert read_tags(clip) == {}


def test_mode_and_symlink_are_kept(tmp_path: Path) -> None:
    clip = _make("flac", tmp_path)
    clip.chmod(0o640)
    link = tmp_path / "link.flac"
    link.symlink_to(clip.name)
    result = write_tags(link, ROW, model_version=VERSION)
    assert result.status == "written"
    assert result.path == str(link)
    assert link.is_symlink()
    assert stat.S_IMODE(clip.stat().st_mode) == 0o640
    assert read_tags(clip)["MOOD"] == "Calm"


def test_id3v23_stays_v23_and_keeps_its_frames(tmp_path: Path) -> None:
    clip = _make("mp3", tmp_path)
    audio = mutagen.File(clip)
    audio.tags.update_to_v23()
    audio.save(v2_version=3)
    others = _other_tags(clip)
    assert write_tags(clip, ROW, model_version=VERSION).status == "written"
    audio = mutagen.File(clip)
    assert audio.tags.version[:2] == (2, 3)
    assert str(audio.tags["TMOO"]) == "Calm"
    assert _other_tags(clip) == others


def test_failures_are_reported_and_the_batch_goes_on(tmp_path: Path) -> None:
    good = _make("flac", tmp_path)
    readonly = _make("ogg", tmp_path)
    readonly.chmod(0o444)
    aiff = tmp_path / "clip.aiff"
    sf.write(aiff, _signal(), SR)
    corrupt = tmp_path / "corrupt.flac"
    corrupt.write_bytes(b"fLaC" + os.urandom(200))
    missing = tmp_path / "missing.mp3"
    files = [readonly, aiff, corrupt, missing, good]
    before = {p: p.read_bytes() for p in files if p.exists()}
    results = [write_tags(p, ROW, model_version=VERSION) for p in files]
    assert [r.status for r in results] == ["failed"] * 4 + ["written"]
    messages = [r.message for r in results[:4]]
    assert messages[0] == "read-only file; not changed"
    assert messages[1].startswith("cannot tag a AIFF file; supported: mp3 and wav (ID3)")
    assert "cannot read its tags" in messages[2] or "not a recognised" in messages[2]
    assert messages[3] == "no such file"
    assert results[0].line() == f"{readonly}: failed: read-only file; not changed"
    for path in (readonly, aiff, corrupt):
        assert path.read_bytes() == before[path]
    assert stat.S_IMODE(readonly.stat().st_mode) == 0o444
    assert read_tags(good)["MOOD"] == "Calm"


def test_a_failed_save_leaves_the_original_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clip = _make("mp3", tmp_path)
    before = clip.read_bytes()

    def broken_save(audio: object, container: str) -> None:
        raise mutagen.MutagenError("disk on fire")

    monkeypatch.setattr(tagging, "save", broken_save)
    result = write_tags(clip, ROW, model_version=VERSION)
    assert result.status == "failed"
    assert result.message == "cannot write its tags (disk on fire)"
    assert clip.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp3"]


def test_tag_values_checks_the_row() -> None:
    values = tag_values(ROW, model_version=VERSION, scale="nine")
    assert values["VAMOOD_VALENCE"] == "6.0000" and values["VAMOOD_AROUSAL"] == "3.0000"
    assert tag_values({**ROW, "valence": -0.0}, model_version=VERSION)["VAMOOD_VALENCE"] == (
        "0.0000"
    )
    assert tag_values({"valence": 0.1, "arousal": 0.2, "mood": "uplifting"}, model_version="x")[
        "MOOD"
    ] == ("Uplifting")
    with pytest.raises(ParameterError, match="unknown scale 'percent'"):
        tag_values(ROW, model_version=VERSION, scale="percent")
    with pytest.raises(ParameterError, match="needs numeric valence and arousal"):
        tag_values({"valence": 0.1, "quadrant": "Q1"}, model_version=VERSION)
    with pytest.raises(ParameterError, match="needs a prediction on the plane"):
        tag_values({"valence": 0.6, "energy": 0.2, "quadrant": "Q4"}, model_version=VERSION)
    with pytest.raises(ParameterError, match="mood 'Calm' is not quadrant Q1's Uplifting"):
        tag_values({**ROW, "quadrant": "Q1"}, model_version=VERSION)


def test_read_tags_refuses_what_it_cannot_read(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("not audio at all")
    with pytest.raises(tag_formats.TagError, match="notes.txt: not a recognised audio file"):
        read_tags(text)
    fake = tmp_path / "notes.mp3"
    fake.write_text("not audio at all")
    with pytest.raises(tag_formats.TagError, match=r"notes.mp3: cannot read its tags \(can't sync"):
        read_tags(fake)
    assert not already_tagged(fake, VERSION)
    with pytest.raises(tag_formats.TagError, match="is a folder, not an audio file"):
        read_tags(tmp_path)


def test_model_version_is_stable_and_tracks_the_model() -> None:
    import va_mood

    bundle = va_mood.load_model()
    version = model_version(bundle)
    assert version == model_version(va_mood.load_model())
    assert version.startswith("va_mood-") and len(version) == len("va_mood-") + 12
    bundle.heads.thresholds = (0.1, 0.0)
    assert model_version(bundle) != version


def test_result_line() -> None:
    result = TagResult("a.flac", "would write", {"MOOD": "Calm", "VAMOOD_SCALE": "plane"})
    assert result.line() == "a.flac: would write MOOD=Calm, VAMOOD_SCALE=plane"
    assert result.ok


def test_precheck_spares_prediction_for_files_that_need_none(tmp_path: Path) -> None:
    fresh = _make("flac", tmp_path)
    done = _make("ogg", tmp_path)
    write_tags(done, ROW, model_version=VERSION)
    readonly = _make("opus", tmp_path)
    readonly.chmod(0o444)
    aiff = tmp_path / "clip.aiff"
    sf.write(aiff, _signal(), SR)
    assert tagging.precheck(fresh, model_version=VERSION) is None
    assert tagging.precheck(done, model_version=VERSION).status == "skipped"
    assert tagging.precheck(done, model_version=VERSION, overwrite=True) is None
    assert tagging.precheck(done, model_version="va_mood-other") is None
    assert tagging.precheck(readonly, model_version=VERSION).message == (
        "read-only file; not changed"
    )
    assert tagging.precheck(aiff, model_version=VERSION).status == "failed"
    dry = write_tags(readonly, ROW, model_version=VERSION, dry_run=True)
    assert (dry.status, dry.message) == ("failed", "read-only file; not changed")


def test_wav_files_are_tagged_in_an_id3_chunk_and_still_decode(tmp_path: Path) -> None:
    wav = tmp_path / "clip.wav"
    sf.write(wav, _signal(), SR)
    before = _decode(wav)
    result = write_tags(wav, ROW, model_version=VERSION)
    assert (result.status, result.container) == ("written", "id3")
    assert read_tags(wav)["MOOD"] == "Calm"
    assert read_tags(wav)["VAMOOD_MODEL"] == VERSION
    np.testing.assert_array_equal(_decode(wav), before)


@pytest.mark.parametrize("kind", ["mp3", "flac", "m4a", "wav"])
def test_a_mood_tag_va_mood_did_not_write_is_kept_unless_overwrite(
    kind: str, tmp_path: Path
) -> None:
    if kind == "wav":
        path = tmp_path / "clip.wav"
        sf.write(path, _signal(), SR)
    else:
        path = _make(kind, tmp_path)
    tagging._write_atomically(path, {"MOOD": "Energetic"})  # as another program would
    kept = write_tags(path, ROW, model_version=VERSION)
    assert kept.status == "written"
    assert read_tags(path)["MOOD"] == "Energetic"
    assert read_tags(path)["VAMOOD_QUADRANT"] == "Q4"
    assert not any(name.endswith("MOOD") and "VAMOOD" not in name for name in kept.tags)
    assert kept.line().endswith(
        "; kept: MOOD=Energetic (not written by va_mood; --overwrite to replace)"
    )
    replaced = write_tags(path, ROW, model_version=VERSION, overwrite=True)
    assert (replaced.status, replaced.kept) == ("written", None)
    assert read_tags(path)["MOOD"] == "Calm"
    again = write_tags(path, {**ROW, "quadrant": "Q1", "mood": "Uplifting"}, model_version="v2")
    assert (again.kept, read_tags(path)["MOOD"]) == (None, "Uplifting")  # its own: replaced
