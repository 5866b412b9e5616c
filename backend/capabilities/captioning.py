"""Image captioning with Hub or local image-to-text models, feeding the cross-lingual text features.

No captioning model ships offline; ``settings.caption_specs`` says which are allowed and
``catalogue.CAPTION_GUIDANCE`` how to enable one. The image processor, ``generate`` and the tokenizer
are called directly: ``pipeline("image-to-text")`` is broken in transformers 5.23.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Sequence

from backend.capabilities.retrieval import Hit, hits_to_dicts, nearest_sentences
from backend.capabilities.similarity import SimilarityResult, compare_with_typed
from backend.core.catalogue import ModelSpec
from backend.core.errors import BackendError, InvalidInput, ModelUnavailable, model_load_failed
from backend.core.settings import Settings
from backend.data.images import decode_image  # noqa: F401 - decoding lives in backend.data.images; kept importable here
from backend.models.language_id import LanguageGuess
from backend.models.loaded_model import LoadedModel

# model_type in config.json -> transformers class. Only these architectures load; nothing runs
# code from a model repo (trust_remote_code is never set).
CAPTION_MODEL_CLASSES = {
    "vision-encoder-decoder": "VisionEncoderDecoderModel",
    "blip": "BlipForConditionalGeneration",
}
MAX_NEW_TOKENS = 30


@dataclass(frozen=True)
class CaptionAnalysis:
    caption: str
    model_id: str
    caption_language: LanguageGuess
    hits: tuple[Hit, ...]  # nearest corpus sentences to the caption
    similarity: SimilarityResult | None  # caption (index 0) against the sentences the user typed

    def to_dict(self) -> dict:
        """The ``caption`` API contract (documented in README: keep keys stable)."""
        sim = self.similarity
        return {
            "caption": self.caption,
            "model": self.model_id,
            "caption_language": self.caption_language.lang,
            "hits": hits_to_dicts(self.hits),
            "similarity": None if sim is None else [
                {"sentence": sim.sentences[p.j], "lang": sim.languages[p.j], "cosine": round(p.cosine, 7),
                 "rank": p.rank_i_to_j} for p in sim.pairs if p.i == 0
            ],
        }


class Captioner(LoadedModel):
    """An image-to-text model with its image processor and tokenizer."""

    def __init__(self, spec: ModelSpec, model, image_processor, tokenizer, device):
        super().__init__(spec)
        self._model = model
        self._processor = image_processor
        self._tokenizer = tokenizer
        self._device = device

    def caption(self, image) -> str:
        """One caption (plain text) for an RGB PIL image."""
        import torch

        inputs = self._processor(images=image, return_tensors="pt")
        pixels = inputs["pixel_values"].to(self._device.name)
        if self._device.fp16:
            pixels = pixels.half()
        with self._lock, torch.inference_mode():
            ids = self._model.generate(pixel_values=pixels, max_new_tokens=MAX_NEW_TOKENS, num_beams=1,
                                       do_sample=False)
        return self._tokenizer.batch_decode(ids, skip_special_tokens=True)[0].strip()


def load_captioner(spec: ModelSpec, settings: Settings) -> Captioner:
    """The registry's loader for the ``captioning`` capability: a Hub id or a local directory."""
    import transformers
    from transformers import AutoConfig, AutoImageProcessor, AutoTokenizer

    from backend.core.devices import pick_device

    cache = str(settings.cache_dir / "hf")
    try:
        config = AutoConfig.from_pretrained(spec.source, cache_dir=cache, trust_remote_code=False)
        class_name = CAPTION_MODEL_CLASSES.get(config.model_type)
        if class_name is None:
            raise ModelUnavailable(
                f"{spec.id!r} is a {config.model_type!r} model; captioning supports "
                f"{', '.join(CAPTION_MODEL_CLASSES)} models."
            )
        model = getattr(transformers, class_name).from_pretrained(spec.source, cache_dir=cache,
                                                                  trust_remote_code=False)
        processor = AutoImageProcessor.from_pretrained(spec.source, cache_dir=cache, trust_remote_code=False)
        tokenizer = AutoTokenizer.from_pretrained(spec.source, cache_dir=cache, trust_remote_code=False)
    except BackendError:
        raise
    except Exception as exc:  # noqa: BLE001 - any failure to fetch/parse a model is "unavailable"
        raise model_load_failed(spec.id, spec.source, exc, "A local path must hold a saved model, image "
                                "processor and tokenizer; no captioning model ships offline.") from exc
    device = pick_device()
    model = model.to(device.name).eval()
    if device.fp16:
        model = model.half()
    return Captioner(spec, model, processor, tokenizer, device)


def caption_image(registry, image, progress=None, caption_model: str | None = None) -> tuple[str, str]:
    """(model id, caption) for an RGB PIL image. Raises ModelUnavailable when no captioning model is
    configured (always, offline, unless BABELSCOPE_CAPTION_MODEL is set)."""
    captioner = registry.get("captioning", caption_model, progress)
    caption = captioner.caption(image)
    if not caption:
        raise InvalidInput(f"The model {captioner.model_id!r} produced an empty caption for this image.")
    return captioner.model_id, caption


def analyse_image(registry, path: str | os.PathLike | None, compare_text: str | None = None,
                  search_languages: Sequence[str] | None = None, k: int = 5, caption_model: str | None = None,
                  embedding_model: str | None = None, progress=None) -> CaptionAnalysis:
    """Caption the image at ``path``, find the caption's nearest corpus sentences in other
    languages, and compare it with the sentences in ``compare_text`` (one per line, optional)."""
    from backend.data.sentences import parse_sentences

    image = decode_image(path, registry.settings)
    typed = []
    if compare_text and compare_text.strip():
        typed = parse_sentences(compare_text, registry.settings, registry.get("langid"))
    captioner_id, caption = caption_image(registry, image, progress, caption_model)
    guess = registry.get("langid").identify(caption)
    hits = nearest_sentences(registry, caption, search_languages, k, embedding_model,
                             exclude_language=guess.lang, progress=progress)
    similarity = compare_with_typed(registry, caption, guess.lang, typed, embedding_model, progress)
    return CaptionAnalysis(caption, captioner_id, guess, hits, similarity)
