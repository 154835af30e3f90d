# PolicyBot: `make run` and `make test` do all set-up on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# Every dependency pinned: what the tests ran with. `make lock` refreshes it.
LOCK := requirements.lock
# `make run` and `make index` read settings from .env when there is one (see .env.example).
DOTENV := set -a; [ ! -f .env ] || . ./.env; set +a;

.PHONY: install index run test lint bench bench-scale clean lock

$(STAMP): pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

index: install
	@$(DOTENV) $(BIN)/policybot reload

run: index
	@$(DOTENV) $(BIN)/policybot run

test: install
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check bot adapters policybot tests scripts
	$(BIN)/ruff format --check bot adapters policybot tests scripts
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache --no-logo

bench: index
	$(BIN)/python scripts/bench.py

# The library at 1x, 10x and 80x the shipped one (half an hour on 2 cores); SCALES=1,10 is
# quicker, ARGS=--json prints JSON.
SCALES ?= 1,10,80
bench-scale: install
	$(BIN)/python scripts/bench_scale.py --scales $(SCALES) $(ARGS)

# The newest releases pyproject.toml allows, pinned; run `make test` after it.
lock: install
	$(BIN)/python -m pip install --quiet pip-tools
	$(BIN)/pip-compile --quiet --upgrade --extra dev --strip-extras --allow-unsafe \
		--no-emit-index-url --no-emit-find-links --no-header --no-annotate -o $(LOCK) pyproject.toml

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
