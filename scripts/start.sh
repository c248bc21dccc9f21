#!/usr/bin/env bash
# `npm start`: install dependencies if this is a fresh clone, build, and run the bot in the
# foreground (both roles unless a role is given: `npm start -- web` / `npm start -- worker`).
# It needs a reachable Redis (REDIS_URL) and its config (STRANGLER_CONFIG); it says so if not.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [[ ! -d node_modules || ! -e node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "==> Installing dependencies (npm ci)" >&2
  npm ci --no-audit --no-fund >&2
fi
echo "==> Building (esbuild bundle)" >&2
node scripts/build.mjs >&2
exec node dist/main.js "$@"
