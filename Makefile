# Two commands do everything on a machine with only Python 3.11, pip and make:
#   make run   - venv, install, migrate the SQLite default, load the demo catalogue, serve on :8000
#   make test  - venv, install with dev tools, lint, type-check and run the whole suite
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test test-browser pytest lint install install-dev bench bench-inprocess bench-worst schema clean

$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "videolib needs Python 3.11 or newer: run make PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)

# The stamps re-run the install whenever pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

run: install
	$(PY) server.py migrate
	$(PY) server.py seed-demo
	$(PY) server.py serve --host $(HOST) --port $(PORT)

test: install-dev lint pytest

# GraphiQL in Debian's chromium with no network but the local server (tests/test_browser.py).
# Needs root for apt-get the first time, node >= 20 and npm.
test-browser: install-dev
	@command -v chromium >/dev/null || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; }
	cd tests/browser && npm ci --no-audit --no-fund
	VIDEOLIB_BROWSER_TESTS=1 $(PY) -m pytest -m browser tests/test_browser.py

pytest: install-dev
	$(PY) -m pytest

lint: install-dev
	$(PY) -m ruff check .
	$(PY) -m mypy

schema: install
	$(PY) server.py export-schema > schema.graphql

# A large catalogue in a throwaway MariaDB database (created and dropped), the real server and a
# hand-written floor under uvicorn, driven over loopback (benchmarks/). Options through BENCH_ARGS,
# e.g. make bench BENCH_ARGS="--database-url sqlite --seconds 10".
bench: install-dev
	$(PY) -m benchmarks $(BENCH_ARGS)

# The costliest requests within the default limits, as server CPU and database time (benchmarks/worst.py).
bench-worst: install-dev
	$(PY) -m benchmarks.worst $(BENCH_ARGS)

# The older in-process ratios (tests/bench.py).
bench-inprocess: install-dev
	$(PY) -m tests.bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
