"""A package's index that imports its modules on first use, so that importing stays quick."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, exports: Mapping[str, str]
) -> tuple[list[str], Callable[[str], Any], Callable[[], list[str]]]:
    """``__all__``, ``__getattr__`` and ``__dir__`` for a package that offers ``exports``.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    exports : Mapping[str, str]
        Each public name and the module of the package that defines it (relative, no dot).

    Returns
    -------
    names : list of str
        The package's ``__all__``.
    getattr : callable
        Imports the defining module the first time a name is asked for.
    dir : callable
        The package's attributes, the lazy ones included.

    Examples
    --------
    >>> __all__, __getattr__, __dir__ = lazy_exports(__name__, {"load": "decode"})  # doctest: +SKIP
    """

    def __getattr__(name: str) -> Any:
        if name in exports:
            return getattr(import_module(f".{exports[name]}", package), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted(exports)

    return list(exports), __getattr__, __dir__
