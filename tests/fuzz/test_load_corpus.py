"""/load_corpus refuses hostile uploads: wrong encodings, bombs, XML entity tricks, broken PO/MO/JSONL."""
import gzip

import pytest
from gradio_client import handle_file
from hypothesis import given
from hypothesis import strategies as st

from tests.support.bad_files import BILLION_LAUGHS, GOOD_TMX_HEAD, XXE, mo_header_only, put_file, zip_bomb
from tests.support.fuzzing import FUZZ, expect_app_error
from tests.support.speech_audio import png_header

# Gradio refuses a type outside the upload box's list before our handler; ours names it otherwise.
UNSUPPORTED = "unsupported file type|Invalid file type. Please upload a file that is one of these formats"

CORPUS_FILES = [
    ("empty.csv", b"", "is empty"),
    ("blank.txt", b"\n  \n\t\n", "no non-empty text rows"),
    ("binary.csv", bytes(range(256)) * 4, "looks binary"),
    ("latin1.csv", "id,lang,text\n1,fr,café crème\n".encode("latin-1"), "not valid UTF-8"),
    ("cp1252.tsv", "id\tlang\ttext\n1\tde\t„Grüße“\n".encode("cp1252"), "not valid UTF-8"),
    ("truncated.csv", b'id,lang,text\n1,en,"an unterminated quote\n', "could not be parsed as CSV"),
    ("ragged.csv", b"id,lang,text\n1,en,a\n2,en,b,c,d,e\n", "could not be parsed as CSV"),
    ("no_text.csv", b"name,value\na,b\n", "has no 'text' column"),
    ("headers_only.csv", b"id,lang,text\n", "no non-empty text rows"),
    # A few bad rows are skipped (tests/backend/test_corpus.py); a file that is mostly bad is refused.
    ("nul_mostly.csv", ("id,lang,text\n" + "1,en,fine words\n" * 300 + "2,en,bad \x00 row\n" * 400).encode(),
     r"400 of its 700 rows are unusable.*Row 301 contains a control or non-text character \(U\+0000\)"),
    ("rtl.csv", "id,lang,text\n1,en,invoice\u202egnp.exe\n".encode(), "bidirectional override"),
    ("long_row.csv", ("id,lang,text\n1,en," + "w" * 5000 + "\n").encode(), "row 1 has 5,000 characters"),
    ("too_many.txt", b"row\n" * 1_000_001, r"1,000,001 rows; the limit is 1,000,000"),
    ("bomb.csv", zip_bomb(), "looks binary"),
    ("bomb.tsv", gzip.compress(b"id\tlang\ttext\n" + b"a" * 5_000_000), "looks binary"),
    ("bomb.tmx", zip_bomb(), "not well-formed XML"),
    ("bomb.docx", zip_bomb(), UNSUPPORTED),
    ("billion_laughs.tmx", BILLION_LAUGHS.encode(), "DTD or entities"),
    ("billion_laughs.csv", BILLION_LAUGHS.encode(), "DTD or entities"),  # found by content
    ("xxe.tmx", XXE.encode(), "DTD or entities"),
    ("xxe.txt", XXE.encode(), "DTD or entities"),
    ("truncated.tmx", (GOOD_TMX_HEAD + '<tu><tuv xml:lang="en"><seg>hel').encode(), "not well-formed XML"),
    ("html.tmx", b"<?xml version='1.0'?><html><body>hi</body></html>", r"root element is &lt;html>"),
    ("no_lang.tmx", (GOOD_TMX_HEAD + "<tu><tuv><seg>hi</seg></tuv></tu></body></tmx>").encode(),
     "without xml:lang"),
    ("utf16_bomb.tmx", "\ufeff<tmx><body>".encode("utf-16-le") * 3, "not well-formed XML|DTD"),
    ("broken.po", b'msgid "unterminated\nmsgstr ', "could not be parsed as gettext PO"),
    ("no_language.po", b'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
                       b'msgid "Hello"\nmsgstr "Bonjour"\n', "has no 'Language:'"),
    ("latin1.po", 'msgid ""\nmsgstr ""\n"Language: fr\\n"\n\nmsgid "Hi"\nmsgstr "Ça"\n'.encode("latin-1"),
     "could not be parsed as gettext PO"),
    ("truncated.mo", mo_header_only(), "could not be parsed as gettext MO"),
    ("fake.mo", b"\xde\x12\x04\x95" + b"\xff" * 40, "could not be parsed as gettext MO"),
    ("broken.jsonl", b'{"text": "a"}\n{"text": \n', "could not be parsed as JSONL"),
    ("deep.jsonl", b"[" * 100_000 + b"\n", "could not be parsed as JSONL"),
    ("scalars.jsonl", b"1\n2\n3\n", "could not be parsed as JSONL|has no 'text' column"),
    ("program.exe", b"MZ\x90\x00" + b"\x00" * 200, UNSUPPORTED),
    ("picture.csv", png_header(8, 8), "looks binary"),
    ("noextension", b"id,lang,text\n1,en,hello\n", UNSUPPORTED),
]


@pytest.mark.fuzzes("/load_corpus")
@pytest.mark.parametrize("name, data, fragment", CORPUS_FILES, ids=[c[0] for c in CORPUS_FILES])
def test_load_corpus_refuses_bad_files(client, registry, tmp_path, name, data, fragment):
    path = put_file(tmp_path, name, data)
    expect_app_error(client, registry, "/load_corpus", (handle_file(str(path)),), fragment)


@pytest.mark.fuzzes("/load_corpus")
@pytest.mark.slow
@FUZZ
@given(blob=st.binary(min_size=1, max_size=3000), at=st.integers(0, 2999),
       ext=st.sampled_from(["csv", "tsv", "jsonl", "txt"]))
def test_load_corpus_binary_fuzz(client, registry, tmp_path_factory, blob, at, ext):
    blob = blob[:at] + b"\x00" + blob[at:]
    path = put_file(tmp_path_factory.mktemp("blob"), f"blob.{ext}", blob)
    expect_app_error(client, registry, "/load_corpus", (handle_file(str(path)),),
                     "looks binary|DTD or entities|not well-formed XML|gettext|not valid UTF-8")
