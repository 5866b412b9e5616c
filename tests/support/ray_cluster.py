"""A real local Ray cluster as an operator starts one: `ray start --head` and `ray start --address`
as separate processes on free ports, with token authentication (Ray 2.60's default for `ray start`).
Used by tests/backend/test_ray_cluster.py and bench/cluster.py. The cluster is stopped by the session
ids of the processes started here, never `ray stop` (other Ray instances on the machine are not ours)."""
from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.support.network import free_port

RAY = str(Path(sys.executable).with_name("ray"))


def _node_args(num_cpus: int, object_store_mb: int) -> list[str]:
    ports = ("--node-manager-port", "--object-manager-port", "--runtime-env-agent-port",
             "--dashboard-agent-grpc-port", "--dashboard-agent-listen-port", "--metrics-export-port")
    args = [arg for name in ports for arg in (name, str(free_port()))]
    return args + ["--num-cpus", str(num_cpus), "--node-ip-address", "127.0.0.1", "--disable-usage-stats",
                   "--object-store-memory", str(object_store_mb * 1024 * 1024)]


def _ours(sessions: set[int]) -> list[int]:
    """Pids of live processes in the sessions started here (``ray start`` daemonises its children)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[3]) in sessions and fields[0] != "Z":  # field 6 of stat: the session id
            pids.append(int(entry.name))
    return pids


def _stop(sessions: set[int]) -> None:
    for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
        for pid in _ours(sessions):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.time() + wait
        while _ours(sessions) and time.time() < deadline:
            time.sleep(0.5)


@contextlib.contextmanager
def local_cluster(nodes: int = 2, num_cpus: int = 1, object_store_mb: int = 200):
    """A head and ``nodes - 1`` workers, each with ``num_cpus`` CPUs and a fresh token; yields
    {"address", "token", "env"} (env: os.environ plus the token settings a client needs)."""
    token = secrets.token_hex(32)
    env = {**os.environ, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": token}
    temp = tempfile.mkdtemp(prefix="bsray")  # short: Ray's socket paths must fit in 107 bytes
    gcs = free_port()
    sessions: set[int] = set()
    logs = Path(temp) / "start.log"
    try:
        head = ["--head", "--port", str(gcs), "--include-dashboard=false", "--temp-dir", temp]
        for args in [head] + [["--address", f"127.0.0.1:{gcs}"]] * (nodes - 1):
            with logs.open("a") as log:
                started = subprocess.Popen([RAY, "start", *args, *_node_args(num_cpus, object_store_mb)], env=env,
                                           stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            sessions.add(started.pid)
            if started.wait(timeout=180) != 0:
                raise RuntimeError(f"ray start failed:\n{logs.read_text()[-3000:]}")
        yield {"address": f"127.0.0.1:{gcs}", "token": token, "env": env}
    finally:
        _stop(sessions)
        subprocess.run(["rm", "-rf", temp], check=False)
