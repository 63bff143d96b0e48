# liveloop: `make run` starts it with demo data; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
ASSETS := src/liveloop/web/static/vendor/.built
TEST_DB ?= $(LIVELOOP_TEST_DATABASE_URL)
TEST_REDIS ?= $(LIVELOOP_TEST_REDIS_URL)
PYTEST_ARGS ?=

.PHONY: run test check bench install assets lock format clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(INSTALLED): requirements.lock pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

install: $(INSTALLED)

# Browser packages come from npm at install time (package-lock.json); never committed.
$(ASSETS): package.json package-lock.json scripts/vendor.mjs
	@command -v npm >/dev/null || { echo "npm is needed for the browser packages: apt-get install -y nodejs npm"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	npm run --silent build
	touch $@

assets: $(ASSETS)

run: install assets
	$(BIN)/liveloop db upgrade
	$(BIN)/liveloop demo seed
	LIVELOOP_DEMO_HOST=$${LIVELOOP_DEMO_HOST:-true} $(BIN)/liveloop serve $(SERVE_ARGS)

# The suite runs once on the embedded stack (SQLite, in-process) and, when
# LIVELOOP_TEST_DATABASE_URL and LIVELOOP_TEST_REDIS_URL are set, again on PostgreSQL + Redis.
test: install assets
	$(BIN)/pytest $(PYTEST_ARGS)
	@if [ -n "$(TEST_DB)" ] || [ -n "$(TEST_REDIS)" ]; then \
	  echo "== production stack: PostgreSQL + Redis =="; \
	  LIVELOOP_TEST_STACK=production $(BIN)/pytest $(PYTEST_ARGS); \
	else \
	  echo "(set LIVELOOP_TEST_DATABASE_URL and LIVELOOP_TEST_REDIS_URL to also test on PostgreSQL and Redis)"; \
	fi

check: install
	$(BIN)/ruff format --check src tests bench
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

format: install
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

bench: install
	@for b in $$(ls bench/*.py | grep -v __init__); do \
	  m=bench.$$(basename $$b .py); echo "== $$m"; $(BIN)/python -m $$m || exit 1; done

# Re-resolve the locked versions after editing pyproject.toml.
lock: | $(BIN)/python
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 -q -o requirements.lock

clean:
	rm -rf $(VENV) node_modules src/liveloop/web/static/vendor var .pytest_cache .mypy_cache .ruff_cache
