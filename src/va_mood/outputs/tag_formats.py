"""How each container spells and stores tags: ID3 (mp3, wav), Vorbis comments (ogg, opus,
flac), MP4 freeform atoms (m4a). Tags are handled under container-neutral names (``MOOD``,
``VAMOOD_<NAME>``) everywhere else; :mod:`va_mood.outputs.tagging` decides what to write.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import VaMoodError

__all__ = [
    "PREFIX",
    "MP4_MEAN",
    "TagError",
    "open_file",
    "reason",
    "container_names",
    "read_generic",
    "replaced",
    "apply_generic",
    "save",
    "read_title_artist",
    "display_name",
]

PREFIX = "VAMOOD_"
"""Prefix of every tag va_mood owns, besides the mood itself."""
MP4_MEAN = "com.apple.iTunes"
"""The 'mean' of MP4 freeform atoms: the one iTunes, Picard and ffmpeg read."""


class TagError(VaMoodError):
    """An audio file's tags cannot be read or written (container, permissions, damage)."""


def open_file(path: Path) -> tuple[Any, str]:
    """Open an audio file with mutagen and tell which tag container it uses.

    Parameters
    ----------
    path : Path
        An mp3, wav, ogg, opus, flac or m4a file.

    Returns
    -------
    audio : mutagen.FileType
        The opened file, its tags in ``audio.tags`` (None when it has none yet).
    container : {"id3", "vorbis", "mp4"}

    Raises
    ------
    TagError
        Naming ``path``, when it is missing, a folder, unreadable, or of another format.
    """
    import mutagen
    from mutagen.flac import FLAC
    from mutagen.mp3 import MP3
    from mutagen.mp4 import MP4
    from mutagen.oggopus import OggOpus
    from mutagen.oggvorbis import OggVorbis
    from mutagen.wave import WAVE

    if not path.exists():
        raise TagError(f"{path}: no such file")
    if path.is_dir():
        raise TagError(f"{path}: is a folder, not an audio file")
    try:
        audio = mutagen.File(path)
    except PermissionError:
        raise TagError(f"{path}: permission denied") from None
    except (mutagen.MutagenError, OSError, ValueError, EOFError) as exc:
        raise TagError(f"{path}: cannot read its tags ({reason(exc)})") from None
    if audio is None:
        raise TagError(f"{path}: not a recognised audio file")
    if isinstance(audio, MP3 | WAVE):
        return audio, "id3"
    if isinstance(audio, FLAC | OggVorbis | OggOpus):
        return audio, "vorbis"
    if isinstance(audio, MP4):
        return audio, "mp4"
    raise TagError(
        f"{path}: cannot tag a {type(audio).__name__} file; supported: mp3 and wav (ID3), "
        "ogg/opus/flac (Vorbis comments), m4a (MP4)"
    )


def reason(exc: BaseException) -> str:
    """What went wrong, for a message: the exception's text, or its type when it has none.

    Parameters
    ----------
    exc : BaseException

    Returns
    -------
    str
    """
    return str(exc).strip() or type(exc).__name__


def container_names(container: str, generic: Mapping[str, str]) -> dict[str, str]:
    """Spell container-neutral tag names the way ``container`` does.

    Parameters
    ----------
    container : {"id3", "vorbis", "mp4"}
    generic : mapping of str to str
        Tags under container-neutral names (``MOOD``, ``VAMOOD_<NAME>``).

    Returns
    -------
    dict of str to str
        The same values under the container's names: ``TMOO`` and ``TXXX:VAMOOD_<NAME>``
        (ID3), ``----:com.apple.iTunes:<name>`` (MP4), unchanged (Vorbis comments).

    Examples
    --------
    >>> container_names("id3", {"MOOD": "Calm", "VAMOOD_SCALE": "plane"})
    {'TMOO': 'Calm', 'TXXX:VAMOOD_SCALE': 'plane'}
    """
    out = {}
    for key, value in generic.items():
        if container == "id3":
            out["TMOO" if key == "MOOD" else f"TXXX:{key}"] = value
        elif container == "mp4":
            out[f"----:{MP4_MEAN}:{key}"] = value
        else:
            out[key] = value
    return out


def read_generic(audio: Any, container: str) -> dict[str, str]:
    """The va_mood tags (and mood tag) of an opened file, under container-neutral names.

    Parameters
    ----------
    audio : mutagen.FileType
        From :func:`open_file`.
    container : {"id3", "vorbis", "mp4"}

    Returns
    -------
    dict of str to str
        ``MOOD`` and the ``VAMOOD_*`` tags found; other tags are left out.
    """
    tags = audio.tags
    if tags is None:
        return {}
    found: dict[str, str] = {}
    if container == "id3":
        if "TMOO" in tags and tags["TMOO"].text:
            found["MOOD"] = str(tags["TMOO"].text[0])
        for frame in tags.getall("TXXX"):
            if frame.desc.upper().startswith(PREFIX) and frame.text:
                found[frame.desc.upper()] = str(frame.text[0])
    elif container == "mp4":
        head = f"----:{MP4_MEAN}:"
        for key, values in tags.items():
            name = key[len(head) :].upper() if key.startswith(head) else ""
            if (name == "MOOD" or name.startswith(PREFIX)) and values:
                found[name] = bytes(values[0]).decode("utf-8", errors="replace")
    else:
        for key, value in tags.items():
            name = key.upper()
            if (name == "MOOD" or name.startswith(PREFIX)) and value:
                found[name] = value[0] if isinstance(value, list) else value
    return found


def replaced(name: str, generic: Mapping[str, str]) -> bool:
    """Whether an existing tag goes when ``generic`` is written.

    Every ``VAMOOD_*`` tag goes; the mood tag goes only when ``generic`` brings a new one.

    Parameters
    ----------
    name : str
        The existing tag's container-neutral name, any case.
    generic : mapping of str to str
        The tags about to be written.

    Returns
    -------
    bool
    """
    name = name.upper()
    return name.startswith(PREFIX) or (name == "MOOD" and "MOOD" in generic)


def apply_generic(audio: Any, container: str, generic: Mapping[str, str]) -> None:
    """Replace the va_mood tags of an opened file by ``generic``, in memory.

    Every other tag is left as it was (the mood tag too, when ``generic`` has no ``MOOD``);
    :func:`save` writes the change to the file.

    Parameters
    ----------
    audio : mutagen.FileType
        From :func:`open_file`; tags are added if it has none.
    container : {"id3", "vorbis", "mp4"}
    generic : mapping of str to str
        Tags under container-neutral names.
    """
    if audio.tags is None:
        audio.add_tags()
    {"id3": _apply_id3, "mp4": _apply_mp4, "vorbis": _apply_vorbis}[container](audio.tags, generic)


def _apply_id3(tags: Any, generic: Mapping[str, str]) -> None:
    from mutagen.id3 import TMOO, TXXX

    if tags.version[1] == 3:
        tags.update_to_v23()  # mutagen read it as v2.4; give the other frames back as v2.3
    if "MOOD" in generic:
        tags.delall("TMOO")
    for frame in list(tags.getall("TXXX")):
        if replaced(frame.desc, generic):
            del tags[frame.HashKey]
    for key, value in generic.items():
        if key == "MOOD":
            tags.add(TMOO(encoding=3, text=[value]))
        else:
            tags.add(TXXX(encoding=3, desc=key, text=[value]))


def _apply_mp4(tags: Any, generic: Mapping[str, str]) -> None:
    from mutagen.mp4 import MP4FreeForm

    head = f"----:{MP4_MEAN}:"
    for key in list(tags.keys()):
        if key.startswith(head) and replaced(key[len(head) :], generic):
            del tags[key]
    for key, value in generic.items():
        tags[head + key] = [MP4FreeForm(value.encode("utf-8"))]


def _apply_vorbis(tags: Any, generic: Mapping[str, str]) -> None:
    for key in list(tags.keys()):
        if replaced(key, generic):
            del tags[key]
    for key, value in generic.items():
        tags[key] = [value]


def save(audio: Any, container: str) -> None:
    """Write an opened file's tags back, keeping an ID3 v2.3 tag at v2.3.

    Parameters as :func:`read_generic`.

    Raises
    ------
    mutagen.MutagenError, ValueError, EOFError
        When the file cannot be written.
    """
    if container == "id3" and audio.tags.version[1] == 3:
        audio.save(v2_version=3)
    else:
        audio.save()


def read_title_artist(path: str | Path) -> tuple[str | None, str | None]:
    """The title and artist a file's own tags give (ID3, Vorbis comments, MP4).

    For naming songs on plots and the page. Never raises: a missing, unreadable or untagged
    file gives ``(None, None)``, and callers fall back on the file name.

    Parameters
    ----------
    path : str or Path
        An audio file; it may be missing or unreadable.

    Returns
    -------
    title, artist : str or None
        Each stripped, or None where the tag is missing or empty.

    Examples
    --------
    >>> read_title_artist("song.mp3")  # doctest: +SKIP
    ('Hustle', 'Kevin MacLeod')
    """
    import mutagen

    try:
        audio = mutagen.File(path, easy=True)
        tags = dict(audio.tags or {}) if audio is not None else {}
    except Exception:  # noqa: BLE001 - any unreadable file is named by its stem
        tags = {}

    def first(key: str) -> str | None:
        values = tags.get(key) or [""]
        return str(values[0]).strip() or None

    return first("title"), first("artist")


def display_name(path: str | Path) -> str:
    """What to call a file on a plot, from its tags where it has them.

    Parameters as :func:`read_title_artist`.

    Returns
    -------
    str
        ``Artist – Title``, the title alone, or (without readable tags) the file's stem.
        Never raises.

    See Also
    --------
    read_title_artist
    """
    title, artist = read_title_artist(path)
    if title and artist:
        return f"{artist} – {title}"
    return title or Path(path).stem
