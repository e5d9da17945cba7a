#!/usr/bin/env bash
# Lints a live scrape of a service's /metrics with Prometheus' own checker.
#   deploy/prometheus/check-metrics.sh [base-url]     (default http://127.0.0.1:8000)
# Needs curl and promtool (Debian: apt-get install prometheus).
set -euo pipefail
url="${1:-http://127.0.0.1:8000}"
command -v promtool >/dev/null || { echo "promtool not found (apt-get install prometheus)" >&2; exit 2; }
scrape=$(curl -fsS "$url/metrics")
echo "$scrape" | grep -c '^[a-z]' | xargs echo "samples:"
echo "$scrape" | promtool check metrics
echo "promtool check metrics: no problems"
