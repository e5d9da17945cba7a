#!/usr/bin/env bash
# Publish → queryable delay through `up` with its defaults (embedded broker, registry, gateway, processor,
# sink into DuckDB; only the gateway's per-client rate limit is off, as one client sends it all), at a
# steady RATE events/s for DURATION seconds through the gateway's batch endpoint. Prints the delay from
# a batch's acknowledgement to its sample row answering POST /query (p50/p95/p99), and the sink's own
# eventplatform_end_to_end_latency_seconds histogram.
#
#   bash bench/sink-latency.sh          (from the project root; RATE=10000 DURATION=30 BATCH=200 RUNS=1 WARMUP=10:
#                                      WARMUP seconds at RATE first, not measured: a just-started platform is still JIT-compiling)
set -euo pipefail
RATE=${RATE:-10000}; DURATION=${DURATION:-30}; BATCH=${BATCH:-200}; RUNS=${RUNS:-1}; WARMUP=${WARMUP:-10}
[ -d src/EventPlatform.Cli ] || { echo "run from the project root" >&2; exit 2; }
dotnet build -c Release -v q --nologo src/EventPlatform.Cli >/dev/null
dotnet build -c Release -v q --nologo bench/EventPlatform.SinkLatencyBench >/dev/null
CLI=src/EventPlatform.Cli/bin/Release/net10.0/eventplatform.dll
BENCH=bench/EventPlatform.SinkLatencyBench/bin/Release/net10.0/EventPlatform.SinkLatencyBench.dll
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
UP_PID=; WORK=
stop_up() {
  [ -n "$UP_PID" ] && { kill -TERM "$UP_PID" 2>/dev/null || true; for _ in $(seq 1 40); do kill -0 "$UP_PID" 2>/dev/null || break; sleep 0.5; done; kill -KILL "$UP_PID" 2>/dev/null || true; }
  UP_PID=; [ -n "$WORK" ] && rm -rf "$WORK"; WORK=
}
trap stop_up EXIT
for run in $(seq 1 "$RUNS"); do
  WORK=$(mktemp -d /tmp/sink-latency.XXXXXX)
  KAFKA=$(free_port); GW=$(free_port); REG=$(free_port); PROC=$(free_port); SINK=$(free_port); MON=$(free_port)
  EVENTPLATFORM_DATA_DIR=$WORK dotnet "$CLI" up --Embedded:BootstrapPort="$KAFKA" \
    --Gateway:Urls=http://127.0.0.1:$GW --Registry:Urls=http://127.0.0.1:$REG --Processor:Urls=http://127.0.0.1:$PROC \
    --Sink:Urls=http://127.0.0.1:$SINK --Monitor:Urls=http://127.0.0.1:$MON \
    --Gateway:RateLimit:Enabled=false >"$WORK/up.log" 2>&1 &
  UP_PID=$!
  for _ in $(seq 1 240); do grep -q 'export TOKEN=' "$WORK/up.log" && break; kill -0 "$UP_PID" || { cat "$WORK/up.log"; exit 1; }; sleep 0.5; done
  TOKEN=$(sed -n 's/.*export TOKEN=//p' "$WORK/up.log" | head -1)
  [ -n "$TOKEN" ] || { echo "up printed no token" >&2; cat "$WORK/up.log"; exit 1; }
  echo "== run $run (load average $(cut -d' ' -f1-3 /proc/loadavg))"
  dotnet "$BENCH" "http://127.0.0.1:$GW" "http://127.0.0.1:$SINK" "$TOKEN" "$RATE" "$DURATION" "$BATCH" "$WARMUP"
  # The downstream guard refusing publishes would show here (a 503 DOWNSTREAM_BACKLOG episode per line).
  echo "downstream guard: $(grep -c 'Refusing publishes' "$WORK/up.log" || true) refusal episodes"
  stop_up
done
