#!/usr/bin/env bash
# Installs everything AlertChart's build, tests and demo need on a Debian
# machine that has Go and Node: Debian packages (Prometheus, Alertmanager,
# PostgreSQL for the HA queue tests, Chromium for the browser smoke test),
# Go modules and npm packages.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v prometheus >/dev/null || need+=(prometheus)
command -v prometheus-alertmanager >/dev/null || command -v alertmanager >/dev/null || need+=(prometheus-alertmanager)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v unzip >/dev/null || need+=(unzip)
# The race detector (the -short -race loop) needs cgo: a C compiler and libc headers.
command -v gcc >/dev/null || need+=(gcc libc6-dev)
# The browser smoke test drives Debian's Chromium with playwright-core (no browser download).
[ "${ALERTCHART_SKIP_NPM:-}" = 1 ] || command -v chromium >/dev/null || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  echo "==> apt-get install ${need[*]}"
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  # The Debian packages start system services; the tests run their own on free ports.
  for svc in prometheus prometheus-alertmanager prometheus-node-exporter postgresql; do
    $SUDO service "$svc" stop >/dev/null 2>&1 || true
  done
fi

echo "==> go mod download"
go mod download

if [ "${ALERTCHART_SKIP_NPM:-}" = 1 ]; then
  : # the demo needs no frontend
elif [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "==> npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi
