# Two commands do all the set-up on a fresh clone:
#   make demo   generate the demo business, ingest it over HTTP, and serve the app
#   make test   lint, type-check and run the whole test suite
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml scripts/setup.sh tests/node/package.json
	bash scripts/setup.sh
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/touchpath demo

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) tests/node/node_modules
