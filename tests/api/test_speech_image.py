"""The Speech and Image tabs over HTTP, through gradio_client: contracts and error paths."""
import numpy as np
import pytest
from gradio_client import handle_file
from gradio_client.exceptions import AppError

from tests.support.speech_audio import MEANING, corpus_text, png_header, speak, write_wav

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def german_clip(tmp_path_factory):
    return speak(tmp_path_factory.mktemp("api-speech"), "de", corpus_text(MEANING, "de"))


def test_api_lists_speech_and_image_endpoints(client):
    endpoints = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    assert [p["parameter_name"] for p in endpoints["/transcribe"]["parameters"]] == ["audio", "languages"]
    assert [p["parameter_name"] for p in endpoints["/caption"]["parameters"]] == ["image", "sentences", "languages"]


def test_transcribe_contract(client, german_clip):
    *_, payload = client.predict(handle_file(str(german_clip)), ["en"], api_name="/transcribe")
    assert {"text", "language", "language_probability", "segments", "written_language", "hits"} <= payload.keys()
    assert payload["text"] and payload["language"] == "de" and 0 < payload["language_probability"] <= 1
    assert all({"start", "end", "text"} <= s.keys() for s in payload["segments"])
    assert payload["written_language"]["lang"] == "de"
    assert [h["lang"] for h in payload["hits"]] == ["en"] * len(payload["hits"]) and payload["hits"][0]["rank"] == 1
    assert payload["hits"][0]["id"] == MEANING


def test_transcribe_errors_are_specific_and_server_survives(client, tmp_path, german_clip):
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF\x10\x00\x00\x00WAVEnot really a wave file" * 4)
    silent = write_wav(tmp_path / "silence.wav", np.zeros(16_000, dtype=np.float32), 16_000)
    long = write_wav(tmp_path / "long.wav", np.zeros(4_000 * 125, dtype=np.float32), 4_000)
    for path, fragment in [(empty, "empty"), (corrupt, "header is corrupt"), (silent, "No speech found"),
                           (long, "the limit is 120 s")]:
        with pytest.raises(AppError, match=fragment):
            client.predict(handle_file(str(path)), ["en"], api_name="/transcribe")
    *_, payload = client.predict(handle_file(str(german_clip)), ["en"], api_name="/transcribe")
    assert payload["language"] == "de"


def test_caption_offline_says_how_to_enable_a_model(client, tmp_path):
    from PIL import Image

    photo = tmp_path / "photo.png"
    Image.new("RGB", (40, 30), (10, 120, 200)).save(photo)
    with pytest.raises(AppError, match="Captioning needs a model: set BABELSCOPE_CAPTION_MODEL"):
        client.predict(handle_file(str(photo)), "", ["en"], api_name="/caption")


def test_caption_refuses_corrupt_and_huge_images(client, tmp_path):
    corrupt = tmp_path / "corrupt.png"
    corrupt.write_bytes(b"definitely not a picture " * 10)
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(png_header(20_000, 20_000))
    with pytest.raises(AppError, match="not an image Pillow can read"):
        client.predict(handle_file(str(corrupt)), "", ["en"], api_name="/caption")
    with pytest.raises(AppError, match="the limit is 40 MP"):
        client.predict(handle_file(str(bomb)), "", ["en"], api_name="/caption")
