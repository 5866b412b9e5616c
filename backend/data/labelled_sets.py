"""Labelled sets: rows of text with a sentiment label and a language, grouped by meaning.

The Sentiment tab's evaluation and every lab (transfer, distillation) read the same sets, so the
bundled set and the reader of an uploaded CSV/TSV (with its checks) live here, not in one of them.
"""
from __future__ import annotations

import csv
import functools
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from backend.core.errors import InvalidInput, LimitExceeded
from backend.core.settings import ASSETS_DIR, Settings
from backend.models.sentiment import LABELS

EVAL_PATH = ASSETS_DIR / "sentiment_eval.tsv"


@dataclass(frozen=True)
class LabelledSet:
    """Rows of labelled text. ids group translations of one meaning (row index when absent)."""

    ids: tuple[str, ...]
    langs: tuple[str, ...]
    labels: tuple[str, ...]
    texts: tuple[str, ...]
    name: str

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.langs))

    def rows(self, lang: str) -> np.ndarray:
        return np.array([i for i, x in enumerate(self.langs) if x == lang], dtype=np.int64)


@functools.cache
def bundled_eval_set() -> LabelledSet:
    """assets/sentiment_eval.tsv: 48 meanings × 8 languages, 16 per label, written by us."""
    return _labelled_from_rows(_read_table(EVAL_PATH.read_text(encoding="utf-8"), EVAL_PATH.name),
                               EVAL_PATH.name, max_rows=10**6)


def _read_table(content: str, name: str) -> list[dict]:
    first = content.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first else ","
    try:
        return list(csv.DictReader(io.StringIO(content), delimiter=delimiter))
    except csv.Error as exc:
        raise InvalidInput(f"{name} is not a readable CSV/TSV file ({exc}).") from exc


def _labelled_from_rows(rows: list[dict], name: str, max_rows: int) -> LabelledSet:
    from backend.data.sentences import check_characters

    if not rows:
        raise InvalidInput(f"{name} has no rows. Upload a CSV or TSV with columns text, label, lang.")
    missing = {"text", "label", "lang"} - set(rows[0])
    if missing:
        raise InvalidInput(f"{name} lacks the column(s) {', '.join(sorted(missing))}; it has "
                           f"{', '.join(str(c) for c in rows[0])}. Columns needed: text, label, lang.")
    if len(rows) > max_rows:
        raise LimitExceeded(f"{name} has {len(rows):,} rows; the limit is {max_rows:,}. Upload a sample.")
    clean = [r for r in rows if (r.get("text") or "").strip()]
    for n, row in enumerate(clean, start=1):
        check_characters(row["text"], n, what="Row")
    labels = [(r.get("label") or "").strip().lower() for r in clean]
    unknown = sorted(set(labels) - set(LABELS))
    if unknown:
        raise InvalidInput(f"{name} has unknown label(s) {', '.join(repr(u[:30]) for u in unknown[:5])}. "
                           f"Use only {', '.join(LABELS)}.")
    if len(set(labels)) < 2:
        raise InvalidInput(f"{name} has only one class ({labels[0] if labels else 'none'}). "
                           "A classifier needs at least two of negative, neutral, positive.")
    return LabelledSet(
        ids=tuple((r.get("id") or "").strip() or f"row{i}" for i, r in enumerate(clean)),
        langs=tuple((r.get("lang") or "").strip().lower() or "und" for r in clean),
        labels=tuple(labels), texts=tuple(r["text"].strip() for r in clean), name=name)


def load_labelled_upload(path: str | Path | None, settings: Settings) -> LabelledSet:
    """An uploaded CSV/TSV with columns text, label, lang (id optional); the bundled set if None."""
    if path is None or str(path) == "":
        return bundled_eval_set()
    path = Path(path)
    size = path.stat().st_size
    if size > settings.limits.max_upload_bytes:
        raise LimitExceeded(f"The upload is {size:,} bytes; the limit is {settings.limits.max_upload_bytes:,}.")
    try:
        content = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{path.name} is not UTF-8 text. Save it as UTF-8 CSV/TSV.") from exc
    return _labelled_from_rows(_read_table(content, path.name), path.name, settings.limits.max_lab_rows)
