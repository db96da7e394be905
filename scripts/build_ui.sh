#!/usr/bin/env bash
# Builds the web app (src/touchpath/web/ui) into its dist/: installs the locked node packages,
# writes the server's OpenAPI document and generates the client's types from it
# (openapi-typescript), type-checks (tsc) and bundles (vite). Skips the work when neither the
# client's files nor the OpenAPI document changed since the last build.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PY="$ROOT/${VENV:-.venv}/bin/python"
cd src/touchpath/web/ui

if ! command -v npm >/dev/null 2>&1; then
  echo "npm is missing: the web app cannot be built (install node 20+ and npm)" >&2
  exit 1
fi
if ! cmp -s package-lock.json node_modules/.touchpath-lock 2>/dev/null; then
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json node_modules/.touchpath-lock
fi

# The small Python step: the OpenAPI document of the app as it is now.
"$PY" -c 'import json, sys
from touchpath.web import create_app
json.dump(create_app().openapi(), sys.stdout, indent=1, sort_keys=True)' > openapi.json

inputs=$( { cat openapi.json package-lock.json index.html tsconfig.json vite.config.ts;
  find src public -type f ! -name schema.d.ts | LC_ALL=C sort | xargs cat; } | sha256sum | cut -d' ' -f1)
if [ "${1:-}" != "--force" ] && [ -f dist/index.html ] && [ "$(cat dist/.inputs 2>/dev/null)" = "$inputs" ]; then
  exit 0
fi
echo "building the web app (src/touchpath/web/ui)"
npx --no-install openapi-typescript openapi.json -o src/api/schema.d.ts --default-non-nullable false --silent
npx --no-install tsc --noEmit
npx --no-install vite build --logLevel warn
echo "$inputs" > dist/.inputs
