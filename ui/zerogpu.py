"""ZeroGPU: ``spaces.GPU`` around the GPU-heavy handlers on a Hugging Face Space, a no-op elsewhere.

On a ZeroGPU Space a GPU is attached only while a function decorated with ``spaces.GPU`` runs.
The ``spaces`` package is preinstalled there (and does nothing on other hardware); anywhere it is
not importable, the handler runs unchanged. It lives in ui/ because ``spaces`` imports gradio.
"""
from __future__ import annotations

import importlib
from typing import Callable

DEFAULT_SECONDS = 60  # ZeroGPU's default slot; the labs and bitext ask for more


def _spaces():
    try:
        return importlib.import_module("spaces")
    except ImportError:
        return None


def gpu(fn: Callable | None = None, *, duration: int = DEFAULT_SECONDS):
    """``@gpu`` or ``@gpu(duration=120)``: ``spaces.GPU(duration=...)`` when available, else ``fn``."""
    def wrap(f: Callable) -> Callable:
        spaces = _spaces()
        if spaces is None or not hasattr(spaces, "GPU"):
            return f
        return spaces.GPU(duration=duration)(f)

    return wrap(fn) if fn is not None else wrap
