"""The one corpus-vector store: every row of a corpus embedded once, on disk, in shards.

Search, the map, diagnostics, features and mining all call :func:`corpus_embeddings`. Vectors are
keyed by the corpus fingerprint and the encoder's fingerprint (model, engine, version, normaliser),
so an upgrade never serves stale vectors. Distinct texts are embedded once (the CLDR atlas repeats
a third of its names) in their sorted order, in shards of ``settings.vector_shard_rows``; each shard
is an ``.npy`` written atomically, so a run that is killed part-way resumes where it stopped and a
reader never sees half a shard.

Two engines compute the missing shards (the same vectors either way, row by row):

- **in-process**, the embedded default, through the registry's encoder;
- **Ray Data** for corpora of ``settings.ray_min_rows`` rows or more, or for any corpus when
  ``settings.ray_address`` names a cluster: ``map_batches`` over the shards with a pool of encoder
  actors (``ray.data.ActorPoolStrategy``), each loading the encoder with the registry's own loader.
  If Ray cannot start, the corpus is embedded in-process when it fits (``max_corpus_rows``) and
  the run says so.

Two requests for the same corpus and model wait on one computation (a lock per key).
"""
from __future__ import annotations

import hashlib
import io
import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from backend.core.atomic_files import atomic_write, file_slug
from backend.core.errors import InvalidInput, ModelUnavailable
from backend.core.memory import KeyedLocks
from backend.core.settings import REPO_ROOT, Settings
from backend.data.corpus import Corpus

ENCODE_CHUNK = 512  # texts per encoder call in-process: progress moves at least this often
ENGINES = ("in-process", "ray")
log = logging.getLogger("babelscope")

ProgressFn = Callable[[float, str], None]


@dataclass(frozen=True)
class VectorRun:
    """How one call got its vectors."""

    engine: str  # "in-process" or "ray": what computed the missing shards ("in-process" if none were)
    n_rows: int
    n_unique: int
    n_shards: int
    computed: tuple[int, ...]  # shard numbers computed by this call; the others were on disk
    seconds: float
    note: str = ""  # e.g. why Ray was not used

    def to_dict(self) -> dict:
        return {"engine": self.engine, "n_rows": self.n_rows, "n_unique": self.n_unique, "n_shards": self.n_shards,
                "shards_computed": len(self.computed), "seconds": round(self.seconds, 3), "note": self.note}



def choose_engine(n_rows: int, settings: Settings) -> str:
    """``ray`` when a cluster is named or the corpus has ``ray_min_rows`` rows or more, else in-process."""
    if settings.ray_address or n_rows >= settings.ray_min_rows:
        return "ray"
    return "in-process"


# One lock per store directory: two requests for the same corpus and model compute it once.
_store_locks = KeyedLocks()


class _Progress:
    """Rows done of total, rows/s and ETA, to a ``(fraction, text)`` callback."""

    def __init__(self, callback: ProgressFn | None, total: int, what: str):
        self.callback, self.total, self.what = callback, max(total, 1), what
        self.done = 0
        self.start = time.perf_counter()

    def add(self, rows: int) -> None:
        self.done += rows
        if not self.callback:
            return
        elapsed = max(time.perf_counter() - self.start, 1e-9)
        rate = self.done / elapsed
        eta = (self.total - self.done) / rate if rate > 0 else float("inf")
        eta_text = f"{eta:,.0f} s" if np.isfinite(eta) else "?"
        self.callback(min(self.done / self.total, 1.0),
                      f"{self.what}: {self.done:,} of {self.total:,} texts · {rate:,.0f}/s · ETA {eta_text}")


class ShardedVectors:
    """The shard files of one (corpus, encoder) pair: ``shard-000000.npy``... in sorted distinct-text order."""

    def __init__(self, root: Path, n_unique: int, shard_rows: int):
        self.root, self.n_unique, self.shard_rows = root, n_unique, shard_rows
        self.n_shards = max(1, -(-n_unique // shard_rows))

    def path(self, shard: int) -> Path:
        return self.root / f"shard-{shard:06d}.npy"

    def bounds(self, shard: int) -> tuple[int, int]:
        return shard * self.shard_rows, min((shard + 1) * self.shard_rows, self.n_unique)

    def missing(self) -> list[int]:
        return [s for s in range(self.n_shards) if not self.path(s).exists()]

    def write(self, shard: int, vectors: np.ndarray) -> None:
        start, stop = self.bounds(shard)
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.shape[0] != stop - start:
            raise RuntimeError(f"shard {shard}: {vectors.shape[0]} vectors for {stop - start} texts")
        if not np.isfinite(vectors).all():
            raise InvalidInput("The model produced non-finite embeddings for this corpus.")
        buffer = io.BytesIO()
        np.save(buffer, vectors, allow_pickle=False)
        atomic_write(self.path(shard), buffer.getvalue())

    def read(self) -> np.ndarray:
        return np.concatenate([np.load(self.path(s), allow_pickle=False) for s in range(self.n_shards)])


def store_for(settings: Settings, corpus: Corpus, encoder_fingerprint: str, model_id: str,
              n_unique: int, shard_rows: int | None = None) -> ShardedVectors:
    shard_rows = shard_rows or settings.vector_shard_rows
    root = (settings.cache_dir / "vectors"
            / f"{corpus.fingerprint}__{file_slug(model_id)}__{fingerprint_key(encoder_fingerprint)}__s{shard_rows}")
    return ShardedVectors(root, n_unique, shard_rows)


def corpus_embeddings(registry, corpus: Corpus, model_id: str, progress: ProgressFn | None = None) -> np.ndarray:
    """float32 (n, d), L2-normalised embeddings of every row, computed once and kept on disk."""
    return embed_corpus(registry, corpus, model_id, progress)[0]


def embed_corpus(registry, corpus: Corpus, model_id: str, progress: ProgressFn | None = None, *,
                 engine: str | None = None, shard_rows: int | None = None,
                 on_shard: Callable[[int], None] | None = None) -> tuple[np.ndarray, VectorRun]:
    """Every row's vector (float32 (n, d), L2-normalised, rows in corpus order) and how it was got.

    engine: "in-process" or "ray"; None chooses by size and settings (:func:`choose_engine`).
    on_shard: called with each shard's number right after it is written (tests interrupt here).
    """
    settings = registry.settings
    if engine is not None and engine not in ENGINES:
        raise InvalidInput(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}.")
    started = time.perf_counter()
    encoder = registry.get("embeddings", model_id, progress)
    texts, inverse = np.unique(np.asarray(corpus.texts, dtype=object), return_inverse=True)
    store = store_for(settings, corpus, encoder.fingerprint, model_id, len(texts), shard_rows)
    with _store_locks.hold(str(store.root)):
        missing = store.missing()
        used, note = "in-process", ""
        if missing:
            wanted = engine or choose_engine(len(corpus), settings)
            todo = sum(store.bounds(s)[1] - store.bounds(s)[0] for s in missing)
            report = _Progress(progress, todo, f"Embedding with {model_id}")
            if wanted == "ray":
                try:
                    session = ray_session(settings)
                except ModelUnavailable as exc:
                    if len(corpus) > settings.limits.max_corpus_rows:
                        raise
                    note = f"{exc} Embedded in-process instead."
                    log.warning(note)
                    if progress:
                        progress(0.0, note)
                else:
                    used = "ray"
                    _ray_shards(session, settings, store, texts, missing, model_id, encoder.fingerprint,
                                report, on_shard)
            if used == "in-process":
                _in_process_shards(encoder, store, texts, missing, report, on_shard)
        vectors = store.read()
    if vectors.shape[0] != len(texts):
        raise RuntimeError(f"{store.root} holds {vectors.shape[0]} vectors for {len(texts)} texts")
    run = VectorRun(used, len(corpus), len(texts), store.n_shards, tuple(missing), time.perf_counter() - started, note)
    return vectors[inverse.ravel()], run


def _in_process_shards(encoder, store: ShardedVectors, texts: np.ndarray, missing: list[int],
                       report: _Progress, on_shard) -> None:
    for shard in missing:
        start, stop = store.bounds(shard)
        parts = []
        for lo in range(start, stop, ENCODE_CHUNK):
            chunk = list(texts[lo:min(lo + ENCODE_CHUNK, stop)])
            parts.append(encoder.encode(chunk))
            report.add(len(chunk))
        store.write(shard, np.concatenate(parts) if parts else np.zeros((0, encoder.dim), np.float32))
        if on_shard:
            on_shard(shard)


# ---------------------------------------------------------------- Ray Data

_ray_guard = threading.Lock()


def ray_session(settings: Settings):
    """The ``ray`` module, connected: to ``settings.ray_address`` when set, else a local Ray started
    on first use. ModelUnavailable (with what to do) when Ray cannot be imported or started."""
    with _ray_guard:
        try:
            import ray
        except ImportError as exc:
            raise ModelUnavailable(f"Ray is not installed ({exc}); `pip install 'ray[data]'` to use it.") from exc
        if ray.is_initialized():
            return ray
        options = {"include_dashboard": False, "logging_level": logging.WARNING, "log_to_driver": False}
        try:
            if settings.ray_address:
                # A cluster's workers get this package's code from here; it needs the same pip set.
                ray.init(address=settings.ray_address,
                         runtime_env={"py_modules": [str(REPO_ROOT / "backend")]}, **options)
            else:
                ray.init(num_cpus=settings.ray_num_cpus or os.cpu_count() or 1,
                         runtime_env={"env_vars": {"PYTHONPATH": str(REPO_ROOT)}}, **options)
        except Exception as exc:  # noqa: BLE001 - any failure to start or reach Ray is "unavailable"
            where = settings.ray_address or "a local Ray"
            raise ModelUnavailable(f"Ray could not start ({where}: {type(exc).__name__}: {str(exc)[:200]}). "
                                   "Check BABELSCOPE_RAY_ADDRESS, or unset it to embed in-process.") from exc
        ray.data.DataContext.get_current().enable_progress_bars = False
        return ray


def shutdown_ray() -> None:
    """Stop the local Ray this process started (tests and the CLI call it at exit)."""
    import sys

    with _ray_guard:
        ray = sys.modules.get("ray")
        if ray is not None and ray.is_initialized():
            ray.shutdown()


class RayEncoder:
    """A Ray Data actor: loads the encoder as the registry does, then embeds one shard per batch."""

    def __init__(self, settings: Settings, model_id: str, fingerprint: str):
        from backend.models.encoders import load_encoder

        self.encoder = load_encoder(settings.resolve("embeddings", model_id), settings)
        if self.encoder.fingerprint != fingerprint:
            raise RuntimeError(f"The Ray worker's encoder is {self.encoder.fingerprint}, the app's is {fingerprint}: "
                               "install the same packages on the workers.")

    def __call__(self, batch: dict) -> dict:
        vectors = [self.encoder.encode(list(texts)) for texts in batch["texts"]]
        # batch_size=1: one shard, so the stack is (1, rows, d) and travels as one tensor.
        return {"shard": batch["shard"], "vectors": np.stack(vectors)}


def _ray_shards(ray, settings: Settings, store: ShardedVectors, texts: np.ndarray, missing: list[int],
                model_id: str, fingerprint: str, report: _Progress, on_shard) -> None:
    items = []
    for shard in missing:
        start, stop = store.bounds(shard)
        items.append({"shard": shard, "texts": [str(t) for t in texts[start:stop]]})
    actors = settings.ray_actors or max(1, int(ray.cluster_resources().get("CPU", 1)))
    actors = min(actors, len(items))
    dataset = ray.data.from_items(items, override_num_blocks=len(items))
    encoded = dataset.map_batches(RayEncoder, fn_constructor_args=(settings, model_id, fingerprint),
                                  batch_size=1, batch_format="numpy", num_cpus=1,
                                  compute=ray.data.ActorPoolStrategy(size=actors))
    # Shards come back as they finish; the driver writes each one, so a cluster needs no shared disk.
    for batch in encoded.iter_batches(batch_size=1, batch_format="numpy", prefetch_batches=0):
        shard = int(batch["shard"][0])
        vectors = np.asarray(batch["vectors"][0], dtype=np.float32)
        store.write(shard, vectors)
        report.add(len(vectors))
        if on_shard:
            on_shard(shard)


def vectors_key(encoder) -> str:
    """Short name of the vectors an encoder produces (its fingerprint: model, engine, version,
    normaliser). Every disk cache derived from corpus vectors carries it, so an engine or version
    change never serves stale vectors, indexes or layouts."""
    return fingerprint_key(encoder.fingerprint)


def fingerprint_key(fingerprint: str) -> str:
    """``vectors_key`` of an encoder fingerprint."""
    return hashlib.sha256(fingerprint.encode()).hexdigest()[:12]
