"""Bitext mining: find the translations in two monolingual piles of text.

The method is LASER's (Artetxe & Schwenk 2019, "Margin-based parallel corpus mining with
multilingual sentence embeddings"): embed both sides through the corpus-vector store, take the k
nearest neighbours in both directions with FAISS (exact up to ``mine_exact_max`` rows searched,
where one batched matrix product beats building an index; above it the index by size, as in Search),
score each candidate with the ratio margin

    margin(x, y) = cos(x, y) / ((mean cos of x to its k NN + mean cos of y to its k NN) / 2),

and keep candidates by a strategy: ``forward`` (each source line's best target), ``backward``
(each target line's best source), ``intersection`` (mutual best: both agree) or ``max-score``
(both directions pooled, best first, each line used once). Pairs at or above a margin threshold
are the output. With gold pairs, precision, recall and F1 are computed at every threshold (BUCC).
"""
from __future__ import annotations

import collections
import csv
import hashlib
import io
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from backend.core.errors import InvalidInput, LimitExceeded
from backend.core.stats import MARGIN_K, margin_from_means
from backend.core.validation import whole_number
from backend.data.corpus import Corpus, SkippedRows, read_text_upload, screen_rows

STRATEGIES = ("intersection", "forward", "backward", "max-score")
DEFAULT_STRATEGY = "intersection"
DEFAULT_K = MARGIN_K
MAX_K = 32
# Margins of e5-style models sit near 1; a mutual nearest neighbour above 1.02 is usually a
# translation on the bundled example (the gold curve finds the best threshold for your data).
DEFAULT_THRESHOLD = 1.02
# UTF-8 bytes, not characters: a Chinese sentence is a third as many characters as its English
# translation but about as many bytes, so one ratio serves every script.
DEFAULT_MAX_LENGTH_RATIO = 3.0
API_TOP_PAIRS = 1_000
CURVE_POINTS = 200
LANGID_SAMPLE = 200

ProgressFn = Callable[[float, str], None]


@dataclass(frozen=True)
class Side:
    """One monolingual side: its usable lines (1-based line numbers of the file) and language."""

    name: str
    lines: tuple[int, ...]
    texts: tuple[str, ...]
    lang: str  # the most common language by language ID ("und" if unknown)
    n_lines: int  # lines (TXT) or data rows (CSV, TSV, JSONL) in the file: the range gold may name
    skipped: SkippedRows
    n_duplicates: int = 0  # lines dropped because an earlier line had the same text

    def __len__(self) -> int:
        return len(self.texts)

    def as_corpus(self, role: str) -> Corpus:
        digest = hashlib.sha256("\n".join(self.texts).encode("utf-8")).hexdigest()[:16]
        n = len(self.texts)
        return Corpus(f"mine-{role}-{digest}", self.name, ("",) * n, (self.lang,) * n, self.texts)


@dataclass(frozen=True)
class MinedPair:
    source_line: int
    target_line: int
    source: str
    target: str
    score: float  # ratio margin
    cosine: float

    def to_dict(self) -> dict:
        return {"source_line": self.source_line, "target_line": self.target_line, "source": self.source,
                "target": self.target, "score": round(self.score, 6)}


@dataclass(frozen=True)
class GoldScore:
    n_gold: int
    precision: float  # at the chosen threshold; 0 when no pair passes it
    recall: float
    f1: float
    best_f1: float
    best_threshold: float
    curve: tuple[tuple[float, float, float, float], ...]  # (threshold, precision, recall, f1), high to low


@dataclass(frozen=True)
class MiningResult:
    model: str
    engine: str  # "in-process" or "ray"
    source: Side
    target: Side
    strategy: str
    k: int
    threshold: float
    pairs: tuple[MinedPair, ...]  # at or above the threshold, best first
    candidate_scores: np.ndarray  # float64: every candidate's margin before the threshold (histogram)
    gold: GoldScore | None
    seconds: dict = field(default_factory=dict)  # per stage: encode, index, knn, margin
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        """The ``/mine`` API contract."""
        out = {"model": self.model, "engine": self.engine, "n_source": len(self.source),
               "n_target": len(self.target), "strategy": self.strategy, "k": self.k,
               "threshold": self.threshold, "n_pairs": len(self.pairs),
               "pairs": [p.to_dict() for p in self.pairs[:API_TOP_PAIRS]]}
        if self.gold is not None:
            out.update(precision=self.gold.precision, recall=self.gold.recall, f1=self.gold.f1,
                       best_f1=self.gold.best_f1, best_threshold=self.gold.best_threshold)
        return out


# ---------------------------------------------------------------- reading the sides

def read_side(path: str | Path, name: str | None, settings, identify: Callable[[str], str] | None = None,
              drop_duplicates: bool = True) -> Side:
    """A side from TXT (one sentence per line) or CSV / TSV / JSONL with a ``text`` column.

    Bad lines (control characters, over ``max_chars_per_sentence``) are skipped and counted; the
    side is refused when most of it is bad, empty, binary, or over ``max_mine_rows``."""
    path = Path(path)
    name = name or path.name
    numbered, n_lines, given_langs = read_text_upload(path, name, settings)
    limits = settings.limits
    if len(numbered) > limits.max_mine_rows:
        raise LimitExceeded(f"{name} has {len(numbered):,} lines; a Mining side may have {limits.max_mine_rows:,}. "
                            "Set BABELSCOPE_MAX_MINE_ROWS to raise it, or split the file.")
    kept, skipped = screen_rows(numbered, settings, name)
    lines, texts, seen, duplicates = [], [], set(), 0
    for number, text in kept:
        if drop_duplicates and text in seen:
            duplicates += 1
            continue
        seen.add(text)
        lines.append(number)
        texts.append(text)
    langs = [lang for lang in given_langs if lang]
    if langs:
        lang = collections.Counter(langs).most_common(1)[0][0]
    else:
        lang = side_language(texts, identify)
    return Side(name, tuple(lines), tuple(texts), lang, n_lines, skipped, duplicates)


def side_from_texts(texts: Sequence[str], settings, name: str, identify=None, drop_duplicates: bool = True) -> Side:
    """A side from a list of sentences (line n = texts[n - 1]), with the same checks as a file."""
    data = "\n".join(texts).encode("utf-8")
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".txt", delete=False) as tmp:
        tmp.write(data)
    try:
        return read_side(tmp.name, name, settings, identify=identify, drop_duplicates=drop_duplicates)
    finally:
        Path(tmp.name).unlink(missing_ok=True)


def side_language(texts: Sequence[str], identify: Callable[[str], str] | None) -> str:
    """The most common language of an even sample of up to LANGID_SAMPLE lines."""
    if not identify or not texts:
        return "und"
    step = max(1, len(texts) // LANGID_SAMPLE)
    votes = collections.Counter(identify(t) for t in list(texts)[::step][:LANGID_SAMPLE])
    return votes.most_common(1)[0][0]


def read_gold(path: str | Path, name: str | None, source: Side, target: Side) -> frozenset[tuple[int, int]]:
    """Gold pairs from a TSV of ``src_line<TAB>tgt_line``, 1-based line numbers of the two files."""
    path = Path(path)
    name = name or path.name
    data = path.read_bytes()
    if b"\x00" in data[:4096]:
        raise InvalidInput(f"{name} looks binary. Gold pairs are a TSV: source line, a tab, target line.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{name} is not valid UTF-8. Save the gold pairs as UTF-8 text.") from exc
    pairs = set()
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.strip().split("\t")
        try:
            src, tgt = (int(f) for f in fields)
        except ValueError:
            if number == 1 and not pairs:
                continue  # a header line
            raise InvalidInput(f"{name} line {number} is {line[:60]!r}; each gold line is "
                               "source_line<TAB>target_line, two whole numbers.") from None
        for role, value, side in (("source", src, source), ("target", tgt, target)):
            if not 1 <= value <= side.n_lines:
                raise InvalidInput(f"{name} line {number}: {role} line {value} is out of range; "
                                   f"{side.name} has {side.n_lines:,} lines (numbered from 1).")
        pairs.add((src, tgt))
    if not pairs:
        raise InvalidInput(f"{name} has no gold pairs. Write one pair per line: source_line<TAB>target_line.")
    return frozenset(pairs)


# ---------------------------------------------------------------- the method

def _knn(queries: np.ndarray, base: np.ndarray, k: int, settings, timings: dict) -> tuple[np.ndarray, np.ndarray]:
    """The k nearest rows of ``base`` for every query: cosines (n, k) and row numbers (n, k).
    Adds the index build and search seconds to ``timings["index"]`` and ``timings["knn"]``."""
    from backend.vectors.index import _set_search_param, build_index, calibrate_search, index_factory_string

    start = time.perf_counter()
    # Exact while a batched search is cheap (settings.limits.mine_exact_max), then the tiers of Search
    factory = "Flat" if len(base) <= settings.limits.mine_exact_max \
        else index_factory_string(len(base), base.shape[1], settings)
    base = np.ascontiguousarray(base, dtype=np.float32)
    index = build_index(base, factory)
    # As in Search: the cheapest efSearch / nprobe that reaches recall@10 >= 0.95 on this data.
    search_param, _ = calibrate_search(index, base, factory)
    _set_search_param(index, search_param, k)
    built = time.perf_counter()
    sims, ids = index.search(np.ascontiguousarray(queries, dtype=np.float32), k)
    sims = np.where(ids < 0, np.nan, sims)  # an approximate index may return fewer than k (id -1)
    timings["index"] = timings.get("index", 0.0) + built - start
    timings["knn"] = timings.get("knn", 0.0) + time.perf_counter() - built
    return sims.astype(np.float64), ids


def margin_candidates(x: np.ndarray, y: np.ndarray, k: int, settings, timings: dict | None = None
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Each direction's best candidate by ratio margin.

    x, y: float32 (n, d), (m, d), L2-normalised. Returns forward (n, 3): target row, margin, cosine
    for each source row; backward (m, 3): source row, margin, cosine for each target row.
    ``timings`` gets the seconds of each stage: index, knn, margin."""
    timings = {} if timings is None else timings
    fwd_sims, fwd_ids = _knn(x, y, min(k, len(y)), settings, timings)
    bwd_sims, bwd_ids = _knn(y, x, min(k, len(x)), settings, timings)
    start = time.perf_counter()
    fwd_mean, bwd_mean = np.nanmean(fwd_sims, axis=1), np.nanmean(bwd_sims, axis=1)

    def best(sims, ids, own_mean, other_mean):
        ids = np.where(ids < 0, 0, ids)
        margins = np.nan_to_num(margin_from_means(sims, own_mean[:, None], other_mean[ids]), nan=-np.inf)
        pick = np.argmax(margins, axis=1)
        rows = np.arange(len(ids))
        return np.stack([ids[rows, pick], margins[rows, pick], sims[rows, pick]], axis=1)

    forward = best(fwd_sims, fwd_ids, fwd_mean, bwd_mean)
    backward = best(bwd_sims, bwd_ids, bwd_mean, fwd_mean)
    timings["margin"] = time.perf_counter() - start
    return forward, backward


def select_pairs(forward: np.ndarray, backward: np.ndarray, strategy: str) -> list[tuple[int, int, float, float]]:
    """(source row, target row, margin, cosine) candidates of one strategy, best first."""
    fwd = [(i, int(j), m, c) for i, (j, m, c) in enumerate(forward)]
    bwd = [(int(i), j, m, c) for j, (i, m, c) in enumerate(backward)]
    if strategy == "forward":
        chosen = fwd
    elif strategy == "backward":
        chosen = bwd
    elif strategy == "intersection":
        chosen = [p for p in fwd if int(backward[p[1], 0]) == p[0]]
    elif strategy == "max-score":
        chosen, used_src, used_tgt = [], set(), set()
        for p in sorted(fwd + bwd, key=lambda p: -p[2]):
            if p[0] not in used_src and p[1] not in used_tgt:
                chosen.append(p)
                used_src.add(p[0])
                used_tgt.add(p[1])
    else:
        raise InvalidInput(f"Unknown strategy {str(strategy)[:40]!r}. Use one of: {', '.join(STRATEGIES)}.")
    return sorted(chosen, key=lambda p: (-p[2], p[0], p[1]))


def _length_ratio_ok(a: str, b: str, max_ratio: float) -> bool:
    la, lb = len(a.encode("utf-8")), len(b.encode("utf-8"))
    return max(la, lb) <= max_ratio * max(min(la, lb), 1)


def score_against_gold(candidates: Sequence[MinedPair], gold: frozenset, threshold: float) -> GoldScore:
    """BUCC scoring: precision, recall and F1 of the candidates at or above each threshold."""
    ordered = sorted(candidates, key=lambda p: -p.score)
    hits = np.array([(p.source_line, p.target_line) in gold for p in ordered], dtype=np.float64)
    tp = np.cumsum(hits)
    predicted = np.arange(1, len(ordered) + 1)
    precision = tp / np.maximum(predicted, 1)
    recall = tp / len(gold)
    f1 = np.where(precision + recall > 0, 2 * precision * recall / np.maximum(precision + recall, 1e-12), 0.0)
    scores = np.array([p.score for p in ordered])
    # A threshold keeps every candidate scoring at least it: the curve's points are the last of each tie.
    last = np.r_[scores[1:] != scores[:-1], True] if len(scores) else np.zeros(0, bool)
    at = np.flatnonzero(last)
    if at.size:
        best = at[np.argmax(f1[at])]
        best_f1, best_threshold = float(f1[best]), float(scores[best])
    else:
        best_f1, best_threshold = 0.0, float("nan")
    passing = int(np.sum(scores >= threshold))
    if passing:
        p_at, r_at, f_at = float(precision[passing - 1]), float(recall[passing - 1]), float(f1[passing - 1])
    else:
        p_at, r_at, f_at = 0.0, 0.0, 0.0
    step = max(1, len(at) // CURVE_POINTS)
    curve = tuple((float(scores[i]), float(precision[i]), float(recall[i]), float(f1[i])) for i in at[::step])
    return GoldScore(len(gold), p_at, r_at, f_at, best_f1,
                     round(best_threshold, 6) if np.isfinite(best_threshold) else 0.0, curve)


def check_options(strategy: str, k, threshold, settings) -> tuple[str, int, float]:
    strategy = (strategy or DEFAULT_STRATEGY).strip().lower()
    if strategy not in STRATEGIES:
        raise InvalidInput(f"Unknown strategy {strategy[:40]!r}. Use one of: {', '.join(STRATEGIES)}.")
    k_int = whole_number(k, "k", 1, MAX_K)
    try:
        threshold = float(threshold)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"threshold must be a number, got {str(threshold)[:20]!r}.") from exc
    if not np.isfinite(threshold):
        raise InvalidInput("threshold must be a finite number (margins are around 1; try 1.02).")
    return strategy, k_int, threshold


def mine(registry, source: Side, target: Side, model_id: str | None = None, strategy: str = DEFAULT_STRATEGY,
         k: int = DEFAULT_K, threshold: float = DEFAULT_THRESHOLD, gold: frozenset | None = None,
         max_length_ratio: float | None = DEFAULT_MAX_LENGTH_RATIO, engine: str | None = None,
         progress: ProgressFn | None = None) -> MiningResult:
    """Mine translation pairs between two sides; see the module docstring for the method."""
    from backend.vectors.store import embed_corpus

    settings = registry.settings
    model_id = model_id or settings.default_model("embeddings")
    settings.resolve("embeddings", model_id)
    strategy, k, threshold = check_options(strategy, k, threshold, settings)
    timings: dict[str, float] = {}
    start = time.perf_counter()
    x, run_x = embed_corpus(registry, source.as_corpus("src"), model_id, _part(progress, 0.0, 0.45), engine=engine)
    y, run_y = embed_corpus(registry, target.as_corpus("tgt"), model_id, _part(progress, 0.45, 0.9), engine=engine)
    timings["encode"] = time.perf_counter() - start
    if progress:
        progress(0.92, f"Nearest neighbours both ways (k={k}) and margins")
    forward, backward = margin_candidates(np.asarray(x), np.asarray(y), k, settings, timings)
    chosen = select_pairs(forward, backward, strategy)
    candidates = [MinedPair(source.lines[i], target.lines[j], source.texts[i], target.texts[j], float(m), float(c))
                  for i, j, m, c in chosen
                  if max_length_ratio is None or _length_ratio_ok(source.texts[i], target.texts[j], max_length_ratio)]
    pairs = tuple(p for p in candidates if p.score >= threshold)
    gold_score = score_against_gold(candidates, gold, threshold) if gold else None
    engines = {run_x.engine, run_y.engine}
    notes = tuple(dict.fromkeys(n for n in (run_x.note, run_y.note) if n))
    return MiningResult(model_id, "ray" if "ray" in engines else "in-process", source, target, strategy, k, threshold,
                        pairs, np.array([p.score for p in candidates]), gold_score,
                        {key: round(v, 4) for key, v in timings.items()}, notes)


def _part(progress: ProgressFn | None, lo: float, hi: float) -> ProgressFn | None:
    if progress is None:
        return None
    return lambda fraction, text: progress(lo + (hi - lo) * fraction, text)


# ---------------------------------------------------------------- the bundled example and exports

def bundled_example(source_lang: str = "fr", target_lang: str = "zh", seed: int = 0
                    ) -> tuple[list[str], list[str], list[tuple[int, int]]]:
    """The bundled parallel corpus as two shuffled monolingual sides, a third of each side's
    partners removed: (source lines, target lines, gold (source line, target line), 1-based)."""
    from backend.data.corpus import bundled_corpus

    corpus = bundled_corpus()
    by_lang: dict[str, dict[str, str]] = collections.defaultdict(dict)
    for meaning, lang, text in zip(corpus.ids, corpus.langs, corpus.texts):
        by_lang[lang][meaning] = text
    for lang in (source_lang, target_lang):
        if lang not in by_lang:
            raise InvalidInput(f"The bundled corpus has no {lang!r}; it has {', '.join(sorted(by_lang))}.")
    if source_lang == target_lang:
        raise InvalidInput("Pick two different languages for the example.")
    meanings = sorted(set(by_lang[source_lang]) & set(by_lang[target_lang]))
    rng = np.random.default_rng(seed)
    order = [meanings[i] for i in rng.permutation(len(meanings))]
    quarter = len(order) // 4  # each side: half of the meanings in common plus a quarter of its own
    common, src_only, tgt_only = order[:2 * quarter], order[2 * quarter:3 * quarter], order[3 * quarter:4 * quarter]
    src = [common[i] for i in rng.permutation(len(common))] + src_only
    tgt = [common[i] for i in rng.permutation(len(common))] + tgt_only
    src = [src[i] for i in rng.permutation(len(src))]
    tgt = [tgt[i] for i in rng.permutation(len(tgt))]
    tgt_line = {m: n for n, m in enumerate(tgt, start=1)}
    gold = sorted((n, tgt_line[m]) for n, m in enumerate(src, start=1) if m in tgt_line)
    return [by_lang[source_lang][m] for m in src], [by_lang[target_lang][m] for m in tgt], gold


def pairs_tsv(result: MiningResult) -> bytes:
    """Every pair at or above the threshold: score, source_line, target_line, source, target."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(["score", "source_line", "target_line", "source", "target"])
    for p in result.pairs:
        writer.writerow([f"{p.score:.6f}", p.source_line, p.target_line, p.source, p.target])
    return buffer.getvalue().encode("utf-8")


def pairs_tmx(result: MiningResult) -> bytes:
    """TMX 1.4 (xml:lang from language ID, the margin as a prop), for translators' tools."""
    import xml.etree.ElementTree as ET

    xml_lang = "{http://www.w3.org/XML/1998/namespace}lang"
    root = ET.Element("tmx", version="1.4")
    ET.SubElement(root, "header", {
        "creationtool": "Babelscope", "creationtoolversion": "1", "datatype": "plaintext",
        "segtype": "sentence", "adminlang": "en", "srclang": result.source.lang, "o-tmf": "Babelscope"})
    body = ET.SubElement(root, "body")
    for n, p in enumerate(result.pairs, start=1):
        tu = ET.SubElement(body, "tu", tuid=str(n))
        ET.SubElement(tu, "prop", type="x-margin").text = f"{p.score:.6f}"
        ET.SubElement(tu, "prop", type="x-lines").text = f"{p.source_line}\t{p.target_line}"
        for lang, text in ((result.source.lang, p.source), (result.target.lang, p.target)):
            tuv = ET.SubElement(tu, "tuv", {xml_lang: lang})
            ET.SubElement(tuv, "seg").text = text
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8", xml_declaration=False)
