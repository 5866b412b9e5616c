"""A faster CPU path for sentence-transformers models: the same network, compiled by OpenVINO.

Where the CPU has bf16 arithmetic (AVX512-BF16 or AMX), OpenVINO runs the matrix products in bf16
with fp32 accumulation. On all-MiniLM-L6-v2 that is ~2-4x plain ``SentenceTransformer.encode`` at
fp32 with a cosine to the fp32 vectors >= 0.9999 (bench/encode.py, docs/performance.md). Without
bf16 the compiled fp32 graph is exact but no faster (0.94x), so "auto" keeps torch there. int8
paths were tried first and lose too much (../shared/MODELS.md: a min cosine of 0.96 at best).

Only the common shape is handled: Transformer -> mean Pooling -> (Normalize). Anything else
raises ``FastPathUnavailable`` and the caller keeps the plain model. The compiled graph is an
OpenVINO IR (``.xml`` + ``.bin``, no pickle) under ``<cache_dir>/openvino/<key>/``, keyed by a
hash of the weights and the library versions, and written to a temp directory then renamed.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from importlib import metadata
from pathlib import Path

import numpy as np

from backend.config import ModelSpec, Settings
from backend.embeddings import Encoder

_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


class FastPathUnavailable(RuntimeError):
    """The fast path cannot serve this model here; the plain sentence-transformers path should."""


def cpu_has_bf16() -> bool:
    import openvino as ov

    return "BF16" in ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")


def _parts(st_model):
    """(hf_model, tokenizer, max_length) for Transformer -> mean Pooling -> (Normalize), else raise."""
    modules = list(st_model)
    names = [type(m).__name__ for m in modules]
    if names[:2] != ["Transformer", "Pooling"] or any(n != "Normalize" for n in names[2:]):
        raise FastPathUnavailable(f"unsupported module stack {names}")
    pooling = modules[1].get_config_dict()
    mode = pooling.get("pooling_mode")
    if mode not in ("mean", ("mean",), ["mean"]) or not pooling.get("include_prompt", True):
        raise FastPathUnavailable(f"pooling {pooling} is not plain mean pooling")
    hf_model = getattr(modules[0], "auto_model", None)
    if hf_model is None:
        raise FastPathUnavailable("the Transformer module has no auto_model")
    return hf_model, st_model.tokenizer, int(st_model.max_seq_length or 512)


def _cache_key(hf_model) -> str:
    digest = hashlib.sha256()
    for lib in ("openvino", "torch", "transformers"):
        digest.update(f"{lib}={metadata.version(lib)};".encode())
    for name, tensor in hf_model.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:20]


def _export(hf_model, tokenizer, input_names: tuple[str, ...], target: Path) -> None:
    """Trace the model to OpenVINO IR in ``target`` (a directory), atomically."""
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

    example = tokenizer(["a short example", "a second, slightly longer example sentence"],
                        padding=True, return_tensors="pt")
    with torch.inference_mode():
        graph = ov.convert_model(_Keywords(hf_model.eval()),
                                 example_input={k: example[k] for k in input_names})
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


class OpenVINOEncoder(Encoder):
    """A sentence-transformers model compiled by OpenVINO; same vectors to ~1e-4 cosine."""

    def __init__(self, spec: ModelSpec, st_model, settings: Settings, precision: str | None = None,
                 batch_size: int = 64):
        try:
            import openvino as ov
        except ImportError as exc:
            raise FastPathUnavailable("openvino is not installed") from exc
        hf_model, self._tokenizer, self._max_length = _parts(st_model)
        self.spec = spec
        self._batch_size = batch_size
        dimension = getattr(st_model, "get_embedding_dimension", None) or st_model.get_sentence_embedding_dimension
        self._dim = int(dimension())
        accepted = set(getattr(self._tokenizer, "model_input_names", _INPUTS))
        self._inputs = tuple(n for n in _INPUTS if n in accepted)
        path = settings.cache_dir / "openvino" / _cache_key(hf_model)
        if not (path / "model.xml").exists():
            _export(hf_model, self._tokenizer, self._inputs, path)
        core = ov.Core()
        self.precision = precision or ("bf16" if cpu_has_bf16() else "f32")
        self._compiled = core.compile_model(str(path / "model.xml"), "CPU", {
            "INFERENCE_PRECISION_HINT": self.precision, "PERFORMANCE_HINT": "LATENCY"})

    @property
    def dim(self) -> int:
        return self._dim

    def _encode_raw(self, texts: list[str]) -> np.ndarray:
        # Sorted by length so each batch pads little, as sentence-transformers does.
        order = np.argsort([len(t) for t in texts], kind="stable")
        out = np.empty((len(texts), self._dim), dtype=np.float32)
        request = self._compiled.create_infer_request()  # one per call: calls may run concurrently
        for start in range(0, len(texts), self._batch_size):
            rows = order[start:start + self._batch_size]
            batch = self._tokenizer([texts[i] for i in rows], padding=True, truncation="longest_first",
                                    max_length=self._max_length, return_tensors="np")
            hidden = request.infer({k: batch[k] for k in self._inputs})[0]
            mask = batch["attention_mask"][..., None].astype(np.float32)
            out[rows] = (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
        return out

    def token_counts(self, texts) -> list[int]:
        return [len(ids) for ids in self._tokenizer([self.spec.prefix + t for t in texts])["input_ids"]]
