"""Image captioning models: Hub or local image-to-text models, loaded for the ``captioning`` capability.

No captioning model ships offline; ``config.caption_specs`` says which are allowed and
``config.CAPTION_GUIDANCE`` how to enable one. The image processor, ``generate`` and the tokenizer
are called directly: ``pipeline("image-to-text")`` is broken in transformers 5.23. The Image tab's
job that uses the caption is in backend.capabilities.captioning.
"""
from __future__ import annotations

from backend.core.catalogue import ModelSpec
from backend.core.errors import BackendError, ModelUnavailable, model_load_failed
from backend.core.settings import Settings
from backend.models.loaded_model import LoadedModel

# model_type in config.json -> transformers class. Only these architectures load; nothing runs
# code from a model repo (trust_remote_code is never set).
CAPTION_MODEL_CLASSES = {
    "vision-encoder-decoder": "VisionEncoderDecoderModel",
    "blip": "BlipForConditionalGeneration",
}
MAX_NEW_TOKENS = 30


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
