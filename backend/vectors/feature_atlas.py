"""SAE codes of a corpus on disk, and the computed atlases in memory: a per-corpus store, like the
corpus vectors (``backend.vectors.store``), for the Features tab's atlas.

Every distinct text of a corpus is coded once by a ``backend.models.sae`` coder and kept truncated
to its ``ATLAS_K`` strongest features ("fires on a sentence" means: is among these 32), which keeps
the CLDR atlas at ~30 MB. Shards are ``.npz`` (no pickle) written atomically, keyed by the corpus
fingerprint and the coder's fingerprint, so an interrupted run resumes and an upgrade never serves
stale codes.
"""
from __future__ import annotations

import collections
import hashlib
import io
import math
import threading
from pathlib import Path
from typing import Callable, Generic, TypeVar

import numpy as np

from backend.core.atomic_files import atomic_write, file_slug
from backend.data.corpus import Corpus
from backend.models.sae import SparseCoder

ProgressFn = Callable[[float, str], None]
ATLAS_K = 32  # features kept per sentence in an atlas ("fires" = among these)
SHARD_ROWS = 1_024

Atlas = TypeVar("Atlas")


def atlas_codes(coder: SparseCoder, corpus: Corpus, cache_dir: Path, progress: ProgressFn | None = None
                ) -> tuple[np.ndarray, np.ndarray, bool]:
    """(idx int32 (n, ATLAS_K), val float32 (n, ATLAS_K), from_cache) for every row of ``corpus``.

    Distinct texts are coded once, in shards of SHARD_ROWS written atomically as ``.npz`` under
    ``<cache>/features/<corpus fingerprint>__<coder key>/``: an interrupted run resumes."""
    key = hashlib.sha256(f"{coder.fingerprint}|k{ATLAS_K}".encode()).hexdigest()[:12]
    root = cache_dir / "features" / f"{corpus.fingerprint}__{file_slug(coder.engine, 60)}__{key}"
    texts, inverse = np.unique(np.asarray(corpus.texts, dtype=object), return_inverse=True)
    n_shards = max(1, math.ceil(len(texts) / SHARD_ROWS))
    idx = np.full((len(texts), ATLAS_K), -1, dtype=np.int32)
    val = np.zeros((len(texts), ATLAS_K), dtype=np.float32)
    from_cache = True
    for shard in range(n_shards):
        lo, hi = shard * SHARD_ROWS, min(len(texts), (shard + 1) * SHARD_ROWS)
        path = root / f"shard_{shard:05d}.npz"
        if path.exists():
            with np.load(path, allow_pickle=False) as data:
                idx[lo:hi], val[lo:hi] = data["idx"], data["val"]
            continue
        from_cache = False
        part = (lambda f, d: progress and progress((lo + f * (hi - lo)) / len(texts),
                                                   f"SAE codes of {len(texts):,} distinct texts: {d}"))
        codes = coder.codes(list(texts[lo:hi]), ATLAS_K, part if progress else None)
        for r, (i, v) in enumerate(codes):
            idx[lo + r, :len(i)], val[lo + r, :len(v)] = i[:ATLAS_K], v[:ATLAS_K]
        buffer = io.BytesIO()
        np.savez(buffer, idx=idx[lo:hi], val=val[lo:hi])
        atomic_write(path, buffer.getvalue())
    inverse = inverse.ravel()
    return idx[inverse], val[inverse], from_cache


class AtlasStore(Generic[Atlas]):
    """Computed atlases in memory, one per (corpus sample, coder) key, each built once behind a lock.
    The registry holds one (``registry.feature_atlases``); the codes themselves live on disk."""

    def __init__(self, max_entries: int = 8):
        self._atlases: collections.OrderedDict[tuple[str, str], Atlas] = collections.OrderedDict()
        self._locks: dict[tuple[str, str], threading.Lock] = {}
        self._guard = threading.Lock()
        self._max = max_entries

    def get_or_build(self, key: tuple[str, str], build: Callable[[], Atlas]) -> Atlas:
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            with self._guard:
                if key in self._atlases:
                    self._atlases.move_to_end(key)
                    return self._atlases[key]
            atlas = build()
            with self._guard:
                self._atlases[key] = atlas
                while len(self._atlases) > self._max:
                    self._atlases.popitem(last=False)
            return atlas
