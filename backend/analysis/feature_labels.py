"""Automatic labels for SAE features: the content words a feature's strongest strings share.

Apart from the feature statistics because it works on words, not arrays: a Unicode word pattern
and wordfreq's most frequent words stand in for a stop list, in every language the atlas holds.
"""
from __future__ import annotations

import collections
import functools
import unicodedata
from typing import Sequence

import regex

LABEL_STRINGS = 20  # the label is made from the feature's 20 strongest strings

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
