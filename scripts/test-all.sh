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

step "the fast loop: go test -short -race ./pkg/... (long tests skip themselves under -short and run below)"
# GORACE=atexit_sleep_ms=0: the race runtime otherwise sleeps 1 s as each of
# the ~30 test binaries exits (a last chance for goroutines still running to
# show a race), about 15 s of the loop's wall time on 2 cores.
# -gcflags modernc.org/...=-d=checkptr=0: -race also turns on checkptr, which
# checks every unsafe.Pointer conversion; in modernc's SQLite (C translated
# to Go, pointer arithmetic throughout) that more than doubled the cost of
# every queue operation. The race detector still instruments modernc; our
# own code keeps checkptr.
# The three longest-running test packages are named first so that their runs
# start early and overlap the linking of the other test binaries (go test
# starts packages in the order given; ./pkg/... does not repeat them).
GORACE=atexit_sleep_ms=0 go test -short -race -count=1 -gcflags='modernc.org/...=-d=checkptr=0' \
  ./pkg/delivery ./pkg/render ./pkg/resources ./pkg/...

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
