# equitoken — two commands on a fresh clone: `make demo` and `make test`.
# Each builds the local virtualenv from nothing when needed (it is rebuilt when pyproject.toml changes).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PYTEST_ARGS ?= -n 2

.PHONY: setup demo test lint typecheck imports bench bench-quick crash lab serve services anvil browser page clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

## The main job on the embedded defaults (SQLite, simulated broker over bundled real prices).
demo: setup
	$(BIN)/equitoken demo

## The whole suite: import rule, lint, types, then unit, property, conformance and integration tests.
test: setup services anvil browser imports lint typecheck
	$(BIN)/pytest $(PYTEST_ARGS)

imports: setup
	$(BIN)/lint-imports

lint: setup
	$(BIN)/ruff check src tests

typecheck: setup
	$(BIN)/mypy

## Serve the REST API on the embedded defaults: a sandbox on Thanksgiving week 2012 at 60x (docs at /docs).
serve: setup
	$(BIN)/equitoken serve --sandbox --from 2012-11-19 --speed 60

## Start the services the integration tests use (PostgreSQL), when this machine has them.
services:
	@scripts/services.sh

## Install the anvil EVM node from the npm registry into .tools/ (the JSON-RPC chain tests run on it).
## Locally a failed install only warns (those tests then skip); under CI=true it fails the run.
anvil:
	@scripts/install-anvil.sh >/dev/null || { [ "$${CI:-}" != true ] && \
	  echo "anvil: could not install; the JSON-RPC chain tests will skip" >&2; }

## Install Debian's chromium and chromium-driver when missing (the transparency page's browser tests and
## its bench row drive them). Locally a failed install only warns (those tests then skip); under CI=true
## it fails the run.
browser:
	@scripts/install-browser.sh || { [ "$${CI:-}" != true ] && \
	  echo "browser: could not install chromium; the browser tests will skip" >&2; }

## Rebuild the transparency page's script from web/ and its lock file (npm ci + esbuild) into
## src/equitoken/api/static/, with web/LICENSES.md and web/bundle.sha256; commit the three.
page:
	@scripts/build-page.sh

## Kill the engine with SIGKILL at random points of seeded flows (a delay, after the Nth chain send,
## inside or after the Nth store commit), restart it until each flow completes, and compare with an
## uninterrupted run: SQLite + the durable embedded chain (25 seeds x 10 kills), then PostgreSQL + anvil;
## then the same through HTTP: `equitoken serve` killed mid-request and the client retrying with its keys.
## Prints kills, restarts, orders and mismatches; exits non-zero on any mismatch (every mode always runs).
CRASH_ARGS ?= --orders 20 --tick-hours 6
crash: setup services anvil
	@status=0; \
	$(BIN)/python -m equitoken.harness.crash --mode sqlite --seeds 25 --kills 10 $(CRASH_ARGS) \
	  --report crash-sqlite.json || status=1; \
	$(BIN)/python -m equitoken.harness.crash --mode postgres --seeds 3 --kills 8 $(CRASH_ARGS) \
	  --report crash-postgres.json || status=1; \
	$(BIN)/python -m equitoken.harness.http_crash --seeds 3 --steps 80 --kills 12 \
	  --report crash-http.json || status=1; \
	$(BIN)/python -m equitoken.harness.scaleout --seed 3 --steps 80 --kills 4 || status=1; \
	exit $$status

## The README's lab figures: GME's squeeze (Jan–Mar 2021) and a year of AAPL (2013) through the three
## models, each sized by search, on every local core (long: tens of minutes on 2 cores). Writes
## lab-report/{gme,year}/ (run.json, charts, report.html).
lab: setup
	$(BIN)/equitoken lab run gme-2021q1 --out lab-report/gme
	$(BIN)/equitoken lab run yearly-2012-2014/AAPL-2013 --out lab-report/year

bench: setup services anvil browser
	$(BIN)/equitoken bench all --save bench-results/latest.json

bench-quick: setup services anvil browser
	$(BIN)/equitoken bench all --quick

clean:
	rm -rf $(VENV) .tools .pytest_cache .mypy_cache .ruff_cache .hypothesis .equitoken bench-results crash-*.json lab-report
