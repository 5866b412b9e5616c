"""The Mining tab's files: mining two uploaded sides (and gold pairs), and the files it hands out (the
mined pairs as TSV and TMX, the sides it fills from the bundled example or from a corpus).

Every file handed out is named by its content (backend.core.export_files.content_file): concurrent
users never overwrite each other's, and the same side or the same pairs are one file."""
from __future__ import annotations

import time

from backend.capabilities.mining import (
    DEFAULT_K,
    DEFAULT_MAX_LENGTH_RATIO,
    DEFAULT_STRATEGY,
    DEFAULT_THRESHOLD,
    MiningResult,
    mine,
)
from backend.core.atomic_files import file_slug
from backend.core.errors import InvalidInput
from backend.core.export_files import content_file
from backend.data.bitext_files import bundled_example, pairs_tmx, pairs_tsv, read_gold, read_side

EXPORT_FOLDER = "babelscope-mining"



def mine_files(registry, source: tuple[str, str] | None, target: tuple[str, str] | None,
               gold: tuple[str, str] | None = None, model_id: str | None = None, strategy: str = DEFAULT_STRATEGY,
               k: int = DEFAULT_K, threshold: float | str = DEFAULT_THRESHOLD, drop_duplicates: bool = True,
               max_length_ratio: float | None = DEFAULT_MAX_LENGTH_RATIO, progress=None) -> MiningResult:
    """Mine two uploaded sides. ``source``, ``target``, ``gold``: (path, name shown in messages);
    a side's language is language ID's most common guess unless the file gives one."""
    if source is None or target is None:
        raise InvalidInput("Mining needs two sides: upload a source and a target file, or load the example.")

    def identify(text: str):
        return registry.get("langid").identify(text)

    start = time.perf_counter()
    src, tgt = (read_side(path, name, registry.settings, identify, drop_duplicates) for path, name in (source, target))
    gold_pairs = read_gold(*gold, src, tgt) if gold is not None else None
    return mine(registry, src, tgt, model_id, strategy, k, threshold, gold=gold_pairs,
                max_length_ratio=max_length_ratio, progress=progress,
                timings={"read": time.perf_counter() - start})


def pair_files(result: MiningResult) -> tuple[str, str]:
    """The mined pairs as ``pairs-<source lang>-<target lang>.tsv`` and ``.tmx``: their paths."""
    slug = file_slug(f"pairs-{result.source.lang}-{result.target.lang}")
    return (content_file(EXPORT_FOLDER, f"{slug}.tsv", pairs_tsv(result)),
            content_file(EXPORT_FOLDER, f"{slug}.tmx", pairs_tmx(result)))


def example_files(source_lang: str, target_lang: str) -> tuple[str, str, str]:
    """The bundled example (backend.capabilities.mining.bundled_example) as three files: the source
    side, the target side (one sentence per line) and the gold pairs (TSV, 1-based lines)."""
    src, tgt, gold = bundled_example(source_lang, target_lang)
    return (content_file(EXPORT_FOLDER, f"example-{source_lang}.txt", "\n".join(src).encode() + b"\n"),
            content_file(EXPORT_FOLDER, f"example-{target_lang}.txt", "\n".join(tgt).encode() + b"\n"),
            content_file(EXPORT_FOLDER, f"example-gold-{source_lang}-{target_lang}.tsv",
                         "".join(f"{s}\t{t}\n" for s, t in gold).encode()))


def corpus_side_file(registry, corpus_id: str, lang: str) -> str:
    """One language of a stored corpus as a side: a text file, one line per row."""
    corpus = registry.corpora.get(corpus_id)
    texts = [t for t, l in zip(corpus.texts, corpus.langs) if l == lang]
    if not texts:
        raise InvalidInput(f"{corpus.name} has no lines in {str(lang)[:20]!r}. Pick one of its languages.")
    return content_file(EXPORT_FOLDER, f"{file_slug(f'{corpus_id}-{lang}')}.txt", "\n".join(texts).encode("utf-8") + b"\n")
