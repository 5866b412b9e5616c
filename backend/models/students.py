"""The distillation lab's students: small models that learn a sentiment teacher's soft labels.

The model side of backend.capabilities.distillation (which runs the experiment and scores it): the
two students' inputs (hashed character n-grams, learnt; the static table's SIF-mean token vectors,
fixed), the linear head they share, its training with the KL loss scaled by T² (Hinton, Vinyals &
Dean 2015), and the teacher's logits they learn from. torch is imported inside the functions, so
importing this module loads no model.
"""
from __future__ import annotations

import zlib
from typing import Sequence

import numpy as np

from backend.models.sentiment import LABELS, HeadSentimentModel, softmax

N_BUCKETS = 2 ** 14
NGRAMS = (1, 2, 3, 4)


def char_ngram_ids(text: str, n_buckets: int = N_BUCKETS) -> list[int]:
    """Hashed character n-grams of the lower-cased text with boundary marks (crc32: stable across runs)."""
    padded = f"\x02{text.lower()}\x03"
    ids = [zlib.crc32(padded[i:i + n].encode("utf-8")) % n_buckets
           for n in NGRAMS for i in range(len(padded) - n + 1)]
    return ids or [0]


class NgramFeatures:
    """The char-n-gram student's input: a bag of hashed n-grams, learnt end to end (EmbeddingBag)."""

    kind = "char-ngram"

    def __init__(self, dim: int = 16):
        self.dim = dim

    @staticmethod
    def batch(texts: Sequence[str]):
        import torch

        ids = [char_ngram_ids(t) for t in texts]
        offsets = torch.tensor([0] + [len(i) for i in ids[:-1]]).cumsum(0)
        return torch.tensor([j for i in ids for j in i]), offsets

    def module(self, seed: int):
        import torch

        torch.manual_seed(seed)
        return torch.nn.EmbeddingBag(N_BUCKETS, self.dim, mode="mean")

    def n_bytes(self) -> int:
        return N_BUCKETS * self.dim * 4


class StaticFeatures:
    """The static student's input: fixed SIF-mean token vectors (backend.models.static_student)."""

    kind = "static"

    def __init__(self, encoder):
        self.encoder = encoder
        self.dim = encoder.vectors.shape[1]

    def batch(self, texts: Sequence[str]):
        import torch

        return (torch.from_numpy(self.encoder.encode(texts)),)

    def module(self, seed: int):
        return None

    def n_bytes(self) -> int:
        return self.encoder.n_bytes


class Student:
    """features -> (optional learnt bag) -> linear layer -> 3 logits (LABELS order)."""

    def __init__(self, features, seed: int):
        import torch

        self.features = features
        torch.manual_seed(seed)
        self.bag = features.module(seed)
        self.out = torch.nn.Linear(features.dim, len(LABELS))
        self.module = torch.nn.ModuleList([m for m in (self.bag, self.out) if m is not None])

    def vectors(self, batch):
        import torch

        if self.bag is None:
            return batch[0]
        return torch.nn.functional.normalize(self.bag(*batch), dim=-1)

    def logits(self, batch):
        return self.out(self.vectors(batch))

    def predict_batch(self, batch) -> np.ndarray:
        import torch

        with torch.inference_mode():
            return torch.softmax(self.logits(batch), -1).double().numpy()

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        """float64 (n, 3) probabilities, LABELS order."""
        if self.bag is None:  # static: numpy only at inference (torch's per-call overhead dominates)
            weight = self.out.weight.detach().numpy()
            bias = self.out.bias.detach().numpy()
            return softmax(self.features.encoder.encode(texts) @ weight.T + bias)
        return self.predict_batch(self.features.batch(texts))

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """The student's sentence vectors, float32 (n, d), L2-normalised (zero for an empty bag)."""
        import torch

        with torch.inference_mode():
            return self.vectors(self.features.batch(texts)).float().numpy()

    @property
    def n_bytes(self) -> int:
        head = sum(p.numel() * p.element_size() for p in self.out.parameters())
        return self.features.n_bytes() + head


def take_rows(batch, rows: np.ndarray):
    """Rows of a feature batch (static: a matrix; n-grams: rebuilt from the texts by the caller)."""
    return (batch[0][rows],)


def train_student(features, batch, teacher_logits: np.ndarray, temperature: float, seed: int,
                  gold_batch=None, gold_labels: Sequence[int] = (), epochs: int = 200) -> Student:
    """KL(teacher_T || student_T) · T² on the batch plus cross-entropy on gold rows; full batch, Adam."""
    import torch
    import torch.nn.functional as F

    student = Student(features, seed)
    target = torch.tensor(softmax(teacher_logits, temperature), dtype=torch.float32)
    gy = torch.tensor(list(gold_labels)) if gold_batch is not None else None
    opt = torch.optim.Adam(student.module.parameters(), lr=0.05 if student.bag is not None else 0.02,
                           weight_decay=0.0 if student.bag is not None else 1e-5)
    for _ in range(epochs):
        opt.zero_grad()
        log_p = F.log_softmax(student.logits(batch) / temperature, dim=-1)
        loss = F.kl_div(log_p, target, reduction="batchmean") * temperature ** 2
        if gy is not None and len(gy):
            loss = loss + F.cross_entropy(student.logits(gold_batch), gy)
        loss.backward()
        opt.step()
    return student


def teacher_logits(teacher, texts: Sequence[str], registry) -> np.ndarray:
    """float64 (n, 3), LABELS order: what the students learn from (softened at temperature T)."""
    if not texts:
        return np.zeros((0, len(LABELS)))
    if isinstance(teacher, HeadSentimentModel):
        return teacher.logits(texts, registry)
    return np.log(np.clip(teacher.predict(texts, registry), 1e-9, 1.0))  # log-probs are logits
