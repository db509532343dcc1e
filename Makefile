# Partnership follow-up. Quick start: `make run`, `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app app
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
STAMP := $(VENV)/.installed
# Parallel test workers (pytest-xdist): `auto` is one per core. Whole files stay on one worker
# (--dist loadfile) so module fixtures such as the demo programme are built once.
TEST_WORKERS ?= auto
XDIST := -n $(TEST_WORKERS) --dist loadfile

.PHONY: run test test-fast test-sqlite test-postgres lint lock typecheck format bench install clean

# Installs exactly what requirements.lock pins (hashes checked), then this project without
# resolving again. pyproject.toml keeps the ranges; `make lock` pins them anew.
$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

## Pin every dependency (with hashes) from the ranges in pyproject.toml.
lock:
	test -x $(BIN)/pip-compile || $(BIN)/python -m pip install --quiet pip-tools
	$(BIN)/pip-compile --quiet --generate-hashes --extra dev --strip-extras --allow-unsafe \
	  --no-emit-index-url --no-emit-find-links \
	  -o requirements.lock pyproject.toml

## Type check app/ (mypy settings in pyproject.toml).
typecheck: $(STAMP)
	$(BIN)/mypy

## Serve on http://127.0.0.1:5000 with the scheduler inside; demo data on first run.
run: $(STAMP)
	$(FLASK) db upgrade
	DEMO_MODE=1 $(FLASK) demo load --if-empty
	SCHEDULER_ENABLED=1 SESSION_COOKIE_SECURE=0 DEMO_MODE=1 \
	  $(FLASK) run --host 127.0.0.1 --port 5000 --no-reload

## Lint, then the whole suite on SQLite (with the browser tests), then on PostgreSQL (all but
## the browser tests and the tests that make their own SQLite database: they would repeat).
test: $(STAMP) lint test-sqlite test-postgres

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## Rules and operations on SQLite: the quick loop while changing logic (under a minute).
test-fast: $(STAMP)
	$(BIN)/pytest -q $(XDIST) tests/rules tests/operations

test-sqlite: $(STAMP)
	$(BIN)/pytest -q $(XDIST)

test-postgres: $(STAMP)
	@if $(BIN)/python -c "import psycopg,sys; psycopg.connect('$(PG_TEST_URL)'.replace('+psycopg',''), connect_timeout=3).close()" 2>/dev/null; then \
	  TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest -q $(XDIST) -m "not browser and not own_database"; \
	elif [ "$$CI" = "true" ]; then \
	  echo "PostgreSQL is required in CI but $(PG_TEST_URL) is not reachable" >&2; exit 1; \
	else \
	  echo "PostgreSQL not reachable at $(PG_TEST_URL): skipping the PostgreSQL run"; \
	fi

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) instance/*.db .pytest_cache test-output
