# The two commands of the README:
#   make dev    installs minilogin and starts the demo (minilogin dev)
#   make test   installs everything the tests need and runs the whole suite
# Both install exactly what uv.lock names; `make lock` upgrades the lock on purpose.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# uv itself is pinned and bootstrapped with pip into a folder of its own, so a fresh machine
# needs nothing but Python.
UV_VERSION := 0.13.10
TOOLS := .tools
UV := $(TOOLS)/bin/uv
export UV_PROJECT_ENVIRONMENT := $(VENV)
export UV_PYTHON := $(shell command -v $(PYTHON))

.PHONY: dev test install install-test install-examples system-deps lint typecheck pytest node-test compose-config bench lock

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION)

install: $(UV)
	$(UV) sync --frozen --inexact --quiet

# What examples/relying_party needs beside minilogin (the `examples` extra).
install-examples: $(UV)
	$(UV) sync --frozen --inexact --extra examples --quiet

install-test: $(UV) system-deps
	$(UV) sync --frozen --extra test --extra examples --quiet
	# TypeScript, exactly as its lock names it, to type-check the SDK's minilogin.d.ts.
	npm ci --prefix tests/js/typecheck --no-audit --no-fund --loglevel=error

lock: $(UV)
	$(UV) lock --upgrade

system-deps:
	./scripts/install-system-deps.sh

dev: install
	$(BIN)/minilogin dev

lint:
	$(BIN)/ruff check src tests bench examples miniprogram
	$(BIN)/ruff format --check src tests bench examples miniprogram
	$(BIN)/lint-imports --no-cache

typecheck:
	$(BIN)/mypy

# Two processes (pytest-xdist), each given whole test files, so that a module's fixtures are
# made once, as in a plain run. Much of a test's time is spent waiting on the servers, browsers
# and databases it starts; meanwhile the other worker's tests use the cores.
pytest:
	$(BIN)/pytest -q -n 2 --dist loadfile

node-test:
	./scripts/node-test.sh

# compose.yaml is valid Compose: checked with the compose plugin, else Debian's docker-compose
# (scripts/install-system-deps.sh installs it). Neither needs a running Docker engine.
compose-config:
	@if docker compose version >/dev/null 2>&1; then docker compose -f compose.yaml config --quiet; \
	else docker-compose -f compose.yaml config --quiet; fi

test: install-test lint typecheck node-test compose-config pytest

bench: install-test
	$(BIN)/python bench/run.py
