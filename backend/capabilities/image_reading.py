"""The Image tab's analysis: text in the picture (OCR), and a caption when a captioning model is
configured, each fed to the same cross-lingual features (nearest corpus sentences in other
languages, similarity with the user's sentences, sentiment)."""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Sequence

from backend.capabilities.retrieval import Hit, nearest_sentences
from backend.capabilities.sentiment import SentimentPrediction, classify_sentiment
from backend.capabilities.similarity import SimilarityResult, compare_with_typed
from backend.core.errors import BackendError, ModelUnavailable
from backend.data.images import DecodedImage, load_image
from backend.models.language_id import LanguageGuess
from backend.models.ocr import LOW_CONFIDENCE, SCRIPT_PROBLEM, OcrLine, recognise_lines
from backend.models.sentiment import LABELS


@dataclass(frozen=True)
class TextFeatures:
    """What the cross-lingual features say about one text (the OCR text, or a caption)."""

    text: str
    language: LanguageGuess
    nearest: tuple[Hit, ...]  # nearest corpus sentences in other languages, best first
    similarity: SimilarityResult | None  # the text (index 0) against the user's sentences
    sentiment: SentimentPrediction

    def similarity_dicts(self) -> list[dict] | None:
        sim = self.similarity
        if sim is None:
            return None
        return [{"sentence": sim.sentences[p.j], "lang": sim.languages[p.j], "cosine": round(p.cosine, 7),
                 "rank": p.rank_i_to_j} for p in sorted(sim.pairs, key=lambda p: -p.cosine) if p.i == 0]

    def nearest_dicts(self) -> list[dict]:
        return [{"rank": h.rank, "id": h.id, "lang": h.lang, "text": h.text, "cosine": round(h.cosine, 7)}
                for h in self.nearest]

    def sentiment_dict(self) -> dict:
        return {"label": self.sentiment.label, "scores": dict(zip(LABELS, self.sentiment.probabilities))}


@dataclass(frozen=True)
class CaptionReading:
    model_id: str
    features: TextFeatures

    def to_dict(self) -> dict:
        f = self.features
        return {"model": self.model_id, "text": f.text, "language": f.language.lang, "nearest": f.nearest_dicts(),
                "similarity": f.similarity_dicts(), "sentiment": f.sentiment_dict()}


@dataclass(frozen=True)
class ImageReading:
    """The ``ocr`` API's answer; ``to_dict()`` is its JSON."""

    lines: tuple[OcrLine, ...]
    features: TextFeatures | None  # None when no line was readable
    caption: CaptionReading | None  # None when no captioning model is configured (or it failed)
    caption_note: str | None  # why there is no caption, in words
    picture: DecodedImage = field(repr=False)
    ocr_seconds: float
    text_truncated: bool = False  # the features saw only the first max_chars_per_sentence characters

    @property
    def text(self) -> str:
        """The readable lines, top to bottom, one per line."""
        return "\n".join(line.text for line in self.lines if line.text)

    @property
    def status(self) -> str:
        """"text" (something readable), "unreadable" (lines found, all withheld) or "no_text"."""
        if self.features is not None:
            return "text"
        return "unreadable" if self.lines else "no_text"

    def withheld(self, problem: str) -> int:
        return sum(line.problem == problem for line in self.lines)

    def to_dict(self) -> dict:
        f = self.features
        return {
            "lines": [line.to_dict() for line in self.lines],
            "text": self.text,
            "language": None if f is None else f.language.lang,
            "nearest": [] if f is None else f.nearest_dicts(),
            "similarity": None if f is None else f.similarity_dicts(),
            "sentiment": None if f is None else f.sentiment_dict(),
            "caption": None if self.caption is None else self.caption.to_dict(),
        }


def text_features(registry, text: str, typed, search_languages: Sequence[str] | None, k: int,
                  embedding_model: str | None, progress=None) -> TextFeatures:
    """Nearest corpus sentences (other languages), similarity with ``typed`` (parsed sentences) and
    sentiment, for one text."""
    guess = registry.get("langid").identify(text)
    own = guess.lang if guess.lang != "und" else None
    hits = nearest_sentences(registry, text, search_languages, k, embedding_model, exclude_language=own,
                             progress=progress)
    similarity = compare_with_typed(registry, text, guess.lang, typed, embedding_model, progress)
    mood = classify_sentiment([text], [guess.lang], ["detected"], [None], registry, None, progress=progress)
    return TextFeatures(text, guess, hits, similarity, mood.predictions[0])


def read_image(registry, path: str | os.PathLike | None, sentences: str | None = None,
               languages: Sequence[str] | None = None, k: int = 5, embedding_model: str | None = None,
               progress=None) -> ImageReading:
    """Read the text in the picture at ``path`` and, when a captioning model is configured, caption
    it; run the cross-lingual features on each. ``sentences``: one per line, optional;
    ``languages``: the corpus languages to search (None or empty: all)."""
    from backend.capabilities.captioning import caption_image
    from backend.data.sentences import parse_sentences

    picture = load_image(path, registry.settings)
    typed = []
    if sentences and sentences.strip():
        typed = parse_sentences(sentences, registry.settings, registry.get("langid"))
    reader = registry.get("ocr", None, progress)
    if progress:
        progress(0.2, "Reading the text in the picture…")
    started = time.perf_counter()
    lines = recognise_lines(reader, picture.image, registry.get("langid").identify)
    ocr_seconds = time.perf_counter() - started
    readable = " ".join(line.text for line in lines if line.text)
    cap = registry.settings.limits.max_chars_per_sentence
    features = None
    if readable:
        features = text_features(registry, readable[:cap], typed, languages, k, embedding_model, progress)
    caption, note = None, None
    try:
        model_id, caption_text = caption_image(registry, picture.image, progress)
        caption = CaptionReading(model_id, text_features(registry, caption_text, typed, languages, k,
                                                         embedding_model, progress))
    except ModelUnavailable as exc:  # none configured offline, or the configured one cannot load
        note = str(exc)
    except BackendError as exc:  # e.g. an empty caption: the OCR answer still stands
        note = str(exc)
    return ImageReading(lines, features, caption, note, picture, ocr_seconds, len(readable) > cap)


__all__ = ["ImageReading", "CaptionReading", "TextFeatures", "read_image", "SCRIPT_PROBLEM", "LOW_CONFIDENCE"]
