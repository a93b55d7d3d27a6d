"""Bring a format-2 model bundle to format 3 without retraining: add the manifest.

Run once on the shipped model when the format gained its manifest::

    python tools/seal_bundle.py src/va_mood/models/default

The head files and the model card are left as they are; ``bundle.json`` gains the SHA-256 of
each of them and of itself (``manifest``) and says format 3. The bundle is loaded afterwards
to check it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from va_mood.model.bundle import FORMAT_VERSION, read_bundle
from va_mood.model.schema import METADATA_FILE, check_metadata, make_manifest
from va_mood.util.atomic import write_text


def seal(folder: Path) -> None:
    """Add the manifest to the format-2 bundle in ``folder`` (refused if it is not one)."""
    read_bundle(folder)  # every check a format-2 bundle passes, before anything changes
    meta_path = folder / METADATA_FILE
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    if meta["format_version"] != 2 or FORMAT_VERSION != 3:
        raise SystemExit(f"{folder}: format {meta['format_version']}, not 2: nothing to do")
    check_metadata(meta, meta_path)
    meta["format_version"] = 3
    meta["manifest"] = make_manifest(folder, meta)
    write_text(meta_path, json.dumps(meta, indent=2, allow_nan=False))
    read_bundle(folder)
    print(f"{folder}: format 3, manifest of {len(meta['manifest']['files'])} file(s)")


if __name__ == "__main__":
    for argument in sys.argv[1:]:
        seal(Path(argument))
