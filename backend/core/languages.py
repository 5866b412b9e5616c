"""Language lists as the API and the tabs pass them: one parser, one check against a corpus."""
from __future__ import annotations

from collections import Counter

from backend.core.errors import InvalidInput


def parse_language_list(languages) -> list[str]:
    """``None``, ``""``, ``"fr, de"`` or ``["fr", "de"]`` -> ``["fr", "de"]``: codes stripped,
    empties and repeats dropped, first-seen order kept. A string is a comma list (so ``"fr"`` is
    one language, not its letters). Empty means "all" to every caller."""
    if languages is None:
        return []
    if isinstance(languages, str):
        languages = languages.split(",")
    seen: dict[str, None] = {}
    for item in languages:
        code = str(item).strip()
        if code:
            seen.setdefault(code, None)
    return list(seen)


def require_corpus_languages(languages, corpus, corpus_id: str) -> list[str]:
    """The parsed list; raises InvalidInput naming any code the corpus does not have."""
    chosen = parse_language_list(languages)
    unknown = [x for x in chosen if x not in corpus.language_counts]
    if unknown:
        raise InvalidInput(f"Language(s) {', '.join(unknown)[:200]} are not in corpus {corpus_id!r}. "
                           f"It has: {', '.join(list(corpus.language_counts)[:40])}.")
    return chosen


def require_retrieval_languages(chosen: list[str], corpus, corpus_id: str, limits, purpose: str,
                                undefined: str = "P@1 is") -> None:
    """The checks every cross-language retrieval score shares: at least two languages, at most
    ``limits.max_bitext_languages``, and meaning ids to score against. ``purpose`` starts the
    message ("The layer curves need"); ``undefined`` names what has no meaning without ids."""
    from backend.core.errors import InvalidInput, LimitExceeded

    if len(chosen) < 2:
        raise InvalidInput(f"{purpose} at least two languages; corpus {corpus_id!r} gives "
                           f"{', '.join(chosen)}. Pick more languages, or a multilingual corpus.")
    if len(chosen) > limits.max_bitext_languages:
        raise LimitExceeded(f"{len(chosen)} languages asked for; the limit is {limits.max_bitext_languages}. "
                            "Name fewer, e.g. 'en,fr,de,zh'.")
    if not corpus.has_meanings:
        raise InvalidInput(f"Corpus {corpus_id!r} has no meaning ids, so {undefined} undefined. Upload it "
                           "with an id column shared by translations.")


def iso639_3(code: str) -> str | None:
    """The ISO 639-3 code of a BCP-47 tag (``"fr"`` -> ``"fra"``, ``"sr-Latn"`` -> ``"srp"``), by
    langcodes; a macrolanguage keeps its macrolanguage code (``"zh"`` -> ``"zho"``), as URIEL files
    it. None when langcodes cannot parse the tag or knows no 3-letter code for it."""
    import langcodes

    try:
        alpha3 = langcodes.Language.get(str(code).strip()).to_alpha3()
    except (LookupError, ValueError):
        return None
    return alpha3 if alpha3 and alpha3 != "und" else None


def script_of_language(code: str, texts=()) -> str | None:
    """The ISO 15924 script a BCP-47 tag is written in: its own script subtag, else CLDR's likely
    script (langcodes' ``maximize``: ``"sr"`` -> ``"Cyrl"``, ``"zh"`` -> ``"Hans"``). Where CLDR
    has none, the Unicode script most of ``texts``' letters belong to (``"LATIN"``, ``"CJK"``...),
    else None."""
    import langcodes

    try:
        tag = langcodes.Language.get(str(code).strip())
        # an unknown tag would maximize to "und"'s likely script (Latin): a guess, so not used
        script = tag.maximize().script if tag.is_valid() and tag.language else None
    except (LookupError, ValueError):
        script = None
    return script or dominant_script(texts)


def dominant_script(texts) -> str | None:
    """The first word of the Unicode name of most letters in ``texts`` (``"LATIN"``, ``"CYRILLIC"``,
    ``"CJK"``, ``"ARABIC"``...); None without letters."""
    import collections
    import unicodedata

    counts: collections.Counter[str] = collections.Counter()
    for text in texts:
        for ch in str(text):
            if ch.isalpha():
                counts[unicodedata.name(ch, "UNKNOWN ").split(" ")[0]] += 1
    return counts.most_common(1)[0][0] if counts else None


def uncertain_counts(langs, uncertain) -> tuple[tuple[str, int], ...]:
    """(language, rows whose label is uncertain) for each language that has some, most first, ties by
    code: what the corpus summary, the map and a map selection report as ``languages_uncertain``."""
    counts = Counter(lang for lang, unsure in zip(langs, uncertain) if unsure)
    return tuple(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
