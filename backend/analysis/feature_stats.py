"""The statistics of a feature atlas: pure numpy over SAE codes, with no model and no registry.

Codes are ``idx`` int32 (n, K), -1 padded, and ``val`` float32 (n, K), strongest first per row
(``backend.vectors.feature_atlas``). From them: per feature its firing counts by language, its
normalised language entropy and class (dense when it fires on more than a set share of the rows;
else neutral, specific, mixed by entropy), its strongest strings, keywords and label;
the atlas's entropy histogram and each language's share of language-specific features; the top-k
overlap of translation pairs against unrelated ones; and P@1 of retrieval through the codes.
"""
from __future__ import annotations

import collections
import math
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from backend.analysis.feature_labels import LABEL_STRINGS, KeywordIndex, feature_label
from backend.core.stats import retrieval_hits, wilson_interval

DENSE_SHARE = 0.10  # the largest share of rows a feature may fire on and still be classed by entropy
NEUTRAL_ENTROPY = 0.9
SPECIFIC_ENTROPY = 0.3
MIN_FEATURE_N = 5  # the summary counts features firing on at least this many sentences
TOP_STRINGS = 10
OVERLAP_K = 8
P1_MAX_LANGUAGES = 8
HISTOGRAM_BINS = 10


# The parts of an atlas; their to_dict() is part of the /feature_atlas and /feature_lookup JSON.
@dataclass(frozen=True)
class TopString:
    row: int
    text: str
    lang: str
    value: float

    def to_dict(self) -> dict:
        return {"text": self.text, "lang": self.lang, "value": round(self.value, 5)}


@dataclass(frozen=True)
class FeatureCard:
    id: int
    n: int  # sentences it fires on
    by_language: dict[str, int]
    entropy: float  # normalised language entropy of its firing rates, 0 (one language) .. 1 (even)
    cls: str  # "dense" | "language-neutral" | "language-specific" | "mixed"
    language: str  # the language with the highest firing rate (the API names it only when specific)
    label: str  # the first keywords, or the strongest string when it has none
    top: tuple[TopString, ...]
    keywords: tuple[str, ...] = ()  # c-TF-IDF terms its top strings share (backend.analysis.feature_labels)
    share: float = 0.0  # n / rows of the atlas

    def to_dict(self) -> dict:
        return {"id": self.id, "n": self.n, "share": round(self.share, 5), "entropy": round(self.entropy, 4) + 0.0,
                "class": self.cls, "language": self.language if self.cls == "language-specific" else None,
                "label": self.label, "keywords": list(self.keywords), "top": [t.to_dict() for t in self.top],
                "by_language": self.by_language}


@dataclass(frozen=True)
class Interval:
    mean: float | None
    ci_low: float | None
    ci_high: float | None
    n: int

    def to_dict(self) -> dict:
        r = (lambda x: None if x is None else round(x, 4))
        return {"mean": r(self.mean), "ci_low": r(self.ci_low), "ci_high": r(self.ci_high), "n": self.n}


@dataclass(frozen=True)
class PairP1:
    source: str
    target: str
    p_at_1: float | None
    ci_low: float | None
    ci_high: float | None
    n: int

    def to_dict(self) -> dict:
        r = (lambda x: None if x is None or x != x else round(float(x), 4))
        return {"source": self.source, "target": self.target, "p_at_1": r(self.p_at_1),
                "ci_low": r(self.ci_low), "ci_high": r(self.ci_high), "n": self.n}


def language_entropy(counts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Normalised Shannon entropy of each row's firing *rates* across languages (counts / language
    size, so a big language does not look dominant by size alone), over the corpus's languages:
    0 = fires in one language only, 1 = the same rate in every language. counts: (F, L)."""
    rates = counts / np.maximum(sizes, 1)[None, :]
    p = rates / np.maximum(rates.sum(axis=1, keepdims=True), 1e-12)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -np.where(p > 0, p * np.log(p), 0.0).sum(axis=1)
    L = counts.shape[1]
    return h / math.log(L) if L > 1 else np.zeros(len(counts))


def classify(entropy: float, share: float = 0.0, dense_share: float = DENSE_SHARE) -> str:
    """"dense" above ``dense_share`` of the rows (a feature that fires on most sentences is not
    evidence of a shared meaning), unless it fires in one language only: a feature on nearly every
    Chinese sentence of an 8-language corpus (12.5% of its rows) says "Chinese", and stays
    language-specific. Else by language entropy."""
    if share > dense_share and entropy > SPECIFIC_ENTROPY:
        return "dense"
    if entropy >= NEUTRAL_ENTROPY:
        return "language-neutral"
    if entropy <= SPECIFIC_ENTROPY:
        return "language-specific"
    return "mixed"


def row_pairs(ids: np.ndarray, langs: np.ndarray, same: bool, limit: int, rng) -> np.ndarray:
    """(m, 2) row pairs in different languages: translations (same meaning) or unrelated ones."""
    has = np.flatnonzero(ids != "")
    if same:
        groups = collections.defaultdict(list)
        for r in has:
            groups[ids[r]].append(r)
        pairs = [(a, b) for rows in groups.values() for i, a in enumerate(rows) for b in rows[i + 1:]
                 if langs[a] != langs[b]]
        pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
        if len(pairs) > limit:
            pairs = pairs[np.sort(rng.choice(len(pairs), limit, replace=False))]
        return pairs
    if has.size < 2:
        return np.zeros((0, 2), dtype=np.int64)
    a, b = rng.choice(has, 4 * limit), rng.choice(has, 4 * limit)
    keep = (langs[a] != langs[b]) & (ids[a] != ids[b])
    return np.stack([a[keep], b[keep]], axis=1)[:limit]


def top_jaccard(idx: np.ndarray, pairs: np.ndarray, k: int = OVERLAP_K) -> np.ndarray:
    """Jaccard of the top-k feature sets of each row pair. idx: (n, >= k), -1 = none."""
    a, b = idx[pairs[:, 0], :k], idx[pairs[:, 1], :k]
    inter = ((a[:, :, None] == b[:, None, :]) & (a[:, :, None] >= 0)).sum(axis=(1, 2))
    union = (a >= 0).sum(axis=1) + (b >= 0).sum(axis=1) - inter
    return np.where(union > 0, inter / np.maximum(union, 1), 0.0)


def mean_interval(x: np.ndarray) -> Interval:
    """Mean with a normal-approximation 95% interval (pairs share sentences, so it is optimistic)."""
    if x.size == 0:
        return Interval(None, None, None, 0)
    mean = float(x.mean())
    half = 1.96 * float(x.std(ddof=1)) / math.sqrt(x.size) if x.size > 1 else float("nan")
    return Interval(mean, mean - half, mean + half, int(x.size))


def p1_languages(counts: dict[str, int]) -> list[str]:
    """Up to P1_MAX_LANGUAGES of a corpus's languages (``counts``: rows per language, largest
    first): the bundled corpus's languages where present, then the largest."""
    preferred = [lang for lang in ("en", "fr", "de", "es", "ru", "zh", "ar", "hi") if lang in counts]
    rest = [lang for lang in counts if lang not in preferred]
    return (preferred + rest)[:P1_MAX_LANGUAGES]


def sparse_code_matrix(idx: np.ndarray, val: np.ndarray, n_features: int):
    """Codes as an L2-normalised scipy CSR matrix (n, n_features)."""
    from scipy.sparse import csr_matrix, diags

    keep = idx >= 0
    rows = np.repeat(np.arange(len(idx)), keep.sum(axis=1))
    m = csr_matrix((val[keep].astype(np.float32), (rows, idx[keep])), shape=(len(idx), n_features))
    norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
    return diags(1.0 / np.maximum(norms, 1e-12)) @ m


def pair_p_at_1(scores_for: Callable[[np.ndarray, np.ndarray], np.ndarray], ids: np.ndarray, langs: np.ndarray,
                languages: list[str]) -> tuple[PairP1, ...]:
    """P@1 with its Wilson interval for every ordered pair of ``languages``; ``scores_for(query rows,
    candidate rows)`` gives the (n_queries, n_candidates) scores."""
    out = []
    for a in languages:
        for b in languages:
            if a == b:
                continue
            qa, cb = np.flatnonzero(langs == a), np.flatnonzero(langs == b)
            hits, n = retrieval_hits(scores_for(qa, cb), ids[qa], ids[cb])
            low, high = wilson_interval(hits, n)
            out.append(PairP1(a, b, hits / n if n else None, None if n == 0 else low,
                              None if n == 0 else high, n))
    return tuple(out)


def feature_summary(texts: Sequence[str], langs: Sequence[str], idx: np.ndarray, val: np.ndarray, n_features: int,
                    dense_share: float = DENSE_SHARE):
    """(cards of every feature that fires, most sentences first; the entropy histogram; each
    language's share of the language-specific features; per language its counts), for the rows
    (``texts``, ``langs``) and their codes ``idx``, ``val`` (n, K). A feature firing on more than
    ``dense_share`` of the rows is "dense"."""
    keyword_index = KeywordIndex(texts, langs)
    language_counts = dict(collections.Counter(langs).most_common())
    langs_all = np.asarray(langs)
    languages = list(language_counts)
    lang_index = {lang: j for j, lang in enumerate(languages)}
    sizes = np.asarray([language_counts[lang] for lang in languages], dtype=np.float64)
    rows = np.repeat(np.arange(len(idx)), (idx >= 0).sum(axis=1))
    feats = idx[idx >= 0]
    vals = val[idx >= 0]
    row_lang = np.asarray([lang_index[lang] for lang in langs_all], dtype=np.int64)
    counts = np.zeros((n_features, len(languages)), dtype=np.int64)
    np.add.at(counts, (feats, row_lang[rows]), 1)
    n = counts.sum(axis=1)
    active = np.flatnonzero(n > 0)
    entropy = language_entropy(counts[active].astype(np.float64), sizes)
    # the strongest strings per feature: sort all (feature, value) entries once
    order = np.lexsort((-vals, feats))
    starts = np.searchsorted(feats[order], active)
    cards = []
    for f, h, start in zip(active, entropy, starts):
        entries = order[start:start + int(n[f])][:max(TOP_STRINGS, LABEL_STRINGS)]
        tops = [TopString(int(rows[e]), texts[rows[e]], langs[rows[e]], float(vals[e]))
                for e in entries]
        by_lang = {languages[j]: int(c) for j, c in enumerate(counts[f]) if c}
        share = float(n[f]) / max(len(texts), 1)
        cls = classify(float(h), share, dense_share)
        rates = counts[f] / np.maximum(sizes, 1)
        label_rows = tops[:LABEL_STRINGS]
        keywords = keyword_index.keywords([t.row for t in label_rows], [t.lang for t in label_rows])
        cards.append(FeatureCard(int(f), int(n[f]), dict(sorted(by_lang.items(), key=lambda kv: -kv[1])),
                                 float(h), cls, languages[int(rates.argmax())],
                                 feature_label(keywords, tops[0].text if tops else ""),
                                 tuple(tops[:TOP_STRINGS]), keywords, share))
    cards.sort(key=lambda c: (-c.n, c.id))
    counted = [c for c in cards if c.n >= MIN_FEATURE_N]
    edges = np.linspace(0, 1, HISTOGRAM_BINS + 1)
    hist, _ = np.histogram([c.entropy for c in counted if c.cls != "dense"], bins=edges)  # dense ones apart
    classes = collections.Counter(c.cls for c in counted)
    histogram = {"edges": [round(float(e), 2) for e in edges], "counts": [int(x) for x in hist],
                 "n_features": len(counted), "classes": dict(classes)}
    specific = collections.Counter(c.language for c in counted if c.cls == "language-specific")
    share = {lang: round(specific.get(lang, 0) / len(counted), 4) if counted else 0.0 for lang in languages}
    by_language = {lang: {"n_sentences": int(sizes[j]), "n_specific_features": int(specific.get(lang, 0)),
                          "share_specific": share[lang]} for j, lang in enumerate(languages)}
    return tuple(cards), histogram, share, by_language
