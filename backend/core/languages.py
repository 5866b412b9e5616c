"""Language lists as the API and the tabs pass them: one parser, one check against a corpus."""
from __future__ import annotations

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
