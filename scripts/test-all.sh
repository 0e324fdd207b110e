#!/usr/bin/env bash
# Runs every AlertChart check, as CI does: set-up, go vet, the frontend's
# typecheck, lint, jest tests and build, the release build for four platforms,
# the grafana-cli zip, the browser smoke test of the built pages against the
# built plugin, then all Go tests (unit, end-to-end with real
# Prometheus/Alertmanager/PostgreSQL, packaging) against the built binary.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

step() { echo; echo "==> $*"; }

step "go vet ./..."
go vet ./...

step "the fast loop: go test -short -race ./pkg/... (scripts/test-race.sh; long tests skip themselves under -short and run below)"
loop_start=$(date +%s)
bash scripts/test-race.sh
echo "fast loop: $(($(date +%s) - loop_start)) s"

step "frontend: typecheck, lint, jest, build"
npm run typecheck
npm run lint
npm run test:ci
npm run build

step "backend: release build (linux/amd64, linux/arm64, darwin/arm64, windows/amd64) and package"
rm -f alertchart-webhook-app-*.zip
go run github.com/magefile/mage -v buildRelease
go run github.com/magefile/mage package

export CI="${CI:-true}"
export ALERTCHART_PLUGIN_BINARY="$PWD/dist/gpx_alertchart_linux_amd64"

step "browser smoke test: the built pages in headless Chromium against the built plugin (test/browser)"
go test -count=1 -timeout 5m -run '^TestBrowserSmoke$' -v ./test/browser

step "go test ./... (against dist/gpx_alertchart_linux_amd64)"
go test -count=1 -timeout 40m -skip '^TestBrowserSmoke$' ./...
