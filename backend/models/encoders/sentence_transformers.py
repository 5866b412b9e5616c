"""Any sentence-transformers model (packaged all-MiniLM-L6-v2, a Hub id, a local path) on torch."""
from __future__ import annotations

import importlib
from importlib.metadata import version
from typing import Sequence

import numpy as np

from backend.core.catalogue import ModelSpec
from backend.core.errors import ModelUnavailable
from backend.models.encoders.base import Encoder


class SentenceTransformerEncoder(Encoder):
    """A loaded ``SentenceTransformer`` behind the Encoder interface."""

    engine = "torch"

    def __init__(self, spec: ModelSpec, model, batch_size: int = 64):
        super().__init__(spec)
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
