"""Bitext mining: find the translations in two monolingual piles of text.

The method is LASER's (Artetxe & Schwenk 2019, "Margin-based parallel corpus mining with
multilingual sentence embeddings"): embed both sides through the corpus-vector store, take the k
nearest neighbours in both directions with FAISS (exact up to ``mine_exact_max`` rows searched,
where one batched matrix product beats building an index; above it the index by size, as in Search),
score each candidate with the ratio margin

    margin(x, y) = cos(x, y) / ((mean cos of x to its k NN + mean cos of y to its k NN) / 2),

and keep candidates by a strategy: ``forward`` (each source line's best target), ``backward``
(each target line's best source), ``intersection`` (mutual best: both agree) or ``max-score``
(both directions pooled, best first, each line used once). Pairs at or above a margin threshold
are the output. With gold pairs, precision, recall and F1 are computed at every threshold (BUCC).

The job is here; the margins, the strategies and the gold scoring are ``backend.analysis.margins``,
the sides, the gold file, the bundled example and the exports ``backend.data.bitext_files``.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from backend.analysis.margins import (
    AUTO,
    STRATEGIES,
    AutoThreshold,
    GoldScore,
    MinedPair,
    auto_threshold,
    length_ratio_ok,
    margins_from_knn,
    score_against_gold,
    select_pairs,
)
from backend.core.errors import InvalidInput
from backend.core.stats import MARGIN_K
from backend.core.validation import one_of, whole_number
from backend.data.bitext_files import Side

DEFAULT_STRATEGY = "intersection"
DEFAULT_K = MARGIN_K
MAX_K = 32
# "auto": picked per run from the candidates' own margins (backend.analysis.margins.auto_threshold).
DEFAULT_THRESHOLD = AUTO
# Margins of e5-style models sit near 1; a mutual nearest neighbour above 1.02 is usually a
# translation on the bundled example. Auto falls back to it when the margins show no two modes.
FALLBACK_THRESHOLD = 1.02
# UTF-8 bytes, not characters: a Chinese sentence is a third as many characters as its English
# translation but about as many bytes, so one ratio serves every script.
DEFAULT_MAX_LENGTH_RATIO = 3.0
API_TOP_PAIRS = 1_000

ProgressFn = Callable[[float, str], None]


@dataclass(frozen=True)
class MiningResult:
    model: str
    engine: str  # the embedding engine that computed the vectors: "in-process" or "ray"
    source: Side
    target: Side
    strategy: str
    k: int
    threshold: float | str  # as asked: a number, or "auto"
    pairs: tuple[MinedPair, ...]  # at or above the threshold used, best first
    candidate_scores: np.ndarray  # float64: every candidate's margin before the threshold (histogram)
    gold: GoldScore | None
    seconds: dict = field(default_factory=dict)  # per stage, in order: read, encode, index, knn, margin, select
    notes: tuple[str, ...] = ()
    gold_pairs: frozenset = frozenset()  # the gold (source line, target line) pairs scored against, 1-based
    picked: AutoThreshold | None = None  # how the threshold was chosen (None: a fixed number)
    encoded_rows: int = 0  # distinct lines embedded by this run (the others came from the vector store)

    @property
    def threshold_used(self) -> float:
        return self.picked.threshold if self.picked is not None else float(self.threshold)

    @property
    def threshold_method(self) -> str:
        """"fixed" (the number asked for), or auto's "gmm", "valley" or "fallback"."""
        return self.picked.method if self.picked is not None else "fixed"

    def to_dict(self) -> dict:
        """The ``/mine`` API contract."""
        out = {"model": self.model, "engine": self.engine, "n_source": len(self.source),
               "n_target": len(self.target), "strategy": self.strategy, "k": self.k,
                "threshold": self.threshold, "threshold_used": self.threshold_used,
                "threshold_method": self.threshold_method, "n_pairs": len(self.pairs),
                "pairs": [p.to_dict() for p in self.pairs[:API_TOP_PAIRS]],
                "languages": {role: {"lang": side.lang, "language_probability": round(side.lang_probability, 4),
                                     "language_uncertain": side.lang_uncertain}
                              for role, side in (("source", self.source), ("target", self.target))}}
        if self.gold is not None:
            out.update(precision=self.gold.precision, recall=self.gold.recall, f1=self.gold.f1,
                       best_f1=self.gold.best_f1, best_threshold=self.gold.best_threshold)
        return out


def _knn(queries: np.ndarray, base: np.ndarray, k: int, settings, timings: dict, ray=None
         ) -> tuple[np.ndarray, np.ndarray]:
    """The k nearest rows of ``base`` for every query: cosines (n, k) and row numbers (n, k).
    Adds the index build and search seconds to ``timings["index"]`` and ``timings["knn"]``.
    ray: a connected ``ray`` module: above ``mine_exact_max`` the queries are searched in Ray tasks
    (``backend.vectors.ray_knn``) against the same index, else in this process."""
    from backend.vectors.index import build_index, calibrate_search, index_factory_string, set_search_param

    start = time.perf_counter()
    # Exact while a batched search is cheap (settings.limits.mine_exact_max), then the tiers of Search
    exact = len(base) <= settings.limits.mine_exact_max
    factory = "Flat" if exact else index_factory_string(len(base), base.shape[1], settings)
    base = np.ascontiguousarray(base, dtype=np.float32)
    index = build_index(base, factory)
    # As in Search: the cheapest efSearch / nprobe that reaches recall@10 >= 0.95 on this data.
    search_param, _ = calibrate_search(index, base, factory)
    set_search_param(index, search_param, k)
    built = time.perf_counter()
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    if ray is not None and not exact:
        from backend.vectors.ray_knn import ray_search

        sims, ids = ray_search(ray, settings, index, search_param, queries, k)
    else:
        sims, ids = index.search(queries, k)
    sims = np.where(ids < 0, np.nan, sims)  # an approximate index may return fewer than k (id -1)
    timings["index"] = timings.get("index", 0.0) + built - start
    timings["knn"] = timings.get("knn", 0.0) + time.perf_counter() - built
    return sims.astype(np.float64), ids


def margin_candidates(x: np.ndarray, y: np.ndarray, k: int, settings, timings: dict | None = None, ray=None
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Each direction's best candidate by ratio margin.

    x, y: float32 (n, d), (m, d), L2-normalised. Returns forward (n, 3): target row, margin, cosine
    for each source row; backward (m, 3): source row, margin, cosine for each target row.
    ``timings`` gets the seconds of each stage: index, knn, margin. ray: as :func:`_knn`."""
    timings = {} if timings is None else timings
    fwd_sims, fwd_ids = _knn(x, y, min(k, len(y)), settings, timings, ray)
    bwd_sims, bwd_ids = _knn(y, x, min(k, len(x)), settings, timings, ray)
    start = time.perf_counter()
    forward, backward = margins_from_knn(fwd_sims, fwd_ids, bwd_sims, bwd_ids)
    timings["margin"] = time.perf_counter() - start
    return forward, backward


def knn_session(settings, n_rows: int, engine: str | None) -> tuple[object | None, str]:
    """(the connected ``ray`` module or None, a note): Ray for the k-NN when the searched side is
    above ``mine_exact_max`` and the engine (given, or chosen by size and settings) is ray."""
    from backend.core.errors import ModelUnavailable
    from backend.vectors.store import choose_engine, ray_session

    if n_rows <= settings.limits.mine_exact_max or (engine or choose_engine(n_rows, settings)) != "ray":
        return None, ""
    try:
        return ray_session(settings), ""
    except ModelUnavailable as exc:
        return None, f"{exc} The k-NN ran in-process instead."


def check_threshold(threshold) -> float | str:
    """``"auto"`` (also for None or an empty value) or a finite number; anything else is refused."""
    if threshold is None or (isinstance(threshold, str) and threshold.strip().lower() in ("", AUTO)):
        return AUTO
    try:
        number = float(threshold)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"threshold must be a number or 'auto', got {str(threshold)[:20]!r}.") from exc
    if not np.isfinite(number):
        raise InvalidInput("threshold must be a finite number (margins are around 1; try 1.02) or 'auto'.")
    return number


def check_options(strategy: str, k, threshold, settings) -> tuple[str, int, float | str]:
    strategy = (strategy or DEFAULT_STRATEGY).strip().lower()
    one_of(strategy, STRATEGIES, "strategy")
    return strategy, whole_number(k, "k", 1, MAX_K), check_threshold(threshold)


def mine(registry, source: Side, target: Side, model_id: str | None = None, strategy: str = DEFAULT_STRATEGY,
         k: int = DEFAULT_K, threshold: float | str = DEFAULT_THRESHOLD, gold: frozenset | None = None,
         max_length_ratio: float | None = DEFAULT_MAX_LENGTH_RATIO, engine: str | None = None,
         progress: ProgressFn | None = None, timings: dict | None = None) -> MiningResult:
    """Mine translation pairs between two sides; see the module docstring for the method.
    ``threshold``: a margin, or "auto" (picked from this run's candidates, without gold).
    ``timings``: seconds of stages before this call (``read``), kept first in ``seconds``."""
    from backend.vectors.store import embed_corpus

    settings = registry.settings
    model_id = model_id or settings.default_model("embeddings")
    settings.resolve("embeddings", model_id)
    strategy, k, threshold = check_options(strategy, k, threshold, settings)
    timings = dict(timings or {})
    start = time.perf_counter()
    x, run_x = embed_corpus(registry, source.as_corpus("src"), model_id, _part(progress, 0.0, 0.45), engine=engine)
    y, run_y = embed_corpus(registry, target.as_corpus("tgt"), model_id, _part(progress, 0.45, 0.9), engine=engine)
    timings["encode"] = time.perf_counter() - start
    if progress:
        progress(0.92, f"Nearest neighbours both ways (k={k}) and margins")
    ray, knn_note = knn_session(settings, max(len(x), len(y)), engine)
    forward, backward = margin_candidates(np.asarray(x), np.asarray(y), k, settings, timings, ray)
    start = time.perf_counter()
    chosen = select_pairs(forward, backward, strategy)
    candidates = [MinedPair(source.lines[i], target.lines[j], source.texts[i], target.texts[j], float(m), float(c))
                  for i, j, m, c in chosen
                  if max_length_ratio is None or length_ratio_ok(source.texts[i], target.texts[j], max_length_ratio)]
    scores = np.array([p.score for p in candidates], dtype=np.float64)
    picked = auto_threshold(scores, FALLBACK_THRESHOLD) if threshold == AUTO else None
    used = picked.threshold if picked is not None else threshold
    pairs = tuple(p for p in candidates if p.score >= used)
    timings["select"] = time.perf_counter() - start
    gold_score = score_against_gold(candidates, gold, used) if gold else None
    engines = {run_x.engine, run_y.engine, "ray" if ray is not None else "in-process"}
    notes = tuple(dict.fromkeys(n for n in (run_x.note, run_y.note, knn_note) if n))
    computed = sum(run.n_unique if run.computed else 0 for run in (run_x, run_y))
    return MiningResult(model_id, "ray" if "ray" in engines else "in-process", source, target, strategy, k, threshold,
                        pairs, scores, gold_score, {key: round(v, 6) for key, v in timings.items()}, notes,
                        frozenset(gold or ()), picked, computed)


def _part(progress: ProgressFn | None, lo: float, hi: float) -> ProgressFn | None:
    if progress is None:
        return None
    return lambda fraction, text: progress(lo + (hi - lo) * fraction, text)
