#!/usr/bin/env bash
# Sourced by test.sh and soak.sh: sets up what a fresh Debian box with Node 20 lacks for the tests
# (redis-server, memcached, openssl, prometheus, chromium as binaries; node_modules). Sentinels are redis-server
# started with --sentinel, so Debian's redis-sentinel package is not needed. The tests start their own
# redis-server and memcached on free ports, so this never starts (and keeps apt from starting)
# system services.

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
die() { printf '\n\033[31merror:\033[0m %s\n' "$*" >&2; exit 1; }

# ---- Node ----------------------------------------------------------------------------------------
command -v node >/dev/null 2>&1 || die "node is not on PATH: install Node.js 20.11 or newer."
node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 11) ? 0 : 1)' \
  || die "Node $(node --version) is too old: package.json asks for >= 20.11."

# ---- redis-server, memcached and chromium (Debian packages) --------------------------------------
# Chromium is Debian's own build, driven by playwright-core in the sandbox's browser test: no
# browser is downloaded. Its fonts are only "recommended", so they are named here.
missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v memcached >/dev/null 2>&1 || missing+=(memcached)
# openssl makes the throwaway CA of the Redis TLS tests.
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
# prometheus: the ramp tests start their own server, scraping an exporter the test controls.
command -v prometheus >/dev/null 2>&1 || missing+=(prometheus)
[[ -x /usr/bin/chromium ]] || missing+=(chromium fonts-liberation fonts-dejavu-core)
# The progress report's chart draws its text in DejaVu Sans (src/adapters/share-chart.ts).
[[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]] || [[ " ${missing[*]} " == *" fonts-dejavu-core "* ]] || missing+=(fonts-dejavu-core)

if ((${#missing[@]} > 0)); then
  install_cmd="apt-get update && apt-get install -y ${missing[*]}"
  if [[ $(id -u) -eq 0 ]]; then
    as_root=()
  elif command -v sudo >/dev/null 2>&1; then
    as_root=(sudo)
  else
    die "missing ${missing[*]}, and this is not root and sudo is absent. Install them with:
    $install_cmd
(as root), then run npm test again."
  fi
  command -v apt-get >/dev/null 2>&1 || die "missing ${missing[*]} and apt-get is not available; install redis-server and memcached with your package manager."

  step "Installing ${missing[*]} (binaries only; tests run their own instances)"
  # The packages' maintainer scripts would start system daemons on 6379/11211. policy-rc.d exit 101
  # is Debian's documented way to forbid that (invoke-rc.d(8)); only add one if none is there.
  policy=/usr/sbin/policy-rc.d
  added_policy=0
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' | "${as_root[@]}" tee "$policy" >/dev/null
    "${as_root[@]}" chmod 755 "$policy"
    added_policy=1
  fi
  remove_policy() { if ((added_policy)); then "${as_root[@]}" rm -f "$policy"; fi; }
  trap remove_policy EXIT
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  remove_policy
  trap - EXIT

  command -v redis-server >/dev/null 2>&1 || die "redis-server is still not on PATH after installing it."
  command -v memcached >/dev/null 2>&1 || die "memcached is still not on PATH after installing it."
  command -v prometheus >/dev/null 2>&1 || die "prometheus is still not on PATH after installing it."
  [[ -x /usr/bin/chromium ]] || die "/usr/bin/chromium is still missing after installing it."
fi

# ---- node_modules ---------------------------------------------------------------------------------
# npm writes node_modules/.package-lock.json on every install: if the lockfile is newer, deps moved on.
if [[ ! -d node_modules ]]; then
  step "Installing dependencies (npm ci): node_modules is missing"
  npm ci --no-audit --no-fund
elif [[ ! -e node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  step "Installing dependencies (npm ci): package-lock.json is newer than node_modules"
  npm ci --no-audit --no-fund
fi
