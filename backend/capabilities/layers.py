"""At which depth does a model forget the language? Per-layer bitext P@1 and silhouettes on a stored
corpus, read through backend.models.encoders.hidden_states. Results are cached on disk as JSON by
corpus fingerprint, model fingerprint and languages."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Sequence

import numpy as np

from backend.core.atomic_files import atomic_write
from backend.core.errors import InvalidInput
from backend.core.settings import Settings

LAYERS_VERSION = "1"  # bump when the computation changes: cached curves from older code are not reused


@dataclass(frozen=True)
class LayerCurves:
    """Per-layer scores of one model on one corpus. Layer 0 is the embedding layer."""

    model_id: str
    corpus_id: str
    languages: tuple[str, ...]
    layers: tuple[int, ...]
    p_at_1: tuple[float, ...]  # bitext P@1 by cosine, pooled over ordered language pairs
    p_at_1_ci: tuple[tuple[float, float], ...]  # 95% Wilson
    silhouette_language: tuple[float | None, ...]
    silhouette_meaning: tuple[float | None, ...]
    n: int  # retrievals behind each P@1
    n_rows: int  # corpus rows read (a stratified sample above the cap)
    mean_pooled: bool  # the last layer is the model's own sentence embedding
    from_cache: bool = False
    engine: str = "in-process"  # what computed the missing shards of layer states: "in-process" or "ray"

    @property
    def best_layer(self) -> int:
        """The layer with the highest P@1 (the first of ties)."""
        return self.layers[int(np.nanargmax(np.asarray(self.p_at_1, dtype=np.float64)))]

    @property
    def most_neutral_layer(self) -> int | None:
        """The layer with the lowest language silhouette, or None where it is undefined."""
        values = [np.inf if v is None else v for v in self.silhouette_language]
        return None if all(np.isinf(values)) else self.layers[int(np.argmin(values))]

    def to_dict(self) -> dict:
        """The ``/layers`` API contract."""
        return {"model": self.model_id, "layers": list(self.layers), "p_at_1": list(self.p_at_1),
                "p_at_1_ci": [list(ci) for ci in self.p_at_1_ci],
                "silhouette_language": list(self.silhouette_language),
                "silhouette_meaning": list(self.silhouette_meaning), "n": self.n, "engine": self.engine}


def layer_curves_of(per_layer: np.ndarray, ids: Sequence[str], langs: Sequence[str], languages: Sequence[str],
                    model_id: str = "", corpus_id: str = "", mean_pooled: bool = True) -> LayerCurves:
    """Scores of ``per_layer`` (L + 1, n, d), L2-normalised per layer."""
    from backend.analysis.neutralisation import neutrality_scores

    scores = [neutrality_scores(layer, ids, langs, languages, margin=False) for layer in per_layer]
    return LayerCurves(model_id, corpus_id, tuple(languages), tuple(range(len(scores))),
                       tuple(s.p_at_1_cosine for s in scores), tuple(s.p_at_1_cosine_ci for s in scores),
                       tuple(s.silhouette_language for s in scores), tuple(s.silhouette_meaning for s in scores),
                       scores[0].n if scores else 0, per_layer.shape[1], mean_pooled)


def _cache_path(settings: Settings, corpus, fingerprint: str, languages, max_rows: int) -> Path:
    key = json.dumps({"version": LAYERS_VERSION, "model": fingerprint, "languages": list(languages),
                      "max_rows": max_rows}, sort_keys=True)
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return settings.cache_dir / "layers" / f"{corpus.fingerprint}__{digest}.json"


def run_layers(registry, corpus_id: str, model_id: str | None, languages=(), progress=None) -> LayerCurves:
    """Per-layer bitext P@1 and silhouettes of ``model_id`` on a stored corpus (cached on disk).

    ``languages``: a list or comma list ('' = all). Above ``limits.max_layer_rows`` rows, a
    stratified sample keeps whole translation sets."""
    from backend.core.languages import require_corpus_languages, require_retrieval_languages
    from backend.core.sampling import stratified_sample
    from backend.data.corpus import Corpus
    from backend.vectors.layer_states import layer_states

    settings = registry.settings
    model_id = model_id or settings.default_model("layers")
    settings.resolve("layers", model_id)
    corpus = registry.corpora.get(corpus_id)
    chosen = require_corpus_languages(languages, corpus, corpus_id) or sorted(corpus.language_counts)
    chosen = sorted(chosen)
    require_retrieval_languages(chosen, corpus, corpus_id, settings.limits, "The layer curves need")
    model = registry.get("layers", model_id, progress)
    max_rows = settings.limits.max_layer_rows
    path = _cache_path(settings, corpus, model.fingerprint, chosen, max_rows)
    if path.exists():
        data = json.loads(path.read_text(encoding="utf-8"))
        return LayerCurves(model_id, corpus.corpus_id, tuple(chosen), tuple(data["layers"]), tuple(data["p_at_1"]),
                           tuple(tuple(ci) for ci in data["p_at_1_ci"]), tuple(data["silhouette_language"]),
                           tuple(data["silhouette_meaning"]), data["n"], data["n_rows"], data["mean_pooled"], True)
    langs = np.asarray(corpus.langs)
    ids = np.asarray(corpus.ids)
    rows = np.flatnonzero(np.isin(langs, chosen))
    rows = rows[stratified_sample(langs[rows], ids[rows], max_rows)]
    if not any(ids[rows] != ""):
        raise InvalidInput(f"The chosen languages of corpus {corpus_id!r} share no meaning id; pick others.")
    sample = Corpus(corpus.corpus_id, corpus.name, tuple(ids[rows]), tuple(langs[rows]),
                    tuple(corpus.texts[i] for i in rows))
    per_layer, run = layer_states(registry, sample, model_id, model, progress)
    if not np.isfinite(per_layer).all():
        raise InvalidInput(f"{model_id} produced non-finite hidden states for this corpus; pick another model.")
    if progress:
        progress(0.95, "Scoring each layer")
    curves = replace(layer_curves_of(per_layer, ids[rows], langs[rows], chosen, model_id, corpus.corpus_id,
                                     model.mean_pooled), engine=run.engine)
    payload = {**curves.to_dict(), "n_rows": curves.n_rows, "mean_pooled": curves.mean_pooled}
    atomic_write(path, json.dumps(payload).encode("utf-8"))
    return curves
