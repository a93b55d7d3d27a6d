"""One exception root for everything va_mood raises on purpose."""

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
    """Root of the package's own errors: a message for a person, never a bug."""


class ParameterError(VaMoodError, ValueError):
    """A configuration value or function argument is outside what is allowed."""


class AudioError(VaMoodError):
    """An audio file cannot be read or decoded into usable samples."""


class LabelsError(VaMoodError, ValueError):
    """A labels file lacks columns, holds off-scale values, or is otherwise unusable."""


class BundleError(VaMoodError):
    """A model bundle is missing, damaged, of an unknown format, or mismatches the features."""


class OutputError(VaMoodError, OSError):
    """An output file cannot be written: no space, no permission, a folder in the way."""


class VaMoodWarning(UserWarning):
    """Something a user should know that did not stop the work (a cache that cannot be written).
    The command line prints these as ``warning:`` lines."""
