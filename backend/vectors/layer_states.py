"""Per-layer pooled states of a corpus through the corpus pipeline (``backend.vectors.store``): the
Layers view's rows, sharded, resumable and keyed like the vectors, in-process or on Ray Data."""
from __future__ import annotations

from typing import Callable

import numpy as np

from backend.core.settings import Settings
from backend.data.corpus import Corpus
from backend.vectors.store import CorpusRun, RowJob, compute_rows, store_float16

ProgressFn = Callable[[float, str], None]


class LayerRows:
    """The layer-states job's row function: states float32 (n, L + 1, d), each layer mean-pooled
    and L2-normalised (``HiddenStatesModel.pooled_layers``, rows first so shards split by row)."""

    def __init__(self, model):
        self.model, self.fingerprint = model, model.fingerprint

    def __call__(self, texts: list) -> dict:
        return {"states": np.ascontiguousarray(self.model.pooled_layers(texts).transpose(1, 0, 2))}


def load_layer_rows(settings: Settings, job: RowJob) -> LayerRows:
    """On a Ray worker: the layer model of ``job.model_id``, loaded with the registry's loader."""
    from backend.models.encoders.hidden_states import load_layer_model

    return LayerRows(load_layer_model(settings.resolve("layers", job.model_id), settings))


def layer_states(registry, corpus: Corpus, model_id: str, model, progress: ProgressFn | None = None, *,
                 engine: str | None = None, shard_rows: int | None = None,
                 on_shard: Callable[[int], None] | None = None) -> tuple[np.ndarray, CorpusRun]:
    """float32 (L + 1, n, d): every row's pooled states by layer, as ``model.pooled_layers``, and how
    they were got. ``model``: the registry's loaded ``layers`` model for ``model_id``."""
    rows = LayerRows(model)
    n_unique = len(set(corpus.texts))
    job = RowJob("layer-states", f"Reading the layers of {model_id}", model_id, rows.fingerprint, ("states",),
                 load_layer_rows, float16=store_float16(n_unique, registry.settings))
    out, run = compute_rows(registry, corpus, job, rows, progress, engine=engine, shard_rows=shard_rows,
                            on_shard=on_shard)
    return np.ascontiguousarray(out["states"].transpose(1, 0, 2)), run
