"""One exception root for everything va_mood raises on purpose."""

__all__ = ["VaMoodError", "ParameterError", "AudioError", "LabelsError", "BundleError"]


class VaMoodError(Exception):
    """Root of the package's own errors: a message for a person, never a bug."""


class ParameterError(VaMoodError, ValueError):
    """A configuration value or function argument is outside what is allowed."""


class AudioError(VaMoodError):
    """An audio file cannot be read or decoded into usable samples."""


class LabelsError(VaMoodError, ValueError):
    """A labels file is missing columns, holds values off its declared scale, or is otherwise unusable."""


class BundleError(VaMoodError):
    """A model bundle is missing, damaged, from an unknown format, or does not match the features."""
