#!/usr/bin/env bash
# Installs everything Touchpath's demo and tests need: a virtualenv with the package and its dev
# extras, Debian's chromium (browser tests), curl and jq (the docs' examples),
# @segment/analytics-node (SDK tests), and the web app (src/touchpath/web/ui, built by
# scripts/build_ui.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}

if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet -e ".[dev]"

if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian's chromium for the browser tests"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "chromium is missing and cannot be installed here (not root): browser tests will fail" >&2
  fi
fi

# curl and jq: the docs' REST examples run as tests (tests/test_docs_run.py) and use both.
for tool in curl jq; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      echo "installing Debian's $tool for the docs' examples"
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$tool" >/dev/null
    else
      echo "$tool is missing and cannot be installed here (not root): docs tests will fail" >&2
    fi
  fi
done

if command -v npm >/dev/null 2>&1; then
  (cd tests/node && npm install --no-audit --no-fund --silent)
else
  echo "npm is missing: the @segment/analytics-node tests will fail" >&2
fi

# The web app: npm ci, types from the server's OpenAPI, tsc, vite build (skipped when unchanged).
VENV="$VENV" bash scripts/build_ui.sh
