# Two set-up commands: `make run` and `make test`. Each creates .venv and installs what it needs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SC := $(VENV)/bin/socialcredit

.PHONY: run test bench lint clean postgres

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

# PostgreSQL for the storage and service suites: Debian's server, its cluster started by
# pg_ctlcluster (the server runs as the postgres user, on loopback), a role and a database for the
# tests; `make test` passes their URL to pytest as SOCIALCREDIT_TEST_PG (set it to use another).
PG_TEST := socialcredit_test
PG_AS := $(shell [ "$$(id -u)" = 0 ] && echo runuser -u postgres -- || echo sudo -u postgres)
PG_PORT = $$(pg_lsclusters -h | awk 'NR == 1 {print $$3}')
PG_URL = postgresql+psycopg://$(PG_TEST):$(PG_TEST)@127.0.0.1:$(PG_PORT)/$(PG_TEST)
$(VENV)/.postgres: $(VENV)/.base
	ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || { $(SUDO) apt-get update -q && \
	  $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql; }
	touch $@

postgres: $(VENV)/.postgres
	pg_lsclusters -h | grep -q . || $(SUDO) pg_createcluster $$(ls /usr/lib/postgresql | sort -V | tail -1) main
	set -- $$(pg_lsclusters -h | head -1); case "$$4" in online*) ;; *) $(SUDO) pg_ctlcluster $$1 $$2 start;; esac
	cd /tmp && $(PG_AS) psql -p $(PG_PORT) -qAtc "SELECT 1 FROM pg_roles WHERE rolname = '$(PG_TEST)'" | grep -q 1 \
	  || $(PG_AS) psql -p $(PG_PORT) -qc "CREATE ROLE $(PG_TEST) LOGIN PASSWORD '$(PG_TEST)'"
	cd /tmp && $(PG_AS) psql -p $(PG_PORT) -qc "ALTER ROLE $(PG_TEST) SET synchronous_commit = off"
	cd /tmp && $(PG_AS) psql -p $(PG_PORT) -qAtc "SELECT 1 FROM pg_database WHERE datname = '$(PG_TEST)'" | grep -q 1 \
	  || $(PG_AS) createdb -p $(PG_PORT) -O $(PG_TEST) $(PG_TEST)

run: $(VENV)/.base
	$(SC) demo --out runs/demo

test: $(VENV)/.dev $(VENV)/.browser postgres
	$(VENV)/bin/ruff check src tests bench
	SOCIALCREDIT_TEST_PG="$${SOCIALCREDIT_TEST_PG:-$(PG_URL)}" $(PY) -m pytest -n 2 -q

bench: $(VENV)/.dev postgres
	SOCIALCREDIT_BENCH_PG="$${SOCIALCREDIT_BENCH_PG:-$(PG_URL)}" $(PY) bench/run_all.py

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench

clean:
	rm -rf $(VENV) runs .pytest_cache

# Long fuzzing (issue #16): the fuzz, crash and security tests under the `fuzz` hypothesis profile
# (SOCIALCREDIT_FUZZ_EXAMPLES examples per property, default 2000; more kills in the crash tests).
# Figures (inputs tried, crashes, records lost) go to bench/results/fuzz.json; docs/security.md
# summarises the last run.
FUZZ_TESTS := tests/test_fuzz_ingest.py tests/test_fuzz_api.py tests/test_fuzz_corpus.py \
	tests/test_crash_safety.py tests/test_security_access.py tests/test_security_abuse.py
.PHONY: fuzz
fuzz: $(VENV)/.dev
	rm -f bench/results/fuzz.json
	SOCIALCREDIT_FUZZ=1 $(PY) -m pytest -n 2 --dist loadfile -q -p no:cacheprovider $(FUZZ_TESTS); \
	status=$$?; \
	$(PY) -c 'import sys; sys.path.insert(0, "tests"); import fuzz_helpers; fuzz_helpers.update_security_doc()'; \
	exit $$status
