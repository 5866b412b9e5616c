"""The Features tab's figures, tables and Markdown: pure functions of backend.capabilities.features results.

Every string a user or a corpus supplies is escaped before it reaches Plotly labels or Markdown.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from backend.analysis.feature_stats import FeatureCard
from backend.capabilities.features import FeatureAtlas, FeatureLookup, SentenceFeatures
from ui.escaping import code_span, escape_markdown, escape_plotly, isolated_markdown
from ui.figures.text import shorten

FEATURE_COLUMNS = ["feature", "n", "entropy", "class", "language", "keywords", "strongest string"]
SHARED_MARK = "◆"  # marks a column whose feature is in the top-k of sentences of 2+ languages


def feature_heatmap(result: SentenceFeatures) -> go.Figure:
    """Rows = sentences, columns = the union of their top-k features, values = activations."""
    shared = {f for f, _ in result.shared}
    cols = [f"{SHARED_MARK} {f}" if f in shared else str(f) for f in result.columns]
    rows = [f"{i + 1}·{escape_plotly(lang)}" for i, lang in enumerate(result.languages)]
    safe = [escape_plotly(shorten(s, 60)) for s in result.sentences]
    labels = [escape_plotly(shorten(result.labels.get(f, "") or "(no label)", 50)) for f in result.columns]
    hover = [[f"<b>feature {f}</b>{' · shared across languages' if f in shared else ''}<br>{labels[j]}<br>"
              f"<b>{rows[i]}</b> {safe[i]}<br>activation {result.values[i, j]:.3f}"
              for j, f in enumerate(result.columns)] for i in range(len(rows))]
    z = np.where(result.values > 0, result.values, np.nan)
    fig = go.Figure(go.Heatmap(z=z, x=cols, y=rows, hovertext=hover, hoverinfo="text", colorscale="Viridis",
                               colorbar=dict(title="activation", thickness=12), xgap=1, ygap=1))
    fig.update_layout(
        # two short lines: one long one was cut at both ends on a phone
        title=dict(text=f"Top-{result.k} SAE features per sentence<br>{SHARED_MARK} = shared by 2+ languages",
                   x=0.5, font=dict(size=14)),
        margin=dict(l=10, r=10, t=60, b=10), height=max(340, 120 + 34 * len(rows)),
        yaxis=dict(autorange="reversed", type="category"),
        xaxis=dict(tickangle=-60, type="category", title="feature id"),
    )
    return fig


TOP_COLUMNS = ["#", "lang", "sentence", "rank", "feature", "activation", "label", "shared"]


def top_features_table(result: SentenceFeatures) -> pd.DataFrame:
    """One row per (sentence, feature): rank, activation, label, whether shared across languages."""
    shared = {f for f, _ in result.shared}
    rows = []
    for i, (sentence, lang, top) in enumerate(zip(result.sentences, result.languages, result.top)):
        for rank, (f, v) in enumerate(top, start=1):
            rows.append({"#": i + 1, "lang": lang, "sentence": shorten(sentence, 60), "rank": rank, "feature": f,
                         "activation": round(v, 3), "label": result.labels.get(f, ""),
                         "shared": "✓" if f in shared else ""})
    return pd.DataFrame(rows, columns=TOP_COLUMNS)


def shared_markdown(result: SentenceFeatures) -> str:
    if not result.shared:
        return "No feature is in the top-%d of sentences of two different languages." % result.k
    parts = []
    for f, rows in result.shared[:12]:
        langs = ", ".join(sorted({result.languages[i] for i in rows}))
        label = result.labels.get(f, "")
        parts.append(f"- **{f}** ({escape_markdown(langs)}){': ' + isolated_markdown(label) if label else ''}")
    more = f"\n\n…and {len(result.shared) - 12} more." if len(result.shared) > 12 else ""
    source = f" Labels: {escape_markdown(result.label_source)}." if result.label_source else ""
    return (f"**{len(result.shared)} features shared across languages** (in the top-{result.k} of "
            f"sentences in 2+ languages).{source}\n" + "\n".join(parts) + more)


def entropy_histogram(atlas: FeatureAtlas) -> go.Figure:
    h = atlas.entropy_histogram
    edges, counts = h["edges"], h["counts"]
    centres = [(a + b) / 2 for a, b in zip(edges[:-1], edges[1:])]
    colours = ["#d95f02" if c <= 0.3 else "#1b9e77" if c >= 0.9 else "#7570b3" for c in centres]
    fig = go.Figure(go.Bar(x=centres, y=counts, width=edges[1] - edges[0], marker_color=colours,
                           hovertemplate="entropy %{x:.2f}: %{y} features<extra></extra>"))
    fig.update_layout(
        title=dict(text=f"Language entropy of {sum(counts):,} features firing on ≥ {atlas.to_dict()['min_n']} "
                        f"sentences, dense ones apart · {escape_plotly(shorten(atlas.corpus_name, 60))}", x=0.5,
                   font=dict(size=13)),
        xaxis=dict(title="normalised language entropy (0 = one language, 1 = every language alike)", range=[0, 1]),
        yaxis=dict(title="features"), margin=dict(l=10, r=10, t=40, b=10), height=320, bargap=0.05,
    )
    return fig


def specific_share_figure(atlas: FeatureAtlas) -> go.Figure:
    items = sorted(atlas.share_language_specific.items(), key=lambda kv: -kv[1])[:40]
    fig = go.Figure(go.Bar(x=[escape_plotly(k) for k, _ in items], y=[v for _, v in items], marker_color="#d95f02",
                           hovertemplate="%{x}: %{y:.1%} of features<extra></extra>"))
    fig.update_layout(title=dict(text="Share of features specific to each language", x=0.5, font=dict(size=13)),
                      yaxis=dict(title="share of features", tickformat=".0%"), margin=dict(l=10, r=10, t=40, b=10),
                      height=320)
    return fig


def _interval(d: dict) -> str:
    if d["mean"] is None:
        return "n/a (no pairs)"
    return f"**{d['mean']:.3f}** (95% CI {d['ci_low']:.3f}–{d['ci_high']:.3f}, n = {d['n']:,})"


def atlas_markdown(atlas: FeatureAtlas) -> str:
    d = atlas.to_dict(max_features=0)
    classes = d["entropy_histogram"]["classes"]
    sample = (f" (a stratified sample of whole meanings from {d['n_rows']:,} rows)" if d["sampled"] else "")
    cache = "from the cache" if d["from_cache"] else f"computed in {d['seconds']:.1f} s"
    return (
        f"**{escape_markdown(d['corpus_name'])}**: {d['n_sentences']:,} sentences{sample}; "
        f"{d['n_active_features']:,} of the SAE's features fire (a feature *fires* on a sentence when it is among "
        f"its {32} strongest). Of the {d['entropy_histogram']['n_features']:,} firing on ≥ {d['min_n']} sentences: "
        f"{classes.get('dense', 0):,} dense (firing on more than {d['thresholds']['dense']:.0%} of the sentences: "
        f"they fire everywhere, so they are not evidence of a shared meaning), then, by language entropy, "
        f"{classes.get('language-neutral', 0):,} language-neutral, {classes.get('language-specific', 0):,} "
        f"language-specific, {classes.get('mixed', 0):,} mixed. {d['share_with_keywords']:.0%} have keywords "
        f"(the words their strongest sentences share and the rest of the corpus does not; their label). "
        f"Codes {cache}.\n\n"
        f"**Translation overlap** (Jaccard of top-{d['overlap_k']} feature sets): translations "
        f"{_interval(d['translation_jaccard'])} · unrelated pairs in different languages "
        f"{_interval(d['unrelated_jaccard'])}."
    )


def p_at_1_table(atlas: FeatureAtlas) -> pd.DataFrame:
    dense = {(p.source, p.target): p for p in atlas.dense_p_at_1}
    rows = []
    for p in atlas.sparse_p_at_1:
        q = dense.get((p.source, p.target))
        rows.append({"source": p.source, "target": p.target, "n": p.n,
                     "sparse P@1": None if p.p_at_1 is None else round(p.p_at_1, 3),
                     "dense P@1": None if q is None or q.p_at_1 is None else round(q.p_at_1, 3)})
    return pd.DataFrame(rows, columns=["source", "target", "n", "sparse P@1", "dense P@1"])


def features_table(atlas: FeatureAtlas, limit: int = 500) -> pd.DataFrame:
    rows = [{"feature": c.id, "n": c.n, "entropy": round(c.entropy, 3), "class": c.cls,
             "language": c.language if c.cls == "language-specific" else "",
             "keywords": " · ".join(c.keywords) or "(none shared)",
             "strongest string": shorten(c.top[0].text, 60) if c.top else ""} for c in atlas.cards[:limit]]
    return pd.DataFrame(rows, columns=FEATURE_COLUMNS)


def card_markdown(lookup: FeatureLookup) -> str:
    card: FeatureCard | None = lookup.card
    if card is None:
        return (f"### Feature {lookup.feature}\nIt never fires (is never among a sentence's 32 strongest "
                f"features) in the {lookup.n_sentences:,} atlas sentences of {code_span(lookup.corpus_id)}.")
    cls = card.cls + (f" ({escape_markdown(card.language or '')})" if card.cls == "language-specific" else "")
    langs = ", ".join(f"{escape_markdown(k)} {v}" for k, v in list(card.by_language.items())[:20])
    tops = "\n".join(f"{i}. “{isolated_markdown(shorten(t.text, 80))}” ({escape_markdown(t.lang)}, {t.value:.3f})"
                     for i, t in enumerate(card.top, start=1))
    keywords = (" · ".join(escape_markdown(k) for k in card.keywords) if card.keywords
                else "none: its strongest sentences share no word the rest of the corpus lacks")
    dense = (" (it fires on so many sentences that it says little about any of them)" if card.cls == "dense" else "")
    return (f"### Feature {card.id}: {isolated_markdown(card.label)}\n"
            f"Fires on **{card.n:,}** of {lookup.n_sentences:,} sentences ({card.share:.1%}) · language entropy "
            f"**{card.entropy:.2f}** · **{cls}**{dense}\n\nKeywords: {keywords}\n\nBy language: {langs}\n\n"
            f"Strongest strings:\n{tops}")


LOOKUP_COLUMNS = ["row", "lang", "activation", "text"]


def lookup_table(lookup: FeatureLookup) -> pd.DataFrame:
    rows = [{"row": s.row, "lang": s.lang, "activation": round(s.value, 3), "text": s.text} for s in lookup.sentences]
    return pd.DataFrame(rows, columns=LOOKUP_COLUMNS)
