"""Corpora: the bundled corpus, the CLDR atlas, and every upload format, good and malformed."""
import json
import unicodedata

import polib
import pytest

from backend.core.errors import InvalidInput, LimitExceeded
from backend.data.corpus import CorpusStore, bundled_corpus, cldr_corpus


@pytest.fixture()
def store(registry, tmp_path):
    from dataclasses import replace

    settings = replace(registry.settings, cache_dir=tmp_path / "cache")
    return CorpusStore(settings, identify_language=lambda t: registry.get("langid").identify(t).lang)


def _write(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def test_bundled_corpus_is_big_varied_and_clean():
    c = bundled_corpus()
    assert c.n_meanings >= 200 and len(c.language_counts) >= 8
    assert all(count == c.n_meanings for count in c.language_counts.values())
    assert len(set(c.texts)) == len(c.texts), "duplicate sentences"
    scripts = {unicodedata.name(ch).split()[0] for t in c.texts for ch in t if ch.isalpha()}
    assert {"LATIN", "CYRILLIC", "CJK", "ARABIC", "DEVANAGARI"} <= scripts
    for lang, text in zip(c.langs, c.texts):  # no leftover English in non-Latin-script rows
        if lang in {"ru", "zh", "ar", "hi"}:
            assert not any("a" <= ch.lower() <= "z" for ch in text), (lang, text)
    assert (c.corpus_id, c.summary()["n_rows"]) == ("bundled", len(c))


def test_cldr_atlas_is_large_and_real():
    c = cldr_corpus()
    assert len(c.language_counts) >= 100 and len(c) >= 50_000
    rows = {(i, lang): t for i, lang, t in zip(c.ids, c.langs, c.texts)}
    assert rows[("territory:FR", "sw")] == "Ufaransa"
    assert rows[("territory:DE", "fr")] == "Allemagne"
    assert rows[("language:ja", "de")] == "Japanisch"


@pytest.mark.parametrize("name, content", [
    ("c.csv", "id,lang,text\nm1,en,The dog sleeps.\nm1,fr,Le chien dort.\nm2,en,\"Hello, world\"\n"),
    ("c.tsv", "text\tlang\tid\nThe dog sleeps.\ten\tm1\nLe chien dort.\tfr\tm1\nHello, world\ten\tm2\n"),
    ("c.jsonl", '{"id": "m1", "lang": "en", "text": "The dog sleeps."}\n'
                '{"id": "m1", "lang": "fr", "text": "Le chien dort."}\n{"id": "m2", "lang": "en", "text": "Hello, world"}\n'),
])
def test_tabular_uploads(store, tmp_path, name, content):
    corpus = store.load_upload(_write(tmp_path, name, content))
    assert corpus.texts == ("The dog sleeps.", "Le chien dort.", "Hello, world")
    assert corpus.langs == ("en", "fr", "en") and corpus.ids == ("m1", "m1", "m2")
    assert corpus.summary()["n_meanings"] == 2 and corpus.corpus_id.startswith("u")
    assert store.get(corpus.corpus_id).texts == corpus.texts  # stored: the id works later


def test_txt_upload_detects_language(store, tmp_path):
    corpus = store.load_upload(_write(tmp_path, "s.txt", "Der Hund schläft auf dem Sofa.\n\nLe chat dort dans le jardin.\n"))
    assert corpus.langs == ("de", "fr") and corpus.n_meanings == 0


def test_tmx_upload(store, tmp_path):
    tmx = """<?xml version="1.0" encoding="UTF-8"?>
<tmx version="1.4"><header srclang="en" datatype="plaintext" segtype="sentence" adminlang="en" o-tmf="x" creationtool="t" creationtoolversion="1"/>
<body><tu tuid="greet"><tuv xml:lang="en"><seg>Good morning</seg></tuv><tuv xml:lang="de"><seg>Guten Morgen</seg></tuv></tu>
<tu><tuv xml:lang="en"><seg>Thank you</seg></tuv><tuv xml:lang="ja"><seg>ありがとう</seg></tuv></tu></body></tmx>"""
    corpus = store.load_upload(_write(tmp_path, "m.tmx", tmx))
    assert list(zip(corpus.ids, corpus.langs, corpus.texts)) == [
        ("greet", "en", "Good morning"), ("greet", "de", "Guten Morgen"), ("tu2", "en", "Thank you"), ("tu2", "ja", "ありがとう")]


def _po(tmp_path, language="fr"):
    po = polib.POFile()
    if language:
        po.metadata = {"Language": language, "Content-Type": "text/plain; charset=UTF-8"}
    po.append(polib.POEntry(msgid="Open file", msgstr="Ouvrir le fichier"))
    po.append(polib.POEntry(msgid="Untranslated", msgstr=""))
    po.save(str(tmp_path / "app.po"))
    po.save_as_mofile(str(tmp_path / "app.mo"))
    return tmp_path / "app.po", tmp_path / "app.mo"


def test_po_and_mo_uploads(store, tmp_path):
    po_path, mo_path = _po(tmp_path)
    for path in (po_path, mo_path):
        corpus = store.load_upload(path)
        assert corpus.langs == ("en", "fr") and corpus.texts == ("Open file", "Ouvrir le fichier")
        assert corpus.ids[0] == corpus.ids[1]


def test_mo_is_recognised_by_content_not_extension(store, tmp_path):
    _, mo_path = _po(tmp_path)
    renamed = tmp_path / "looks_like.csv"
    renamed.write_bytes(mo_path.read_bytes())
    assert store.load_upload(renamed).texts == ("Open file", "Ouvrir le fichier")


BILLION_LAUGHS = """<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;">]><tmx><body><tu><tuv xml:lang="en"><seg>&lol3;</seg></tuv></tu></body></tmx>"""
XXE = """<?xml version="1.0"?><!DOCTYPE tmx [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<tmx><body><tu><tuv xml:lang="en"><seg>&xxe;</seg></tuv></tu></body></tmx>"""


@pytest.mark.parametrize("name, content, error, fragment", [
    ("empty.csv", b"", InvalidInput, "is empty"),
    ("cols.csv", "name,value\na,b\n", InvalidInput, "no 'text' column"),
    ("bad.csv", 'text,lang\n"unclosed,en\nfine,en\n', InvalidInput, "could not be parsed as CSV"),
    ("latin1.csv", "text\ncaf\xe9 cr\xe8me\n".encode("latin-1"), InvalidInput, "not valid UTF-8"),
    ("bin.txt", b"\x7fELF\x02\x01\x01\x00\x00\x00\x00", InvalidInput, "looks binary"),
    ("ctl.tsv", "text\nfine\nbad\x07bell\n", InvalidInput, "Row 2 contains a control"),
    ("bomb.tmx", BILLION_LAUGHS, InvalidInput, "DTD or entities"),
    ("xxe.tmx", XXE, InvalidInput, "DTD or entities"),
    ("broken.tmx", "<?xml version='1.0'?><tmx><body><tu>", InvalidInput, "not well-formed XML: .*line 1"),
    ("notx.tmx", "<?xml version='1.0'?><html/>", InvalidInput, "root element is <html>"),
    ("nolang.tmx", "<?xml version='1.0'?><tmx><body><tu><tuv><seg>x</seg></tuv></tu></body></tmx>",
     InvalidInput, "<tu> number 1 has a <tuv> without xml:lang"),
    ("garbage.po", 'msgid "a"\nmsgstr "b"\nthis is not po syntax\n', InvalidInput,
     r"could not be parsed as gettext PO: Syntax error in po file garbage.po \(line 3\)"),
    ("x.docx", "text\nhello\n", InvalidInput, "unsupported file type"),
])
def test_malformed_uploads_get_specific_errors(store, tmp_path, name, content, error, fragment):
    with pytest.raises(error, match=fragment):
        store.load_upload(_write(tmp_path, name, content))
    assert not list((tmp_path / "cache").glob("corpora/*.tsv"))  # nothing half-written


def test_po_without_language_header(store, tmp_path):
    po_path, _ = _po(tmp_path, language=None)
    with pytest.raises(InvalidInput, match="no 'Language:' in its header"):
        store.load_upload(po_path)


def test_too_many_rows_is_refused_and_nothing_is_cached(registry, tmp_path):
    from dataclasses import replace

    limits = replace(registry.settings.limits, max_corpus_rows=1000)
    small = CorpusStore(replace(registry.settings, cache_dir=tmp_path / "cache", limits=limits))
    path = _write(tmp_path, "big.csv", "text,lang\n" + "".join(f"row {i},en\n" for i in range(1001)))
    with pytest.raises(LimitExceeded, match="1,001 rows; the limit is 1,000"):
        small.load_upload(path)
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").rglob("*"))


def test_unknown_corpus_id(store):
    for bad in ("nope", "u0123456789abcdef", "../../etc/passwd"):
        with pytest.raises(InvalidInput, match="Unknown corpus id"):
            store.get(bad)


def test_a_tsv_without_its_json_marker_is_not_trusted(store, tmp_path):
    corpus = store.load_upload(_write(tmp_path, "a.csv", "text,lang\nhello there,en\n"))
    marker = tmp_path / "cache" / "corpora" / f"{corpus.corpus_id}.json"
    assert json.loads(marker.read_text())["name"] == "a.csv"
    marker.unlink()
    fresh = CorpusStore(store.settings)
    with pytest.raises(InvalidInput, match="Unknown corpus id"):
        fresh.get(corpus.corpus_id)


def test_a_few_bad_rows_are_skipped_counted_and_named(store, tmp_path):
    rows = [f"m{i}\ten\tSentence number {i} is fine." for i in range(1, 1801)]
    rows[174] = "m175\ten\tOne stray \x0b control character."
    rows[999] = "m1000\ten\t" + "w" * 5_000
    corpus = store.load_upload(_write(tmp_path, "mostly_fine.tsv", "id\tlang\ttext\n" + "\n".join(rows) + "\n"))
    assert len(corpus) == 1_798 and "One stray" not in " ".join(corpus.texts[170:180])
    summary = corpus.summary()
    assert summary["skipped_rows"] == 2 and summary["skipped_lines"] == [175, 1000]
    assert store.get(corpus.corpus_id).summary()["skipped_lines"] == [175, 1000]  # kept beside the rows
