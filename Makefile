# Two commands do all the set-up on a fresh clone:
#   make demo   generate the demo business, ingest it over HTTP, and serve the app
#   make test   lint, type-check and run the whole test suite
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
UI := src/touchpath/web/ui

.PHONY: demo test lint ui bench clean

$(STAMP): pyproject.toml scripts/setup.sh scripts/build_ui.sh tests/node/package.json $(UI)/package-lock.json
	bash scripts/setup.sh
	touch $(STAMP)

# The web app: rebuilt when its files or the server's OpenAPI document changed (else a no-op).
ui: $(STAMP)
	bash scripts/build_ui.sh

demo: $(STAMP) ui
	$(BIN)/touchpath demo

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

test: lint ui
	$(UI)/node_modules/.bin/vitest run --root $(UI)
	$(BIN)/pytest -n 2 --dist loadfile

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) tests/node/node_modules $(UI)/node_modules $(UI)/dist
