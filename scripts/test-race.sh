#!/usr/bin/env bash
# The fast loop: every unit test under pkg/ with the race detector, the long
# real-time scenarios skipping themselves (-short; they run in the full
# suite). Extra arguments go to go test, e.g. -run TestLane, or -count=1 to
# run every test even where go test has a result for the same code.
#
#   bash scripts/test-race.sh            # reruns what a change can affect
#   bash scripts/test-race.sh -count=1   # every test, every time
#
# -race needs a C compiler and libc headers (scripts/setup.sh installs them;
# scripts/test-all.sh runs it first).
#
# Without -count, go test keeps its own test cache: a package's tests run
# again when anything they are built from, the files they open or the
# environment variables they read have changed, and otherwise their last
# result is printed as "(cached)". A change to pkg/delivery reruns delivery
# and the four wiring packages that contain it; a change to pkg/settings
# nearly everything.
# With -count: the race-instrumented test binaries are kept in
# .cache/race-tests/, and go test relinks only those whose code changed
# since the last run (cmd/go's up-to-date check by build ID, as for
# go build -o); linking all 31 is 21-25 s of the two cores' time.
# -ldflags=-w and -gcflags=all=-dwarf=false: no DWARF, neither written by
# the linker nor produced by the compiler for the linker to read: a fifth of
# the linking work, a little of the compiling, 13-17 % of the loop's wall
# time. Stack traces and race reports do not use DWARF (they read the
# binary's own line table); a debugger does (build the test binary yourself
# for dlv).
# -trimpath: the compiled packages and the test results do not depend on
# where the checkout is, so a fresh clone (CI's), another worktree or a
# moved checkout reuses what any of them compiled and, for tests that read
# no files of the checkout, the results Go's test cache holds for the same
# code. A fresh clone's first loop, once another checkout on the machine
# has run it: 14 s (17 of the 31 packages run, the rest cached) instead of
# 39 s. Without it every package compiles again in each directory. Stack traces and race reports name files by import path
# (github.com/alertchart/alertchart/pkg/...) instead of absolute path.
# -vet=off: scripts/test-all.sh runs the whole of go vet just before this
# loop, and the GitHub workflow's golangci-lint (govet) runs it again; go
# test's own subset of vet would check the same code a third time (4 CPU-s
# after a pkg/settings change).
# -parallel 8: the delivery tests that call t.Parallel mostly wait on
# their fakes' rate windows and retry pauses; 8 at once instead of
# GOMAXPROCS overlaps the waiting.
# -cpu 1 -p <cores+1>: each test binary runs with GOMAXPROCS=1 and go test
# runs one action (compile, link or test binary) more than there are cores.
# The cores already carry one action each; a test binary with a P per core
# of its own only adds idle Ps spinning for work and cross-CPU TLB flushes
# of the race detector's shadow memory: on 2 cores the 31 binaries, run one
# after another, took 27-29 CPU-s with 2 Ps and 21-25 with 1. The extra
# action fills the time a one-P binary spends waiting on its fakes. Races
# are still found: the race detector tracks happens-before between
# goroutines, not whether they ran at the same instant. (Later -cpu or -p
# arguments given to this script win.)
# GORACE=atexit_sleep_ms=0: the race runtime otherwise sleeps 1 s as each
# test binary exits (a last chance for goroutines still running to show a
# race), about 15 s of the loop's wall time on 2 cores.
# -gcflags modernc.org/...=-d=checkptr=0: -race also turns on checkptr, which
# checks every unsafe.Pointer conversion; in modernc's SQLite (C translated
# to Go, pointer arithmetic throughout) that more than doubled the cost of
# every queue operation. The race detector still instruments modernc: built
# without instrumentation (-race=false) it cut the store tests from 1.2 to
# 0.3 CPU-s, but the race detector then reported races inside
# encoding/json's type cache that the fully instrumented build does not.
# Our own code keeps checkptr. A package matching two -gcflags patterns
# takes only the last one's flags, hence -dwarf=false again.
# The longest-running test packages and the four wiring packages (the
# largest binaries to link) are named first so that they start early and
# overlap the rest (go test starts packages in the order given; ./pkg/...
# does not repeat them).
set -euo pipefail
cd "$(dirname "$0")/.."
keep=()
for a in "$@"; do
  case "$a" in
  -count | -count=*)
    bin="${ALERTCHART_RACE_BIN:-.cache/race-tests}"
    mkdir -p "$bin"
    keep=(-o "$bin/")
    ;;
  esac
done
cores=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)
GORACE=atexit_sleep_ms=0 exec go test -short -race ${keep[@]+"${keep[@]}"} -vet=off -trimpath -ldflags=-w -cpu 1 -p $((cores + 1)) -parallel 8 \
  -gcflags=all=-dwarf=false -gcflags='modernc.org/...=-dwarf=false -d=checkptr=0' "$@" \
  ./pkg/delivery ./pkg/render ./pkg/resources ./pkg/pipeline ./pkg/plugin ./pkg/standalone ./pkg/...
