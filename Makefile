# Two commands for a fresh machine: `make demo` and `make test`. Both create .venv and install what they
# need, idempotently (system packages only when missing, Python packages only when pyproject.toml changed).
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test lint bench samples system-deps screenshots

# The samples go into the embedded default store (~/.local/share/callqa/callqa.db): a second run finds them done.
demo: $(STAMP)
	$(VENV)/bin/callqa batch samples/
	$(VENV)/bin/callqa calls list

test: $(STAMP) system-deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: $(STAMP)
	$(PY) -m bench.transcribe
	$(PY) -m bench.scoring

# ffmpeg and sox make the test fixtures in other formats (M4A, OGG, FLAC; AMR-NB needs sox with
# libopencore-amrnb, as Debian's ffmpeg decodes AMR but cannot encode it); callqa itself decodes with PyAV.
SYSTEM_PACKAGES := ffmpeg sox libsox-fmt-all libopencore-amrnb0
system-deps:
	@dpkg -s $(SYSTEM_PACKAGES) >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(SYSTEM_PACKAGES); }

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

# Regenerating the sample calls needs the TTS voices (large; never part of the runtime install).
samples:
	bash samples/setup_tts.sh
	.venv-tts/bin/python samples/generate.py

# The pages' screenshots in docs/screenshots/ (shown in the README): the samples scored into a temporary database,
# served by `callqa serve`, photographed by Debian's Chromium through Playwright (a CJK font, or the Chinese
# labels are empty boxes).
SCREENSHOT_PACKAGES := chromium fonts-wqy-microhei
screenshots: $(STAMP)
	@dpkg -s $(SCREENSHOT_PACKAGES) >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(SCREENSHOT_PACKAGES); }
	$(PY) docs/screenshots.py
