# Two set-up commands: `make run` and `make test`. Each creates .venv and installs what it needs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SC := $(VENV)/bin/socialcredit

.PHONY: run test bench lint clean

$(VENV)/.base: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e .
	touch $@

$(VENV)/.dev: $(VENV)/.base
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

# Browser tests drive Debian's Chromium through Playwright (never a browser Playwright downloads).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
$(VENV)/.browser: $(VENV)/.base
	command -v chromium >/dev/null || { $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q chromium; }
	touch $@

run: $(VENV)/.base
	$(SC) demo --out runs/demo

test: $(VENV)/.dev $(VENV)/.browser
	$(VENV)/bin/ruff check src tests bench
	$(PY) -m pytest -n 2 -q

bench: $(VENV)/.dev
	$(PY) bench/run_all.py

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench

clean:
	rm -rf $(VENV) runs .pytest_cache
