"""One exception root for everything va_mood raises on purpose.

Callers catch :class:`VaMoodError` for any of them; the subclasses that are also a built-in
exception (``ValueError``, ``OSError``) still satisfy code written for that built-in.
"""

__all__ = [
    "VaMoodError",
    "ParameterError",
    "AudioError",
    "LabelsError",
    "BundleError",
    "OutputError",
    "VaMoodWarning",
]


class VaMoodError(Exception):
    """Root of the package's own errors: a message for a person, never a bug.

    Messages say what was received and what was allowed, naming the file where there is one;
    the command line prints them as one line, without a traceback.
    """


class ParameterError(VaMoodError, ValueError):
    """A configuration value or function argument is outside what is allowed.

    Also a ``ValueError``, as scikit-learn and the standard library raise for bad values.
    """


class AudioError(VaMoodError):
    """An audio file cannot be read or decoded into usable samples."""


class LabelsError(VaMoodError, ValueError):
    """A labels file lacks columns, holds off-scale values, or is otherwise unusable.

    Also a ``ValueError``: the file's values are bad, not the program.
    """


class BundleError(VaMoodError):
    """A model bundle is missing, damaged, of an unknown format, or mismatches the features."""


class OutputError(VaMoodError, OSError):
    """An output file cannot be written: no space, no permission, a folder in the way.

    Also an ``OSError``, so code that handles file-system failures handles it too.
    """


class VaMoodWarning(UserWarning):
    """Something a user should know that did not stop the work (a cache that cannot be written).

    The command line prints these as ``warning:`` lines.
    """
