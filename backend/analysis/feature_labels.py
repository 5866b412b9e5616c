"""Automatic labels for SAE features: the words (or, in scripts written without spaces, character
pairs) that a feature's strongest strings share and the rest of the corpus does not.

Apart from the feature statistics because it works on words, not arrays (a Unicode word pattern,
character pairs where a script has no spaces).

Keywords are class-based TF-IDF (c-TF-IDF, as in BERTopic, Grootendorst 2022): the feature's top
strings form one class document; a term's weight is how many of them hold it times
log(1 + rows of the corpus / rows holding it), kept only when the top strings hold it at least
twice and more often than the corpus does. Terms are counted per language and pooled: a term
shared by the top strings of one language counts as well as one shared across languages.
"""
from __future__ import annotations

import collections
import math
import unicodedata
from typing import Sequence

import regex

LABEL_STRINGS = 20  # the keywords come from the feature's 20 strongest strings
MAX_KEYWORDS = 5
PIECE = 4  # words longer than PIECE + 1 characters also give their first PIECE characters as a piece
PIECE_MARK = "…"
LIFT = 2.0  # a keyword is at least this many times as common in the top strings as in the corpus
LABEL_KEYWORDS = 3  # the label shows the first three

# letters with their combining marks: Devanagari vowel signs are not \w in re
_WORD = regex.compile(r"[\p{L}\p{M}\p{N}]+")
# scripts written without spaces: a "word" there is a run of characters, so terms are character pairs
_UNSPACED = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}]")


def text_terms(text: str) -> frozenset[str]:
    """The terms of one string: NFKC, lower-cased words of 2+ characters that are not numbers; in
    unspaced scripts, the character pairs of each run instead (and single characters of
    one-character runs); words longer than PIECE + 1 characters also give their first PIECE
    characters, marked "…", a piece in which inflected forms meet. No stop list: c-TF-IDF's lift keeps a frequent word out unless the
    feature is about it (a feature of "you" is labelled "you", "dich", "ты")."""
    terms: set[str] = set()
    for word in _WORD.findall(unicodedata.normalize("NFKC", text).lower()):
        if _UNSPACED.search(word):
            chars = [c for c in word if _UNSPACED.match(c)]
            terms.update("".join(chars[i:i + 2]) for i in range(max(1, len(chars) - 1)))
        elif len(word) >= 2 and not word.isdigit():
            terms.add(word)
            piece = _piece(word)  # a subword piece, in which inflected forms of one stem meet
            if piece:
                terms.add(piece)
    return frozenset(terms)


def _piece(word: str) -> str | None:
    """The first PIECE graphemes of a word longer than PIECE + 1, marked; None for shorter words."""
    if len(word) <= PIECE + 1:
        return None
    graphemes = regex.findall(r"\X", word)  # never cut a letter from its marks
    return "".join(graphemes[:PIECE]) + PIECE_MARK if len(graphemes) > PIECE + 1 else None


class KeywordIndex:
    """The terms of every row of a corpus and how many rows hold each: built once per atlas."""

    def __init__(self, texts: Sequence[str], langs: Sequence[str]):
        self.terms = [text_terms(t) for t in texts]
        self.n_rows = len(texts)
        self.document_frequency = collections.Counter(term for row in self.terms for term in row)
        self.language_rows = collections.Counter(langs)
        self.language_frequency: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
        for row, lang in zip(self.terms, langs):
            self.language_frequency[lang].update(row)

    def keywords(self, rows: Sequence[int], langs: Sequence[str], limit: int = MAX_KEYWORDS) -> tuple[str, ...]:
        """Up to ``limit`` c-TF-IDF keywords of ``rows`` (a feature's top strings, strongest first;
        ``langs`` their languages), best first; () when no term is shared by two of them."""
        pooled: collections.Counter[str] = collections.Counter()
        by_lang: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
        sizes = collections.Counter(langs)
        for row, lang in zip(rows, langs):
            pooled.update(self.terms[row])
            by_lang[lang].update(self.terms[row])
        # a piece stands for several forms of a stem: kept only when the top strings hold two of them
        forms: dict[str, set[str]] = collections.defaultdict(set)
        for row in rows:
            for term in self.terms[row]:
                if not term.endswith(PIECE_MARK):
                    piece = _piece(term)
                    if piece:
                        forms[piece].add(term)
        scores: dict[str, float] = {}
        groups = [(pooled, len(rows), self.document_frequency, self.n_rows)]
        groups += [(counts, sizes[lang], self.language_frequency[lang], self.language_rows[lang])
                   for lang, counts in by_lang.items()]
        for counts, size, frequency, total in groups:
            for term, tf in counts.items():
                # shared by two top strings, and at least LIFT times as common there as in the
                # corpus (in the same language): frequent words only where the feature is about them
                if tf < 2 or tf / size < LIFT * frequency[term] / max(total, 1):
                    continue
                if term.endswith(PIECE_MARK) and len(forms[term]) < 2:
                    continue
                score = tf * math.log(1 + self.n_rows / self.document_frequency[term])
                scores[term] = max(scores.get(term, 0.0), score)
        ranked = sorted(scores, key=lambda t: (-scores[t], t))
        chosen: list[str] = []
        for term in ranked:  # a piece or pair inside a chosen word (or one inside it) adds nothing
            stem = term.removesuffix(PIECE_MARK)
            if any(stem in c.removesuffix(PIECE_MARK) or c.removesuffix(PIECE_MARK) in stem for c in chosen):
                continue
            chosen.append(term)
            if len(chosen) == limit:
                break
        return tuple(chosen)


def feature_label(keywords: Sequence[str], strongest: str) -> str:
    """The label shown for a feature: its first three keywords, or without keywords its strongest
    string, shortened."""
    if keywords:
        return " · ".join(keywords[:LABEL_KEYWORDS])
    return strongest if len(strongest) <= 40 else strongest[:39] + "…"
