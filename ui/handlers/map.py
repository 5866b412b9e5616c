"""Language map handlers: draw the map, redraw it (lines, marks) from the session's result."""
from __future__ import annotations

import re
import tempfile
from pathlib import Path

import gradio as gr

from backend.atomic_files import atomic_write
from backend.projection import project_map
from ui.figures import map as fig
from ui.errors import progress_callback, user_facing
from ui.zerogpu import gpu


def _marked(text: str | None) -> tuple[str, ...]:
    return tuple(x.strip() for x in re.split(r"[,\n]", text or "") if x.strip())


EXPORT_DIR = Path(tempfile.gettempdir()) / "babelscope-map-exports"


def _csv_file(result) -> str:
    """One file per (corpus, model, method, centering), rewritten atomically: exports don't pile up."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"map-{result.corpus_id}-{result.model_id}-{result.method}")
    path = EXPORT_DIR / f"{name}{'-centred' if result.centered else ''}.csv"
    atomic_write(path, fig.map_points_table(result).to_csv(index=False).encode("utf-8"))
    return str(path)


def make_map_handlers(registry):
    @gpu(duration=120)
    @user_facing
    def on_map_run(corpus, model, method, languages, center, max_points, neutralise="none", rank=1,
                   progress=gr.Progress()):
        result = project_map(registry, corpus, model, method, languages or [], bool(center), max_points,
                             progress_callback(progress), neutralise, rank)
        return (result, fig.map_figure(result), fig.map_scores_markdown(result), fig.map_clusters_table(result),
                _csv_file(result), {**result.to_dict(), "neutralise": result.neutralise, "rank": result.rank})

    @user_facing
    def on_map_redraw(result, lines, marked):
        if result is None:
            return gr.update()
        return fig.map_figure(result, lines=bool(lines), marked=_marked(marked))

    def on_map_overlays(result, lines, marked):
        """After a run: redraw only when lines or marks are asked for. The run already sent the
        plain figure (6 MB at 111k points); sending it again would double the transfer and render."""
        if not lines and not _marked(marked):
            return gr.update()
        return on_map_redraw(result, lines, marked)

    @user_facing
    def on_map_corpus_change(corpus_id):
        return gr.update(choices=list(registry.corpora.get(corpus_id).language_counts), value=[])

    return on_map_run, on_map_redraw, on_map_overlays, on_map_corpus_change
