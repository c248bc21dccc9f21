#!/usr/bin/env bash
# THE test command (`npm test`). Sets up what a fresh Debian box with Node 20 lacks, then typechecks and
# runs vitest; arguments are passed to vitest (e.g. `npm test -- test/unit`).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/test-setup.sh

# ---- typecheck and tests --------------------------------------------------------------------------
step "Typecheck (tsc --noEmit)"
npx --no-install tsc -p tsconfig.json --noEmit

# The process tests run the built bot (`node dist/main.js`) exactly as `npm start` does.
step "Build (esbuild bundle, scripts/build.mjs)"
node scripts/build.mjs

step "Tests (vitest run${*:+ $*})"
mkdir -p .tmp
npx --no-install vitest run --reporter=default --reporter=json --outputFile.json=.tmp/vitest-results.json "$@"
# One plain closing line for CI logs, whatever the reporter prints above it.
node -e 'const r = require("./.tmp/vitest-results.json"); console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed`)'

