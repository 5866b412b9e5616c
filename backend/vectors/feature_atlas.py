"""SAE codes of a corpus on disk, and the computed atlases in memory: a per-corpus store, like the
corpus vectors, for the Features tab's atlas.

Every distinct text of a corpus is coded once by a ``backend.models.sae`` coder and kept truncated
to its ``ATLAS_K`` strongest features ("fires on a sentence" means: is among these 32), which keeps
the CLDR atlas at ~30 MB. The codes go through the corpus pipeline of ``backend.vectors.store``
(:func:`~backend.vectors.store.compute_rows`): shards (``.npz``, no pickle) written atomically,
keyed by the corpus fingerprint and the coder's fingerprint, so an interrupted run resumes and an
upgrade never serves stale codes; in-process or on Ray Data by the same rule as the vectors.
"""
from __future__ import annotations

import collections
import threading
from typing import Callable, Generic, TypeVar

import numpy as np

from backend.core.settings import Settings
from backend.data.corpus import Corpus
from backend.models.sae import SparseCoder
from backend.vectors.store import CorpusRun, RowJob, compute_rows

ProgressFn = Callable[[float, str], None]
ATLAS_K = 32  # features kept per sentence in an atlas ("fires" = among these)
SHARD_ROWS = 2_048  # a shard of codes takes ~10-30 s on 2 cores: a kill loses little, Ray gets enough items

Atlas = TypeVar("Atlas")


class CodeRows:
    """The codes job's row function: idx int32 (n, ATLAS_K), -1 padded, and val float32 (n, ATLAS_K)."""

    def __init__(self, coder: SparseCoder):
        self.coder = coder
        self.fingerprint = f"{coder.fingerprint}|k{ATLAS_K}"

    def __call__(self, texts: list) -> dict:
        idx = np.full((len(texts), ATLAS_K), -1, dtype=np.int32)
        val = np.zeros((len(texts), ATLAS_K), dtype=np.float32)
        for r, (i, v) in enumerate(self.coder.codes(texts, ATLAS_K) if texts else ()):
            idx[r, :len(i[:ATLAS_K])], val[r, :len(v[:ATLAS_K])] = i[:ATLAS_K], v[:ATLAS_K]
        return {"idx": idx, "val": val}


def load_code_rows(settings: Settings, job: RowJob) -> CodeRows:
    """On a Ray worker: the SAE over ``job.source_id``'s encoder, loaded as the registry does."""
    from backend.models.encoders import load_encoder
    from backend.models.sae import load_sparse_head

    head = load_sparse_head(settings.resolve("features", job.model_id), settings)
    return CodeRows(head.coder_for(load_encoder(settings.resolve("embeddings", job.source_id), settings)))


def atlas_codes(registry, coder: SparseCoder, corpus: Corpus, progress: ProgressFn | None = None, *,
                feature_model: str, encoder_model: str, engine: str | None = None, shard_rows: int | None = None,
                on_shard: Callable[[int], None] | None = None) -> tuple[np.ndarray, np.ndarray, CorpusRun]:
    """(idx int32 (n, ATLAS_K), val float32 (n, ATLAS_K), how they were got) for every row of ``corpus``.

    feature_model, encoder_model: the model ids the registry loaded ``coder`` from (a Ray worker
    loads the same). engine: as :func:`backend.vectors.store.compute_rows`."""
    rows = CodeRows(coder)
    job = RowJob("features", f"SAE codes ({coder.engine})", feature_model, rows.fingerprint, ("idx", "val"),
                 load_code_rows, shard_rows=SHARD_ROWS, source_id=encoder_model)
    out, run = compute_rows(registry, corpus, job, rows, progress, engine=engine, shard_rows=shard_rows,
                            on_shard=on_shard)
    return out["idx"], out["val"], run


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
