"""The Image tab's /ocr endpoint over HTTP, through gradio_client: the contract and the error paths."""
import pytest
from gradio_client import handle_file
from gradio_client.exceptions import AppError
from PIL import Image

from backend.data.corpus import bundled_corpus
from scripts.render_image_examples import EXAMPLES_DIR, render_lines
from tests.support.speech_audio import png_header

pytestmark = pytest.mark.slow
KEYS = ["lines", "text", "language", "language_probability", "language_uncertain", "nearest", "similarity",
        "sentiment", "caption", "segments", "segment_similarity", "segment_mutual_nearest", "segments_parallel"]


def corpus_text(meaning: str, lang: str) -> str:
    c = bundled_corpus()
    return next(t for i, l, t in zip(c.ids, c.langs, c.texts) if i == meaning and l == lang)


def test_ocr_parameters_and_defaults(client):
    endpoint = client.view_api(return_format="dict", print_info=False)["named_endpoints"]["/ocr"]
    params = {p["parameter_name"]: p for p in endpoint["parameters"]}
    assert list(params) == ["image", "sentences", "languages"]
    assert params["sentences"]["parameter_has_default"] and params["languages"]["parameter_has_default"]


def test_ocr_contract_on_an_example(client):
    message, _, text, _, _, payload = client.predict(handle_file(str(EXAMPLES_DIR / "sign_zh.png")),
                                                     api_name="/ocr")
    assert list(payload) == KEYS and payload["caption"] is None
    assert payload["language"] == "zh" and payload["text"] == text and "请勿吸烟" in text.splitlines()
    for line in payload["lines"]:
        assert set(line) == {"text", "box", "confidence", "language", "language_probability",
                         "language_uncertain"} and len(line["box"]) == 4
        assert all(len(point) == 2 for point in line["box"]) and 0 < line["confidence"] <= 1
    assert payload["nearest"] and all(h["lang"] != "zh" for h in payload["nearest"])
    assert payload["similarity"] is None and payload["sentiment"]["label"] in payload["sentiment"]["scores"]
    assert "Text in the picture" in message


def test_ocr_finds_the_translation_and_compares_typed_sentences(client, tmp_path):
    path = tmp_path / "zh.png"
    render_lines([("zh", corpus_text("c050", "zh"))], size=40).save(path)
    typed = f"{corpus_text('c050', 'de')}\n{corpus_text('c001', 'de')}"
    *_, payload = client.predict(handle_file(str(path)), typed, ["en"], api_name="/ocr")
    assert payload["nearest"][0]["text"] == corpus_text("c050", "en")
    assert payload["similarity"][0]["sentence"] == corpus_text("c050", "de")


def test_cyrillic_says_script_not_supported_and_shows_no_text(client, tmp_path):
    path = tmp_path / "ru.png"
    render_lines([("ru", corpus_text("c001", "ru"))], size=40).save(path)
    message, annotated, text, *_, payload = client.predict(handle_file(str(path)), "", ["en"], api_name="/ocr")
    assert "Script not supported" in message and "Cyrillic" in message
    assert text == "" and payload["text"] == "" and payload["language"] is None
    assert payload["lines"] and all(line["text"] == "" for line in payload["lines"])
    labels = [a["label"] for a in annotated["annotations"]]
    assert labels and all("not read: script not supported" in label for label in labels)


def test_no_text_is_a_message_not_an_error(client, tmp_path):
    path = tmp_path / "plain.png"
    Image.new("RGB", (200, 120), (30, 140, 90)).save(path)
    message, *_, payload = client.predict(handle_file(str(path)), "", ["en"], api_name="/ocr")
    assert "No text found" in message and payload["lines"] == [] and payload["nearest"] == []


def test_bad_files_are_specific_errors_and_the_server_survives(client, tmp_path):
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    corrupt = tmp_path / "corrupt.png"
    corrupt.write_bytes(b"definitely not a picture " * 10)
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(png_header(20_000, 20_000))
    for path, fragment in [(empty, "empty"), (corrupt, "not an image Pillow can read"), (bomb, "the limit is 40 MP")]:
        with pytest.raises(AppError, match=fragment):
            client.predict(handle_file(str(path)), "", ["en"], api_name="/ocr")
    *_, payload = client.predict(handle_file(str(EXAMPLES_DIR / "notice_de.png")), "", ["en"], api_name="/ocr")
    assert payload["language"] == "de"
