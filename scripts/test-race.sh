#!/usr/bin/env bash
# The fast loop: every unit test under pkg/ with the race detector, the long
# real-time scenarios skipping themselves (-short; they run in the full
# suite). Extra arguments go to go test, e.g. -run TestLane.
#
#   bash scripts/test-race.sh
#
# -race needs a C compiler and libc headers (scripts/setup.sh installs them;
# scripts/test-all.sh runs it first).
# -o .cache/race-tests/: the race-instrumented test binaries are kept, and go
# test relinks only those whose code changed since the last run (cmd/go's
# own up-to-date check by build ID, as for go build -o). Linking the 31
# binaries is about 60 CPU-seconds on its own; a change to a package's code
# relinks the binaries that contain it, a change to its tests only its own. -count=1: every test runs every time, no
# cached results.
# GORACE=atexit_sleep_ms=0: the race runtime otherwise sleeps 1 s as each
# test binary exits (a last chance for goroutines still running to show a
# race), about 15 s of the loop's wall time on 2 cores.
# -gcflags modernc.org/...=-d=checkptr=0: -race also turns on checkptr, which
# checks every unsafe.Pointer conversion; in modernc's SQLite (C translated
# to Go, pointer arithmetic throughout) that more than doubled the cost of
# every queue operation. The race detector still instruments modernc; our
# own code keeps checkptr.
# The three longest-running test packages are named first so that their runs
# start early and overlap the linking of the other test binaries (go test
# starts packages in the order given; ./pkg/... does not repeat them).
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${ALERTCHART_RACE_BIN:-.cache/race-tests}"
mkdir -p "$bin"
GORACE=atexit_sleep_ms=0 exec go test -short -race -count=1 -o "$bin/" \
  -gcflags='modernc.org/...=-d=checkptr=0' "$@" \
  ./pkg/delivery ./pkg/render ./pkg/resources ./pkg/...
