# Sourced by the side-by-side benchmarks (sidebyside.sh, threads.sh): compare.sh's harness around `up`.
# A copy of ../shared/anchors in a fresh work directory, the mock Kafka cluster in its own process with
# the design's topics ($BS), a token for wrk ($TOKEN), and helpers. The caller sets ROOT and CONNS and
# calls anchors_setup NAME first; `up`'s process group goes in UP_PID so that the exit trap stops it.
ANCHORS=${ANCHORS:-/work/shared/anchors}
UP_PID=

anchors_setup() { # work directory prefix
  [ -d "$ROOT/src/EventPlatform.Cli" ] || { echo "run from the project root" >&2; exit 2; }
  WORK=$(mktemp -d "/tmp/$1.XXXXXX"); cp -r "$ANCHORS"/. "$WORK"/; chmod -R u+w "$WORK"
  export STATE_DIR="$WORK/state" JWT_SECRET_KEY=compare-secret-0123456789-abcdefghijklmnop JWT_ALGORITHM=HS256
  export JWT_SECRET=$JWT_SECRET_KEY
  trap anchors_cleanup EXIT
  start_broker
  export TOKEN; TOKEN=$(/usr/bin/python3 "$WORK/seed-stack/make_token.py" "$JWT_SECRET" 7200)
}

# compare.sh's mock cluster with the design's topics, in its own process; its bootstrap string in $BS.
start_broker() {
  BS=$(STATE_DIR="$WORK/broker" "$WORK/mockbroker/run.sh" --topic events.iot.sensors:12 --topic events.clickstream:24 \
        --topic events.transactions:12 --topic events.aggregated:12 --topic events.dlq:6)
}

# A new, empty cluster in place of the running one.
restart_broker() { STATE_DIR="$WORK/broker" "$WORK/mockbroker/run.sh" stop >/dev/null 2>&1 || true; start_broker; }

stop_up() { [ -n "$UP_PID" ] && { kill -TERM -- -"$UP_PID" 2>/dev/null || true; for _ in $(seq 1 20); do kill -0 "$UP_PID" 2>/dev/null || break; sleep 0.5; done; kill -KILL -- -"$UP_PID" 2>/dev/null || true; }; UP_PID=; }

anchors_cleanup() {
  stop_up
  "$WORK/seed-stack/run.sh" stop 8001 >/dev/null 2>&1 || true
  STATE_DIR="$WORK/broker" "$WORK/mockbroker/run.sh" stop >/dev/null 2>&1 || true
}

load() { "$WORK/load/bench.sh" "$1" "$2" "$CONNS"; } # url, seconds
pid_of_port() { ss -ltnpH "sport = :$1" | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -1; }

# A leftover service on these ports would answer the health check and take the load instead of ours.
ports_free() { for port in 8000 8081; do [ -z "$(pid_of_port $port)" ] || { echo "port $port is in use (pid $(pid_of_port $port)): stop it first" >&2; exit 1; }; done; }

wait_for_gateway() { for _ in $(seq 1 180); do curl -sf http://127.0.0.1:8000/api/v1/health >/dev/null 2>&1 && return; kill -0 "$UP_PID" 2>/dev/null || { tail -20 "$WORK/up.log"; exit 1; }; sleep 1; done; }

start_seed() { "$WORK/seed-stack/run.sh" "$BS" 8001 2 --loop uvloop --http httptools >/dev/null; }
stop_seed() { "$WORK/seed-stack/run.sh" stop 8001 >/dev/null 2>&1; }
