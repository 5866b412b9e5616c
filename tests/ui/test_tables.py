"""Every table of the app, before its first answer: its real column names, never Gradio's placeholder
"1 2 3" (a Dataframe without headers gets three numbered columns)."""
import gradio as gr

from ui.layout import CSS, build_app


def test_every_table_has_its_own_column_names_before_the_first_run(registry):
    demo = build_app(registry)
    tables = [block for block in demo.blocks.values() if isinstance(block, gr.Dataframe)]
    assert len(tables) >= 20  # one per result table in every tab
    for table in tables:
        headers = table.get_config()["headers"]
        assert headers, table.elem_id
        assert not all(str(h).isdigit() for h in headers), f"{table.elem_id}: placeholder headers {headers}"
        assert table.postprocess(None).data == []  # no empty rows either
    ids = [t.elem_id for t in tables]
    assert len(set(ids)) == len(ids) and all(ids)


def test_tables_use_the_text_font_and_wrap_headers_between_words():
    # checked in the browser (tests/e2e/test_tables_page.py); here, that the rules are still there
    assert "font-family: var(--font) !important" in CSS
    assert "word-break: normal !important" in CSS and "unicode-bidi: plaintext" in CSS


def test_diagnostics_opens_on_the_corpus_that_is_off_the_ceiling(registry):
    from backend.data.corpus import CLDR_TERRITORIES_ID

    demo = build_app(registry)
    corpus = next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "diagnostics-corpus")
    assert corpus.value == CLDR_TERRITORIES_ID  # measured in tests/backend/test_search_and_bitext.py
    layers = next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "layers-corpus")
    assert layers.value == "bundled"  # the other tabs keep theirs
