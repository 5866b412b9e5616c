"""Lazy, thread-safe model loading: each (capability, model id) is loaded once, on first use.

Importing this module, or building a registry, loads nothing. Loads of different models may run
concurrently; two requests for the same model wait on one load. When the loaded models' estimated
size (``ModelSpec.approx_mb``) passes ``settings.model_memory_budget_mb``, the least recently used
are dropped; a request still holding one finishes with it, and the next use loads it again.
"""
from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable

from backend.core.catalogue import ModelSpec
from backend.core.errors import ModelUnavailable
from backend.core.settings import Settings

ProgressFn = Callable[[float, str], None]
log = logging.getLogger("babelscope")
# Used by nearly every request and cheap to keep: never evicted.
PINNED_CAPABILITIES = frozenset({"langid"})


@dataclass(frozen=True)
class Capability:
    """What the registry knows about a capability: its name and how to load one of its models."""

    name: str
    loader: Callable[[ModelSpec, Settings], Any]
    languages: str


class ModelRegistry:
    def __init__(self, settings: Settings, capabilities: dict[str, Capability]):
        self.settings = settings
        self._capabilities = capabilities
        self._models: OrderedDict[tuple[str, str], Any] = OrderedDict()  # least recently used first
        self._sizes: dict[tuple[str, str], int] = {}
        self._locks: dict[tuple[str, str], threading.Lock] = {}
        self._guard = threading.Lock()
        # Shared services, set by build_registry: the embedding cache, corpora, FAISS indexes.
        self.embedding_cache = None
        self.corpora = None
        self.indexes = None
        self.maps = None  # the maps being shown, by token (backend.capabilities.language_map.MapStore)
        self.feature_atlases = None
        self.neutralisers = None  # backend.vectors.neutralised.FitCache

    def get(self, capability: str, model_id: str | None = None, progress: ProgressFn | None = None) -> Any:
        """The loaded model for ``capability``; ``model_id`` None means the profile's default.

        Raises ModelUnavailable for an id outside the allow-list (before any load) or a failed load.
        """
        if capability not in self._capabilities:
            raise ModelUnavailable(f"Unknown capability {capability!r}.")
        spec = self._spec(capability, model_id)
        key = (capability, spec.id)
        with self._guard:
            model = self._models.get(key)
            if model is not None and getattr(model, "alive", True):
                self._models.move_to_end(key)
                return model
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            with self._guard:
                model = self._models.get(key)
            if model is None or not getattr(model, "alive", True):  # a worker process that died is restarted
                if progress:
                    progress(0.0, f"Loading {spec.label} (first use only)…")
                model = self._capabilities[capability].loader(spec, self.settings)
                with self._guard:
                    self._models[key] = model
                    self._sizes[key] = spec.approx_mb
                    self._evict_over_budget(keep=key)
                if progress:
                    progress(1.0, f"Loaded {spec.label}")
        return model

    def loaded_mb(self) -> int:
        """The estimated resident size of the loaded models, in MB."""
        with self._guard:
            return sum(self._sizes.get(key, 0) for key in self._models)

    def _evict_over_budget(self, keep: tuple[str, str]) -> None:
        """Drop least-recently-used models (never ``keep`` or a pinned one) until within budget.
        Called with ``_guard`` held."""
        budget = self.settings.model_memory_budget_mb
        for key in list(self._models):
            if sum(self._sizes.get(k, 0) for k in self._models) <= budget:
                return
            if key == keep or key[0] in PINNED_CAPABILITIES:
                continue
            del self._models[key]
            log.info("evicted %s model %s (estimated %d MB) to stay within %d MB",
                     key[0], key[1], self._sizes.pop(key, 0), budget)

    def _spec(self, capability: str, model_id: str | None) -> ModelSpec:
        if capability == "langid":  # one built-in model, restricted to the app's languages
            from backend.models.language_id import lingua_spec

            return lingua_spec(self.settings.languages)
        return self.settings.resolve(capability, model_id or self.settings.default_model(capability))

    def embed(self, texts, model_id: str | None = None, progress: ProgressFn | None = None):
        """float32 (n, d) L2-normalised embeddings of ``texts``, through the shared cache."""
        encoder = self.get("embeddings", model_id, progress)
        return self.embedding_cache.encode(encoder, texts)

    def warm_up(self, embedding_models: tuple[str, ...] = ()) -> threading.Thread:
        """Load the language identifier (its worker process builds Lingua's models on another core)
        and ``embedding_models`` in a background thread, so the first request finds them ready.
        Returns the thread; failures are logged, and the first request then loads as usual."""
        def run() -> None:
            try:
                self.get("langid")
                for model_id in embedding_models:
                    self.get("embeddings", model_id)
            except Exception:  # noqa: BLE001 - a warm-up is an optimisation; the request path reports errors
                log.exception("warm-up failed; models will load on first use")

        thread = threading.Thread(target=run, name="babelscope-warm-up", daemon=True)
        thread.start()
        return thread

    def is_loaded(self, capability: str, model_id: str) -> bool:
        return (capability, model_id) in self._models

    def loaded(self) -> list[tuple[str, str]]:
        with self._guard:
            return sorted(self._models)


def build_registry(settings: Settings | None = None) -> ModelRegistry:
    """The app's registry with every capability wired in. Loads nothing."""
    from backend.capabilities.language_map import MapStore
    from backend.core.settings import load_settings
    from backend.data.corpus import CorpusStore
    from backend.models.captioning import load_captioner
    from backend.models.encoders import load_encoder
    from backend.models.encoders.base import EmbeddingCache
    from backend.models.encoders.hidden_states import load_layer_model
    from backend.models.language_id import load_language_identifier
    from backend.models.ocr import load_text_reader
    from backend.models.sae import load_sparse_head
    from backend.models.sentiment import load_sentiment_model
    from backend.models.speech import load_speech_recognizer
    from backend.vectors.feature_atlas import AtlasStore
    from backend.vectors.index import IndexStore
    from backend.vectors.neutralised import FitCache

    settings = settings or load_settings()
    capabilities = {
        "embeddings": Capability("embeddings", load_encoder, "per model, see config"),
        "layers": Capability("layers", load_layer_model, "per model, see config"),
        "langid": Capability("langid", load_language_identifier, ", ".join(settings.languages)),
        "sentiment": Capability("sentiment", load_sentiment_model, "per model, see config"),
        "speech": Capability("speech", load_speech_recognizer, "99 languages (Whisper)"),
        "captioning": Capability("captioning", load_captioner, "per model, see config"),
        "ocr": Capability("ocr", load_text_reader, "Chinese, Japanese, Latin script (PP-OCRv5)"),
        "features": Capability("features", load_sparse_head, "~100 languages (multilingual-e5-small)"),
    }
    registry = ModelRegistry(settings, capabilities)
    registry.embedding_cache = EmbeddingCache(settings.limits.embedding_cache_entries)
    registry.corpora = CorpusStore(settings, identify_language=lambda t: registry.get("langid").identify(t))
    registry.indexes = IndexStore(registry)
    registry.maps = MapStore()
    registry.feature_atlases = AtlasStore()
    registry.neutralisers = FitCache()
    return registry
