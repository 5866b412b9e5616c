"""Files the app hands to a browser to download (the map's CSV, mined pairs, the Mining tab's sides).

One place decides where they live and how they are named, so that two users never receive each
other's file and the temp folder does not fill up. Two policies, by what the file is:
- ``content_file``: named by a hash of its bytes. The same content is one file, written once, and
  no request can change a file another one was given (mined pairs, example sides).
- ``unique_file``: a new file per request, removed after ``max_age_s`` (a map's CSV: Gradio copies
  a returned file into its own cache at once, so ours can go soon after).
Both write atomically (backend.core.atomic_files), under the system's temp folder.
"""
from __future__ import annotations

import hashlib
import re
import secrets
import tempfile
import time
from pathlib import Path

from backend.core.atomic_files import atomic_write

EXPORT_ROOT = Path(tempfile.gettempdir())


def content_file(folder: str, name: str, data: bytes) -> str:
    """``data`` as ``<temp>/<folder>/<sha256 of data, 16 hex>/<name>``; its path as a string."""
    path = EXPORT_ROOT / folder / hashlib.sha256(data).hexdigest()[:16] / name
    if not path.exists():
        atomic_write(path, data)
    return str(path)


def unique_file(folder: str, stem: str, suffix: str, data: bytes, max_age_s: float) -> str:
    """``data`` as ``<temp>/<folder>/<stem>-<12 random hex><suffix>``, ``stem`` made safe for a file
    name (other characters become ``_``, at most 150 kept); files of this folder with this suffix
    older than ``max_age_s`` are removed. Its path as a string."""
    directory = EXPORT_ROOT / folder
    path = directory / f"{re.sub(r'[^A-Za-z0-9_.,-]+', '_', stem)[:150]}-{secrets.token_hex(6)}{suffix}"
    atomic_write(path, data)
    cutoff = time.time() - max_age_s
    for old in directory.glob(f"*{suffix}"):
        try:
            if old.stat().st_mtime < cutoff:
                old.unlink()
        except OSError:
            pass  # another export removed it first
    return str(path)
