# Portico: the two commands are `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help
unexport PYTHONDONTWRITEBYTECODE

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
export UV_PYTHON_DOWNLOADS := never

# Tests use the machine's local PostgreSQL and Redis unless DATABASE_URL / REDIS_URL are set.
TEST_DATABASE_URL ?= $(or $(DATABASE_URL),postgresql://postgres@127.0.0.1:5432/portico)
TEST_REDIS_URL ?= $(or $(REDIS_URL),redis://127.0.0.1:6379/15)
TEST_SECRET_KEY := portico-test-only-secret-key-0123456789-abcdefghijklmnop
# Test processes in parallel (pytest-xdist): one a CPU by default, at most eight (each takes a
# database of its own and a Redis database counting down from the one configured).
TEST_PROCESSES ?= auto

.PHONY: help run test lint format bench vendor lock venv clean

help:
	@echo "make run    run Portico with demo data at http://127.0.0.1:8000"
	@echo "make test   lint, types, checks and the whole test suite"
	@echo "make bench  performance benchmarks (figures go to docs/benchmarks.md)"
	@echo "make lock   re-lock dependencies after editing pyproject.toml"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(UV): | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv

$(VENV)/.synced: requirements-dev.lock | $(UV)
	$(UV) pip sync --quiet --python $(BIN)/python requirements-dev.lock
	touch $@

venv: $(VENV)/.synced

run: venv
	$(BIN)/python -m portico.quickstart

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# mypy too is given the environment: its django-stubs plugin loads the settings.
test: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) SECRET_KEY=$(TEST_SECRET_KEY) \
		$(BIN)/mypy
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) SECRET_KEY=$(TEST_SECRET_KEY) \
		$(BIN)/python manage.py check
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) SECRET_KEY=$(TEST_SECRET_KEY) \
		$(BIN)/python manage.py makemigrations --check --dry-run
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) \
		SECRET_KEY=$(TEST_SECRET_KEY) $(BIN)/pytest -n $(TEST_PROCESSES) --maxprocesses 8 --durations=30 $(PYTEST_ARGS)

bench: venv
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) SECRET_KEY=$(TEST_SECRET_KEY) \
		$(BIN)/python -m benchmarks

lock: | $(UV)
	$(UV) pip compile --quiet pyproject.toml -o requirements.lock
	$(UV) pip compile --quiet pyproject.toml --extra dev -o requirements-dev.lock

vendor:
	tmp=$$(mktemp -d) && cd $$tmp && npm pack --silent htmx.org@2.0.8 @picocss/pico@2.1.1 >/dev/null \
	  && for f in *.tgz; do tar xzf $$f --one-top-level=$${f%.tgz}; done && cd - >/dev/null \
	  && cp $$tmp/htmx.org-2.0.8/package/dist/htmx.min.js static/vendor/htmx/ \
	  && cp $$tmp/picocss-pico-2.1.1/package/css/pico.min.css static/vendor/pico/ \
	  && rm -rf $$tmp

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache
