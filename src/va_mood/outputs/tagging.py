"""Write predictions into audio files' own tags, and read them back (mutagen).

Tags written, per container (``NAME`` is each field's name below)::

    container                     mood                         everything else
    ID3 (mp3, wav)                TMOO                         TXXX:VAMOOD_<NAME>
    Vorbis (ogg, opus, flac)      MOOD                         VAMOOD_<NAME>
    MP4 freeform (m4a)            ----:com.apple.iTunes:MOOD   ----:com.apple.iTunes:VAMOOD_<NAME>

with ``<NAME>`` one of ``VALENCE``, ``AROUSAL`` (``ENERGY`` on the unit scale), ``QUADRANT``,
``SCALE`` (plane, unit or nine: how to read the numbers) and ``MODEL`` (the model version, see
:func:`model_version`). Numbers are written with four decimals.

Writing never touches the audio data and never leaves a half-written file: the file is copied to
a temporary file in the same folder, the tags are changed there, and the copy replaces the
original with :func:`os.replace` (keeping its permission bits). Earlier ``VAMOOD_*`` tags are
removed first; every other tag is left as it was. Files that are read-only, in a container
other than the above, or with damaged tags are reported in the returned :class:`TagResult`,
never raised, so a batch goes on.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ParameterError
from ..quadrant import parse_quadrant
from ..vocabulary import AXES, MOODS
from .scales import SCALES, scale_values
from .tag_formats import (
    PREFIX,
    TagError,
    apply_generic,
    container_names,
    open_file,
    read_generic,
    reason,
    save,
)

__all__ = [
    "TagResult",
    "model_version",
    "tag_values",
    "write_tags",
    "read_tags",
    "already_tagged",
    "precheck",
]


@dataclass
class TagResult:
    """What :func:`write_tags` did to one file (or :func:`precheck` found it would do).

    Attributes
    ----------
    path : str
        The file, as given.
    status : {"written", "skipped", "would write", "failed"}
    tags : dict
        The tags written (or that would be), by their names in the file's container
        (``TMOO``, ``TXXX:VAMOOD_VALENCE``, ``VAMOOD_VALENCE``, ``----:com.apple.iTunes:...``).
    message : str or None
        Why the file was skipped or failed.
    container : str or None
        ``"id3"``, ``"vorbis"`` or ``"mp4"`` once known.
    kept : str or None
        A mood tag va_mood did not write, left as it was (``MOOD=Energetic``).
    """

    path: str
    status: str
    tags: dict[str, str] = field(default_factory=dict)
    message: str | None = None
    container: str | None = None
    kept: str | None = None

    @property
    def ok(self) -> bool:
        """True unless the file failed."""
        return self.status != "failed"

    def line(self) -> str:
        """One line for a person: ``path: status (reason)`` or ``path: status K=V, ...``."""
        if self.message:
            return f"{self.path}: {self.status}: {self.message}"
        tags = ", ".join(f"{k}={v}" for k, v in self.tags.items())
        line = f"{self.path}: {self.status} {tags}".rstrip()
        if self.kept:
            line += f"; kept: {self.kept} (not written by va_mood; --overwrite to replace)"
        return line


def model_version(bundle: Any) -> str:
    """A short, stable identifier of a model bundle, written as the ``VAMOOD_MODEL`` tag.

    Two bundles get the same version exactly when they would predict the same values, so a
    file tagged by this version needs no tagging again.

    Parameters
    ----------
    bundle : va_mood.Model
        A loaded or trained model (:func:`va_mood.load_model`, :func:`va_mood.train`).

    Returns
    -------
    str
        ``va_mood-`` and the first 12 hex digits of a SHA-256 over the heads' file hashes,
        the feature fingerprint and the thresholds (over the configuration instead, for a
        bundle never saved).

    Examples
    --------
    >>> model_version(va_mood.load_model())  # doctest: +SKIP
    'va_mood-5f0c3e9b1a2d'
    """
    meta = getattr(bundle, "metadata", None) or {}
    heads = meta.get("heads") or {}
    identity = {
        "heads": {axis: (heads.get(axis) or {}).get("sha256") for axis in AXES},
        "fingerprint": bundle.fingerprint,
        "thresholds": [float(t) for t in bundle.heads.thresholds],
    }
    if not any(identity["heads"].values()):
        from ..config import config_to_dict

        identity["config"] = config_to_dict(bundle.config)
    text = json.dumps(identity, sort_keys=True, default=str)
    return "va_mood-" + hashlib.sha256(text.encode()).hexdigest()[:12]


def _number(value: float) -> str:
    return f"{float(value) + 0.0:.4f}"  # + 0.0: never "-0.0000"


def tag_values(row: Mapping[str, Any], *, model_version: str, scale: str = "plane") -> dict:
    """The container-neutral tags for one prediction: ``{"MOOD": ..., "VAMOOD_VALENCE": ...}``.

    Parameters
    ----------
    row : mapping
        ``valence`` and ``arousal`` on the plane (-1..1) and ``quadrant`` and/or ``mood``, as a
        row of :meth:`va_mood.Model.predict_files`.
    model_version : str
        Written as ``VAMOOD_MODEL`` (:func:`model_version`).
    scale : {"plane", "unit", "nine"}
        The scale the numbers are written on (:mod:`va_mood.outputs.scales`).

    Returns
    -------
    dict of str to str
        ``MOOD`` and ``VAMOOD_`` + ``VALENCE``, ``AROUSAL`` (``ENERGY`` on the unit scale),
        ``QUADRANT``, ``SCALE``, ``MODEL``; numbers with four decimals.

    Raises
    ------
    ParameterError
        For an unknown scale, a row on the unit scale (``energy``), missing or non-numeric
        values, an unknown quadrant, or a mood that is not its quadrant's.

    Examples
    --------
    >>> row = {"valence": 0.5, "arousal": -0.25, "quadrant": "Q4", "mood": "Calm"}
    >>> tag_values(row, model_version="va_mood-0", scale="unit")["VAMOOD_ENERGY"]
    '0.3750'
    """
    if scale not in SCALES:
        raise ParameterError(f"unknown scale {scale!r}; allowed: {', '.join(SCALES)}")
    if "energy" in row and "arousal" not in row:
        raise ParameterError("write_tags needs a prediction on the plane, got one with 'energy'")
    try:
        valence, arousal = float(row["valence"]), float(row["arousal"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ParameterError(
            f"a prediction row needs numeric valence and arousal ({exc})"
        ) from None
    quadrant = parse_quadrant(row.get("quadrant") or row.get("mood"))
    mood = MOODS[quadrant]
    if row.get("mood") is not None and parse_quadrant(row["mood"]) != quadrant:
        raise ParameterError(f"row's mood {row['mood']!r} is not quadrant {quadrant}'s {mood}")
    s = SCALES[scale]
    v, a = scale_values([valence, arousal], s)
    return {
        "MOOD": mood,
        f"{PREFIX}VALENCE": _number(v),
        f"{PREFIX}{s.arousal_name.upper()}": _number(a),
        f"{PREFIX}QUADRANT": quadrant,
        f"{PREFIX}SCALE": s.name,
        f"{PREFIX}MODEL": model_version,
    }


# ---- containers -----------------------------------------------------------------------------


def _check_writable(path: Path) -> None:
    mode = path.stat().st_mode
    if not os.access(path, os.W_OK) or not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
        raise TagError(f"{path}: read-only file; not changed")
    if not os.access(path.parent, os.W_OK | os.X_OK):
        raise TagError(f"{path}: its folder is not writable; not changed")


def _write_atomically(path: Path, generic: Mapping[str, str]) -> None:
    """Tag a copy beside ``path``, then move it over ``path``: old file or new, never half."""
    import mutagen

    st = path.stat()
    fd, name = tempfile.mkstemp(
        prefix=f".{path.stem}.", suffix=f".vamood{path.suffix}", dir=path.parent
    )
    os.close(fd)
    tmp = Path(name)
    try:
        shutil.copyfile(path, tmp)
        os.chmod(tmp, stat.S_IMODE(st.st_mode))
        with contextlib.suppress(OSError):  # only root may give a file to someone else
            os.chown(tmp, st.st_uid, st.st_gid)
        audio, container = open_file(tmp)
        apply_generic(audio, container, generic)
        try:
            save(audio, container)
        except (mutagen.MutagenError, ValueError, EOFError) as exc:
            raise TagError(f"{path}: cannot write its tags ({reason(exc)})") from None
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


# ---- public ---------------------------------------------------------------------------------


def write_tags(
    path: str | os.PathLike,
    row: Mapping[str, Any],
    *,
    model_version: str,
    scale: str = "plane",
    overwrite: bool = False,
    dry_run: bool = False,
) -> TagResult:
    """Write one prediction into an audio file's own tags.

    Parameters
    ----------
    path : str or Path
        An mp3, ogg, opus, flac or m4a file. A symbolic link is followed: its target is tagged.
    row : mapping
        ``valence`` and ``arousal`` on the plane (-1..1), ``quadrant`` and/or ``mood``: a row of
        :meth:`va_mood.Model.predict_files` (``table.loc[path]``).
    model_version : str
        Identifies the model (:func:`model_version`); written as ``VAMOOD_MODEL``.
    scale : {"plane", "unit", "nine"}
        Scale of the numbers written (:mod:`va_mood.outputs.scales`).
    overwrite : bool
        Write even when the file already carries tags of the same model version (otherwise it
        is skipped), and replace a mood tag va_mood did not write (otherwise it is kept, and
        said in ``kept``; the ``VAMOOD_*`` tags are written either way).
    dry_run : bool
        Change nothing; report what would be written (or why it could not be: read-only,
        container, damaged tags).

    Returns
    -------
    TagResult
        ``status`` is ``"written"``, ``"skipped"``, ``"would write"`` or ``"failed"`` (with
        the reason in ``message``). Problems with the file never raise.

    Raises
    ------
    ParameterError
        Only for a bad ``row`` or ``scale`` (a caller's mistake, not the file's).

    Examples
    --------
    >>> table = bundle.predict_files(["song.mp3"])  # doctest: +SKIP
    >>> write_tags("song.mp3", table.loc["song.mp3"], model_version=model_version(bundle))
    ... # doctest: +SKIP
    TagResult(path='song.mp3', status='written', tags={'TMOO': 'Calm', ...}, ...)
    """
    generic = tag_values(row, model_version=model_version, scale=scale)

    def write(shown: str, target: Path, audio: Any, container: str) -> TagResult:
        written = generic
        kept = None if overwrite else _foreign_mood(read_generic(audio, container))
        if kept is not None:
            written = {k: v for k, v in generic.items() if k != "MOOD"}
            kept = f"MOOD={kept}"
        tags = container_names(container, written)
        _check_writable(target)
        if dry_run:
            return TagResult(shown, "would write", tags, None, container, kept)
        _write_atomically(target, written)
        return TagResult(shown, "written", tags, None, container, kept)

    return _unless_skipped(path, model_version, overwrite, generic, "write", write)


def _unless_skipped(
    path: str | os.PathLike,
    model_version: str,
    overwrite: bool,
    generic: Mapping[str, str],
    verb: str,
    then: Callable[[str, Path, Any, str], TagResult | None],
) -> TagResult | None:
    """Open ``path``'s target; ``"skipped"`` if ``model_version`` tagged it, else ``then(...)``.
    A problem with the file is a ``"failed"`` result (``cannot <verb>`` for an OS error)."""
    shown = str(path)
    target = Path(os.path.realpath(path))
    try:
        audio, container = open_file(target)
        done = _skip(audio, container, model_version, overwrite)
        if done is not None:
            return TagResult(shown, "skipped", container_names(container, generic), done, container)
        return then(shown, target, audio, container)
    except TagError as exc:
        return TagResult(shown, "failed", {}, str(exc).removeprefix(f"{target}: "), None)
    except OSError as exc:  # copy, chmod, replace: disk full, permissions, vanished file
        why = exc.strerror or reason(exc)
        return TagResult(shown, "failed", {}, f"cannot {verb} ({why})", None)


def _foreign_mood(existing: Mapping[str, str]) -> str | None:
    """The file's mood tag if va_mood did not write it, else None.

    va_mood's own mood tag is the mood of the quadrant it wrote beside it
    (``VAMOOD_QUADRANT``); any other mood tag is the user's, or another program's.
    """
    mood = existing.get("MOOD")
    if not mood:
        return None
    quadrant = existing.get(f"{PREFIX}QUADRANT")
    ours = quadrant in MOODS and mood == MOODS[quadrant]
    return None if ours else mood


def _skip(audio: Any, container: str, model_version: str, overwrite: bool) -> str | None:
    """Why an opened file needs no tagging (same model version already there), or None."""
    existing = read_generic(audio, container)
    old = existing.get(f"{PREFIX}MODEL")
    if old != model_version or overwrite:
        return None
    scale = existing.get(f"{PREFIX}SCALE", "?")
    return f"already tagged by {old} (scale {scale}); --overwrite to replace"


def precheck(
    path: str | os.PathLike, *, model_version: str, overwrite: bool = False
) -> TagResult | None:
    """What :func:`write_tags` would report without predicting anything, or None.

    Lets a batch leave out, before the costly prediction, the files it would not tag.

    Parameters
    ----------
    path : str or Path
        An audio file; a symbolic link is followed.
    model_version : str
        The version about to be written (:func:`model_version`).
    overwrite : bool
        As for :func:`write_tags`: files already tagged by this version are not skipped.

    Returns
    -------
    TagResult or None
        ``"skipped"`` (already tagged by ``model_version``) or ``"failed"`` (missing,
        read-only, not a taggable container, unreadable tags); None for a file that can be
        tagged. Never raises for a problem with the file.

    Examples
    --------
    >>> todo = [p for p in paths if precheck(p, model_version=version) is None]  # doctest: +SKIP
    """

    def check(shown: str, target: Path, audio: Any, container: str) -> None:
        _check_writable(target)

    return _unless_skipped(path, model_version, overwrite, {}, "read", check)


def read_tags(path: str | os.PathLike) -> dict[str, str]:
    """The va_mood tags of an audio file, by container-neutral name.

    Parameters
    ----------
    path : str or Path
        An audio file.

    Returns
    -------
    dict of str to str
        ``MOOD`` and ``VAMOOD_*`` (``VAMOOD_VALENCE``, ``VAMOOD_AROUSAL`` or
        ``VAMOOD_ENERGY``, ``VAMOOD_QUADRANT``, ``VAMOOD_SCALE``, ``VAMOOD_MODEL``); ``{}``
        for an untagged file.

    Raises
    ------
    TagError
        When the file is missing, unreadable, or not a supported container.

    Examples
    --------
    >>> read_tags("song.mp3")["MOOD"]  # doctest: +SKIP
    'Calm'
    """
    audio, container = open_file(Path(path))
    return read_generic(audio, container)


def already_tagged(path: str | os.PathLike, model_version: str) -> bool:
    """Whether ``path`` carries tags written by ``model_version``.

    Parameters
    ----------
    path : str or Path
        An audio file.
    model_version : str
        From :func:`model_version`.

    Returns
    -------
    bool
        False too when the file cannot be read.
    """
    try:
        return read_tags(path).get(f"{PREFIX}MODEL") == model_version
    except TagError:
        return False
