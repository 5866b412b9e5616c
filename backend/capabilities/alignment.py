"""Which words does a model match across languages? Word alignment from contextual hidden states.

``align_pair`` aligns one sentence pair at one layer (SimAlign's methods, backend.analysis.word_alignment)
and says which word pairs make the two sentence vectors similar; ``align_eval`` aligns a file of pairs
at every layer and scores the links against optional gold (P/R/F1/AER by layer). The hidden states
come from backend.models.encoders.hidden_states (the registry's ``layers`` models).

A model's default layer is its best on the bundled gold set (assets/alignment_gold/best_layers.json,
written by scripts/alignment_best_layers.py).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from backend.analysis.word_alignment import (
    METHODS,
    WORD_MODES,
    GoldLinks,
    align,
    alignment_scores,
    cosine_decomposition,
    cosine_matrix,
    group_terms,
    parse_pharaoh,
    split_words,
    token_word_map,
    word_vectors,
    write_pharaoh,
)
from backend.core.errors import InvalidInput, LimitExceeded
from backend.core.export_files import content_file
from backend.core.validation import one_of, whole_number
from backend.data.alignment_files import GOLD_DIR, read_gold, read_pairs

BEST_LAYERS = GOLD_DIR / "best_layers.json"
PAIR_CHUNK = 16  # pairs per forward batch in an evaluation


def stored_best_layers() -> dict:
    """{model id: {method: layer}} as stored from the bundled gold set ({} if none)."""
    if not BEST_LAYERS.exists():
        return {}
    return json.loads(BEST_LAYERS.read_text(encoding="utf-8"))["best_layer"]


def default_layer(model_id: str, method: str = "argmax", n_layers: int | None = None) -> int | None:
    """The model's best layer on the bundled gold set for ``method``; for a model not measured,
    two thirds of the way up (SimAlign's mBERT: layer 8 of 12), or None when ``n_layers`` is unknown."""
    stored = stored_best_layers().get(model_id, {})
    if method in stored:
        return int(stored[method])
    return None if n_layers is None else round(2 * n_layers / 3)


def gold_example_files() -> tuple[str, str]:
    """The bundled gold set's pairs and links as files a browser may be handed (temp copies)."""
    from backend.data.alignment_files import GOLD_LINKS, GOLD_PAIRS

    return (content_file("alignment", GOLD_PAIRS.name, GOLD_PAIRS.read_bytes()),
            content_file("alignment", GOLD_LINKS.name, GOLD_LINKS.read_bytes()))


@dataclass(frozen=True)
class _Side:
    text: str
    spans: tuple[tuple[int, int], ...]

    @property
    def words(self) -> list[str]:
        return [self.text[s:e] for s, e in self.spans]


def _side(text, mode: str, role: str, settings, where: str = "") -> _Side:
    """The words of one side, checked: not empty, plain text, within the length and word limits."""
    from backend.data.sentences import check_characters

    text = "" if text is None else str(text)
    if not text.strip():
        raise InvalidInput(f"{where}The {role} sentence is empty: give a sentence on both sides.")
    limits = settings.limits
    if len(text) > limits.max_chars_per_sentence:
        raise LimitExceeded(f"{where}The {role} sentence is {len(text):,} characters; the limit is "
                            f"{limits.max_chars_per_sentence:,}. Shorten it.")
    for number, line in enumerate(text.splitlines(), start=1):
        check_characters(line, number, f"{where}The {role} sentence, line")
    spans = split_words(text, mode)
    if mode == "spaces" and any(e == s for s, e in spans):
        raise InvalidInput(f"{where}The {role} sentence has an empty word (a double, leading or trailing space): "
                           "with words=spaces separate words by single spaces, or use words=auto.")
    if not spans:
        raise InvalidInput(f"{where}The {role} sentence has no words.")
    if len(spans) > limits.max_align_words:
        raise LimitExceeded(f"{where}The {role} sentence has {len(spans)} words; the limit is "
                            f"{limits.max_align_words}. Shorten it.")
    return _Side(text, tuple(spans))


def _layer_model(registry, model_id: str | None, progress=None):
    settings = registry.settings
    model_id = model_id or settings.default_model("layers")
    settings.resolve("layers", model_id)
    return model_id, registry.get("layers", model_id, progress)


@dataclass(frozen=True)
class Contribution:
    i: int | None  # source word; None: tokens of no word (special tokens, the model's prefix)
    j: int | None
    share: float  # this word pair's part of sentence_cosine; all shares sum to it

    def to_dict(self) -> dict:
        return {"i": self.i, "j": self.j, "share": self.share}


@dataclass(frozen=True)
class PairAlignment:
    """One pair aligned at one layer. similarity: cosine of word vectors (source x target)."""

    model_id: str
    layer: int
    n_layers: int
    method: str
    words: str
    source_words: tuple[str, ...]
    target_words: tuple[str, ...]
    alignments: tuple[tuple[int, int], ...]
    similarity: tuple[tuple[float, ...], ...]
    sentence_cosine: float  # cosine of the mean token states at this layer (the model's pooling)
    contributions: tuple[Contribution, ...]  # largest first

    def to_dict(self) -> dict:
        """The ``/align`` API contract."""
        return {"model": self.model_id, "layer": self.layer, "method": self.method,
                "source_words": list(self.source_words), "target_words": list(self.target_words),
                "alignments": [list(link) for link in self.alignments],
                "similarity": [list(row) for row in self.similarity], "sentence_cosine": self.sentence_cosine,
                "contributions": [c.to_dict() for c in self.contributions], "words": self.words,
                "n_layers": self.n_layers}


def align_pair(registry, source: str, target: str, model_id: str | None = None, layer=None,
               method: str = "argmax", words: str = "auto", progress=None) -> PairAlignment:
    """Align the words of ``source`` and ``target`` at ``layer`` (0 = embeddings; None = the model's
    best on the bundled gold set)."""
    settings = registry.settings
    method = one_of(method or "argmax", METHODS, "alignment method")
    words = one_of(words or "auto", WORD_MODES, "word splitting")
    src = _side(source, words, "source", settings)
    tgt = _side(target, words, "target", settings)
    model_id, model = _layer_model(registry, model_id, progress)
    n_layers = model.n_layers
    if layer is None or (isinstance(layer, str) and not layer.strip()):
        layer = default_layer(model_id, method, n_layers)
    layer = whole_number(layer, "layer")
    if not 0 <= layer <= n_layers:
        raise LimitExceeded(f"layer is {layer}; {model_id} has layers 0 (embeddings) to {n_layers}.")
    states_src, states_tgt = model.token_layers([src.text, tgt.text])
    src_tokens = token_word_map(states_src.spans, src.spans)
    tgt_tokens = token_word_map(states_tgt.spans, tgt.spans)
    a, b = states_src.states[layer], states_tgt.states[layer]
    va, ok_a = word_vectors(a, src_tokens)
    vb, ok_b = word_vectors(b, tgt_tokens)
    sim = cosine_matrix(va, vb)
    links = align(sim, method, ok_a, ok_b)
    cosine, terms = cosine_decomposition(a, b)
    grouped = group_terms(terms, src_tokens, tgt_tokens)
    return PairAlignment(model_id, layer, n_layers, method, words, tuple(src.words), tuple(tgt.words),
                         tuple(links), tuple(tuple(float(x) for x in row) for row in sim), cosine,
                         tuple(Contribution(i, j, share) for i, j, share in grouped))


# ---------------------------------------------------------------- a file of pairs, every layer


@dataclass(frozen=True)
class AlignmentEvaluation:
    """Every pair aligned at every layer. Lists run over ``layers``; the gold scores are None without gold."""

    model_id: str
    method: str
    words: str
    n_pairs: int
    layers: tuple[int, ...]
    precision: tuple[float, ...] | None
    recall: tuple[float, ...] | None
    f1: tuple[float, ...] | None
    aer: tuple[float, ...] | None
    best_layer: int | None  # lowest AER with gold; None without
    aligned_share: tuple[float, ...]  # words (both sides) in at least one link
    mean_link_similarity: tuple[float, ...]
    n_links: tuple[int, ...]  # predicted links by layer
    n_gold_sure: int | None
    n_gold_possible: int | None  # possible links, the sure ones included
    export_layer: int  # the layer whose links the Pharaoh file holds
    pharaoh: str  # one line a pair, links at export_layer

    def to_dict(self) -> dict:
        """The ``/align_eval`` API contract."""
        as_list = (lambda v: None if v is None else list(v))
        return {"model": self.model_id, "method": self.method, "n_pairs": self.n_pairs, "layers": list(self.layers),
                "precision": as_list(self.precision), "recall": as_list(self.recall), "f1": as_list(self.f1),
                "aer": as_list(self.aer), "best_layer": self.best_layer, "aligned_share": list(self.aligned_share),
                "mean_link_similarity": list(self.mean_link_similarity), "n_links": list(self.n_links),
                "n_gold_sure": self.n_gold_sure, "n_gold_possible": self.n_gold_possible, "words": self.words,
                "export_layer": self.export_layer}


def pharaoh_file(result: AlignmentEvaluation) -> str:
    """The links at ``export_layer`` as a downloadable Pharaoh file (named by content)."""
    name = f"alignments-{result.model_id.replace('/', '_')}-{result.method}-layer{result.export_layer}.txt"
    return content_file("alignment", name, result.pharaoh.encode("utf-8"))


def _pair_links(model, sides: Sequence[tuple[_Side, _Side]], method: str):
    """For each pair: (links by layer, link similarities by layer, word counts)."""
    texts = [s.text for pair in sides for s in pair]
    token_layers = model.token_layers(texts)
    out = []
    for k, (src, tgt) in enumerate(sides):
        ts, tt = token_layers[2 * k], token_layers[2 * k + 1]
        va, ok_a = word_vectors(ts.states, token_word_map(ts.spans, src.spans))
        vb, ok_b = word_vectors(tt.states, token_word_map(tt.spans, tgt.spans))
        sims = cosine_matrix(va, vb)  # (L + 1, n, m)
        links = [align(sim, method, ok_a, ok_b) for sim in sims]
        link_sims = [[float(sim[i, j]) for i, j in layer_links] for sim, layer_links in zip(sims, links)]
        out.append((links, link_sims, (len(src.spans), len(tgt.spans))))
    return out


def align_eval(registry, pairs: str | None, gold: str | None = None, model_id: str | None = None,
               method: str = "argmax", words: str = "spaces", progress=None,
               pairs_name: str | None = None, gold_name: str | None = None) -> AlignmentEvaluation:
    """Align every pair of the TSV ``pairs`` at every layer; score against the Pharaoh ``gold`` if given."""
    settings = registry.settings
    if not pairs:
        raise InvalidInput("Upload a file of sentence pairs: one pair a line, the source, a tab, the target.")
    method = one_of(method or "argmax", METHODS, "alignment method")
    words = one_of(words or "spaces", WORD_MODES, "word splitting")
    pairs_name = pairs_name or "The pairs file"
    rows = read_pairs(pairs, pairs_name, settings)
    sides = [(_side(s, words, "source", settings, f"{pairs_name}, line {k}: "),
              _side(t, words, "target", settings, f"{pairs_name}, line {k}: "))
             for k, (s, t) in enumerate(rows, start=1)]
    gold_links: list[GoldLinks] | None = None
    if gold:
        lines = read_gold(gold, gold_name or "The gold file", settings, len(rows))
        gold_links = [parse_pharaoh(line, len(s.spans), len(t.spans), k)
                      for k, (line, (s, t)) in enumerate(zip(lines, sides), start=1)]
    model_id, model = _layer_model(registry, model_id, progress)
    per_pair = []
    for start in range(0, len(sides), PAIR_CHUNK):
        if progress:
            progress(start / len(sides), f"Aligning pairs at every layer of {model_id}")
        per_pair.extend(_pair_links(model, sides[start:start + PAIR_CHUNK], method))
    return _evaluation(model_id, method, words, model.n_layers, per_pair, gold_links)


def _evaluation(model_id, method, words, n_layers, per_pair, gold_links) -> AlignmentEvaluation:
    layers = tuple(range(n_layers + 1))
    n_words = sum(n + m for _, _, (n, m) in per_pair)
    shares, mean_sims, n_links, scores = [], [], [], []
    for layer in layers:
        links = [p[0][layer] for p in per_pair]
        sims = [s for p in per_pair for s in p[1][layer]]
        covered = sum(len({i for i, _ in ls}) + len({j for _, j in ls}) for ls in links)
        shares.append(covered / n_words if n_words else 0.0)
        mean_sims.append(float(np.mean(sims)) if sims else 0.0)
        n_links.append(len(sims))
        if gold_links is not None:
            scores.append(alignment_scores(links, gold_links))
    best = None
    if scores:
        best = layers[int(np.argmin([s.aer for s in scores]))]
    default = default_layer(model_id, method, n_layers)
    export_layer = best if best is not None else min(default, n_layers)
    pharaoh = "".join(write_pharaoh(p[0][export_layer]) + "\n" for p in per_pair)
    pick = (lambda attr: tuple(getattr(s, attr) for s in scores) if scores else None)
    return AlignmentEvaluation(model_id, method, words, len(per_pair), layers, pick("precision"), pick("recall"),
                               pick("f1"), pick("aer"), best, tuple(shares), tuple(mean_sims), tuple(n_links),
                               scores[0].n_sure if scores else None, scores[0].n_possible if scores else None,
                               export_layer, pharaoh)
