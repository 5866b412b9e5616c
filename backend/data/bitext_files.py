"""The files of bitext mining: the two sides and the gold pairs read from uploads, the bundled
example, and the mined pairs written as TSV or TMX.

Apart from the job (``backend.capabilities.mining``) because they are about files and their
checks, not the method: the command line (``backend.cli.mine``) and the Mining tab read and write
the same files through them.
"""
from __future__ import annotations

import collections
import csv
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Protocol, Sequence

import numpy as np

from backend.analysis.margins import MinedPair
from backend.core.errors import InvalidInput, LimitExceeded
from backend.data.corpus import Corpus, SkippedRows, bundled_corpus, screen_rows
from backend.data.upload_parsers import read_text_upload

LANGID_SAMPLE = 200


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
    # the mean language-ID confidence of the sampled lines that carry ``lang`` (1.0 when the file gives
    # it), and whether fewer than half of the sample carry it with confidence (shown as "xx?")
    lang_probability: float = 1.0
    lang_uncertain: bool = False

    def __len__(self) -> int:
        return len(self.texts)

    def as_corpus(self, role: str) -> Corpus:
        digest = hashlib.sha256("\n".join(self.texts).encode("utf-8")).hexdigest()[:16]
        n = len(self.texts)
        return Corpus(f"mine-{role}-{digest}", self.name, ("",) * n, (self.lang,) * n, self.texts)


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
        lang, probability, uncertain = collections.Counter(langs).most_common(1)[0][0], 1.0, False
    else:
        lang, probability, uncertain = side_language(texts, identify)
    return Side(name, tuple(lines), tuple(texts), lang, n_lines, skipped, duplicates, probability, uncertain)


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


def side_language(texts: Sequence[str], identify: Callable | None) -> tuple[str, float, bool]:
    """The most common language of an even sample of up to LANGID_SAMPLE lines, the mean confidence
    of the lines that carry it, and whether it is uncertain: fewer than half of the sample carry it
    above the detector's calibrated threshold. ``identify``: text -> LanguageGuess (or a bare code)."""
    if not identify or not texts:
        return "und", 0.0, True
    step = max(1, len(texts) // LANGID_SAMPLE)
    guesses = [identify(t) for t in list(texts)[::step][:LANGID_SAMPLE]]
    codes = [getattr(g, "lang", g) for g in guesses]
    lang = collections.Counter(codes).most_common(1)[0][0]
    mine = [g for g, code in zip(guesses, codes) if code == lang]
    probability = sum(getattr(g, "probability", 1.0) for g in mine) / len(mine)
    sure = sum(not getattr(g, "uncertain", False) for g in mine)
    return lang, probability, lang == "und" or sure * 2 < len(guesses)


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


# ---------------------------------------------------------------- the bundled example and exports

def bundled_example(source_lang: str = "fr", target_lang: str = "zh", seed: int = 0
                    ) -> tuple[list[str], list[str], list[tuple[int, int]]]:
    """The bundled parallel corpus as two shuffled monolingual sides, a third of each side's
    partners removed: (source lines, target lines, gold (source line, target line), 1-based)."""
    return corpus_example(bundled_corpus(), source_lang, target_lang, seed)


def corpus_example(corpus, source_lang: str, target_lang: str, seed: int = 0
                   ) -> tuple[list[str], list[str], list[tuple[int, int]]]:
    """Two languages of a parallel corpus (rows grouped by meaning id: the bundled corpus, CLDR's
    names) as shuffled monolingual sides with gold, as ``bundled_example`` describes."""
    by_lang: dict[str, dict[str, str]] = collections.defaultdict(dict)
    for meaning, lang, text in zip(corpus.ids, corpus.langs, corpus.texts):
        by_lang[lang][meaning] = text
    for lang in (source_lang, target_lang):
        if lang not in by_lang:
            raise InvalidInput(f"{corpus.name} has no {lang!r}; it has {', '.join(sorted(by_lang))}.")
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


class MinedPairs(Protocol):
    """What the exports need of a mining result (``backend.capabilities.mining.MiningResult``)."""

    pairs: Sequence[MinedPair]
    source: Side
    target: Side


def pairs_tsv(result: MinedPairs) -> bytes:
    """Every pair at or above the threshold: score, source_line, target_line, source, target."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(["score", "source_line", "target_line", "source", "target"])
    for p in result.pairs:
        writer.writerow([f"{p.score:.6f}", p.source_line, p.target_line, p.source, p.target])
    return buffer.getvalue().encode("utf-8")


def pairs_tmx(result: MinedPairs) -> bytes:
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
