"""Mining's k-NN on Ray: the queries split into blocks, each searched in a Ray task against one
FAISS index that the driver serialises and puts in the object store once (``ray.put``); every
task reads that one copy (zero-copy on its node), and the driver concatenates the blocks' k best
in query order. Each query's k best come from one task against the whole index, so the answer is
the driver-side search's, row for row.
"""
from __future__ import annotations

import numpy as np

from backend.core.settings import Settings

_remote_search = None  # the Ray remote function, made once per process


def _search_block(index_bytes: np.ndarray, search_param: str, queries: np.ndarray, k: int):
    import faiss

    from backend.vectors.index import set_search_param

    index = faiss.deserialize_index(index_bytes)
    set_search_param(index, search_param, k)
    return index.search(queries, k)


def knn_blocks(ray, settings: Settings, n_queries: int) -> int:
    """How many blocks the queries split into: ``ray_knn_blocks``, or two per CPU Ray has."""
    wanted = settings.ray_knn_blocks or 2 * max(1, int(ray.cluster_resources().get("CPU", 1)))
    return max(1, min(wanted, n_queries))


def ray_search(ray, settings: Settings, index, search_param: str, queries: np.ndarray, k: int
               ) -> tuple[np.ndarray, np.ndarray]:
    """``index.search(queries, k)`` (after ``set_search_param``), in Ray tasks: cosines float32 (n, k)
    and row numbers int64 (n, k). queries: float32 (n, d)."""
    import faiss

    global _remote_search
    if _remote_search is None:
        _remote_search = ray.remote(num_cpus=1)(_search_block)
    index_ref = ray.put(faiss.serialize_index(index))  # once: every task reads this copy
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    bounds = np.linspace(0, len(queries), knn_blocks(ray, settings, len(queries)) + 1).astype(int)
    refs = [_remote_search.remote(index_ref, search_param, queries[lo:hi], k)
            for lo, hi in zip(bounds[:-1], bounds[1:]) if hi > lo]
    parts = ray.get(refs)
    if not parts:
        return np.zeros((0, k), np.float32), np.zeros((0, k), np.int64)
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
