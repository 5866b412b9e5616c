"""Pick the compute device once per process: cuda > mps > cpu (the sentence-transformers habit)."""
from __future__ import annotations

import functools
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Device:
    name: str  # "cuda", "mps" or "cpu"
    fp16: bool  # half precision only on CUDA: on CPU and MPS it is slower or inexact


@functools.cache
def pick_device() -> Device:
    import torch  # imported here: importing the backend must stay cheap

    if torch.cuda.is_available():
        return Device("cuda", fp16=True)
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return Device("mps", fp16=False)
    return Device("cpu", fp16=False)


@functools.cache
def surely_cpu_only() -> bool:
    """True when this host certainly has no GPU torch could use, found without importing torch
    (which costs ~1-4 s of a cold start). False means "maybe": ask ``pick_device``.

    Linux with no NVIDIA driver (/proc/driver/nvidia) and no ROCm device (/dev/kfd) is CPU-only;
    anything else (macOS with MPS, other systems) defers to torch. Once torch is imported anyway,
    its answer is used."""
    if "torch" in sys.modules:
        return pick_device().name == "cpu"
    if not sys.platform.startswith("linux"):
        return False
    return not (Path("/proc/driver/nvidia").exists() or Path("/dev/kfd").exists()
                or any(Path("/dev").glob("nvidia[0-9]*")))


@functools.cache
def faiss_gpu_count() -> int:
    """GPUs visible to FAISS: > 0 only with faiss-gpu (requirements-gpu.txt) on a CUDA host."""
    import faiss

    get = getattr(faiss, "get_num_gpus", None)
    return int(get()) if get else 0
