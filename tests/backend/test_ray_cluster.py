"""A real two-node Ray cluster, as an operator starts one: `ray start --head` and `ray start
--address` as separate processes on free ports, with token authentication (Ray 2.60's default for
`ray start`). Mining runs through `python -m backend.cli.mine` with BABELSCOPE_RAY_ADDRESS; its
embedding (Ray Data actors) and its k-NN (Ray tasks, above mine_exact_max) must run on both nodes
(Ray's own task records in the GCS), a driver killed with SIGKILL mid-run must leave only finished
shards, the rerun must compute only the missing ones, and the pairs must equal an in-process run.
The cluster is stopped by the session ids of the processes this test started, never `ray stop`
(other Ray instances on the machine are not ours)."""
import json
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from backend.data.corpus import bundled_corpus, cldr_corpus
from tests.support.ray_cluster import local_cluster

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
N = 1_500  # lines a side
SHARD_ROWS = 100  # 15 shards a side: a kill leaves some written, some missing


@pytest.fixture(scope="module")
def cluster():
    with local_cluster(nodes=2, num_cpus=1) as started:
        yield started


@pytest.fixture(scope="module")
def sides(tmp_path_factory):
    """Two sides of real text: bundled fr / en sentences (translations of each other) and CLDR names
    of one half of the locales against the other half."""
    cldr, bundled = cldr_corpus(), bundled_corpus()
    half = set(sorted(cldr.language_counts)[::2])
    left = [t for t, lang in zip(bundled.texts, bundled.langs) if lang == "fr"]
    right = [t for t, lang in zip(bundled.texts, bundled.langs) if lang == "en"]
    left += [t for t, lang in zip(cldr.texts, cldr.langs) if lang in half]
    right += [t for t, lang in zip(cldr.texts, cldr.langs) if lang not in half]
    folder = tmp_path_factory.mktemp("cluster-sides")
    for name, texts in (("src.txt", left), ("tgt.txt", right)):
        (folder / name).write_text("\n".join(list(dict.fromkeys(texts))[:N]) + "\n", encoding="utf-8")
    return folder / "src.txt", folder / "tgt.txt"


def _cache(registry, tmp_path_factory, name: str) -> Path:
    """A fresh cache with the prepared e5 model files of the session's (model files, not results)."""
    cache = tmp_path_factory.mktemp(name)
    for part in ("e5-converted", "openvino"):
        if (registry.settings.cache_dir / part).exists():
            (cache / part).symlink_to((registry.settings.cache_dir / part).resolve(), target_is_directory=True)
    return cache


def _mine(sides, out: Path, env: dict, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "backend.cli.mine", str(sides[0]), str(sides[1]),
                             "--out", str(out), *extra], cwd=str(ROOT), env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _shards(cache: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(cache)): (p.stat().st_ino, p.stat().st_mtime_ns)
            for p in sorted((cache / "vectors").glob("*/shard-*.npy"))}


def _pairs(path: Path) -> set[tuple[str, str]]:
    rows = path.read_text(encoding="utf-8").splitlines()[1:]
    return {tuple(row.split("\t")[1:3]) for row in rows}


def _nodes_of_tasks(cluster) -> dict[str, set[str]]:
    """Node ids by task or actor-method name, from the GCS's task records (Ray's own state; the
    dashboard's HTTP state API is not installed with requirements.txt)."""
    script = (
        "import json, ray, ray._private.state as s\n"
        f"ray.init(address={cluster['address']!r}, logging_level='ERROR', log_to_driver=False)\n"
        "out = {}\n"
        "for e in s.state._get_all_task_events():\n"
        "    name, node = e.task_info.func_or_class_name, e.state_updates.node_id.hex()\n"
        "    if node: out.setdefault(name, set()).add(node)\n"
        "print(json.dumps({k: sorted(v) for k, v in out.items()}))\n")
    done = subprocess.run([sys.executable, "-c", script], env=cluster["env"], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return {k: set(v) for k, v in json.loads(done.stdout.strip().splitlines()[-1]).items()}


def test_a_client_without_the_token_is_told_what_to_do(cluster):
    env = {k: v for k, v in cluster["env"].items() if k != "RAY_AUTH_TOKEN"}
    env.update(BABELSCOPE_RAY_ADDRESS=cluster["address"], HOME=tempfile.mkdtemp(prefix="bsnohome"))
    script = ("from backend.core.settings import load_settings\nfrom backend.vectors.store import ray_session\n"
              "from backend.core.errors import ModelUnavailable\n"
              "try:\n    ray_session(load_settings())\nexcept ModelUnavailable as exc:\n    print(exc)\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=str(ROOT), env=env, capture_output=True, text=True,
                          timeout=120)
    message = done.stdout.strip().splitlines()[-1]
    assert "Ray could not start" in message and "RAY_AUTH_MODE=token" in message and "RAY_AUTH_TOKEN" in message


def test_mining_on_a_two_node_cluster_resumes_after_sigkill_and_equals_in_process(
        cluster, sides, registry, tmp_path_factory):
    cache = _cache(registry, tmp_path_factory, "cluster-cache")
    env = {**cluster["env"], "BABELSCOPE_RAY_ADDRESS": cluster["address"], "BABELSCOPE_CACHE_DIR": str(cache),
           "BABELSCOPE_SHARD_ROWS": str(SHARD_ROWS), "BABELSCOPE_MINE_EXACT_MAX": "500", "BABELSCOPE_WARMUP": "0",
           "HF_HUB_OFFLINE": "1"}
    out = cache / "pairs.tsv"

    # 1. Killed with SIGKILL once a few shards are on disk.
    driver = _mine(sides, out, env)
    deadline = time.time() + 300
    while len(_shards(cache)) < 3 and driver.poll() is None and time.time() < deadline:
        time.sleep(0.2)
    assert driver.poll() is None, f"the run ended before it could be killed: {driver.communicate()[1][-2000:]}"
    driver.send_signal(signal.SIGKILL)
    driver.wait(timeout=60)
    finished = _shards(cache)
    assert 3 <= len(finished) < 2 * N // SHARD_ROWS and not out.exists()
    assert not list((cache / "vectors").glob("*/*.tmp"))  # nothing half-written

    # 2. The rerun computes only what is missing, and finishes.
    again = _mine(sides, out, env)
    stdout, stderr = again.communicate(timeout=600)
    assert again.returncode == 0, stderr[-3000:]
    summary = json.loads(stdout)
    assert summary["engine"] == "ray" and summary["n_source"] == summary["n_target"] == N
    after = _shards(cache)
    assert len(after) == 2 * N // SHARD_ROWS
    assert {name: after[name] for name in finished} == finished  # same inode, same mtime: not recomputed

    # 3. Both nodes worked: the encoder actors and the k-NN tasks (Ray's records).
    nodes = _nodes_of_tasks(cluster)
    encoders = set().union(*(v for k, v in nodes.items() if "RayRows" in k))
    searches = set().union(*(v for k, v in nodes.items() if "_search_block" in k))
    assert len(encoders) == 2, nodes  # an actor per node: each node has one CPU
    assert searches and len(encoders | searches) == 2, nodes

    # 4. The same pairs as an in-process run from an empty cache.
    local_cache = _cache(registry, tmp_path_factory, "cluster-local")
    local_env = {k: v for k, v in env.items() if k not in ("BABELSCOPE_RAY_ADDRESS", "BABELSCOPE_MINE_EXACT_MAX")}
    local_env["BABELSCOPE_CACHE_DIR"] = str(local_cache)
    local = _mine(sides, local_cache / "pairs.tsv", local_env, "--engine", "in-process")
    stdout, stderr = local.communicate(timeout=600)
    assert local.returncode == 0, stderr[-3000:]
    assert json.loads(stdout)["engine"] == "in-process"
    pairs, local_pairs = _pairs(out), _pairs(local_cache / "pairs.tsv")
    assert len(pairs) > 200 and pairs == local_pairs
