"""Language-neutral subspaces: remove the "which language is this" signal from sentence embeddings.

Methods (``METHODS``), each fitted on a corpus's embeddings and their language labels only (never
on meaning ids, so scoring on the same corpus leaks no answer):

- ``none``: the embeddings as the model gives them.
- ``center``: subtract each language's mean embedding (Libovický et al. 2020, "On the language
  neutrality of pre-trained multilingual representations").
- ``lir``: Language Information Removal (Yang et al. 2021, "A simple and effective method to
  eliminate the self language bias in multilingual representations"): for each language, the top
  ``rank`` right singular vectors of its (uncentred) embedding matrix are taken as its
  language-identity directions, and each sentence loses its projection on its own language's.
- ``lsar``: low-rank subspace removal (Xie et al. 2022, "Discovering low-rank subspaces for
  language-agnostic multilingual representations"): the language means, minus their common mean,
  span a low-rank "language" subspace; its top ``rank`` singular directions are projected out of
  every sentence, whatever its language. ``rank`` is at most (number of languages - 1).

Every method ends with an L2 normalisation, so cosine stays a dot product. A sentence whose
language the fit has not seen is handled as well as a fit allows: ``center`` subtracts the mean of
the language means, ``lir`` uses directions fitted on all languages pooled, ``lsar`` needs nothing.

Fits are cached in memory (``FitCache``, bounded) per corpus, model fingerprint, method, rank and
language selection. ``compare_methods`` scores every method and rank on one corpus: bitext P@1
(cosine and margin, with a Wilson CI) and the language and meaning silhouettes.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from backend.core.errors import InvalidInput
from backend.core.normalise import l2_normalise
from backend.core.sampling import score_sample
from backend.core.validation import one_of, whole_number

METHODS = ("none", "center", "lir", "lsar")
RANKED = ("lir", "lsar")  # the methods that take a rank
DEFAULT_RANK = 1
MAX_RANK = 64
COMPARE_RANKS = (1, 2, 4, 8)  # the comparison table's ranks (LSAR's capped at languages - 1)


def check_method(method, rank=None) -> tuple[str, int | None]:
    """(method, rank) validated: rank None for the unranked methods, an int in 1..MAX_RANK otherwise."""
    method = str(method or "none").strip().lower()
    one_of(method, METHODS, "neutralisation")
    if method not in RANKED:
        return method, None
    if rank in (None, ""):
        return method, DEFAULT_RANK
    value = whole_number(rank, "rank")
    if not 1 <= value <= MAX_RANK:
        raise InvalidInput(f"rank is {value}; it must be between 1 and {MAX_RANK} (the number of "
                           "language directions to remove).")
    return method, value


@dataclass(frozen=True)
class Neutraliser:
    """A fitted neutralisation. ``apply`` maps (n, d) embeddings with their languages to (n, d)."""

    method: str
    rank: int | None
    languages: tuple[str, ...]  # the languages it was fitted on
    n_fit: int  # rows it was fitted on
    fitted_on: str  # a corpus id ("" when fitted on loose vectors)
    means: np.ndarray | None = None  # center: (L, d) language means
    basis: np.ndarray | None = None  # lsar: (r, d) orthonormal language directions
    lang_bases: np.ndarray | None = None  # lir: (L, r, d) per-language directions
    pooled_basis: np.ndarray | None = None  # lir: (r, d) for languages the fit has not seen

    def apply(self, vectors: np.ndarray, langs: Sequence[str]) -> np.ndarray:
        """float32 (n, d), L2-normalised; ``none`` returns the vectors as they are."""
        vectors = np.asarray(vectors, dtype=np.float32)
        if self.method == "none":
            return vectors
        langs_arr = np.asarray(langs)
        index = {lang: i for i, lang in enumerate(self.languages)}
        out = vectors.copy()
        if self.method == "lsar":
            out -= (out @ self.basis.T) @ self.basis
            return l2_normalise(out)
        for lang in np.unique(langs_arr):
            rows = langs_arr == lang
            i = index.get(str(lang))
            if self.method == "center":
                out[rows] -= self.means[i] if i is not None else self.means.mean(axis=0)
            else:  # lir
                basis = self.lang_bases[i] if i is not None else self.pooled_basis
                out[rows] -= (out[rows] @ basis.T) @ basis
        return l2_normalise(out)

    def unseen(self, langs: Sequence[str]) -> list[str]:
        """The languages of ``langs`` this fit has not seen (handled by the fallbacks above)."""
        seen = set(self.languages)
        return sorted({str(x) for x in langs} - seen)


def _top_directions(matrix: np.ndarray, rank: int) -> np.ndarray:
    """(r, d): the top right singular vectors of ``matrix`` (m, d), r <= min(rank, m, d)."""
    _, _, vt = np.linalg.svd(np.asarray(matrix, dtype=np.float64), full_matrices=False)
    return vt[:rank].astype(np.float32)


def fit(vectors: np.ndarray, langs: Sequence[str], method: str, rank=None, fitted_on: str = "") -> Neutraliser:
    """Fit ``method`` on ``vectors`` (n, d) labelled by ``langs``; needs at least two languages."""
    method, rank = check_method(method, rank)
    vectors = np.asarray(vectors, dtype=np.float32)
    langs_arr = np.asarray(langs)
    languages = tuple(sorted({str(x) for x in langs_arr.tolist()}))
    if method == "none":
        return Neutraliser(method, None, languages, len(vectors), fitted_on)
    if len(languages) < 2:
        raise InvalidInput(f"Neutralisation needs sentences in at least two languages to fit on; this set has "
                           f"{', '.join(languages) or 'none'}. Pick more languages, or use neutralise=none.")
    if not np.isfinite(vectors).all():
        raise InvalidInput("The embeddings contain NaN or infinite values, so no neutralisation can be fitted. "
                           "Pick another model.")
    means = np.stack([vectors[langs_arr == lang].mean(axis=0) for lang in languages]).astype(np.float32)
    if method == "center":
        return Neutraliser(method, None, languages, len(vectors), fitted_on, means=means)
    if method == "lsar":
        if rank > len(languages) - 1:
            raise InvalidInput(f"LSAR's rank can be at most the number of languages minus one: {len(languages) - 1} "
                               f"for {len(languages)} languages; {rank} was asked for.")
        basis = _top_directions(means - means.mean(axis=0), rank)
        return Neutraliser(method, rank, languages, len(vectors), fitted_on, basis=basis)
    smallest = min(int((langs_arr == lang).sum()) for lang in languages)
    if rank > min(smallest, vectors.shape[1]):
        raise InvalidInput(f"LIR's rank can be at most the sentences of the smallest language ({smallest}); "
                           f"{rank} was asked for. Use a smaller rank.")
    lang_bases = np.stack([_top_directions(vectors[langs_arr == lang], rank) for lang in languages])
    pooled = _top_directions(vectors, rank)
    return Neutraliser(method, rank, languages, len(vectors), fitted_on, lang_bases=lang_bases,
                       pooled_basis=pooled)


# ---------------------------------------------------------------- scoring

@dataclass(frozen=True)
class NeutralityScores:
    """How language-neutral a set of embeddings is: bitext P@1 and two silhouettes.

    P@1 is pooled over every ordered pair of distinct languages (hits / n), which is the mean of the
    off-diagonal P@1 matrix when the pairs have equal n (as in a parallel corpus). The Wilson
    interval treats the n retrievals as independent, which they are not quite (the same sentences
    serve many pairs): read it as a lower bound on the uncertainty."""

    p_at_1_cosine: float
    p_at_1_cosine_ci: tuple[float, float]
    p_at_1_margin: float | None  # None when not asked for
    p_at_1_margin_ci: tuple[float, float] | None
    silhouette_language: float | None  # high = sentences cluster by language
    silhouette_meaning: float | None  # high = translations cluster together
    n: int  # retrievals per scoring (source sentences summed over ordered pairs)
    n_scored: int  # rows in the silhouette sample


def bitext_counts(vectors: np.ndarray, ids: Sequence[str], langs: Sequence[str], languages: Sequence[str],
                  scoring: str) -> tuple[int, int]:
    """(hits, n) of bitext retrieval pooled over every ordered pair of distinct ``languages``."""
    from backend.core.stats import pair_scores, retrieval_hits

    ids_arr, langs_arr = np.asarray(ids), np.asarray(langs)
    rows = {lang: np.flatnonzero(langs_arr == lang) for lang in languages}
    hits = n = 0
    for src in languages:
        for tgt in languages:
            if src == tgt or not rows[src].size or not rows[tgt].size:
                continue
            scores = pair_scores(np.asarray(vectors[rows[src]]), np.asarray(vectors[rows[tgt]]), scoring)
            h, m = retrieval_hits(scores, ids_arr[rows[src]], ids_arr[rows[tgt]])
            hits, n = hits + h, n + m
    return hits, n


def neutrality_scores(vectors: np.ndarray, ids: Sequence[str], langs: Sequence[str],
                      languages: Sequence[str] | None = None, margin: bool = True) -> NeutralityScores:
    """Bitext P@1 (cosine and, if ``margin``, ratio margin; 95% Wilson CI) and the language and
    meaning silhouettes of L2-normalised ``vectors`` (n, d)."""
    from backend.core.stats import silhouette, wilson_interval

    ids_arr, langs_arr = np.asarray(ids), np.asarray(langs)
    languages = list(languages) if languages else sorted(set(langs_arr.tolist()))
    out = {"margin": (None, None, 0)}
    for scoring in ("cosine", "margin") if margin else ("cosine",):
        hits, n = bitext_counts(vectors, ids_arr, langs_arr, languages, scoring)
        out[scoring] = (hits / n if n else float("nan"), wilson_interval(hits, n), n)
    sample = score_sample(ids_arr)
    with_meaning = sample[ids_arr[sample] != ""]
    sil_lang = silhouette(np.asarray(vectors[sample]), langs_arr[sample])
    sil_meaning = silhouette(np.asarray(vectors[with_meaning]), ids_arr[with_meaning])
    return NeutralityScores(_r(out["cosine"][0]), _r_pair(out["cosine"][1]), _r(out["margin"][0]),
                            _r_pair(out["margin"][1]), sil_lang, sil_meaning, out["cosine"][2], len(sample))


def _r(value: float | None) -> float | None:
    return None if value is None else round(float(value), 6)


def _r_pair(pair) -> tuple[float, float] | None:
    return None if pair is None else (_r(pair[0]), _r(pair[1]))


@dataclass(frozen=True)
class MethodRow:
    method: str
    rank: int | None
    scores: NeutralityScores

    def to_dict(self) -> dict:
        s = self.scores
        return {"method": self.method, "rank": self.rank,
                "p_at_1_cosine": s.p_at_1_cosine, "p_at_1_cosine_ci": list(s.p_at_1_cosine_ci),
                "p_at_1_margin": s.p_at_1_margin, "p_at_1_margin_ci": list(s.p_at_1_margin_ci or ()),
                "silhouette_language": s.silhouette_language, "silhouette_meaning": s.silhouette_meaning,
                "n": s.n}


@dataclass(frozen=True)
class NeutralisationComparison:
    """One row per method and rank, on one corpus under one model (fitted and scored on the same
    rows: the fits use language labels only)."""

    corpus_id: str
    model_id: str
    languages: tuple[str, ...]
    n_rows: int
    n_scored: int  # rows in the silhouette sample
    rows: tuple[MethodRow, ...]

    def to_dict(self) -> dict:
        return {"corpus": self.corpus_id, "model": self.model_id, "languages": list(self.languages),
                "n_rows": self.n_rows, "n_scored": self.n_scored, "rows": [r.to_dict() for r in self.rows]}


def method_grid(n_languages: int, ranks: Sequence[int] = COMPARE_RANKS) -> list[tuple[str, int | None]]:
    """(method, rank) rows of the comparison table: none, center, LIR and LSAR at each valid rank."""
    grid: list[tuple[str, int | None]] = [("none", None), ("center", None)]
    grid += [("lir", r) for r in ranks]
    lsar = sorted({min(r, n_languages - 1) for r in ranks})
    grid += [("lsar", r) for r in lsar if r >= 1]
    return grid


def compare_vectors(vectors: np.ndarray, ids: Sequence[str], langs: Sequence[str], languages: Sequence[str],
                    corpus_id: str = "", model_id: str = "",
                    ranks: Sequence[int] = COMPARE_RANKS, fits=None) -> NeutralisationComparison:
    """The comparison table for loose vectors. ``fits(method, rank)`` may supply cached fits."""
    langs_arr = np.asarray(langs)
    rows = []
    for method, rank in method_grid(len(languages), ranks):
        smallest = min(int((langs_arr == lang).sum()) for lang in languages)
        if method == "lir" and rank > smallest:
            continue
        neutraliser = fits(method, rank) if fits else fit(vectors, langs_arr, method, rank, corpus_id)
        space = neutraliser.apply(vectors, langs_arr)
        rows.append(MethodRow(method, rank, neutrality_scores(space, ids, langs_arr, languages)))
    n_scored = rows[0].scores.n_scored if rows else 0
    return NeutralisationComparison(corpus_id, model_id, tuple(languages), len(vectors), n_scored, tuple(rows))


# ---------------------------------------------------------------- used by the tabs


def describe(neutraliser: Neutraliser | None) -> str:
    """One line for a tab: what was removed and what it was fitted on."""
    if neutraliser is None:
        return "no neutralisation"
    rank = f", rank {neutraliser.rank}" if neutraliser.rank is not None else ""
    return (f"{neutraliser.method}{rank}, fitted on corpus {neutraliser.fitted_on!r} "
            f"({neutraliser.n_fit:,} sentences in {len(neutraliser.languages)} languages)")


