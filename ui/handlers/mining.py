"""Mining tab handlers: mine two sides, fill the sides from the bundled example or a corpus."""
from __future__ import annotations

import hashlib
import re
import tempfile
from pathlib import Path

import gradio as gr

from backend.capabilities.mining import (
    DEFAULT_K,
    DEFAULT_MAX_LENGTH_RATIO,
    DEFAULT_STRATEGY,
    DEFAULT_THRESHOLD,
    mine,
)
from backend.core.atomic_files import atomic_write
from backend.core.errors import InvalidInput
from backend.data.bitext_files import bundled_example, pairs_tmx, pairs_tsv, read_gold, read_side
from ui.errors import progress_callback, user_facing
from ui.figures import mining as figures
from ui.zerogpu import gpu

EXPORT_DIR = Path(tempfile.gettempdir()) / "babelscope-mining"
DEFAULT_OPTIONS = {"drop_duplicates": True, "max_length_ratio": DEFAULT_MAX_LENGTH_RATIO}


def _file(name: str, data: bytes) -> str:
    """A file named by its content: concurrent users never overwrite each other's export."""
    path = EXPORT_DIR / hashlib.sha256(data).hexdigest()[:16] / name
    if not path.exists():
        atomic_write(path, data)
    return str(path)


def _path_and_name(file) -> tuple[str, str]:
    return str(file), getattr(file, "orig_name", None) or Path(str(file)).name


def make_mining_handlers(registry):
    identify = lambda text: registry.get("langid").identify(text).lang  # noqa: E731

    @gpu(duration=120)
    @user_facing
    def on_mine(source, target, gold=None, model=None, strategy=DEFAULT_STRATEGY, k=DEFAULT_K,
                threshold=DEFAULT_THRESHOLD, options=None, progress=gr.Progress()):
        if source is None or target is None:
            raise InvalidInput("Mining needs two sides: upload a source and a target file, or load the example.")
        options = options or DEFAULT_OPTIONS
        src, tgt = (read_side(*_path_and_name(f), registry.settings, identify, options["drop_duplicates"])
                    for f in (source, target))
        gold_pairs = read_gold(*_path_and_name(gold), src, tgt) if gold is not None else None
        result = mine(registry, src, tgt, model, strategy, k, threshold, gold=gold_pairs,
                      max_length_ratio=options["max_length_ratio"], progress=progress_callback(progress))
        slug = re.sub(r"[^A-Za-z0-9_-]+", "_", f"pairs-{src.lang}-{tgt.lang}")
        return (figures.summary_markdown(result), figures.margin_histogram(result), figures.gold_curve(result),
                figures.pairs_table(result, gold_pairs), _file(f"{slug}.tsv", pairs_tsv(result)),
                _file(f"{slug}.tmx", pairs_tmx(result)), result.to_dict())

    @user_facing
    def on_mining_example(source_lang, target_lang):
        src, tgt, gold = bundled_example(source_lang, target_lang)
        return (_file(f"example-{source_lang}.txt", "\n".join(src).encode() + b"\n"),
                _file(f"example-{target_lang}.txt", "\n".join(tgt).encode() + b"\n"),
                _file(f"example-gold-{source_lang}-{target_lang}.tsv",
                      "".join(f"{s}\t{t}\n" for s, t in gold).encode()))

    @user_facing
    def on_mining_corpus_side(corpus_id, lang):
        corpus = registry.corpora.get(corpus_id)
        texts = [t for t, l in zip(corpus.texts, corpus.langs) if l == lang]
        if not texts:
            raise InvalidInput(f"{corpus.name} has no lines in {str(lang)[:20]!r}. Pick one of its languages.")
        name = re.sub(r"[^A-Za-z0-9_-]+", "_", f"{corpus_id}-{lang}")
        return _file(f"{name}.txt", "\n".join(texts).encode("utf-8") + b"\n")

    @user_facing
    def on_mining_corpus_change(corpus_id):
        return gr.update(choices=list(registry.corpora.get(corpus_id).language_counts), value=None)

    def on_mining_options(drop_duplicates, max_length_ratio):
        ratio = float(max_length_ratio) if max_length_ratio else None
        return {"drop_duplicates": bool(drop_duplicates), "max_length_ratio": ratio if ratio and ratio > 0 else None}

    return on_mine, on_mining_example, on_mining_corpus_side, on_mining_corpus_change, on_mining_options
