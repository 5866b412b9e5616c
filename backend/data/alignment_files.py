"""The Alignment tab's files: sentence pairs (TSV ``source<TAB>target``, one pair a line) and gold
links (Pharaoh, one line a pair), read from uploads or from the bundled gold set (assets/alignment_gold/).

Lines are kept exactly as numbered, so gold line k belongs to pair line k. The word-level checks
(empty sides, lengths, gold indexes in range) are the capability's, which knows the word splitting.
"""
from __future__ import annotations

from pathlib import Path

from backend.core.errors import InvalidInput, LimitExceeded
from backend.core.settings import ASSETS_DIR, Settings
from backend.data.upload_parsers import decode_text

GOLD_DIR = ASSETS_DIR / "alignment_gold"
GOLD_PAIRS = GOLD_DIR / "pairs.tsv"
GOLD_LINKS = GOLD_DIR / "gold.txt"
PAIRS_HEADER = "source\ttarget"


def _lines(path: str | Path, name: str, settings: Settings) -> list[str]:
    path = Path(path)
    size = path.stat().st_size
    if size > settings.limits.max_upload_bytes:
        raise LimitExceeded(f"{name} is {size:,} bytes; the limit is {settings.limits.max_upload_bytes:,}.")
    text = decode_text(path.read_bytes(), name)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the final newline ends the last line; it starts no new one
    return lines


def read_pairs(path: str | Path, name: str, settings: Settings) -> list[tuple[str, str]]:
    """(source, target) per line of a TSV; an optional first line ``source<TAB>target`` is a header."""
    lines = _lines(path, name, settings)
    if lines and lines[0].strip().lower() == PAIRS_HEADER:
        lines = lines[1:]
    if not lines:
        raise InvalidInput(f"{name} has no pairs. Write one pair a line: the source, a tab, the target.")
    if len(lines) > settings.limits.max_align_pairs:
        raise LimitExceeded(f"{name} has {len(lines):,} pairs; the limit is {settings.limits.max_align_pairs:,}. "
                            "Split the file.")
    pairs = []
    for k, line in enumerate(lines, start=1):
        parts = line.split("\t")
        if len(parts) != 2:
            raise InvalidInput(f"{name}, line {k}: expected the source, a tab, the target (one tab), found {len(parts) - 1} "
                               "tabs.")
        pairs.append((parts[0], parts[1]))
    return pairs


def read_gold(path: str | Path, name: str, settings: Settings, n_pairs: int) -> list[str]:
    """The Pharaoh lines of a gold file, one per pair (a blank line: a pair without links)."""
    lines = _lines(path, name, settings)
    if len(lines) != n_pairs:
        raise InvalidInput(f"{name} has {len(lines):,} lines but the pairs file has {n_pairs:,} pairs: the gold "
                           "needs one line a pair, in the same order (a blank line for a pair without links).")
    return lines
