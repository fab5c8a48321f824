# The two commands of the README:
#   make dev    installs minilogin and starts the demo (minilogin dev)
#   make test   installs everything the tests need and runs the whole suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: dev test install install-test system-deps lint typecheck pytest node-test bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e .

install-test: $(BIN)/python system-deps
	$(BIN)/pip install --quiet -e ".[test]"

system-deps:
	./scripts/install-system-deps.sh

dev: install
	$(BIN)/minilogin dev

lint:
	$(BIN)/ruff check src tests bench examples miniprogram
	$(BIN)/ruff format --check src tests bench examples miniprogram

typecheck:
	$(BIN)/mypy

pytest:
	$(BIN)/pytest -q

node-test:
	./scripts/node-test.sh

test: install-test lint typecheck node-test pytest

bench: install-test
	$(BIN)/python bench/run.py
