"""Speech tab: the segments table and the spoken/written language line."""
from __future__ import annotations

import pandas as pd

from ui.escaping import escape_markdown
from ui.figures.text import language_label

SEGMENT_COLUMNS = ["start (s)", "end (s)", "text"]


def segments_table(segments) -> pd.DataFrame:
    return pd.DataFrame([[f"{s.start:.2f}", f"{s.end:.2f}", s.text] for s in segments], columns=SEGMENT_COLUMNS)


def speech_languages_markdown(analysis) -> str:
    """Spoken language (Whisper) next to the written language of the transcript (text language ID)."""
    t, w = analysis.transcription, analysis.written_language
    agree = "they agree" if analysis.languages_agree else "they disagree: the transcript may be rough"
    return (f"**Spoken language** (Whisper): {escape_markdown(language_label(t.language))}, "
            f"probability {t.language_probability:.2f} · **Written language of the transcript** "
            f"(text language ID): {escape_markdown(language_label(w.lang))}, {w.probability:.2f} · {agree}. "
            f"**Sentiment** of the transcript: {analysis.sentiment.label} "
            f"({max(analysis.sentiment.probabilities):.2f}). "
            f"{t.duration_s:.1f} s of audio, model {escape_markdown(t.model_id)}.")
