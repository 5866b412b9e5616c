"""Mining tab handlers: mine two sides, fill the sides from the bundled example or a corpus."""
from __future__ import annotations

from pathlib import Path

import gradio as gr

from backend.capabilities.mining import DEFAULT_K, DEFAULT_MAX_LENGTH_RATIO, DEFAULT_STRATEGY, DEFAULT_THRESHOLD
from backend.capabilities.mining_files import corpus_side_file, example_files, mine_files, pair_files
from ui.errors import progress_callback, user_facing
from ui.figures import mining as figures
from ui.zerogpu import gpu

DEFAULT_OPTIONS = {"drop_duplicates": True, "max_length_ratio": DEFAULT_MAX_LENGTH_RATIO}


def _path_and_name(file) -> tuple[str, str] | None:
    return None if file is None else (str(file), getattr(file, "orig_name", None) or Path(str(file)).name)


def make_mining_handlers(registry):
    @gpu(duration=120)
    @user_facing
    def on_mine(source, target, gold=None, model=None, strategy=DEFAULT_STRATEGY, k=DEFAULT_K,
                threshold=DEFAULT_THRESHOLD, options=None, progress=gr.Progress()):
        options = options or DEFAULT_OPTIONS
        result = mine_files(registry, _path_and_name(source), _path_and_name(target), _path_and_name(gold), model,
                            strategy, k, threshold, options["drop_duplicates"], options["max_length_ratio"],
                            progress_callback(progress))
        return (figures.summary_markdown(result), figures.margin_histogram(result), figures.gold_curve(result),
                figures.pairs_table(result, result.gold_pairs), *pair_files(result), result.to_dict())

    @user_facing
    def on_mining_example(source_lang, target_lang):
        return example_files(source_lang, target_lang)

    @user_facing
    def on_mining_corpus_side(corpus_id, lang):
        return corpus_side_file(registry, corpus_id, lang)

    @user_facing
    def on_mining_corpus_change(corpus_id):
        return gr.update(choices=list(registry.corpora.get(corpus_id).language_counts), value=None)

    def on_mining_options(drop_duplicates, max_length_ratio):
        ratio = float(max_length_ratio) if max_length_ratio else None
        return {"drop_duplicates": bool(drop_duplicates), "max_length_ratio": ratio if ratio and ratio > 0 else None}

    return on_mine, on_mining_example, on_mining_corpus_side, on_mining_corpus_change, on_mining_options
