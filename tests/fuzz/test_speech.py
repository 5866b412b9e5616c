"""/transcribe refuses empty, corrupt, lying and over-long recordings, and unknown languages."""
from pathlib import Path

import numpy as np
import pytest
from gradio_client import handle_file

from tests.support.bad_files import hour_of_silence, nan_wav, put_file, wav_header
from tests.support.fuzzing import expect_app_error
from tests.support.speech_audio import png_header, write_wav


def _audio_files(directory: Path) -> list[tuple[Path, str]]:
    def put(name: str, data: bytes) -> Path:
        return put_file(directory, name, data)

    return [
        (put("empty.wav", b""), "empty"),
        (put("corrupt.wav", b"RIFF\x10\x00\x00\x00WAVEjunk" * 8), "header is corrupt"),
        (put("picture.wav", png_header(8, 8)), "header is corrupt|could not be decoded"),
        (put("text.mp3", b"ID3 this is not an mp3 at all " * 20), "could not be decoded"),
        (hour_of_silence(directory / "hour.flac"), r"3600\.0 s long; the limit is 120 s"),
        # A header that claims an hour with 2 KB present: libsndfile reads what is there (silence).
        (put("hour_claimed.wav", wav_header(1, 16_000, 16_000 * 2 * 3600) + b"\x00" * 2048), "No speech found"),
        (put("zero_channels.wav", wav_header(0, 16_000, 1000) + b"\x00" * 1000), "header is corrupt|0 channels"),
        (put("zero_rate.wav", wav_header(1, 0, 1000) + b"\x00" * 1000), "header is corrupt|sample rate"),
        (put("no_frames.wav", wav_header(1, 16_000, 0)), "no samples|header is corrupt"),
        (nan_wav(directory / "nan.wav"), "non-finite"),
        (write_wav(directory / "silence.wav", np.zeros(16_000, dtype=np.float32), 16_000), "No speech found"),
        (put("speech.exe", b"MZ" + b"\x00" * 100), "not a supported audio format"),
    ]


@pytest.mark.fuzzes("/transcribe")
def test_transcribe_refuses_bad_audio(client, registry, tmp_path):
    for path, fragment in _audio_files(tmp_path):
        expect_app_error(client, registry, "/transcribe", (handle_file(str(path)), ["en"]), fragment)
    expect_app_error(client, registry, "/transcribe", (None, ["en"]), "No audio was given")
    expect_app_error(client, registry, "/transcribe", (None, ["xx"]), "not in the list of choices")
