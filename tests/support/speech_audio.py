"""Test speech made with Debian's espeak-ng (`make test` apt-installs it). Never committed."""
from __future__ import annotations

import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import numpy as np
import pytest

from backend.data.corpus import bundled_corpus

# One corpus meaning spoken in four languages: "My grandmother lives with us in a small house near the river."
MEANING = "c001"
LANGUAGES = ("en", "fr", "de", "es")


def corpus_text(meaning: str, lang: str) -> str:
    c = bundled_corpus()
    return next(t for i, l, t in zip(c.ids, c.langs, c.texts) if i == meaning and l == lang)


def speak(directory: Path, lang: str, text: str) -> Path:
    """A WAV of ``text`` (espeak-ng writes 22,050 Hz mono). The +m3 voice at 175 wpm is the one
    Whisper base recognised best in our trials (bench/speech_eval.py)."""
    if not shutil.which("espeak-ng"):
        pytest.fail("espeak-ng is not installed: run `make test` (it apt-installs it).")
    path = directory / f"{lang}.wav"
    subprocess.run(["espeak-ng", "-s", "175", "-v", f"{lang}+m3", "-w", str(path), text], check=True)
    return path


def make_clips(directory: Path) -> dict[str, Path]:
    return {lang: speak(directory, lang, corpus_text(MEANING, lang)) for lang in LANGUAGES}


def write_wav(path: Path, samples: np.ndarray, rate: int) -> Path:
    import soundfile as sf

    sf.write(str(path), samples, rate, subtype="PCM_16")
    return path


def png_header(width: int, height: int) -> bytes:
    """A PNG whose header declares width × height pixels but carries almost no pixel data: enough
    to test that the size is refused from the header, without building a huge image."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")
