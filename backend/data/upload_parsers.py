"""Parsers of uploaded files: CSV, TSV, JSONL, TXT, TMX, PO and MO to rows, with well-kept libraries
(pandas, defusedxml, polib) and a message that says what to fix when a file will not parse.

Apart from ``backend.data.corpus`` because they know file formats and nothing of a corpus: the
corpus store turns their rows into a ``Corpus``, and Mining's sides (``backend.data.bitext_files``)
read TXT, CSV, TSV and JSONL with ``read_text_upload``.
"""
from __future__ import annotations

import io
import os
import struct
import tempfile
from pathlib import Path

from backend.core.errors import InvalidInput, LimitExceeded
from backend.core.settings import Settings


def corpus_rows(data: bytes, name: str) -> list[tuple[str, str, str]]:
    """(meaning id, language, text) rows of an uploaded corpus file named ``name``, its format told
    by content first and by extension second; ids and languages are "" where the file has none."""
    fmt = _format_of(name, data)
    if fmt == "tmx":
        return tmx_rows(data, name)
    if fmt in ("po", "mo"):
        return _from_po(data, name, binary=fmt == "mo")
    text = _decode(data, name)
    return _from_txt(text) if fmt == "txt" else _from_table(text, fmt, name)


def read_text_upload(path: Path, name: str, settings: Settings) -> tuple[list[tuple[int, str]], int, list[str]]:
    """Non-blank texts of a TXT (one per line) or CSV / TSV / JSONL (a ``text`` column) upload:
    ((line number, text) pairs, the number of lines or data rows, the ``lang`` column if any)."""
    size = path.stat().st_size
    if size == 0:
        raise InvalidInput(f"{name} is empty. Upload a file with at least one sentence.")
    if size > settings.limits.max_upload_bytes:
        raise LimitExceeded(f"{name} is {size:,} bytes; the limit is {settings.limits.max_upload_bytes:,}.")
    data = path.read_bytes()
    text = _decode(data, name)
    ext = Path(name).suffix.lower().lstrip(".")
    if ext in ("csv", "tsv", "jsonl"):
        table = _from_table(text, ext, name)
        numbered = [(n, str(t).strip()) for n, (_, _, t) in enumerate(table, start=1)]
        langs = [str(lang).strip() for _, lang, _ in table]
        total = len(table)
    else:
        lines = text.splitlines()
        numbered = [(n, line.strip()) for n, line in enumerate(lines, start=1)]
        langs, total = [], len(lines)
    numbered = [(n, t) for n, t in numbered if t]
    if not numbered:
        raise InvalidInput(f"{name} has only blank lines. Put one sentence per line.")
    return numbered, total, langs


def decode_text(data: bytes, name: str) -> str:
    """An upload's bytes as text (UTF-8 with or without BOM, or UTF-16 with its BOM); a binary or
    undecodable file raises InvalidInput naming ``name``."""
    return _decode(data, name)


def _decode(data: bytes, name: str) -> str:
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InvalidInput(f"{name} looks binary (it contains NUL bytes). Upload a UTF-8 text file.")
    for encoding in ("utf-8-sig", "utf-16"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            if encoding == "utf-8-sig" and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
                break
    utf16 = " (nor UTF-16, as its byte-order mark says)" if data.startswith((b"\xff\xfe", b"\xfe\xff")) else ""
    raise InvalidInput(f"{name} is not valid UTF-8{utf16}. Save it as UTF-8 and upload again.")


def _from_table(text: str, fmt: str, name: str) -> list[tuple[str, str, str]]:
    import pandas as pd

    try:
        if fmt == "jsonl":
            frame = pd.read_json(io.StringIO(text), lines=True, dtype=str)
        else:
            frame = pd.read_csv(io.StringIO(text), sep="\t" if fmt == "tsv" else ",", dtype=str,
                                keep_default_na=False, on_bad_lines="error")
    except (ValueError, pd.errors.ParserError) as exc:
        raise InvalidInput(f"{name} could not be parsed as {fmt.upper()}: {str(exc)[:200]}") from exc
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    if "text" not in frame.columns:
        raise InvalidInput(f"{name} has no 'text' column (columns: {', '.join(map(str, frame.columns))[:200]}). "
                           "Add columns text, and optionally lang and id.")
    frame = frame.fillna("")
    ids = frame["id"].astype(str) if "id" in frame.columns else [""] * len(frame)
    langs = frame["lang"].astype(str) if "lang" in frame.columns else [""] * len(frame)
    return list(zip(ids, langs, frame["text"].astype(str)))


def _from_txt(text: str) -> list[tuple[str, str, str]]:
    return [("", "", line.strip()) for line in text.splitlines() if line.strip()]


def tmx_rows(data: bytes, name: str) -> list[tuple[str, str, str]]:
    from defusedxml import ElementTree
    from defusedxml.common import DefusedXmlException

    try:
        root = ElementTree.fromstring(data, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise InvalidInput(f"{name} declares a DTD or entities ({type(exc).__name__}); TMX files "
                           "must not. Export the TMX again without a DOCTYPE.") from exc
    except ElementTree.ParseError as exc:
        raise InvalidInput(f"{name} is not well-formed XML: {exc}. Fix the file and upload again.") from exc
    if root.tag != "tmx":
        raise InvalidInput(f"{name}: the root element is <{root.tag}>, not <tmx>.")
    xml_lang = "{http://www.w3.org/XML/1998/namespace}lang"
    rows = []
    for n, tu in enumerate(root.iter("tu"), start=1):
        meaning = tu.get("tuid") or f"tu{n}"
        for tuv in tu.iter("tuv"):
            lang = tuv.get(xml_lang) or tuv.get("lang")
            seg = tuv.find("seg")
            if not lang or seg is None:
                raise InvalidInput(f"{name}: <tu> number {n} has a <tuv> without xml:lang or <seg>.")
            rows.append((meaning, lang, "".join(seg.itertext()).strip()))
    return rows


def _from_po(data: bytes, name: str, binary: bool) -> list[tuple[str, str, str]]:
    import polib

    with tempfile.NamedTemporaryFile(suffix=".mo" if binary else ".po", delete=False) as tmp:
        tmp.write(data)
    try:
        catalog = polib.mofile(tmp.name) if binary else polib.pofile(tmp.name, encoding="utf-8")
    except (OSError, ValueError, UnicodeDecodeError, IndexError, KeyError, struct.error) as exc:  # truncated MO
        detail = str(exc).replace(tmp.name, name)[:200]  # name the user's file, not our temp copy
        raise InvalidInput(f"{name} could not be parsed as gettext {'MO' if binary else 'PO'}: {detail}") from exc
    finally:
        os.unlink(tmp.name)
    lang = (catalog.metadata.get("Language") or "").strip().replace("_", "-")
    if not lang:
        raise InvalidInput(f"{name} has no 'Language:' in its header, so the translations' language "
                           "is unknown. Add e.g. 'Language: fr' to the header.")
    rows = []
    for n, entry in enumerate(catalog, start=1):
        if entry.msgid and entry.msgstr and not getattr(entry, "obsolete", False):
            meaning = f"po{n}"
            rows += [(meaning, "en", entry.msgid), (meaning, lang, entry.msgstr)]
    return rows


def _format_of(name: str, data: bytes) -> str:
    """The format by content first (magic numbers, XML root), the extension second."""
    if data[:4] in (b"\xde\x12\x04\x95", b"\x95\x04\x12\xde"):
        return "mo"
    head = data[:512].lstrip().lower()
    if head.startswith(b"<?xml") or head.startswith(b"<tmx") or head.startswith(b"<!doctype"):
        return "tmx"
    ext = Path(name).suffix.lower().lstrip(".")
    if ext in {"csv", "tsv", "jsonl", "txt", "po", "tmx"}:
        return ext
    raise InvalidInput(f"{name}: unsupported file type. Upload CSV, TSV, JSONL, TXT, TMX, PO or MO.")
