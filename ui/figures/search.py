"""Search tab: the corpus summary, the index line and the hits table."""
from __future__ import annotations

import pandas as pd

from ui.escaping import code_span, escape_markdown
from ui.figures.text import language_code, language_tag


def corpus_markdown(summary: dict) -> str:
    uncertain = summary.get("languages_uncertain") or {}

    def count(lang: str, n: int) -> str:  # uncertain rows are marked in their language's count
        return f"{escape_markdown(lang)} {n:,}" + (f" ({uncertain[lang]:,} uncertain)" if uncertain.get(lang) else "")

    langs = ", ".join(count(k, v) for k, v in list(summary["languages"].items())[:30])
    more = " …" if len(summary["languages"]) > 30 else ""
    return (f"**{escape_markdown(summary['name'])}**: {code_span(summary['corpus_id'])} · "
            f"{summary['n_rows']:,} rows · {summary['n_meanings']:,} meanings · "
            f"{len(summary['languages'])} languages ({langs}{more})"
            + (f" · **{summary['skipped_rows']:,} unusable rows skipped** (rows "
               f"{', '.join(map(str, summary['skipped_lines']))}{' …' if summary['skipped_rows'] > len(summary['skipped_lines']) else ''})"
               if summary.get("skipped_rows") else "")
            + (f" · **{summary['uncertain_rows']:,} of {summary['detected_rows']:,} detected languages are uncertain** "
               "(language ID's confidence below its calibrated threshold; short lines are hard), shown as `xx?`: "
               "start such a line with its code and a colon (`fr: Bonjour`), or give a `lang` column, to set "
               "it" if summary.get("uncertain_rows") else ""))


HIT_COLUMNS = ["rank", "score", "cosine", "lang", "text", "meaning id", "translation of the query"]


def search_hits_table(result) -> pd.DataFrame:
    """Hits, best first; an uncertain language as "xx?". Shown as plain text (no Markdown/HTML rendering)."""
    def mark(hit) -> str:
        return "" if hit.same_meaning is None else ("✓ yes" if hit.same_meaning else "")

    rows = [[h.rank, round(h.score, 4), round(h.cosine, 4), language_code(h.lang, h.language_uncertain), h.text,
             h.id, mark(h)] for h in result.hits]
    return pd.DataFrame(rows, columns=HIT_COLUMNS)


def index_markdown(result) -> str:
    info = result.index
    where = "GPU" if info.on_gpu else "CPU"
    built = "loaded from disk" if info.loaded_from_disk else f"built in {info.build_seconds:.2f} s"
    meaning = (f" · the query is corpus meaning {code_span(result.query_meaning)}: its translations are marked"
               if result.query_meaning else "")
    accuracy = ("exact" if info.search_param == "exact"
                else f"{escape_markdown(info.search_param)}, recall@10 {info.recall_at_10:.3f} against exact search")
    return (f"Index **{escape_markdown(info.factory)}** over {info.n:,} × {info.dim} vectors on {where} ({built}; "
            f"{accuracy}) · "
            f"query language **{escape_markdown(result.query_lang)}** · scoring **{'CSLS' if result.csls else 'cosine'}**"
            f"{meaning}{uncertain_hits_markdown(result.hits)}")


def uncertain_hits_markdown(hits) -> str:
    """A line naming the hits whose language label is uncertain (rank·``xx?``, confidence on hover)."""
    shown = [f"{h.rank}·{language_tag(h.lang, h.language_probability, True)}" for h in hits if h.language_uncertain]
    if not shown:
        return ""
    return (f"\n\n**{len(shown)} of {len(hits)} hits {'has' if len(shown) == 1 else 'have'} an uncertain language label** (shown as `xx?`; hover "
            f"for language ID's confidence): {', '.join(shown)}. In the uploaded file, start such a line with its "
            "code and a colon (`fr: `) to set it.")
