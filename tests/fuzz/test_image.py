"""The Image tab's /caption and /ocr refuse the same unreadable, bombed and disguised pictures."""
from pathlib import Path

import pytest
from gradio_client import handle_file

from tests.support.bad_files import png, put_file, zip_bomb
from tests.support.fuzzing import expect_app_error
from tests.support.speech_audio import png_header


def _bad_images(directory: Path) -> list[tuple]:
    """(file, typed sentences, expected message) that /caption and /ocr both refuse the same way."""
    def put(name: str, data: bytes) -> Path:
        return put_file(directory, name, data)

    return [
        (put("empty.png", b""), "", "empty or missing"),
        (put("corrupt.png", b"definitely not a picture " * 10), "", "not an image Pillow can read"),
        (put("truncated.png", png(64, 64)[:60]), "", "corrupt or truncated|not an image"),
        (put("huge.png", png_header(20_000, 20_000)), "",
         r"20,000×20,000 pixels .*the limit is 40 MP|decompression bomb\); the limit is 40 MP"),
        (put("bomb.png", png(8_000, 8_000)), "", r"64 MP\); the limit is 40 MP"),
        (put("script.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'), "",
         "not an image Pillow can read"),
        (put("zip.png", zip_bomb()), "", "not an image Pillow can read"),
        (put("one_text.png", png(1, 1)), "ok\nbad \x00", r"U\+0000"),
        (put("one_flood.png", png(1, 1)), "e" + "\u0300" * 100, "combining marks"),
    ]


@pytest.mark.fuzzes("/caption")
def test_caption_refuses_bad_images(client, registry, tmp_path):
    offline = "Captioning needs a model"  # offline, a readable picture gets this, and nothing loads
    cases = _bad_images(tmp_path) + [(put_file(tmp_path, "one.png", png(1, 1)), "", offline)]
    for path, sentences, fragment in cases:
        expect_app_error(client, registry, "/caption", (handle_file(str(path)), sentences, ["en"]), fragment)
    expect_app_error(client, registry, "/caption", (None, "", ["en"]), "No image was given")
    expect_app_error(client, registry, "/caption", (None, "", ["xx"]), "not in the list of choices")


@pytest.mark.fuzzes("/ocr")
def test_ocr_refuses_bad_images(client, registry, tmp_path):
    """The files /caption refuses, refused the same way (a readable picture without text is an
    answer, not an error: tests/api/test_ocr.py)."""
    for path, sentences, fragment in _bad_images(tmp_path):
        expect_app_error(client, registry, "/ocr", (handle_file(str(path)), sentences, ["en"]), fragment)
    expect_app_error(client, registry, "/ocr", (None, "", ["en"]), "No image was given")
    expect_app_error(client, registry, "/ocr", (None, "", ["xx"]), "not in the list of choices")
