"""The Speech tab's job: transcribe a recording, identify its spoken and written language, and feed
the transcript to the text features (nearest corpus sentences, sentiment).

The recognizer (faster-whisper) and the packaged Whisper base are in backend.models.speech.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Sequence

from backend.capabilities.retrieval import Hit, hits_to_dicts, nearest_sentences
from backend.capabilities.sentiment import SentimentPrediction, classify_sentiment
from backend.data.audio import load_audio
from backend.models.language_id import LanguageGuess, canonical_language
from backend.models.speech import Transcription


@dataclass(frozen=True)
class SpeechAnalysis:
    """A transcript and the text features it feeds."""

    transcription: Transcription
    written_language: LanguageGuess  # of the transcript, by the app's text language ID
    hits: tuple[Hit, ...]  # nearest corpus sentences in other languages
    sentiment: SentimentPrediction  # of the transcript, with the profile's default sentiment model

    @property
    def languages_agree(self) -> bool:
        """Whisper's spoken language and the transcript's written language name the same language."""
        return canonical_language(self.transcription.language) == canonical_language(self.written_language.lang)

    def to_dict(self) -> dict:
        """The ``transcribe`` API contract (documented in README: keep keys stable)."""
        t, w = self.transcription, self.written_language
        return {
            "text": t.text,
            "language": t.language,
            "language_probability": round(t.language_probability, 4),
            "segments": [{"start": s.start, "end": s.end, "text": s.text} for s in t.segments],
            "written_language": {"lang": w.lang, "probability": round(w.probability, 4)},
            "languages_agree": self.languages_agree,
            "duration_s": t.duration_s,
            "model": t.model_id,
            "hits": hits_to_dicts(self.hits),
            "sentiment": self.sentiment.label_dict(),
        }


def analyse_speech(registry, path: str | os.PathLike | None, search_languages: Sequence[str] | None = None,
                   k: int = 5, speech_model: str | None = None, embedding_model: str | None = None,
                   progress=None) -> SpeechAnalysis:
    """Decode ``path``, transcribe it, identify the transcript's written language, and find its
    ``k`` nearest corpus sentences in ``search_languages`` other than its own language."""
    audio = load_audio(path, registry.settings)
    recognizer = registry.get("speech", speech_model, progress)
    if progress:
        progress(0.3, f"Transcribing {audio.duration_s:.1f} s of audio…")
    transcription = recognizer.transcribe(audio)
    written = registry.get("langid").identify(transcription.text)
    own = written.lang if written.lang != "und" else transcription.language
    hits = nearest_sentences(registry, transcription.text, search_languages, k, embedding_model,
                             exclude_language=own, progress=progress)
    mood = classify_sentiment([transcription.text], [own], ["detected"], [None], registry, None, progress=progress)
    return SpeechAnalysis(transcription, written, hits, mood.predictions[0])
