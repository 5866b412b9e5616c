"""Bitext-mining diagnostics: how well does each language find its translations in each other?

For every ordered language pair (source → target), each source sentence whose meaning exists in
the target language retrieves its nearest target sentence. P@1 is the share that land on the same
meaning. Scoring is plain cosine, or the ratio margin of Artetxe & Schwenk (2019) with k=4,
which corrects for hubs and for sentences that are close to everything.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from backend.core.contract import nan_to_none
from backend.core.errors import InvalidInput
from backend.core.stats import pair_scores, retrieval_hits, wilson_interval

HUB_K = 10
SCORINGS = ("cosine", "margin")


@dataclass(frozen=True)
class Confusion:
    source_lang: str
    target_lang: str
    source: str
    matched: str  # what the model retrieved instead
    expected: str  # the true translation
    score_gap: float  # score(matched) - score(expected)


@dataclass(frozen=True)
class LanguageDiagnostics:
    lang: str
    hub_skewness: float  # skewness of the k-occurrence N_10 as a target; high = a few hubs
    top_hubs: tuple[tuple[str, int], ...]  # (sentence, N_10)
    tokens_per_word: float | None  # None for scripts without spaces (zh, ja, th)
    token_ratio_to_english: float | None  # tokens / English tokens over shared meanings
    mean_p_at_1: float  # mean over the row (as source) and the column (as target), off-diagonal


@dataclass(frozen=True)
class BitextResult:
    model_id: str
    scoring: str
    languages: tuple[str, ...]
    p_at_1: np.ndarray  # (L, L), row = source, NaN on the diagonal
    n: np.ndarray  # (L, L) source sentences evaluated per cell
    ci_low: np.ndarray  # 95% Wilson interval
    ci_high: np.ndarray
    confusions: tuple[Confusion, ...]
    per_language: tuple[LanguageDiagnostics, ...]
    warnings: tuple[str, ...]
    neutralise: str = "none"  # backend.analysis.neutralisation method applied before mining
    rank: int | None = None

    def to_dict(self) -> dict:
        """The ``bitext`` API contract (documented in README: keep keys stable)."""
        return {
            "model": self.model_id, "scoring": self.scoring, "languages": list(self.languages),
            "p_at_1": nan_to_none(self.p_at_1), "n": self.n.tolist(),
            "ci_low": nan_to_none(self.ci_low), "ci_high": nan_to_none(self.ci_high),
            "mean_p_at_1": round(float(np.nanmean(self.p_at_1)), 6),
            "per_language": [{"lang": d.lang, "mean_p_at_1": d.mean_p_at_1, "hub_skewness": d.hub_skewness,
                              "tokens_per_word": d.tokens_per_word, "token_ratio_to_english": d.token_ratio_to_english,
                              "top_hubs": [{"text": t, "k_occurrence": c} for t, c in d.top_hubs]}
                             for d in self.per_language],
            "confusions": [{"source_lang": c.source_lang, "target_lang": c.target_lang, "source": c.source,
                            "matched": c.matched, "expected": c.expected, "score_gap": round(c.score_gap, 6)}
                           for c in self.confusions],
            "warnings": list(self.warnings),
            "neutralise": self.neutralise, "rank": self.rank,
        }


def _skewness(values: np.ndarray) -> float:
    values = values.astype(np.float64)
    sd = values.std()
    return float(((values - values.mean()) ** 3).mean() / sd**3) if sd > 0 else 0.0


_NO_SPACES = {"zh", "ja", "th", "km", "lo", "my"}


def bitext_mining(vectors: np.ndarray, ids: Sequence[str], langs: Sequence[str], texts: Sequence[str],
                  languages: Sequence[str], scoring: str, model_id: str,
                  token_counts: Sequence[int] | None = None, max_confusions: int = 25) -> BitextResult:
    """P@1 for every ordered pair of ``languages`` (rows of ``vectors`` are L2-normalised)."""
    if scoring not in SCORINGS:
        raise InvalidInput(f"Unknown scoring {scoring!r}. Use 'cosine' or 'margin'.")
    if len(languages) < 2:
        raise InvalidInput("Bitext mining needs at least two languages with shared meanings. "
                           "Pick more languages, or a corpus with translations.")
    ids_arr, langs_arr = np.asarray(ids), np.asarray(langs)
    rows = {lang: np.flatnonzero(langs_arr == lang) for lang in languages}
    L = len(languages)
    p1 = np.full((L, L), np.nan)
    n = np.zeros((L, L), dtype=np.int64)
    hits = np.zeros((L, L), dtype=np.int64)
    occurrences = {lang: np.zeros(rows[lang].size, dtype=np.int64) for lang in languages}
    confusions: list[Confusion] = []
    for a, src_lang in enumerate(languages):
        for b, tgt_lang in enumerate(languages):
            if a == b:
                continue
            src, tgt = rows[src_lang], rows[tgt_lang]
            scores = pair_scores(np.asarray(vectors[src]), np.asarray(vectors[tgt]), scoring)
            k = min(HUB_K, tgt.size)
            np.add.at(occurrences[tgt_lang], np.argpartition(-scores, k - 1, axis=1)[:, :k].ravel(), 1)
            tgt_ids = ids_arr[tgt]
            hits[a, b], n[a, b] = retrieval_hits(scores, ids_arr[src], tgt_ids)
            if n[a, b] == 0:
                continue
            p1[a, b] = hits[a, b] / n[a, b]
            best = scores.argmax(axis=1)
            evaluable = np.isin(ids_arr[src], tgt_ids) & (ids_arr[src] != "")
            correct = tgt_ids[best] == ids_arr[src]
            first_of = {m: j for j, m in reversed(list(enumerate(tgt_ids)))}
            for i in np.flatnonzero(evaluable & ~correct):
                j_true = first_of[ids_arr[src][i]]
                confusions.append(Confusion(src_lang, tgt_lang, texts[src[i]], texts[tgt[best[i]]],
                                            texts[tgt[j_true]], float(scores[i, best[i]] - scores[i, j_true])))
    if n.sum() == 0:
        raise InvalidInput("No meaning id is shared between the chosen languages, so there is nothing "
                           "to mine. Use a corpus with an id column (translations share an id).")
    low, high = wilson_interval(hits, n)
    confusions.sort(key=lambda c: -c.score_gap)
    per_language, warnings = _per_language(languages, rows, occurrences, texts, ids_arr, token_counts, p1)
    return BitextResult(model_id, scoring, tuple(languages), p1, n, low, high,
                        tuple(confusions[:max_confusions]), per_language, warnings)


def _per_language(languages, rows, occurrences, texts, ids_arr, token_counts, p1):
    off = p1.copy()
    mean_p1 = [float(np.nanmean(np.concatenate([off[i], off[:, i]]))) for i in range(len(languages))]
    overall = float(np.nanmean(off))
    en_tokens = {}
    if token_counts is not None and "en" in rows:
        en_tokens = {ids_arr[r]: token_counts[r] for r in rows["en"] if ids_arr[r]}
    out, warnings = [], []
    for i, lang in enumerate(languages):
        occ = occurrences[lang]
        top = np.argsort(-occ)[:3]
        hubs = tuple((texts[rows[lang][j]], int(occ[j])) for j in top if occ[j] > 0)
        tpw = ratio = None
        if token_counts is not None:
            toks = np.array([token_counts[r] for r in rows[lang]], dtype=np.float64)
            if lang.split("-")[0] not in _NO_SPACES:
                words = np.array([max(1, len(texts[r].split())) for r in rows[lang]], dtype=np.float64)
                tpw = round(float(toks.sum() / words.sum()), 3)
            shared = [(token_counts[r], en_tokens[ids_arr[r]]) for r in rows[lang] if ids_arr[r] in en_tokens]
            if shared:
                ratio = round(float(sum(a for a, _ in shared) / sum(b for _, b in shared)), 3)
        out.append(LanguageDiagnostics(lang, round(_skewness(occ), 3), hubs, tpw, ratio, round(mean_p1[i], 4)))
        if ratio is not None and ratio >= 1.5 and mean_p1[i] < overall - 0.05:
            warnings.append(f"{lang}: {ratio:.2f}× as many tokens as English for the same meanings, and "
                            f"P@1 {mean_p1[i]:.2f} is below the mean {overall:.2f}: the tokenizer splits "
                            "this language finely, which often goes with weaker alignment.")
    return tuple(out), tuple(warnings)


