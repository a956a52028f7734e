# Everything a newcomer needs: `make run` serves the API, `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DATABASE_URL ?= sqlite:///./relief.db
TEST_POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/postgres
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=
# The suite runs on both cores (pytest-xdist): each worker has its own databases.
TEST_WORKERS ?= 2

export DATABASE_URL

.PHONY: run migrate test test-postgres contract lint typecheck bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

migrate: $(STAMP)
	$(BIN)/alembic upgrade head

run: migrate
	@$(BIN)/relief keys hint
	@# A development signing key (0600) for the transparency log; kept across runs.
	@$(BIN)/relief signing-key create --if-missing
	@# Plain-text log lines for a person at a terminal (production logs JSON lines); the
	@# service writes one access line per request, so uvicorn's own is off.
	LOG_FORMAT=$${LOG_FORMAT:-text} $(BIN)/uvicorn app.main:app --host $(HOST) --port $(PORT) --no-access-log

test: $(STAMP)
	RELIEF_TEST_DATABASE=sqlite $(BIN)/pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

test-postgres: $(STAMP)
	RELIEF_TEST_DATABASE=postgresql TEST_POSTGRES_URL='$(TEST_POSTGRES_URL)' $(BIN)/pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

# The API contract: schemathesis over every operation of /openapi.json against a live
# server on a migrated throw-away database, SQLite then PostgreSQL (tests/support/contract.py).
contract: $(STAMP)
	$(BIN)/python -m tests.support.contract sqlite
	TEST_POSTGRES_URL='$(TEST_POSTGRES_URL)' $(BIN)/python -m tests.support.contract postgresql

# ruff, then the layers of docs/architecture.md (import-linter contracts in pyproject.toml).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy app

bench: $(STAMP)
	$(BIN)/python -m bench.reconciliation

clean:
	rm -rf $(VENV) relief.db relief.db-wal relief.db-shm .pytest_cache .mypy_cache .ruff_cache .hypothesis
