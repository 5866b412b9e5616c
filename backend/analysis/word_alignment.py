"""Word alignment from contextual vectors, SimAlign-style (Jalili Sabet et al. 2020), on plain arrays.

- Words: ``split_words`` (``auto``: spaces and punctuation apart, each character a unit in scripts
  written without spaces; ``spaces``: single spaces exactly), as character spans.
- ``word_vectors``: a word's vector is the mean of the states of the subword tokens that overlap it.
- Methods on the word x word cosine matrix: ``argmax`` (mutual best), ``itermax`` (argmax repeated on
  the words left unaligned, SimAlign's ``iter_max`` with its alpha 0.9 and two rounds), ``match``
  (maximum-weight bipartite matching, scipy's Hungarian solver): ``align``.
- Pharaoh links (``i-j`` sure, ``i?j`` possible, 0-based): ``parse_pharaoh``, ``write_pharaoh``.
- Precision, recall, F1 and AER (Och & Ney 2003, sure S within possible P): ``alignment_scores``.
- ``cosine_decomposition``: the cosine of two mean-pooled sentence vectors as a sum of token-pair terms.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

from backend.core.errors import InvalidInput
from backend.core.validation import one_of

METHODS = ("argmax", "itermax", "match")
WORD_MODES = ("auto", "spaces")
ITERMAX_ALPHA = 0.9  # SimAlign's alpha_ratio
ITERMAX_ROUNDS = 2  # SimAlign's max_count

# Scripts written without spaces between words: each character is a unit under ``auto``.
_NO_SPACE_SCRIPTS = ("CJK UNIFIED", "CJK COMPATIBILITY IDEOGRAPH", "HIRAGANA", "KATAKANA", "THAI", "LAO",
                     "KHMER", "MYANMAR", "TIBETAN", "IDEOGRAPHIC", "BOPOMOFO")


def _unit_kind(ch: str) -> str:
    """'space', 'punct' (a unit of its own), 'char' (a unit of its own: unspaced scripts) or 'word'."""
    if ch.isspace():
        return "space"
    category = unicodedata.category(ch)
    if category[0] in "PS":
        return "punct"
    if category[0] == "M":  # a combining mark stays with its base (Thai vowels, Devanagari matras)
        return "mark"
    name = unicodedata.name(ch, "")
    if any(name.startswith(s) for s in _NO_SPACE_SCRIPTS):
        return "char"
    return "word"


def split_words(text: str, mode: str = "auto") -> list[tuple[int, int]]:
    """Character spans [start, end) of the words of ``text``.

    ``auto``: runs of word characters between spaces; every punctuation mark or symbol is a word of
    its own; in Han, kana, Thai, Lao, Khmer, Myanmar and Tibetan each character is a unit (with its
    combining marks). ``spaces``: split on single spaces exactly, so ``a  b`` has an empty word
    (rejected by the caller): a pre-tokenised pair keeps its word indices."""
    if mode == "spaces":
        spans, start = [], 0
        for part in text.split(" "):
            spans.append((start, start + len(part)))
            start += len(part) + 1
        return spans
    one_of(mode, WORD_MODES, "word splitting")
    spans: list[tuple[int, int]] = []
    start = None
    for k, ch in enumerate(text):
        kind = _unit_kind(ch)
        if kind == "mark" and spans and start is None and spans[-1][1] == k:
            spans[-1] = (spans[-1][0], k + 1)  # a mark after a single-character unit
            continue
        if kind in ("word", "mark"):
            if start is None:
                start = k
            continue
        if start is not None:
            spans.append((start, k))
            start = None
        if kind in ("punct", "char"):
            spans.append((k, k + 1))
    if start is not None:
        spans.append((start, len(text)))
    return spans


def token_word_map(token_spans: Sequence[tuple[int, int] | None], word_spans: Sequence[tuple[int, int]]
                   ) -> list[list[int]]:
    """For each word, the indexes of the tokens whose character span overlaps it (specials: None)."""
    words: list[list[int]] = [[] for _ in word_spans]
    starts = np.asarray([s for s, _ in word_spans], dtype=np.int64)
    for t, span in enumerate(token_spans):
        if span is None or span[1] <= span[0]:
            continue
        first = max(int(np.searchsorted(starts, span[0], side="right")) - 1, 0)
        for w in range(first, len(word_spans)):
            ws, we = word_spans[w]
            if ws >= span[1]:
                break
            if we > span[0]:
                words[w].append(t)
    return words


def word_vectors(states: np.ndarray, words: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
    """(vectors float32 (..., n_words, d), has_tokens bool (n_words,)) from token states (..., T, d):
    each word the mean of its tokens' states; a word without tokens gets zeros."""
    out = np.zeros((*states.shape[:-2], len(words), states.shape[-1]), dtype=np.float32)
    has = np.zeros(len(words), dtype=bool)
    for w, tokens in enumerate(words):
        if tokens:
            out[..., w, :] = states[..., list(tokens), :].mean(axis=-2)
            has[w] = True
    return out, has


def cosine_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine similarities float32 (..., n, m) of a (..., n, d) and b (..., m, d); 0 where a vector is zero."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    an = np.linalg.norm(a, axis=-1, keepdims=True)
    bn = np.linalg.norm(b, axis=-1, keepdims=True)
    a = np.divide(a, an, out=np.zeros_like(a), where=an > 0)
    b = np.divide(b, bn, out=np.zeros_like(b), where=bn > 0)
    return (a @ np.swapaxes(b, -1, -2)).astype(np.float32)


def _argmax_links(sim: np.ndarray) -> np.ndarray:
    """Mutual best: bool (n, m)."""
    n, m = sim.shape
    forward = np.zeros((n, m), dtype=bool)
    forward[np.arange(n), sim.argmax(axis=1)] = True
    backward = np.zeros((n, m), dtype=bool)
    backward[sim.argmax(axis=0), np.arange(m)] = True
    return forward & backward


def _itermax_links(sim: np.ndarray) -> np.ndarray:
    """SimAlign's iter_max on similarities rescaled to [0, 1]: argmax, then argmax again where at
    least one word of a pair is still unaligned (scores of half-aligned pairs times alpha)."""
    sim = (np.asarray(sim, dtype=np.float64) + 1.0) / 2.0
    inter = _argmax_links(sim).astype(np.float64)
    n, m = sim.shape
    if min(n, m) <= 2:
        return inter > 0
    for _ in range(ITERMAX_ROUNDS - 1):
        free_x = np.repeat(1.0 - inter.sum(1, keepdims=True).clip(0, 1), m, axis=1)
        free_y = np.repeat(1.0 - inter.sum(0, keepdims=True).clip(0, 1), n, axis=0)
        if free_x.sum() < 1.0 or free_y.sum() < 1.0:
            break
        mask = (ITERMAX_ALPHA * free_x + ITERMAX_ALPHA * free_y).clip(0.0, 1.0)
        either_free = 1.0 - (1.0 - free_x) * (1.0 - free_y)
        new = _argmax_links(sim * mask) * either_free
        if not (new > 0).any() or np.array_equal(inter + new > 0, inter > 0):
            break
        inter = inter + new
    return inter > 0


def _match_links(sim: np.ndarray) -> np.ndarray:
    from scipy.optimize import linear_sum_assignment

    rows, cols = linear_sum_assignment(np.asarray(sim, dtype=np.float64), maximize=True)
    links = np.zeros(sim.shape, dtype=bool)
    links[rows, cols] = True
    return links


def align(sim: np.ndarray, method: str = "argmax", source_ok: np.ndarray | None = None,
          target_ok: np.ndarray | None = None) -> list[tuple[int, int]]:
    """Links [(i, j)] sorted, from a word x word similarity (n, m). Words marked not ok (no tokens)
    take no part."""
    one_of(method, METHODS, "alignment method")
    sim = np.asarray(sim, dtype=np.float64)
    n, m = sim.shape
    rows = np.flatnonzero(source_ok) if source_ok is not None else np.arange(n)
    cols = np.flatnonzero(target_ok) if target_ok is not None else np.arange(m)
    if len(rows) == 0 or len(cols) == 0:
        return []
    sub = sim[np.ix_(rows, cols)]
    links = {"argmax": _argmax_links, "itermax": _itermax_links, "match": _match_links}[method](sub)
    return sorted((int(rows[i]), int(cols[j])) for i, j in zip(*np.nonzero(links)))


# ---------------------------------------------------------------- Pharaoh links and scores


@dataclass(frozen=True)
class GoldLinks:
    sure: frozenset[tuple[int, int]]
    possible: frozenset[tuple[int, int]]  # includes the sure links (Och & Ney: S within P)


def parse_pharaoh(line: str, n_source: int | None = None, n_target: int | None = None,
                  line_number: int | None = None) -> GoldLinks:
    """``0-0 1?2 ...`` -> GoldLinks; indexes checked against the word counts when given."""
    where = f"Gold line {line_number}" if line_number is not None else "The gold line"
    sure, possible = set(), set()
    for item in line.split():
        sep = "-" if "-" in item else "?" if "?" in item else None
        parts = item.split(sep) if sep else []
        if len(parts) != 2 or not all(p.isascii() and p.isdigit() for p in parts):
            raise InvalidInput(f"{where}: {item[:40]!r} is not a Pharaoh link; write i-j (sure) or i?j "
                               "(possible), 0-based word indexes, separated by spaces.")
        i, j = int(parts[0]), int(parts[1])
        if (n_source is not None and i >= n_source) or (n_target is not None and j >= n_target):
            raise InvalidInput(f"{where}: link {item[:40]!r} is out of range: the pair has {n_source} source and "
                               f"{n_target} target words (indexes from 0). Check the word splitting (gold "
                               "links usually need words=spaces) or the line order.")
        (sure if sep == "-" else possible).add((i, j))
    return GoldLinks(frozenset(sure), frozenset(possible | sure))


def write_pharaoh(links: Iterable[tuple[int, int]]) -> str:
    return " ".join(f"{i}-{j}" for i, j in sorted(links))


@dataclass(frozen=True)
class AlignmentScores:
    precision: float
    recall: float
    f1: float
    aer: float
    n_links: int  # predicted
    n_sure: int
    n_possible: int  # possible including sure


def alignment_scores(predicted: Sequence[Iterable[tuple[int, int]]], gold: Sequence[GoldLinks]) -> AlignmentScores:
    """Corpus-level (micro) scores: precision |A∩P|/|A|, recall |A∩S|/|S|,
    AER = 1 - (|A∩S| + |A∩P|) / (|A| + |S|) (Och & Ney 2003), F1 of precision and recall."""
    a = a_s = a_p = s = p = 0
    for links, g in zip(predicted, gold, strict=True):
        links = set(links)
        a += len(links)
        a_s += len(links & g.sure)
        a_p += len(links & g.possible)
        s += len(g.sure)
        p += len(g.possible)
    precision = a_p / a if a else 0.0
    recall = a_s / s if s else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    aer = 1.0 - (a_s + a_p) / (a + s) if a + s else 0.0
    return AlignmentScores(precision, recall, f1, aer, a, s, p)


# ---------------------------------------------------------------- why two sentences are similar


def cosine_decomposition(a: np.ndarray, b: np.ndarray) -> tuple[float, np.ndarray]:
    """The cosine of u = mean(a) and v = mean(b) and its token-pair terms.

    a: (n, d) token states, b: (m, d). cos(u, v) = sum_ij <a_i, b_j> / (n m |u| |v|), so
    terms[i, j] = <a_i, b_j> / (n m |u| |v|) float64 (n, m) sums to the cosine exactly."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    u, v = a.mean(axis=0), b.mean(axis=0)
    scale = len(a) * len(b) * np.linalg.norm(u) * np.linalg.norm(v)
    if scale == 0:
        return 0.0, np.zeros((len(a), len(b)))
    terms = (a @ b.T) / scale
    return float(u @ v / (np.linalg.norm(u) * np.linalg.norm(v))), terms


def group_terms(terms: np.ndarray, source_words: Sequence[Sequence[int]], target_words: Sequence[Sequence[int]]
                ) -> list[tuple[int | None, int | None, float]]:
    """Token-pair terms summed by word pair, largest first: [(i, j, share)], with None for the tokens
    that belong to no word (special tokens, a model's prefix). A token shared by two words (a subword
    that spans them) counts for the first. The shares sum to ``terms.sum()``."""
    src_owner = _owners(terms.shape[0], source_words)
    tgt_owner = _owners(terms.shape[1], target_words)
    n_src, n_tgt = len(source_words) + 1, len(target_words) + 1  # the last row / column: no word
    grouped = np.zeros((n_src, n_tgt))
    np.add.at(grouped, (src_owner[:, None], tgt_owner[None, :]), terms)
    out = [(None if i == n_src - 1 else int(i), None if j == n_tgt - 1 else int(j), float(grouped[i, j]))
           for i in range(n_src) for j in range(n_tgt)
           if (i < n_src - 1 or src_owner.max(initial=-1) == n_src - 1)
           and (j < n_tgt - 1 or tgt_owner.max(initial=-1) == n_tgt - 1)]
    return sorted(out, key=lambda t: -t[2])


def _owners(n_tokens: int, words: Sequence[Sequence[int]]) -> np.ndarray:
    owner = np.full(n_tokens, len(words), dtype=np.int64)
    for w in range(len(words) - 1, -1, -1):
        owner[list(words[w])] = w
    return owner
