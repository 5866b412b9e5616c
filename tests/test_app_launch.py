"""`python app.py` serves where Gradio's standard variables say (docs/deploy.md)."""
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.support.network import free_port
from ui.layout import server_options

ROOT = Path(__file__).resolve().parent.parent


def test_server_options_read_gradio_variables():
    assert server_options({}) == {"server_name": "127.0.0.1", "server_port": 7860}
    assert server_options({"GRADIO_SERVER_PORT": " 8123 ", "GRADIO_SERVER_NAME": "0.0.0.0"}) == {
        "server_name": "0.0.0.0", "server_port": 8123}
    for bad in ("http", "0", "70000"):
        with pytest.raises(ValueError, match="GRADIO_SERVER_PORT"):
            server_options({"GRADIO_SERVER_PORT": bad})


def test_app_py_answers_on_gradio_server_port(tmp_path):
    port = free_port()
    env = {**os.environ, "GRADIO_SERVER_PORT": str(port), "GRADIO_SERVER_NAME": "127.0.0.1",
           "GRADIO_ANALYTICS_ENABLED": "False", "BABELSCOPE_CACHE_DIR": str(tmp_path), "BABELSCOPE_WARMUP": "0"}
    log = (tmp_path / "app.log").open("wb")
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline, answer = time.monotonic() + 240, None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/config", timeout=5) as response:
                    answer = response.status, response.read()
                break
            except OSError:
                time.sleep(0.5)
        assert answer is not None, (tmp_path / "app.log").read_text(errors="replace")[-2000:]
        status, body = answer
        assert status == 200 and b"Babelscope" in body
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
