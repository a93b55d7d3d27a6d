"""``python -m va_mood.cli``: the ``va-mood`` command."""

from . import app

app()
