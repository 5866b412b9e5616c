"""Language lists as the API and the tabs pass them: one parser, one check against a corpus."""
from __future__ import annotations

from backend.errors import InvalidInput


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
