"""Captioning: a tiny random ViT + GPT-2 built here and loaded through the real local-path loader
(this proves the wiring, not caption quality), the offline state, and image decoding limits."""
import pytest
from PIL import Image

from backend.capabilities.captioning import analyse_image
from backend.core.catalogue import CAPTION_GUIDANCE
from backend.core.errors import InvalidInput, LimitExceeded, ModelUnavailable
from backend.core.settings import load_settings
from backend.data.images import decode_image
from backend.registry import build_registry
from tests.support.speech_audio import png_header

WORDS = "a dog cat sleeps on the sofa in sun red ball".split()


@pytest.fixture(scope="module")
def tiny_caption_model(tmp_path_factory):
    """A saved VisionEncoderDecoderModel (ViT encoder, GPT-2 decoder), image processor and tokenizer."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import (
        GPT2Config,
        PreTrainedTokenizerFast,
        VisionEncoderDecoderConfig,
        VisionEncoderDecoderModel,
        ViTConfig,
        ViTImageProcessor,
    )

    specials = ["<pad>", "<s>", "</s>", "<unk>"]
    vocab = {tok: i for i, tok in enumerate(specials + WORDS)}
    core = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=core, pad_token="<pad>", bos_token="<s>",
                                        eos_token="</s>", unk_token="<unk>")
    encoder = ViTConfig(image_size=32, patch_size=16, hidden_size=32, num_hidden_layers=1,
                        num_attention_heads=2, intermediate_size=37)
    decoder = GPT2Config(vocab_size=len(vocab), n_positions=64, n_embd=32, n_layer=1, n_head=2,
                         bos_token_id=1, eos_token_id=2, pad_token_id=0)
    config = VisionEncoderDecoderConfig.from_encoder_decoder_configs(encoder, decoder)
    config.decoder_start_token_id, config.pad_token_id, config.eos_token_id = 1, 0, 2
    torch.manual_seed(0)
    model = VisionEncoderDecoderModel(config=config)
    # A random model may emit only special tokens; suppress them so the caption has words.
    model.generation_config.decoder_start_token_id = 1
    model.generation_config.pad_token_id = 0
    model.generation_config.eos_token_id = None
    model.generation_config.suppress_tokens = [0, 1, 2, 3]
    path = tmp_path_factory.mktemp("tiny-captioner")
    model.save_pretrained(path)
    ViTImageProcessor(size={"height": 32, "width": 32}).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "photo.png"
    Image.new("RGB", (64, 48), (200, 30, 30)).save(path)
    return path


def test_local_model_is_loaded_and_captions(tiny_caption_model, photo, registry):
    settings = load_settings({"BABELSCOPE_CAPTION_MODEL": str(tiny_caption_model)})
    assert settings.default_model("captioning") == str(tiny_caption_model.resolve())
    local = build_registry(settings)
    local.embedding_cache = registry.embedding_cache  # share the session's corpus embeddings
    caption = local.get("captioning").caption(decode_image(photo, settings))
    assert isinstance(caption, str) and caption and set(caption.split()) <= set(WORDS)

    analysis = analyse_image(local, photo, "Der Hund schläft.\nUn chat dort au soleil.", ["de"], k=2)
    assert analysis.caption == caption and analysis.model_id == str(tiny_caption_model.resolve())
    assert [h.lang for h in analysis.hits] == ["de", "de"]
    assert analysis.similarity.sentences[0] == caption and len(analysis.similarity.sentences) == 3


def test_offline_profile_has_no_captioner_and_says_how_to_enable_one(registry, photo):
    assert registry.settings.allowed("captioning") == ()
    with pytest.raises(ModelUnavailable, match="BABELSCOPE_CAPTION_MODEL") as info:
        analyse_image(registry, photo)
    assert str(info.value) == CAPTION_GUIDANCE and "hub" in str(info.value)
    with pytest.raises(ModelUnavailable, match="neither a local directory nor an allowed Hub id"):
        load_settings({"BABELSCOPE_CAPTION_MODEL": "someone/evil-captioner"}).default_model("captioning")
    hub = load_settings({"BABELSCOPE_PROFILE": "hub"})
    assert hub.default_model("captioning") == "Salesforce/blip-image-captioning-base"


def test_corrupt_and_oversized_images_are_refused(registry, tmp_path):
    corrupt = tmp_path / "broken.png"
    corrupt.write_bytes(b"\x00garbage, not a picture" * 20)
    with pytest.raises(InvalidInput, match="not an image Pillow can read"):
        decode_image(corrupt, registry.settings)
    bad_chunks = tmp_path / "bad-chunks.png"
    bad_chunks.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00garbage" * 20)
    with pytest.raises(InvalidInput, match="corrupt"):
        decode_image(bad_chunks, registry.settings)
    truncated = tmp_path / "truncated.png"
    Image.new("RGB", (300, 300), (1, 2, 3)).save(truncated)
    truncated.write_bytes(truncated.read_bytes()[:120])
    with pytest.raises(InvalidInput):
        decode_image(truncated, registry.settings)
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(png_header(20_000, 20_000))
    with pytest.raises(LimitExceeded, match="decompression bomb.* the limit is 40 MP"):
        decode_image(bomb, registry.settings)
    large = tmp_path / "large.png"  # under Pillow's own bomb threshold, over our cap
    large.write_bytes(png_header(10_000, 5_000))
    with pytest.raises(LimitExceeded, match="10,000×5,000 pixels .* the limit is 40 MP"):
        decode_image(large, registry.settings)
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    with pytest.raises(InvalidInput, match="empty"):
        decode_image(empty, registry.settings)


def test_with_a_caption_model_the_image_tab_reads_text_and_captions(tiny_caption_model, registry, tmp_path):
    """/ocr with a captioner configured: the OCR text and the caption each feed the same features."""
    from backend.capabilities.image_reading import read_image
    from scripts.render_image_examples import render_lines

    local = build_registry(load_settings({"BABELSCOPE_CAPTION_MODEL": str(tiny_caption_model),
                                          "BABELSCOPE_CACHE_DIR": str(registry.settings.cache_dir)}))
    local.embedding_cache = registry.embedding_cache
    path = tmp_path / "sign.png"
    render_lines([("de", "Bitte benutzen Sie die Treppe.")], size=40).save(path)
    reading = read_image(local, path, "Please use the stairs.", ["en"], k=2)
    payload = reading.to_dict()
    assert payload["text"] == "Bitte benutzen Sie die Treppe." and payload["language"] == "de"
    caption = payload["caption"]
    assert set(caption) == {"model", "text", "language", "nearest", "similarity", "sentiment"}
    assert caption["model"] == str(tiny_caption_model.resolve()) and set(caption["text"].split()) <= set(WORDS)
    assert [h["lang"] for h in caption["nearest"]] == ["en", "en"]  # searched in English either way
    assert caption["similarity"][0]["sentence"] == "Please use the stairs." and caption["sentiment"]["label"]
