"""Where va_mood keeps things unless told otherwise, and the files it ships by name.

Per-user places come from ``platformdirs`` (the XDG folders on Linux, ``~/Library`` on macOS,
``%LOCALAPPDATA%`` on Windows), so that nothing lands in the working folder: the feature cache
and the tuning studies. Configurations, search spaces and labels formats ship inside the
package and are named by their file stem (``default``, ``xgboost``, ``4q``).
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import ParameterError

__all__ = [
    "DEFAULT_MODEL",
    "DEFAULT_PREFIX",
    "PACKAGED",
    "default_cache",
    "default_storage",
    "packaged_names",
    "resolve_file",
]

DEFAULT_MODEL = Path(__file__).parent / "models" / "default"
"""The shipped default model bundle (trained on the 4Q clips, see its MODEL_CARD.md)."""

DEFAULT_PREFIX = "va_mood"
"""Studies are named ``<prefix>-<head>``, e.g. ``va_mood-arousal``."""

CONFIGS = Path(__file__).parent / "configs"

PACKAGED = {
    "configuration": "{}.toml",
    "search space": "search_space_{}.toml",
    "labels format": "labels/{}.toml",
}
"""Each kind of shipped file and where the file of a name lies under ``va_mood/configs``."""


def default_cache() -> Path:
    """The feature cache folder used unless told otherwise.

    Returns
    -------
    Path
        ``va_mood/features`` in the user's cache folder (``~/.cache/va_mood/features`` on
        Linux, following ``XDG_CACHE_HOME``); not created here.
    """
    from platformdirs import user_cache_path

    return user_cache_path("va_mood", appauthor=False) / "features"


def default_storage() -> str:
    """The optuna storage used unless told otherwise.

    Returns
    -------
    str
        A SQLite URL of ``va_mood/studies.db`` in the user's data folder
        (``~/.local/share/va_mood/studies.db`` on Linux, following ``XDG_DATA_HOME``).
    """
    from platformdirs import user_data_path

    return f"sqlite:///{user_data_path('va_mood', appauthor=False) / 'studies.db'}"


def packaged_names(kind: str) -> list[str]:
    """The names of the shipped files of ``kind``, sorted.

    Parameters
    ----------
    kind : str
        A key of :data:`PACKAGED` (``"configuration"``, ``"search space"``, ``"labels format"``).

    Returns
    -------
    list of str
        File stems without the kind's prefix (``default``, ``xgboost``, ``4q``).

    Examples
    --------
    >>> packaged_names("search space")
    ['default', 'xgboost']
    """
    pattern = PACKAGED[kind]
    prefix, suffix = pattern.split("{}")
    others = [PACKAGED[k].split("{}")[0] for k in PACKAGED if k != kind]
    return sorted(
        name[len(prefix) : -len(suffix)]
        for name in (p.relative_to(CONFIGS).as_posix() for p in CONFIGS.glob(pattern.format("*")))
        if not any(o and name.startswith(o) and o != prefix for o in others)
    )


def resolve_file(value: str | os.PathLike, kind: str) -> Path:
    """The file ``value`` names: a path to a file, or the name of a shipped file of ``kind``.

    A path that exists wins; a bare name (no folder, no suffix) is looked up among the
    shipped files.

    Parameters
    ----------
    value : str or Path
        A path, or a shipped name.
    kind : str
        A key of :data:`PACKAGED`.

    Returns
    -------
    Path

    Raises
    ------
    ParameterError
        For a missing file, or an unknown name (listing the names there are).

    Examples
    --------
    >>> resolve_file("xgboost", "search space").name
    'search_space_xgboost.toml'
    """
    path = Path(value)
    if path.is_file():
        return path
    text = os.fspath(value)
    if path.suffix == "" and os.sep not in text and "/" not in text:
        shipped = CONFIGS / PACKAGED[kind].format(text)
        if shipped.is_file():
            return shipped
        names = ", ".join(packaged_names(kind))
        raise ParameterError(f"no {kind} named {text!r}: give a TOML file or one of {names}")
    raise ParameterError(f"{kind} file not found: {path}")
