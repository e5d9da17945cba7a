#!/usr/bin/env bash
# compare.sh's measurement with several configurations of ours in one run: the seed's stack once, then
# `up` once per configuration (alternating, ROUNDS times), all against ONE mock cluster with the same wrk
# load. Idempotency on against off is then measured minutes apart, not days.
#
#   bash bench/sidebyside.sh "" "--Gateway:Idempotency:Enabled=false" ...   (from the project root)
#
# Each argument is one configuration: extra `up` arguments ("" is the default); words NAME=value in it are
# environment variables for `up` (e.g. "DOTNET_GCgen0size=0x4000000"). Environment as compare.sh
# (CONNS, DURATION, WARMUP) plus ROUNDS (1). Prints one line per run: name, req/s, p50/p99, CPU per request.
set -euo pipefail
ROOT=$(pwd); ANCHORS=${ANCHORS:-/work/shared/anchors}
CONNS=${CONNS:-256}; DURATION=${DURATION:-20}; WARMUP=${WARMUP:-5}; ROUNDS=${ROUNDS:-1}
[ -d "$ROOT/src/EventPlatform.Cli" ] || { echo "run from the project root" >&2; exit 2; }
WORK=$(mktemp -d /tmp/sidebyside.XXXXXX); cp -r "$ANCHORS"/. "$WORK"/; chmod -R u+w "$WORK"
export STATE_DIR="$WORK/state" JWT_SECRET_KEY=compare-secret-0123456789-abcdefghijklmnop JWT_ALGORITHM=HS256
export JWT_SECRET=$JWT_SECRET_KEY
UP_PID=
stop_up() { [ -n "$UP_PID" ] && { kill -TERM -- -"$UP_PID" 2>/dev/null || true; for _ in $(seq 1 20); do kill -0 "$UP_PID" 2>/dev/null || break; sleep 0.5; done; kill -KILL -- -"$UP_PID" 2>/dev/null || true; }; UP_PID=; }
cleanup() {
  stop_up
  "$WORK/seed-stack/run.sh" stop 8001 >/dev/null 2>&1 || true
  STATE_DIR="$WORK/broker" "$WORK/mockbroker/run.sh" stop >/dev/null 2>&1 || true
}
trap cleanup EXIT
BS=$(STATE_DIR="$WORK/broker" "$WORK/mockbroker/run.sh" --topic events.iot.sensors:12 --topic events.clickstream:24 \
      --topic events.transactions:12 --topic events.aggregated:12 --topic events.dlq:6)
export TOKEN; TOKEN=$(/usr/bin/python3 "$WORK/seed-stack/make_token.py" "$JWT_SECRET" 7200)
load() { "$WORK/load/bench.sh" "$1" "$2" "$CONNS"; }
pid_of_port() { ss -ltnpH "sport = :$1" | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -1; }
summary() { # name, bench output
  local rps p50 p99 cpu
  rps=$(echo "$2" | sed -n 's/.*ok2xx_rps=\([0-9.]*\).*/\1/p' | head -1)
  p50=$(echo "$2" | sed -n 's/.*lat_p50_ms=\([^ ]*\).*/\1/p' | head -1); p99=$(echo "$2" | sed -n 's/.*lat_p99_ms=\([^ ]*\).*/\1/p' | head -1)
  cpu=$(echo "$2" | grep '^CPU' | head -1)
  printf '%-45s rps=%s p50=%s p99=%s | %s\n' "$1" "$rps" "$p50" "$p99" "$cpu"
}

"$WORK/seed-stack/run.sh" "$BS" 8001 2 --loop uvloop --http httptools >/dev/null
load http://127.0.0.1:8001/api/v1/events/iot.sensors "$WARMUP" >/dev/null 2>&1 || true
out=$(CPU_PIDS="broker=$(cat "$WORK/broker/pid") service=$(cat "$STATE_DIR/uvicorn-8001.pid")" load http://127.0.0.1:8001/api/v1/events/iot.sensors "$DURATION" 2>&1)
summary "seed" "$out"
"$WORK/seed-stack/run.sh" stop 8001 >/dev/null 2>&1

dotnet build "$ROOT/src/EventPlatform.Cli" -c Release -v q -nologo >/dev/null
for round in $(seq 1 "$ROUNDS"); do
  n=0
  for config in "$@"; do
    n=$((n + 1))
    # Each run its own idempotency topic (unless the configuration names one): the mock broker walks a
    # partition's log from its start, so a topic that earlier runs filled would cost the later ones.
    topic=; case "$config" in *Idempotency:Topic=*) ;; *) topic="--Gateway:Idempotency:Topic=_eventplatform.idempotency.r$round.c$n";; esac
    # A leftover service on these ports would answer the health check and take the load instead of ours.
    for port in 8000 8081; do [ -z "$(pid_of_port $port)" ] || { echo "port $port is in use (pid $(pid_of_port $port)): stop it first" >&2; exit 1; }; done
    # Words of the form NAME=value (an upper-case name) are environment variables for `up`, the rest its arguments.
    envs=(); args=(); for word in $config; do if [[ $word =~ ^[A-Z_][A-Z0-9_]*= ]]; then envs+=("$word"); else args+=("$word"); fi; done
    # shellcheck disable=SC2086
    env ${envs[@]+"${envs[@]}"} KAFKA_BOOTSTRAP_SERVERS=$BS setsid dotnet run --no-build --project "$ROOT/src/EventPlatform.Cli" -c Release -- up \
      --Gateway:RateLimit:Enabled=false $topic ${args[@]+"${args[@]}"} >"$WORK/up.log" 2>&1 &
    UP_PID=$!
    for _ in $(seq 1 180); do curl -sf http://127.0.0.1:8000/api/v1/health >/dev/null 2>&1 && break; kill -0 "$UP_PID" 2>/dev/null || { tail -20 "$WORK/up.log"; exit 1; }; sleep 1; done
    load http://127.0.0.1:8000/api/v1/events/iot.sensors "$WARMUP" >/dev/null 2>&1 || true
    out=$(CPU_PIDS="broker=$(cat "$WORK/broker/pid") service=$(pid_of_port 8000)" load http://127.0.0.1:8000/api/v1/events/iot.sensors "$DURATION" 2>&1)
    summary "ours[$round] ${config:-default}" "$out"
    stop_up
  done
done
