"""The Image tab's analysis: text in the picture (OCR), and a caption when a captioning model is
configured, each fed to the same cross-lingual features (nearest corpus sentences in other
languages, similarity with the user's sentences, sentiment).

A poster often says one thing in several languages. Consecutive lines in one language form a
segment, and each segment gets the features of its own: a sign in five languages is five texts, not
one text in whichever language wins the vote. The segments' similarity with each other says when
the sign is its own parallel text (its segments are mutual nearest neighbours)."""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Sequence

from backend.capabilities.retrieval import Hit, nearest_sentences
from backend.capabilities.sentiment import SentimentPrediction, classify_sentiment
from backend.capabilities.similarity import SimilarityResult, compare_with_typed
from backend.core.contract import matrix_list
from backend.core.errors import BackendError, ModelUnavailable
from backend.data.images import DecodedImage, load_image
from backend.models.language_id import LanguageGuess
from backend.models.ocr import LOW_CONFIDENCE, SCRIPT_PROBLEM, OcrLine, recognise_lines, script_of
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
class TextSegment:
    """Consecutive OCR lines in one language, with the features of their joined text."""

    lines: tuple[int, ...]  # indices into ImageReading.lines
    features: TextFeatures

    def to_dict(self) -> dict:
        f = self.features
        return {"text": f.text, **language_dict(f.language), "lines": list(self.lines),
                "nearest": f.nearest_dicts(), "sentiment": f.sentiment_dict(), "similarity": f.similarity_dicts()}


def language_dict(guess: LanguageGuess | None) -> dict:
    """``{language, language_probability, language_uncertain}`` of a guess (None: no text)."""
    if guess is None:
        return {"language": None, "language_probability": None, "language_uncertain": None}
    return {"language": guess.lang, "language_probability": round(guess.probability, 4),
            "language_uncertain": guess.uncertain}


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
    segments: tuple[TextSegment, ...] = ()
    segment_similarity: SimilarityResult | None = None  # the segments against each other; None below two

    @property
    def mutual_segments(self) -> list[tuple[int, int]]:
        """Pairs of segments (in different languages) that are each other's nearest segment."""
        sim = self.segment_similarity
        if sim is None:
            return []
        return sorted((p.i, p.j) for p in sim.pairs if p.mutual_nearest and sim.languages[p.i] != sim.languages[p.j])

    @property
    def parallel(self) -> bool:
        """True when every segment is closer to another segment of the picture than to its nearest
        corpus sentence: the picture is its own parallel text (a sign saying one thing in several
        languages). The corpus is the yardstick, so no threshold is needed."""
        sim = self.segment_similarity
        if sim is None:
            return False
        for i, segment in enumerate(self.segments):
            best_segment = max(float(sim.matrix[i, j]) for j in range(len(self.segments)) if j != i)
            best_corpus = max((h.cosine for h in segment.features.nearest), default=-1.0)
            if best_segment <= best_corpus:
                return False
        return True

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
            **language_dict(None if f is None else f.language),
            "nearest": [] if f is None else f.nearest_dicts(),
            "similarity": None if f is None else f.similarity_dicts(),
            "sentiment": None if f is None else f.sentiment_dict(),
            "caption": None if self.caption is None else self.caption.to_dict(),
            "segments": [segment.to_dict() for segment in self.segments],
            "segment_similarity": None if self.segment_similarity is None else matrix_list(self.segment_similarity.matrix),
            "segment_mutual_nearest": [list(pair) for pair in self.mutual_segments],
            "segments_parallel": self.parallel,
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


def _han_only(text: str) -> bool:
    scripts = {script_of(ch) for ch in text} - {None}
    return scripts == {"Han"}


def segment_lines(lines: Sequence[OcrLine], identify_many) -> list[tuple[int, ...]]:
    """Consecutive readable lines in one language, as tuples of indices into ``lines``. Withheld
    lines belong to no segment and do not break one. A segment whose own language is uncertain joins
    the one before when language ID puts the two joined texts in that one's language (a short line
    misread on its own rejoins its neighbours); so does a line of Han characters only after Japanese
    ("八百円" on a menu: kanji, which language ID calls Chinese). ``identify_many``: texts -> LanguageGuess list."""
    def text(group):
        return " ".join(lines[i].text for i in group)

    groups: list[list[int]] = []
    for i, line in enumerate(lines):
        if not line.text:
            continue
        if groups and lines[groups[-1][-1]].language == line.language:
            groups[-1].append(i)
        else:
            groups.append([i])
    merged: list[list[int]] = []
    previous = None  # the language guess of merged[-1]
    for group, guess in zip(groups, identify_many([text(g) for g in groups])):
        kanji = previous is not None and previous.lang == "ja" and guess.lang == "zh" and _han_only(text(group))
        if merged and (guess.uncertain or kanji or guess.lang == previous.lang):
            joined = identify_many([text(merged[-1] + group)])[0]
            if joined.lang == previous.lang:
                merged[-1], previous = merged[-1] + group, joined
                continue
        merged.append(group)
        previous = guess
    return [tuple(group) for group in merged]


def read_segments(registry, lines: Sequence[OcrLine], typed, languages, k: int, embedding_model: str | None,
                  cap: int, progress=None) -> tuple[tuple[TextSegment, ...], SimilarityResult | None]:
    """Each segment's features, and (two or more) the segments' similarity with each other."""
    from backend.capabilities.similarity import compare_sentences

    segments = tuple(
        TextSegment(group, text_features(registry, " ".join(lines[i].text for i in group)[:cap], typed, languages,
                                         k, embedding_model, progress))
        for group in segment_lines(lines, registry.get("langid").identify_many))
    if len(segments) < 2:
        return segments, None
    model_id = embedding_model or registry.settings.default_model("embeddings")
    texts = [s.features.text for s in segments]
    return segments, compare_sentences(registry.embed(texts, model_id, progress), texts,
                                       [s.features.language.lang for s in segments], model_id)


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
    segments, between = read_segments(registry, lines, typed, languages, k, embedding_model, cap, progress)
    if len(segments) == 1 and segments[0].features.text == readable[:cap]:
        features = segments[0].features  # one segment is the whole text: the same features
    elif readable:
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
    return ImageReading(lines, features, caption, note, picture, ocr_seconds, len(readable) > cap, segments, between)


__all__ = ["ImageReading", "CaptionReading", "TextFeatures", "TextSegment", "segment_lines", "read_image", "SCRIPT_PROBLEM", "LOW_CONFIDENCE"]
