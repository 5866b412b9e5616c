"""The Languages tab's job: the model's distances between the languages of a corpus beside URIEL's
typological distances (backend.data.uriel), with Mantel tests of how far the first follows each
(backend.core.stats), the clustering and an MDS layout (backend.analysis.language_distances)."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from backend.core.contract import matrix_list, nan_to_none
from backend.core.errors import InvalidInput, LimitExceeded
from backend.core.stats import MantelResult

MIN_LANGUAGES = 3  # a Mantel test, a dendrogram and an MDS need three
CENTER_NOTE = ("With center, each language's mean vector is subtracted before the centroids are taken, so "
               "every centroid sits at (nearly) the origin and the centroid distances are left-over noise, not "
               "languages. Use the retrieval distance, or none, LIR or LSAR, to compare languages.")


@dataclass(frozen=True)
class LanguageDistances:
    """Model and URIEL distances over ``languages`` (those of the corpus with URIEL data), in one order."""

    model_id: str
    corpus_id: str
    distance: str
    layer: int | None  # None: the model's sentence vector
    neutralise: str
    rank: int | None
    languages: tuple[str, ...]
    iso639_3: tuple[str, ...]
    model_distance: np.ndarray  # (k, k), NaN where undefined
    typology: dict[str, np.ndarray]  # name -> (k, k), NaN where URIEL has no data
    mantel: dict[str, MantelResult | None]  # None: fewer than 3 languages with both distances
    partial_mantel_script: dict[str, MantelResult | None]
    families: tuple[str | None, ...]
    scripts: tuple[str | None, ...]
    missing: tuple[str, ...]  # corpus languages without URIEL data
    order: tuple[int, ...]  # the model clustering's leaf order (then any language left out of it)
    model_tree: tuple[tuple[int, ...], np.ndarray]  # (languages clustered, average linkage)
    genetic_tree: tuple[tuple[int, ...], np.ndarray]
    mds: np.ndarray  # (len(model_tree[0]), 2)
    n_rows: int
    warnings: tuple[str, ...] = field(default=())

    @property
    def best_typology(self) -> str | None:
        """The typology with the highest Pearson r (defined ones only)."""
        scored = [(m.pearson_r, name) for name, m in self.mantel.items() if m and m.pearson_r is not None]
        return max(scored)[1] if scored else None

    def to_dict(self) -> dict:
        """The ``/languages`` API contract."""
        def tree(t):
            return {"languages": list(t[0]), "linkage": matrix_list(t[1], 6)}

        def test(m):
            return None if m is None else m.to_dict()

        return {"model": self.model_id, "corpus": self.corpus_id, "distance": self.distance, "layer": self.layer,
                "neutralise": self.neutralise, "rank": self.rank, "languages": list(self.languages),
                "iso639_3": list(self.iso639_3), "model_distance": nan_to_none(self.model_distance),
                "typology": {name: nan_to_none(m) for name, m in self.typology.items()},
                "mantel": {name: test(m) for name, m in self.mantel.items()},
                "partial_mantel_script": {name: test(m) for name, m in self.partial_mantel_script.items()},
                "best_typology": self.best_typology, "families": list(self.families), "scripts": list(self.scripts),
                "missing": list(self.missing), "order": list(self.order), "model_tree": tree(self.model_tree),
                "genetic_tree": tree(self.genetic_tree), "mds": matrix_list(self.mds, 6), "n_rows": self.n_rows,
                "warnings": list(self.warnings)}


def _check_layer(layer) -> int | None:
    from backend.core.validation import whole_number

    if layer is None or (isinstance(layer, str) and not layer.strip()):
        return None
    value = whole_number(layer, "layer")
    if value < 0:
        raise InvalidInput(f"layer is {value}; layers are numbered from 0 (the embeddings) up. Leave it empty "
                           "for the model's sentence vector.")
    return value


def _model_vectors(registry, corpus, model_id, chosen, layer, neutralise, rank, progress):
    """(vectors of the chosen languages' rows, their row numbers): the model's sentence vectors
    (stored) or one layer's mean-pooled states (a stratified sample above max_layer_rows)."""
    from backend.analysis.neutralisation import fit
    from backend.core.sampling import stratified_sample
    from backend.vectors.neutralised import neutralise_corpus_vectors
    from backend.vectors.store import corpus_embeddings

    langs = np.asarray(corpus.langs)
    rows = np.flatnonzero(np.isin(langs, chosen))
    if layer is None:
        vectors = corpus_embeddings(registry, corpus, model_id, progress)
        vectors, _ = neutralise_corpus_vectors(registry, corpus, model_id, vectors, neutralise, rank, chosen, progress)
        return np.asarray(vectors)[rows], rows
    registry.settings.resolve("layers", model_id)
    model = registry.get("layers", model_id, progress)
    if not 0 <= layer <= model.n_layers:
        raise InvalidInput(f"layer is {layer}; {model_id} has layers 0 (embeddings) to {model.n_layers}.")
    rows = rows[stratified_sample(langs[rows], np.asarray(corpus.ids)[rows], registry.settings.limits.max_layer_rows)]
    # Only the chosen layer is kept: the others are dropped as soon as pooled_layers returns.
    vectors = model.pooled_layers([corpus.texts[i] for i in rows], progress=progress)[layer]
    if neutralise != "none":
        vectors = fit(vectors, langs[rows], neutralise, rank, corpus.corpus_id).apply(vectors, langs[rows])
    return vectors, rows


def _tests(model_d, typology, scripts_d, settings) -> tuple[dict, dict]:
    from backend.analysis.language_distances import complete_subset
    from backend.core.stats import mantel_test

    mantel, partial = {}, {}
    perms, seed = settings.mantel_permutations, settings.mantel_seed
    for name, t in typology.items():
        keep = complete_subset(model_d, t)
        if len(keep) < MIN_LANGUAGES:
            mantel[name] = partial[name] = None
            continue
        sub = np.ix_(keep, keep)
        mantel[name] = mantel_test(model_d[sub], t[sub], permutations=perms, seed=seed)
        partial[name] = mantel_test(model_d[sub], t[sub], scripts_d[sub], permutations=perms, seed=seed)
    return mantel, partial


def run_languages(registry, corpus_id: str = "bundled", model_id: str | None = None, distance: str = "centroid",
                  layer=None, languages=(), neutralise: str = "none", rank=None, progress=None) -> LanguageDistances:
    """The model's language distances on a stored corpus beside URIEL's, with Mantel tests.

    ``distance``: ``centroid`` or ``retrieval``; ``layer``: None for the model's sentence vector,
    else a layer index (0 = embeddings); ``languages``: a list or comma list ('' = all)."""
    from backend.analysis.language_distances import (
        DISTANCES,
        average_linkage,
        centroid_distances,
        complete_subset,
        leaf_order,
        mds_layout,
        retrieval_distances,
        same_script_matrix,
    )
    from backend.analysis.neutralisation import check_method
    from backend.core.languages import iso639_3, require_corpus_languages, script_of_language
    from backend.data.uriel import TYPOLOGIES, load_uriel

    settings = registry.settings
    distance = str(distance or "centroid").strip().lower()
    if distance not in DISTANCES:
        raise InvalidInput(f"Unknown distance {distance[:40]!r}. Use 'centroid' or 'retrieval'.")
    neutralise, rank = check_method(neutralise, rank)
    layer = _check_layer(layer)
    model_id = model_id or settings.default_model("embeddings")
    settings.resolve("embeddings", model_id)
    corpus = registry.corpora.get(corpus_id)
    chosen = require_corpus_languages(languages, corpus, corpus_id) or sorted(corpus.language_counts)
    if len(chosen) > settings.limits.max_distance_languages:
        raise LimitExceeded(f"{len(chosen)} languages asked for; the limit is {settings.limits.max_distance_languages}. "
                            "Name fewer.")
    if distance == "retrieval" and not corpus.has_meanings:
        raise InvalidInput(f"Corpus {corpus_id!r} has no meaning ids, so the retrieval distance (1 - bitext P@1) is "
                           "undefined. Use distance 'centroid', or upload it with an id column shared by translations.")
    uriel = load_uriel()
    codes = {lang: iso639_3(lang) for lang in chosen}
    kept = [lang for lang in chosen if codes[lang] and uriel.has(codes[lang])]
    missing = tuple(lang for lang in chosen if lang not in kept)
    if len(kept) < MIN_LANGUAGES:
        raise InvalidInput(f"Only {len(kept)} of the chosen languages have URIEL data ({', '.join(kept) or 'none'}); "
                           f"the comparison needs at least {MIN_LANGUAGES}. Without data: "
                           f"{', '.join(missing)[:300] or 'none'}. Pick more languages.")
    vectors, rows = _model_vectors(registry, corpus, model_id, kept, layer, neutralise, rank, progress)
    if progress:
        progress(0.9, "Distances, Mantel tests and the clustering")
    langs = np.asarray(corpus.langs)[rows]
    if distance == "centroid":
        model_d = centroid_distances(vectors, langs, kept)
    else:
        model_d, _ = retrieval_distances(vectors, np.asarray(corpus.ids)[rows], langs, kept)
    iso = [codes[lang] for lang in kept]
    typology = {name: uriel.distances(name, iso) for name in TYPOLOGIES}
    texts = np.asarray(corpus.texts, dtype=object)[rows]
    scripts = tuple(script_of_language(lang, texts[langs == lang][:200]) for lang in kept)
    mantel, partial = _tests(model_d, typology, same_script_matrix(scripts), settings)
    model_keep = complete_subset(model_d)
    model_link = average_linkage(model_d[np.ix_(model_keep, model_keep)]) if len(model_keep) >= 2 else np.zeros((0, 4))
    leaves = [int(model_keep[i]) for i in leaf_order(model_link)] if len(model_keep) >= 2 else list(model_keep)
    order = leaves + [i for i in range(len(kept)) if i not in leaves]
    genetic_keep = complete_subset(typology["genetic"])
    genetic_link = (average_linkage(typology["genetic"][np.ix_(genetic_keep, genetic_keep)])
                    if len(genetic_keep) >= 2 else np.zeros((0, 4)))
    warnings = [CENTER_NOTE] if neutralise == "center" and distance == "centroid" else []
    if len(model_keep) < len(kept):
        warnings.append(f"{len(kept) - len(model_keep)} language(s) have undefined model distances (no shared "
                        "meanings) and are left out of the clustering and the MDS.")
    return LanguageDistances(
        model_id, corpus.corpus_id, distance, layer, neutralise, rank, tuple(kept), tuple(iso), model_d, typology,
        mantel, partial, tuple(uriel.family(c) for c in iso), scripts, missing, tuple(order),
        (tuple(int(i) for i in model_keep), model_link), (tuple(int(i) for i in genetic_keep), genetic_link),
        mds_layout(model_d[np.ix_(model_keep, model_keep)], settings.mantel_seed), len(rows), tuple(warnings))
