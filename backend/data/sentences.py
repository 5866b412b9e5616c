"""Turning a box of text into validated sentences with languages.

One sentence per line. A line may start with ``xx: `` (a language code from the app's list) to
override detection, e.g. ``sw: Mbwa analala.``.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from backend.core.errors import InvalidInput, LimitExceeded
from backend.core.settings import Settings
from backend.models.language_id import LanguageIdentifier, is_language_code

_PREFIX = re.compile(r"^([a-z]{2,3}(?:-[A-Za-z0-9]{2,8})?):\s+(.*)$", re.S)
# Unicode categories that never belong in a sentence: controls, surrogates, unassigned,
# private use. Format characters (Cf: ZWJ, bidi marks) are legitimate in many scripts.
_BAD_CATEGORIES = {"Cc", "Cs", "Cn", "Co"}
_ALLOWED_CONTROLS = {"\t"}
# Bidi embeddings and overrides (U+202A-U+202E) make text display in a different order than it is
# stored ("Trojan Source", CVE-2021-42574); the isolates (U+2066-U+2069) stay allowed.
_BIDI_OVERRIDES = {"\u202a", "\u202b", "\u202c", "\u202d", "\u202e"}
# Real scripts stack a few combining marks (Vietnamese 2, Tibetan and Indic ~4); "Zalgo" floods
# stack hundreds to overflow layouts and tokenizers.
MAX_COMBINING_RUN = 16
_INVISIBLE_CATEGORIES = {"Cf", "Mn", "Me", "Zs"}


@dataclass(frozen=True)
class Sentence:
    text: str
    lang: str
    lang_probability: float
    lang_source: str  # "detected" or "given"
    detector: str = ""  # the language identifier's mode that detected it (backend.models.language_id FULL / FAST)
    lang_uncertain: bool = False  # detected below its mode's calibrated threshold; never for a given language


def check_characters(line: str, number: int, what: str = "Line") -> None:
    """InvalidInput naming the line (or row) and the code point of the first non-text character."""
    run = 0
    visible = False
    for ch in line:
        category = unicodedata.category(ch)
        if ch not in _ALLOWED_CONTROLS and category in _BAD_CATEGORIES:
            raise InvalidInput(
                f"{what} {number} contains a control or non-text character (U+{ord(ch):04X}). "
                "Paste plain text, one sentence per line; binary files are not sentences."
            )
        if ch in _BIDI_OVERRIDES:
            raise InvalidInput(
                f"{what} {number} contains a bidirectional override (U+{ord(ch):04X}), which makes text "
                "display in a different order than it is written. Remove it: the direction of each script "
                "is handled automatically."
            )
        run = run + 1 if category in ("Mn", "Me") else 0
        if run > MAX_COMBINING_RUN:
            raise InvalidInput(
                f"{what} {number} stacks more than {MAX_COMBINING_RUN} combining marks on one character. "
                "Paste the text without the decoration."
            )
        visible = visible or (category not in _INVISIBLE_CATEGORIES and ch not in _ALLOWED_CONTROLS)
    if line and not visible:
        raise InvalidInput(
            f"{what} {number} has no visible characters (only zero-width, format or combining "
            "characters). Type a sentence, or remove the line."
        )


def language_prefix(line: str) -> tuple[str, str] | None:
    """(code, the rest) of a line that starts with ``xx: `` ("sw: Mbwa analala." gives ("sw",
    "Mbwa analala.")); None without one. The code is not checked against any list here."""
    match = _PREFIX.match(line)
    return (match.group(1), match.group(2).strip()) if match else None


def split_lines(text: str | None, settings: Settings, min_count: int = 1) -> list[tuple[int, str]]:
    """Non-blank lines with their 1-based line numbers, checked against the limits."""
    limits = settings.limits
    if text is None or not text.strip():
        raise InvalidInput("The input is empty. Type or paste sentences, one per line.")
    if len(text) > limits.max_input_chars:
        raise LimitExceeded(
            f"The input has {len(text):,} characters; the limit is {limits.max_input_chars:,}. "
            "Paste fewer or shorter sentences."
        )
    lines = [(i, line.strip()) for i, line in enumerate(text.splitlines(), start=1) if line.strip()]
    if len(lines) < min_count:
        raise InvalidInput(
            f"Found {len(lines)} sentence; at least {min_count} are needed. Put one sentence per line."
        )
    if len(lines) > limits.max_sentences:
        raise LimitExceeded(
            f"Found {len(lines)} sentences; the limit is {limits.max_sentences}. "
            "Remove some lines, or use the Search tab for a whole corpus."
        )
    for number, line in lines:
        check_characters(line, number)
        if len(line) > limits.max_chars_per_sentence:
            raise LimitExceeded(
                f"Line {number} has {len(line):,} characters; the limit is "
                f"{limits.max_chars_per_sentence:,}. Split it into shorter sentences."
            )
    return lines


def parse_sentences(text: str | None, settings: Settings, identifier: LanguageIdentifier,
                    min_count: int = 1, quick_languages: bool = False) -> list[Sentence]:
    """Validated sentences, each with its language (given by an ``xx:`` prefix, or detected).
    ``quick_languages``: the detector's low-accuracy first pass may answer while its full model loads
    (each Sentence's ``detector`` says which did; the caller must show it)."""
    sentences = []
    for number, line in split_lines(text, settings, min_count=min_count):
        code, body = language_prefix(line) or (None, "")
        if code and code in identifier.languages:
            if not body:
                raise InvalidInput(f"Line {number} has a language prefix but no sentence after it.")
            sentences.append(Sentence(body, code, 1.0, "given"))
            continue
        if code and is_language_code(code):
            raise InvalidInput(
                f"Line {number} asks for language {code!r}, which this app does not support. "
                f"Supported codes: {', '.join(identifier.languages)}. Remove the prefix to auto-detect."
            )
        sentences.append(Sentence(line, "", 0.0, "detected"))  # its language is filled in below
    detect = [i for i, s in enumerate(sentences) if s.lang_source == "detected"]
    for i, guess in zip(detect, identifier.identify_many([sentences[i].text for i in detect], quick_languages)):
        sentences[i] = Sentence(sentences[i].text, guess.lang, guess.probability, guess.source, guess.detector,
                                guess.uncertain)
    return sentences
