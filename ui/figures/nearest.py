"""The nearest corpus sentences that the Speech and Image tabs list."""
from __future__ import annotations

import pandas as pd

NEAREST_COLUMNS = ["rank", "sentence", "lang", "cosine", "meaning id"]


def nearest_table(hits) -> pd.DataFrame:
    """Nearest corpus sentences (backend.capabilities.retrieval.Hit), best first. Shown as plain text."""
    return pd.DataFrame([[h.rank, h.text, h.lang, round(h.cosine, 4), h.id] for h in hits], columns=NEAREST_COLUMNS)
