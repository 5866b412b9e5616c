"""The Speech tab: say something in any language, find it in the others."""
from __future__ import annotations

import gradio as gr

from backend.capabilities.retrieval import corpus_languages
from backend.core.settings import REPO_ROOT
from scripts.make_speech_example import EXAMPLE
from ui.figures.nearest import NEAREST_COLUMNS
from ui.figures.speech import SEGMENT_COLUMNS
from ui.figures.text import language_label
from ui.handlers.speech import make_speech_handler, on_speech_send

EXPLANATION = (REPO_ROOT / "docs" / "tabs" / "speech.md").read_text(encoding="utf-8")


def language_filter(elem_id: str) -> gr.CheckboxGroup:
    """The corpus-language filter shared by the Speech and Image tabs (all languages by default)."""
    codes = corpus_languages()
    return gr.CheckboxGroup([(language_label(c), c) for c in codes], value=list(codes),
                            label="Search the bundled corpus in these languages (the query's own is left out)",
                            elem_id=elem_id)


def render_speech_tab(registry, similarity_text: gr.Textbox | None = None) -> None:
    settings = registry.settings
    with gr.Tab("Speech", id="speech"):
        with gr.Row():
            with gr.Column(scale=3):
                audio = gr.Audio(sources=["upload", "microphone"], type="filepath", elem_id="speech-audio",
                                 label=f"Speech: record, or upload wav, flac, ogg or mp3 "
                                       f"(up to {settings.limits.max_audio_seconds} s)")
                # loads the clip only: the language filter below stays as the visitor set it
                gr.Examples([[str(EXAMPLE)]], inputs=[audio], elem_id="speech-examples",
                            example_labels=["German, 3 s: “Meine Großmutter wohnt bei uns …” (eSpeak NG)"],
                            label="Example: click it, then Transcribe and search")
                languages = language_filter("speech-languages")
                run = gr.Button("Transcribe and search", variant="primary", elem_id="speech-run")
            with gr.Column(scale=2):
                gr.Markdown(EXPLANATION, elem_id="speech-explanation")
        transcript = gr.Textbox(label="Transcript", elem_id="speech-transcript", interactive=False)
        summary = gr.Markdown(elem_id="speech-summary")
        send = gr.Button("Send the transcript to the Similarity tab", size="sm", elem_id="speech-send",
                         visible=similarity_text is not None)
        with gr.Row():
            segments = gr.Dataframe(label="Segments (seconds)", elem_id="speech-segments", wrap=True,
                                    headers=SEGMENT_COLUMNS)
            hits = gr.Dataframe(label="Nearest corpus sentences in other languages", elem_id="speech-hits",
                                wrap=True, headers=NEAREST_COLUMNS)
        with gr.Accordion("JSON (the API's answer)", open=False):
            payload = gr.JSON(label="transcribe", elem_id="speech-json")

        run.click(make_speech_handler(registry), inputs=[audio, languages],
                  outputs=[transcript, summary, segments, hits, payload], api_name="transcribe")
        if similarity_text is not None:
            send.click(on_speech_send, inputs=[transcript, similarity_text], outputs=similarity_text,
                       api_visibility="private", queue=False)


