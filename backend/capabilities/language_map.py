"""The Language map tab's job: a stored corpus laid out in 2-D with its scores and clusters (the maths
is backend.analysis.projection), the layout cache on disk, the drawn maps kept for hover and
selection (``MapStore``), placing a typed sentence on a drawn map, its CSV export, and a selection
as a corpus of its own.

Layouts are cached on disk as ``.npz`` (no pickle) by corpus hash, model, method, parameters and
neutralisation."""
from __future__ import annotations

import hashlib
import io
import json
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from backend.analysis.map_payload import (
    PLACE_K,
    RENDERER,
    MapPlacement,
    MapSelection,
    bytes_per_point,
    place_vector,
    select_points,
)
from backend.analysis.projection import (
    HDBSCAN_SAMPLE,
    METHODS,
    MIN_POINTS,
    PCA_DIMS,
    UMAP_NEIGHBORS,
    Cluster,
    MapScores,
    center_by_language,
    check_finite,
    cluster_points,
    map_scores,
    pca_reduce,
    project,
    summarise_clusters,
)
from backend.core.atomic_files import atomic_write
from backend.core.errors import InvalidInput, LimitExceeded
from backend.core.export_files import unique_file
from backend.core.languages import require_corpus_languages, uncertain_counts
from backend.core.memory import KeyedLocks
from backend.core.palette import language_palette
from backend.core.sampling import SCORE_SAMPLE, stratified_sample
from backend.core.validation import one_of, whole_number
from backend.data.corpus import Corpus

# Bump when the layout code changes: cached layouts from older code are then not reused.
LAYOUT_VERSION = "2"  # 2: the meaning silhouette's own n is stored
EXPORT_FOLDER = "babelscope-map-exports"
EXPORT_MAX_AGE_S = 3600  # Gradio copies a returned file into its own cache at once: ours can go soon after


@dataclass(frozen=True)
class MapResult:
    corpus_id: str
    corpus_name: str
    model_id: str
    method: str
    centered: bool
    coords: np.ndarray  # float32 (n, 2)
    rows: np.ndarray  # int64 (n,): row of each point in the corpus
    ids: tuple[str, ...]  # meaning id per point ("" when unknown)
    langs: tuple[str, ...]
    texts: tuple[str, ...]
    n_available: int  # rows in the chosen languages before sampling
    sampled: bool  # True when n_available > max_points and points were sampled by language
    max_points: int
    scores: MapScores
    kmeans_labels: np.ndarray  # int (n,)
    clusters: tuple[Cluster, ...]  # K-means clusters, then HDBSCAN clusters (noise left out)
    hdbscan_n: int  # points HDBSCAN clustered (a sample above HDBSCAN_SAMPLE)
    hdbscan_noise: int
    seconds: float  # time to compute (0.0 when loaded from the cache)
    from_cache: bool
    # backend.neutralise method laid out ("center" is the old ``center``); with lir / lsar the
    # scores' "centered" columns hold that method's space
    neutralise: str = "none"
    rank: int | None = None
    languages: tuple[str, ...] = ()  # the languages asked for (empty = all)
    hdbscan_points: np.ndarray | None = None  # int (m,): the points HDBSCAN clustered
    hdbscan_labels: np.ndarray | None = None  # int (m,): their labels, -1 = noise
    # per point: language ID's confidence in its language (1.0 where the corpus gave it) and whether
    # it is uncertain (drawn faded, "xx?" in hover and tables); empty when every language was given
    probabilities: tuple[float, ...] = ()
    uncertain: tuple[bool, ...] = ()

    def to_dict(self) -> dict:
        """The ``project_map`` API contract (documented in README: keep keys stable)."""
        s = self.scores
        language, meaning = ((s.silhouette_language_centered, s.silhouette_meaning_centered) if self.centered
                             else (s.silhouette_language_raw, s.silhouette_meaning_raw))
        return {
            "corpus": self.corpus_id, "model": self.model_id, "method": self.method, "centered": self.centered,
            "n_points": self.n_points, "n_available": self.n_available, "sampled": self.sampled,
            "silhouette_language": language, "silhouette_meaning": meaning, "trustworthiness": s.trustworthiness,
            "trust_k": s.trust_k, "n_scored": s.n_scored, "n_scored_meaning": s.n_meaning, "n_trust": s.n_trust,
            "silhouettes": {
                "uncentered": {"language": s.silhouette_language_raw, "meaning": s.silhouette_meaning_raw},
                "centered": {"language": s.silhouette_language_centered, "meaning": s.silhouette_meaning_centered},
            },
            "clusters": [{"algorithm": c.algorithm, "cluster": c.cluster, "size": c.size, "label": c.label,
                          "label_lang": c.label_lang, "languages": dict(c.languages), "top_share": c.top_share,
                          "one_language": c.one_language} for c in self.clusters],
            "seconds": self.seconds, "from_cache": self.from_cache,
            # the browser renderer's terms (backend.map_points): colours per language, binary size
            "palette": language_palette(sorted(set(self.langs))), "renderer": RENDERER,
            "bytes_per_point": bytes_per_point(len(set(self.langs)), int(self.kmeans_labels.max()) + 1 if self.n_points else 1),
            "neutralise": self.neutralise, "rank": self.rank,
            "n_uncertain": sum(self.uncertain), "languages_uncertain": self.languages_uncertain,
        }

    @property
    def n_points(self) -> int:
        return len(self.rows)

    def language_probability(self, point: int) -> float:
        return self.probabilities[point] if self.probabilities else 1.0

    def language_uncertain(self, point: int) -> bool:
        return bool(self.uncertain) and self.uncertain[point]

    @property
    def languages_uncertain(self) -> dict[str, int]:
        """Uncertain points per language, most first (only languages that have some)."""
        return dict(uncertain_counts(self.langs, self.uncertain))


def _check_max_points(max_points, cap: int) -> int:
    value = whole_number(max_points, "max_points")
    if value < MIN_POINTS:
        raise InvalidInput(f"max_points is {value}; a map needs at least {MIN_POINTS} points.")
    if value > cap:
        raise LimitExceeded(f"max_points is {value:,}; the cap is {cap:,} (BABELSCOPE_MAX_MAP_POINTS). "
                            f"Ask for at most {cap:,}: larger corpora are sampled by language.")
    return value


def _cache_path(settings, corpus: Corpus, model_id: str, key: dict):
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    return settings.cache_dir / "layouts" / f"{corpus.fingerprint}__{digest}.npz"


_SCORE_FIELDS = ("silhouette_language_raw", "silhouette_meaning_raw", "silhouette_language_centered",
                 "silhouette_meaning_centered", "trustworthiness")


def _save_layout(path, coords, rows, scores: MapScores, kmeans_labels, hdb_rows, hdb_labels, seconds) -> None:
    buffer = io.BytesIO()
    values = [np.nan if getattr(scores, f) is None else getattr(scores, f) for f in _SCORE_FIELDS]
    np.savez(buffer, coords=coords, rows=rows, kmeans=kmeans_labels, hdb_rows=hdb_rows, hdb_labels=hdb_labels,
             scores=np.array(values, dtype=np.float64),
             counts=np.array([scores.n_scored, scores.n_trust, scores.trust_k, scores.n_meaning], dtype=np.int64),
             seconds=np.array([seconds]))
    atomic_write(path, buffer.getvalue())


def _load_layout(path):
    with np.load(path, allow_pickle=False) as data:
        arrays = {name: data[name] for name in data.files}
    values = [None if np.isnan(v) else float(v) for v in arrays["scores"]]
    n_scored, n_trust, trust_k, n_meaning = (int(v) for v in arrays["counts"])
    scores = MapScores(*values[:4], values[4], n_scored, n_trust, trust_k, n_meaning)
    return arrays, scores


def _layout(path, rows, space, vectors, centered, method, ids, langs, texts, progress):
    """The layout, scores and clusters from the layout cache, or computed and saved there."""
    cached = path.exists()
    if cached:
        arrays, scores = _load_layout(path)
        coords, kmeans_labels = arrays["coords"], arrays["kmeans"]
        hdb_rows, hdb_labels, seconds = arrays["hdb_rows"], arrays["hdb_labels"], 0.0
        if not np.array_equal(arrays["rows"], rows):
            cached = False  # a different sample (should not happen): recompute
    if not cached:
        start = time.perf_counter()
        if progress:
            progress(0.5, f"Laying out {len(rows):,} points with {method.upper()}")
        coords = project(space, method)
        if not np.isfinite(coords).all():
            raise InvalidInput(f"The {method.upper()} layout has non-finite coordinates. Try PCA, or fewer points.")
        if progress:
            progress(0.8, "Scoring (silhouettes, trustworthiness) and clustering")
        scores = map_scores(vectors, centered, space, coords, ids, langs)
        kmeans_labels, hdb_rows, hdb_labels = cluster_points(space, pca_reduce(space), langs, texts)
        seconds = round(time.perf_counter() - start, 3)
        _save_layout(path, coords, rows, scores, kmeans_labels, hdb_rows, hdb_labels, seconds)
    return coords, kmeans_labels, hdb_rows, hdb_labels, scores, seconds, cached


_LAYOUT_LOCKS = KeyedLocks()


def project_map(registry, corpus_id: str, model_id: str | None, method: str, languages=(), center: bool = False,
                max_points: int | None = None, progress=None, neutralise: str | None = None, rank=None) -> MapResult:
    """The language map of a stored corpus: layout, scores and clusters (cached on disk).

    ``languages``: a list or comma list ('' or empty = all). Above ``max_points`` rows (at most
    ``settings.limits.max_map_points``), points are sampled stratified by language.
    ``neutralise`` / ``rank``: backend.neutralise, fitted on the chosen languages; ``center=True``
    with no ``neutralise`` means ``neutralise="center"``."""
    from backend.analysis.neutralisation import check_method
    from backend.vectors.neutralised import corpus_neutraliser
    from backend.vectors.store import corpus_embeddings, vectors_key

    neutralise, rank = check_method("center" if center and neutralise in (None, "", "none") else neutralise, rank)
    center = neutralise != "none"

    settings = registry.settings
    limits = settings.limits
    model_id = model_id or settings.default_model("embeddings")
    settings.resolve("embeddings", model_id)
    one_of(method, METHODS, "projection method")
    max_points = _check_max_points(limits.max_map_points if max_points in (None, "") else max_points,
                                   limits.max_map_points)
    corpus = registry.corpora.get(corpus_id)
    chosen = sorted(require_corpus_languages(languages, corpus, corpus_id))
    langs_arr = np.asarray(corpus.langs)
    candidates = np.flatnonzero(np.isin(langs_arr, chosen)) if chosen else np.arange(len(corpus))
    present = sorted(set(langs_arr[candidates].tolist()))
    if len(present) < 2:
        raise InvalidInput(f"The map needs at least two languages; the selection has only "
                           f"{', '.join(present) or 'none'}. Pick more languages, or a multilingual corpus.")
    if len(candidates) < MIN_POINTS:
        raise InvalidInput(f"The selection has {len(candidates)} rows; a map needs at least {MIN_POINTS}.")
    if method == "tsne" and min(len(candidates), max_points) > limits.max_tsne_points:
        raise LimitExceeded(f"t-SNE is limited to {limits.max_tsne_points:,} points (it is slow and its "
                            f"distances mean little at scale); this map has {min(len(candidates), max_points):,}. "
                            f"Set max_points to {limits.max_tsne_points:,} or fewer, or use UMAP.")
    sub = stratified_sample(langs_arr[candidates], np.asarray(corpus.ids)[candidates], max_points)
    rows = candidates[sub]
    key = {"version": LAYOUT_VERSION, "model": model_id, "method": method, "languages": chosen,
           "vectors": vectors_key(registry.get("embeddings", model_id, progress)),
           "center": bool(center), "max_points": max_points, "pca_dims": PCA_DIMS, "neighbors": UMAP_NEIGHBORS,
           "score_sample": SCORE_SAMPLE, "hdbscan_sample": HDBSCAN_SAMPLE}
    if neutralise not in ("none", "center"):  # so none / center keep their cached layouts
        key.update(neutralise=neutralise, rank=rank)
    path = _cache_path(settings, corpus, model_id, key)

    vectors_all = corpus_embeddings(registry, corpus, model_id, progress)
    vectors = np.asarray(vectors_all[rows], dtype=np.float32)
    check_finite(vectors, model_id)
    ids = tuple(corpus.ids[i] for i in rows)
    langs = tuple(corpus.langs[i] for i in rows)
    texts = tuple(corpus.texts[i] for i in rows)
    if neutralise in ("none", "center"):
        centered = center_by_language(vectors, langs)
    else:
        centered = corpus_neutraliser(registry, corpus, model_id, neutralise, rank, chosen, progress).apply(vectors, langs)
    space = centered if center else vectors
    with _LAYOUT_LOCKS.hold(str(path)):  # two requests for one layout compute it once
        coords, kmeans_labels, hdb_rows, hdb_labels, scores, seconds, cached = _layout(
            path, rows, space, vectors, centered, method, ids, langs, texts, progress)
    clusters = summarise_clusters(space, langs, texts, kmeans_labels, hdb_rows, hdb_labels)
    detected = bool(corpus.probabilities)
    return MapResult(corpus.corpus_id, corpus.name, model_id, method, bool(center), coords.astype(np.float32),
                     rows.astype(np.int64), ids, langs, texts, len(candidates), len(rows) < len(candidates),
                     max_points, scores, kmeans_labels, clusters, len(hdb_rows), int((hdb_labels == -1).sum()),
                     seconds, cached, neutralise, rank, tuple(chosen), np.asarray(hdb_rows, dtype=np.int64),
                     np.asarray(hdb_labels, dtype=np.int32),
                     tuple(corpus.language_probability(int(i)) for i in rows) if detected else (),
                     tuple(corpus.language_uncertain(int(i)) for i in rows) if detected else ())


class MapStore:
    """The last few maps drawn, by an unguessable token: the renderer's hover asks by token and
    point index. Bounded: the oldest map is dropped (its page then asks the user to redraw)."""

    def __init__(self, capacity: int = 8):
        self.capacity = capacity
        self._maps: OrderedDict[str, object] = OrderedDict()
        self._lock = threading.Lock()

    def remember(self, result) -> str:
        token = secrets.token_urlsafe(12)
        with self._lock:
            self._maps[token] = result
            while len(self._maps) > self.capacity:
                self._maps.popitem(last=False)
        return token

    def recall(self, token: str):
        with self._lock:
            result = self._maps.get(str(token))
            if result is None:
                raise InvalidInput("This map is no longer held by the server (too many maps were drawn since). "
                                   "Press \"Draw the map\" again.")
            self._maps.move_to_end(str(token))
            return result


@dataclass(frozen=True)
class MapPoint:
    """One point of a drawn map, as the renderer's hover shows it."""

    point: int  # index in the map
    id: str  # meaning id ("" when unknown)
    lang: str
    text: str
    cluster: int  # K-means cluster
    language_probability: float = 1.0
    language_uncertain: bool = False

    def to_dict(self) -> dict:
        """What the renderer's ``map_point`` server function answers."""
        return {"point": self.point, "id": self.id, "lang": self.lang, "text": self.text, "cluster": self.cluster,
                "language_probability": self.language_probability, "language_uncertain": self.language_uncertain}


def point_info(result, index) -> MapPoint:
    """Hover: one point's text, language and meaning id, by its index in the map."""
    i = whole_number(index, "A point index")
    if not 0 <= i < result.n_points:
        raise InvalidInput(f"Point {i} is not on this map (it has {result.n_points:,} points).")
    return MapPoint(i, result.ids[i], result.langs[i], result.texts[i], int(result.kmeans_labels[i]),
                    result.language_probability(i), result.language_uncertain(i))


def current_map(registry, drawn: MapResult | None, corpus_id: str, model_id: str | None, method: str, languages=(),
                center: bool = False, max_points: int | None = None) -> MapResult:
    """``drawn`` (the session's map) when it is the one these settings describe, else that map
    (from the layout cache when it was drawn before): API calls need not draw first."""
    from backend.core.languages import parse_language_list

    asked_points = registry.settings.limits.max_map_points if max_points in (None, "") else max_points
    if drawn is not None and (drawn.corpus_id, drawn.model_id, drawn.method, drawn.centered, drawn.languages,
                              str(drawn.max_points)) == (corpus_id, model_id or drawn.model_id, method, bool(center),
                                                         tuple(sorted(parse_language_list(languages))),
                                                         str(asked_points)):
        return drawn
    return project_map(registry, corpus_id, model_id, method, languages or [], bool(center), max_points)


def map_csv(result: MapResult) -> bytes:
    """The map's CSV export, UTF-8: one row per point (x, y rounded to 5 decimals, lang, meaning_id,
    text, kmeans_cluster, corpus_row)."""
    import pandas as pd

    coords = np.asarray(result.coords, dtype=np.float64)
    table = pd.DataFrame({"x": np.round(coords[:, 0], 5), "y": np.round(coords[:, 1], 5), "lang": result.langs,
                          "meaning_id": result.ids, "text": result.texts, "kmeans_cluster": result.kmeans_labels,
                          "corpus_row": result.rows})
    return table.to_csv(index=False).encode("utf-8")


def export_map(result: MapResult) -> str:
    """The map's CSV as a new file per export (backend.core.export_files.unique_file): two users, or
    two maps, never share one. Its name says what it holds: corpus, model, method, languages,
    max_points, centering."""
    languages = ",".join(result.languages) or "all"
    if len(languages) > 40:
        languages = f"{len(result.languages)}langs-{hashlib.sha256(languages.encode()).hexdigest()[:8]}"
    stem = (f"map-{result.corpus_id}-{result.model_id}-{result.method}-{languages}-{result.max_points}"
            f"{'-centred' if result.centered else ''}")
    return unique_file(EXPORT_FOLDER, stem, ".csv", map_csv(result), EXPORT_MAX_AGE_S)


def selection_corpus(registry, result: MapResult | None, selection: MapSelection | None) -> Corpus:
    """The selected points of ``result`` as a corpus of their own (id, lang, text rows), so that the
    Search tab can search within them; detected languages keep their confidence and doubt."""
    if result is None or selection is None or selection.n_selected == 0:
        raise InvalidInput("Select some points first (drag a box on the map, or select meanings).")
    chosen = select_points(result, points=[p.point for p in selection.points])
    rows = [(p.id, p.lang, " ".join(p.text.split())) for p in chosen.points]
    confidence = {k: (p.language_probability, p.language_uncertain) for k, p in enumerate(chosen.points)
                  if p.language_probability < 1.0 or p.language_uncertain}
    return registry.corpora.store_rows(rows, f"Map selection: {chosen.n_selected:,} rows of {result.corpus_name}",
                                       confidence)


def place_on_map(registry, result, text: str, k: int = PLACE_K) -> MapPlacement:
    """Embed ``text`` with the map's model and place it among the map's points."""
    from backend.data.sentences import split_lines
    from backend.vectors.store import corpus_embeddings

    lines = split_lines(text, registry.settings)  # the app's checks: empty, length, control characters
    if len(lines) != 1:
        raise InvalidInput(f"Place one sentence at a time; got {len(lines)} lines. Keep one.")
    text = lines[0][1]
    query = registry.embed([text], result.model_id)[0]
    vectors = corpus_embeddings(registry, registry.corpora.get(result.corpus_id), result.model_id)
    return place_vector(result, query, np.asarray(vectors[np.asarray(result.rows)]), text, k)
