"""The Features endpoints through gradio_client against the real app."""
import pytest
from gradio_client.exceptions import AppError

ATLAS_KEYS = {"corpus", "n_sentences", "n_active_features", "entropy_histogram", "share_language_specific",
              "by_language", "translation_jaccard", "unrelated_jaccard", "sparse_p_at_1", "dense_p_at_1", "features",
              "share_with_keywords", "card_feature"}


def test_features_contract(client):
    text = ("The dog is sleeping on the sofa.\nDer Hund schläft auf dem Sofa.\n狗在沙发上睡觉。\n"
            "Le chien dort sur le canapé.")
    *_, payload = client.predict(text, 5, api_name="/features")
    assert {"sentences", "languages", "top_features", "shared_features", "labels", "dense_features",
            "card_feature"} <= payload.keys()
    assert payload["card_feature"] in payload["columns"] and payload["card_feature"] not in payload["dense_features"]
    assert payload["languages"] == ["en", "de", "zh", "fr"]
    assert all(len(row) == 5 and {"feature", "value"} == row[0].keys() for row in payload["top_features"])
    union = {x["feature"] for row in payload["top_features"] for x in row}
    assert set(payload["labels"]) == {str(f) for f in union}
    for shared in payload["shared_features"]:
        holders = [i for i, row in enumerate(payload["top_features"]) if shared["feature"] in {x["feature"] for x in row}]
        assert shared["sentences"] == holders and len({payload["languages"][i] for i in holders}) >= 2


def test_feature_atlas_and_card_contract(client):
    *_, atlas = client.predict("bundled", 2000, api_name="/feature_atlas")
    assert ATLAS_KEYS <= atlas.keys() and atlas["corpus"] == "bundled" and atlas["n_sentences"] == 1760
    assert atlas["translation_jaccard"]["mean"] > atlas["unrelated_jaccard"]["ci_high"]
    features = atlas["features"]
    assert len(features) == min(500, atlas["n_active_features"])
    assert [f["n"] for f in features] == sorted((f["n"] for f in features), reverse=True)
    first = features[0]
    assert {"id", "n", "share", "entropy", "class", "language", "label", "keywords", "top"} <= first.keys()
    assert {f["class"] for f in features} <= {"dense", "language-neutral", "language-specific", "mixed"}
    for f in features:  # dense above the threshold, never neutral
        above = f["n"] > atlas["thresholds"]["dense"] * atlas["n_sentences"]
        assert (f["class"] == "dense") == (above and f["entropy"] > atlas["thresholds"]["specific"])
        assert not (above and f["class"] == "language-neutral")
    assert atlas["thresholds"]["dense"] <= 0.10 and atlas["share_with_keywords"] >= 0.9
    assert next(f for f in features if f["class"] != "dense")["id"] == atlas["card_feature"]
    assert {"text", "lang", "value"} == first["top"][0].keys()
    assert len(atlas["sparse_p_at_1"]) == len(atlas["dense_p_at_1"]) == 8 * 7
    *_, card = client.predict("bundled", 2000, first["id"], api_name="/feature_card")
    assert card["card"]["id"] == first["id"] and len(card["sentences"]) == min(first["n"], 100)


@pytest.mark.parametrize("args, api, fragment", [
    (("", 8), "/features", "empty"),
    (("Hello.", 65), "/features", "greater than maximum value 64"),
    (("nope", 2000), "/feature_atlas", "Unknown corpus id"),
    (("bundled", 10**8), "/feature_atlas", "greater than maximum value 120000"),
    (("bundled", "many"), "/feature_atlas", "must be a number"),
    (("bundled", 2000, 99_999), "/feature_card", "between 0 and 16,383"),
    (("bundled", 2000, None), "/feature_card", "Type a feature id"),
])
def test_feature_errors_are_specific(client, args, api, fragment):
    with pytest.raises(AppError, match=fragment):
        client.predict(*args, api_name=api)
