#!/usr/bin/env bash
# Entry point of `npm start` and `npm test` on a fresh machine: installs the npm dependencies when missing or out of
# date (the system Node may be older than the project's), then runs the given script on the project's Node 24.
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=node_modules/.zonesync-installed
if [[ ! -f "$stamp" || package-lock.json -nt "$stamp" || package.json -nt "$stamp" ]]; then
  echo "[setup] installing npm dependencies (npm ci)" >&2
  npm ci --no-audit --no-fund >&2
  touch "$stamp"
fi
export PATH="$PWD/node_modules/.bin:$PATH"
script="$1"; shift
exec node "scripts/$script.ts" "$@"
