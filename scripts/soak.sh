#!/usr/bin/env bash
# `npm run test:soak -- [runs]`: the e2e and fault suites `runs` times in a row (default 20) with one
# CPU core kept busy, as on CI's shared 2-core machine. Each run is one `vitest run`; it passes when
# every test in it does. Ends with "N passed, M failed", counted in runs, and exits 1 if any failed.
# The log of each failed run is kept in .tmp/soak/.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
runs=${1:-20}
if [[ ! $runs =~ ^[1-9][0-9]{0,3}$ ]]; then
  printf 'usage: npm run test:soak -- [runs]\n  runs: how many times to run the e2e and fault suites, a whole number from 1 (default 20); got "%s"\n' "$runs" >&2
  exit 2
fi
source scripts/test-setup.sh

# The process tests run the built bot.
step "Build (esbuild bundle, scripts/build.mjs)"
node scripts/build.mjs

mkdir -p .tmp/soak
rm -f .tmp/soak/run-*.log
node -e 'for (;;) {}' &
busy=$!
trap 'kill "$busy" 2>/dev/null || true' EXIT

step "Soak: test/e2e and test/faults, $runs runs, one core kept busy (pid $busy)"
passed=0
failed=0
for ((i = 1; i <= runs; i++)); do
  log=.tmp/soak/run-$i.log
  began=$SECONDS
  if NO_COLOR=1 npx --no-install vitest run test/e2e test/faults >"$log" 2>&1; then
    passed=$((passed + 1))
    rm -f "$log"
    printf 'run %d/%d passed (%d s)\n' "$i" "$runs" $((SECONDS - began))
  else
    failed=$((failed + 1))
    printf 'run %d/%d FAILED (%d s), log kept in %s:\n' "$i" "$runs" $((SECONDS - began)) "$log"
    grep -E '^ *(FAIL|×) ' "$log" | sort -u | sed 's/^/  /' || true
  fi
done
echo "$passed passed, $failed failed"
((failed == 0))
