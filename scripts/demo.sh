#!/usr/bin/env bash
# The main job: sets everything up, builds the standalone server and runs the
# end-to-end demo — real Prometheus and Alertmanager with demo rules, a
# synthetic target that misbehaves, and AlertChart delivering the charted
# notification to a local inbox you can open in a browser. Ctrl-C stops it.
# Pass -exit to stop once the charted notification has arrived.
set -euo pipefail
cd "$(dirname "$0")/.."
ALERTCHART_SKIP_NPM=1 bash scripts/setup.sh
echo "==> go build -o bin/alertchart ./cmd/alertchart"
mkdir -p bin
go build -o bin/alertchart ./cmd/alertchart
exec go run ./demo -alertchart bin/alertchart "$@"
