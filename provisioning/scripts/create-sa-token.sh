#!/bin/sh
# Creates a Grafana service account for Alertmanager and writes a token to
# $TOKEN_FILE, which Alertmanager sends as its webhook bearer credentials.
set -eu
until curl -fsS -u "$GRAFANA_AUTH" "$GRAFANA_URL/api/health" >/dev/null; do sleep 2; done
if [ -s "$TOKEN_FILE" ] && curl -fsS -H "Authorization: Bearer $(cat "$TOKEN_FILE")" "$GRAFANA_URL/api/plugins/alertchart-webhook-app/settings" >/dev/null; then
  echo "existing token still valid"; exit 0
fi
id=$(curl -fsS -u "$GRAFANA_AUTH" "$GRAFANA_URL/api/serviceaccounts/search?query=alertmanager" | sed -n 's/.*"id":\([0-9]*\).*"name":"alertmanager".*/\1/p')
if [ -z "$id" ]; then
  id=$(curl -fsS -u "$GRAFANA_AUTH" -H 'Content-Type: application/json' \
    -d '{"name":"alertmanager","role":"Viewer"}' "$GRAFANA_URL/api/serviceaccounts" | sed -n 's/^{"id":\([0-9]*\).*/\1/p')
fi
token=$(curl -fsS -u "$GRAFANA_AUTH" -H 'Content-Type: application/json' \
  -d "{\"name\":\"alertmanager-$(date +%s)\"}" "$GRAFANA_URL/api/serviceaccounts/$id/tokens" | sed -n 's/.*"key":"\([^"]*\)".*/\1/p')
[ -n "$token" ] || { echo "could not create a token" >&2; exit 1; }
umask 077
printf '%s' "$token" > "$TOKEN_FILE"
chmod 0644 "$TOKEN_FILE"
echo "service account token written to $TOKEN_FILE"
