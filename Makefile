# PolicyBot: `make run` and `make test` do all set-up on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# `make run` and `make index` read settings from .env when there is one (see .env.example).
DOTENV := set -a; [ ! -f .env ] || . ./.env; set +a;

.PHONY: install index run test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

index: install
	@$(DOTENV) $(BIN)/policybot reload

run: index
	@$(DOTENV) $(BIN)/policybot run

test: install
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check bot adapters tests scripts
	$(BIN)/ruff format --check bot adapters tests scripts
	$(BIN)/mypy

bench: index
	$(BIN)/python scripts/bench.py

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
