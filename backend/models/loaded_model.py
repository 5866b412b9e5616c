"""The base of every loaded model wrapper: its allow-list spec, its id, and one lock.

Model objects (CTranslate2, torch, ctypes engines, Lingua) are not documented as safe to call from
two threads at once, and the registry hands one instance to every request: each wrapper serialises
calls into its model with ``self._lock``."""
from __future__ import annotations

import threading

from backend.core.catalogue import ModelSpec


class LoadedModel:
    spec: ModelSpec

    def __init__(self, spec: ModelSpec):
        self.spec = spec
        self._lock = threading.Lock()

    @property
    def model_id(self) -> str:
        return self.spec.id

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.spec.id!r})"
