"""Crash-safe file writes for every cache: a reader never sees a half-written file."""
from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import BinaryIO, Callable


def atomic_write(path: Path, data: bytes | Callable[[BinaryIO], object]) -> None:
    """Write ``data`` (bytes, or a function that writes to the open file) to a temp file in the
    same directory, fsync it, then rename it over ``path``. On any failure the temp file is removed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            if callable(data):
                data(handle)
            else:
                handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def file_slug(text: str, limit: int | None = None) -> str:
    """``text`` safe as part of a cache file name: runs of other characters become ``_``; cut at
    ``limit`` characters where given."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)[:limit]
