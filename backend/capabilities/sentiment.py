"""The Sentiment tab's jobs: label the typed sentences, and score every model on a labelled set.

The models are in backend.models.sentiment, the labelled sets in backend.data.labelled_sets.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np

from backend.core.contract import number
from backend.core.errors import InvalidInput, ModelUnavailable
from backend.core.settings import Settings
from backend.core.stats import wilson_interval
from backend.data.labelled_sets import LabelledSet, bundled_eval_set
from backend.models.sentiment import LABELS, predict_labels

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
    lang_probability: float = 1.0  # the language detector's confidence; 1.0 where the user gave the language
    lang_uncertain: bool = False  # detected below its mode's calibrated threshold (shown as "xx?")

    def to_dict(self) -> dict:
        """One sentence of the ``sentiment`` API."""
        return {"text": self.text, "lang": self.lang, "language_source": self.lang_source,
                "language_probability": round(self.lang_probability, 4), "language_uncertain": self.lang_uncertain,
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
    result = classify_sentiment([s.text for s in sentences], [s.lang for s in sentences],
                                [s.lang_source for s in sentences], ids, registry, model_id, baseline_id, progress)
    return with_language_confidence(result, [s.lang_probability for s in sentences],
                                    [s.lang_uncertain for s in sentences])


def with_language_confidence(result: SentimentResult, probabilities: Sequence[float],
                             uncertain: Sequence[bool]) -> SentimentResult:
    """``result`` with each prediction's language confidence (per text, in order)."""
    predictions = tuple(replace(p, lang_probability=float(prob), lang_uncertain=bool(flag))
                        for p, prob, flag in zip(result.predictions, probabilities, uncertain, strict=True))
    return replace(result, predictions=predictions)


# --- evaluation on a labelled set ----------------------------------------------------------

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
