#!/usr/bin/env bash
# compare.sh's measurement with several configurations of ours in one run: the seed's stack once, then
# `up` once per configuration (alternating, ROUNDS times), all against ONE mock cluster with the same wrk
# load. Idempotency on against off is then measured minutes apart, not days.
#
#   bash bench/sidebyside.sh "" "--Gateway:Idempotency:Enabled=false" ...   (from the project root)
#
# Each argument is one configuration: extra `up` arguments ("" is the default); words NAME=value in it are
# environment variables for `up` (e.g. "DOTNET_GCgen0size=0x4000000"). Environment as compare.sh
# (CONNS, DURATION, WARMUP) plus ROUNDS (1) and FRESH_BROKER (0; 1 starts each of our runs on a new, empty
# mock cluster: no run then pays for the logs earlier runs left, whose every fetch the mock walks from the
# start, nor meets the downstream guard they tripped; compare.sh's own run follows the seed's on its broker).
# Prints one line per run: name, req/s, p50/p99, CPU per request.
set -euo pipefail
ROOT=$(pwd); CONNS=${CONNS:-256}; DURATION=${DURATION:-20}; WARMUP=${WARMUP:-5}; ROUNDS=${ROUNDS:-1}
# shellcheck source=bench/anchors.sh
. "$ROOT/bench/anchors.sh"
anchors_setup sidebyside
summary() { # name, bench output
  local rps p50 p99 cpu
  rps=$(echo "$2" | sed -n 's/.*ok2xx_rps=\([0-9.]*\).*/\1/p' | head -1)
  p50=$(echo "$2" | sed -n 's/.*lat_p50_ms=\([^ ]*\).*/\1/p' | head -1); p99=$(echo "$2" | sed -n 's/.*lat_p99_ms=\([^ ]*\).*/\1/p' | head -1)
  cpu=$(echo "$2" | grep '^CPU' | head -1)
  printf '%-45s rps=%s p50=%s p99=%s | %s\n' "$1" "$rps" "$p50" "$p99" "$cpu"
}

start_seed
load http://127.0.0.1:8001/api/v1/events/iot.sensors "$WARMUP" >/dev/null 2>&1 || true
out=$(CPU_PIDS="broker=$(cat "$WORK/broker/pid") service=$(cat "$STATE_DIR/uvicorn-8001.pid")" load http://127.0.0.1:8001/api/v1/events/iot.sensors "$DURATION" 2>&1)
summary "seed" "$out"
stop_seed

dotnet build "$ROOT/src/EventPlatform.Cli" -c Release -v q -nologo >/dev/null
for round in $(seq 1 "$ROUNDS"); do
  n=0
  for config in "$@"; do
    n=$((n + 1))
    # Each run its own idempotency topic (unless the configuration names one): the mock broker walks a
    # partition's log from its start, so a topic that earlier runs filled would cost the later ones.
    topic=; case "$config" in *Idempotency:Topic=*) ;; *) topic="--Gateway:Idempotency:Topic=_eventplatform.idempotency.r$round.c$n";; esac
    ports_free
    [ "${FRESH_BROKER:-0}" = 1 ] && restart_broker
    # Words of the form NAME=value (an upper-case name) are environment variables for `up`, the rest its arguments.
    envs=(); args=(); for word in $config; do if [[ $word =~ ^[A-Z_][A-Z0-9_]*= ]]; then envs+=("$word"); else args+=("$word"); fi; done
    # shellcheck disable=SC2086
    env ${envs[@]+"${envs[@]}"} KAFKA_BOOTSTRAP_SERVERS=$BS setsid dotnet run --no-build --project "$ROOT/src/EventPlatform.Cli" -c Release -- up \
      --Gateway:RateLimit:Enabled=false $topic ${args[@]+"${args[@]}"} >"$WORK/up.log" 2>&1 &
    UP_PID=$!
    wait_for_gateway
    load http://127.0.0.1:8000/api/v1/events/iot.sensors "$WARMUP" >/dev/null 2>&1 || true
    out=$(CPU_PIDS="broker=$(cat "$WORK/broker/pid") service=$(pid_of_port 8000)" load http://127.0.0.1:8000/api/v1/events/iot.sensors "$DURATION" 2>&1)
    summary "ours[$round] ${config:-default}" "$out"
    stop_up
  done
done
