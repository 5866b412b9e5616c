"""Decoding uploaded audio: any soundfile format -> float32 mono at 16 kHz, within the limits.

Whisper expects 16 kHz mono float32 in [-1, 1]. soxr is a well-kept resampler (band-limited,
"HQ" quality); a naive decimation would alias.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from backend.core.errors import InvalidInput, LimitExceeded
from backend.core.settings import Settings

TARGET_RATE = 16_000
AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aiff", ".aif")


@dataclass(frozen=True)
class DecodedAudio:
    samples: np.ndarray  # float32 (n,), mono, 16 kHz, read-only
    source_rate: int  # Hz, before resampling
    source_channels: int

    @property
    def duration_s(self) -> float:
        return len(self.samples) / TARGET_RATE

    @property
    def rms(self) -> float:
        return float(np.sqrt(np.mean(np.square(self.samples, dtype=np.float64)))) if len(self.samples) else 0.0


def load_audio(path: str | os.PathLike | None, settings: Settings) -> DecodedAudio:
    """Decode the file at ``path``; raises InvalidInput (empty, corrupt, wrong format, silent)
    or LimitExceeded (longer than ``settings.limits.max_audio_seconds``)."""
    import soundfile as sf

    if path is None or str(path) == "":
        raise InvalidInput("No audio was given. Record with the microphone or upload a wav, flac, ogg or mp3 file.")
    path = Path(path)
    if not path.is_file():
        raise InvalidInput("The audio upload could not be found on the server. Upload the file again.")
    if path.stat().st_size == 0:
        raise InvalidInput("The audio file is empty (0 bytes). Upload a recording with sound in it.")
    if path.stat().st_size > settings.limits.max_upload_bytes:
        raise LimitExceeded(f"The audio file is over the {settings.limits.max_upload_bytes:,}-byte upload limit.")
    suffix = path.suffix.lower()
    if suffix and suffix not in AUDIO_EXTENSIONS:
        raise InvalidInput(f"{suffix!r} is not a supported audio format. Upload wav, flac, ogg or mp3.")
    try:
        info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
        raise InvalidInput(
            "The audio file could not be decoded: its header is corrupt or it is not a supported format. "
            "Upload wav, flac, ogg or mp3."
        ) from exc
    if info.channels < 1:
        raise InvalidInput("The audio file declares 0 channels, so it holds no sound. Upload another recording.")
    if info.samplerate <= 0:
        raise InvalidInput("The audio file declares an invalid sample rate. Upload another recording.")
    cap = settings.limits.max_audio_seconds
    # mp3 headers may not give a frame count (frames is 0 or huge): check again after decoding.
    if 0 < info.frames and info.frames / info.samplerate > cap:
        raise LimitExceeded(
            f"The recording is {info.frames / info.samplerate:.1f} s long; the limit is {cap} s. Trim it and try again."
        )
    try:
        data, rate = sf.read(str(path), dtype="float32", always_2d=True,
                             frames=int(cap * info.samplerate) + 1)
    except (sf.LibsndfileError, RuntimeError, ValueError) as exc:
        raise InvalidInput("The audio data could not be decoded (the file is truncated or corrupt).") from exc
    return prepare_samples(data, rate, settings)


def prepare_samples(data: np.ndarray, rate: int, settings: Settings) -> DecodedAudio:
    """float32 (n, channels) or (n,) at ``rate`` Hz -> DecodedAudio (mono, 16 kHz), checked."""
    import soxr

    data = np.asarray(data, dtype=np.float32)
    if data.ndim == 1:
        data = data[:, None]
    channels = data.shape[1]
    if data.shape[0] == 0 or channels == 0:
        raise InvalidInput("The audio file contains no samples. Upload a recording with sound in it.")
    cap = settings.limits.max_audio_seconds
    if data.shape[0] / rate > cap:
        raise LimitExceeded(f"The recording is longer than the {cap} s limit. Trim it and try again.")
    if not np.isfinite(data).all():
        raise InvalidInput("The audio file contains invalid (non-finite) samples.")
    mono = data.mean(axis=1)
    if rate != TARGET_RATE:
        mono = soxr.resample(mono, rate, TARGET_RATE, quality="HQ").astype(np.float32)
    mono = np.clip(mono, -1.0, 1.0)
    mono.setflags(write=False)
    return DecodedAudio(samples=mono, source_rate=int(rate), source_channels=int(channels))
