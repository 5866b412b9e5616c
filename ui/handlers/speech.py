"""Speech tab handlers."""
from __future__ import annotations

import gradio as gr

from backend.capabilities.speech import analyse_speech
from backend.core.errors import InvalidInput
from ui.errors import progress_callback, user_facing
from ui.figures import speech as fig
from ui.figures.nearest import nearest_table
from ui.zerogpu import gpu


def make_speech_handler(registry):
    @gpu
    @user_facing
    def on_speech_transcribe(audio, languages, progress=gr.Progress()):
        analysis = analyse_speech(registry, audio, languages or None, progress=progress_callback(progress))
        return (
            analysis.transcription.text,
            fig.speech_languages_markdown(analysis),
            fig.segments_table(analysis.transcription.segments),
            nearest_table(analysis.hits),
            analysis.to_dict(),
        )

    return on_speech_transcribe


@user_facing
def on_speech_send(transcript, current):
    """Append the transcript to the Similarity tab's box, one sentence per line."""
    if not transcript or not transcript.strip():
        raise InvalidInput("There is no transcript yet. Transcribe a recording first.")
    current = (current or "").rstrip("\n")
    gr.Info("The transcript was added to the Similarity tab's box.")
    return f"{current}\n{transcript.strip()}" if current else transcript.strip()
