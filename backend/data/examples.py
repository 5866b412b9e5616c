"""Bundled example sets (assets/similarity_examples.tsv, written by the Babelscope team)."""
from __future__ import annotations

import csv
import functools
from dataclasses import dataclass

from backend.core.settings import ASSETS_DIR

SIMILARITY_EXAMPLES = ASSETS_DIR / "similarity_examples.tsv"


@dataclass(frozen=True)
class ExampleRow:
    id: str  # meaning id; "d…" rows are near-miss distractors
    lang: str
    text: str


@dataclass(frozen=True)
class ExampleSet:
    name: str
    description: str
    rows: tuple[ExampleRow, ...]

    @property
    def text(self) -> str:
        return "\n".join(row.text for row in self.rows)


@functools.cache
def similarity_rows() -> tuple[ExampleRow, ...]:
    with SIMILARITY_EXAMPLES.open(encoding="utf-8", newline="") as handle:
        return tuple(ExampleRow(r["id"], r["lang"], r["text"])
                     for r in csv.DictReader(handle, delimiter="\t"))


def _pick(ids: list[str], langs: list[str]) -> tuple[ExampleRow, ...]:
    """The rows of ``ids`` in ``langs`` that exist (distractors have one language each)."""
    index = {(r.id, r.lang): r for r in similarity_rows()}
    # grouped by meaning: a multilingual model then shows one bright block per meaning
    return tuple(index[(i, lang)] for i in ids for lang in langs if (i, lang) in index)


@functools.cache
def similarity_example_sets() -> tuple[ExampleSet, ...]:
    return (
        ExampleSet("Three meanings × 6 languages",
                   "Food, animals and work, each in en, de, ru, zh, ar and hi.",
                   _pick(["m02", "m07", "m05"], ["en", "de", "ru", "zh", "ar", "hi"])),
        ExampleSet("One meaning, 10 languages",
                   "A weather sentence in 10 languages and 6 scripts.",
                   _pick(["m01"], ["en", "de", "fr", "es", "ru", "zh", "ja", "ar", "hi", "sw"])),
        ExampleSet("Near-miss distractors",
                   "Sentences with the same words but another meaning (who chased whom; missed or not).",
                   _pick(["m07", "d01", "m03", "d03", "m12", "d05"], ["en", "fr", "de"])),
        ExampleSet("Two meanings, far scripts",
                   "Feelings and school in ja, ar, hi, sw, ru and es.",
                   _pick(["m10", "m11"], ["ja", "ar", "hi", "sw", "ru", "es"])),
    )
