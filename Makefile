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
# `make run` loads the demo story (idempotent); DEMO=0 serves the database as it is.
DEMO ?= 1
# The browser tests (tests/pages) drive Debian's Chromium; Playwright's own download is
# not reachable from our machines.
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

export DATABASE_URL

.PHONY: run migrate test test-postgres contract lint typecheck bench clean browser messages

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
	@if [ "$(DEMO)" != 0 ]; then $(BIN)/relief demo; fi
	@echo "Donor pages: http://$(HOST):$(PORT)/   API docs: http://$(HOST):$(PORT)/docs"
	@# Plain-text log lines for a person at a terminal (production logs JSON lines); the
	@# service writes one access line per request, so uvicorn's own is off.
	LOG_FORMAT=$${LOG_FORMAT:-text} $(BIN)/uvicorn app.main:app --host $(HOST) --port $(PORT) --no-access-log

# Debian's Chromium for the browser tests, installed when missing.
browser:
	@[ -x $(CHROMIUM) ] || { $(SUDO) apt-get update && $(SUDO) apt-get install -y chromium; }

# After editing a page template: bring the .po catalogs in line (then translate the new
# Vietnamese entries; tests/pages/test_pages.py checks that none is missing).
messages: $(STAMP)
	$(BIN)/pybabel extract -F app/pages/babel.cfg --no-location --omit-header -o app/pages/locale/messages.pot app/pages
	$(BIN)/pybabel update -D messages -i app/pages/locale/messages.pot -d app/pages/locale --no-fuzzy-matching --ignore-obsolete

test: $(STAMP) browser
	RELIEF_TEST_DATABASE=sqlite $(BIN)/pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

test-postgres: $(STAMP) browser
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
