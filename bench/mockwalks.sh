#!/usr/bin/env bash
# What the mock Kafka cluster's fetches cost while `up` is under compare.sh's load: compare.sh's mock
# cluster in its own process, the seed's stack for 25 s first (SEED=0 skips it), then `up` under wrk,
# with a uprobe on librdkafka's rd_kafka_mock_msgset_find (the walk from a partition's first record
# batch to the one holding the fetch offset, once per partition per fetch) for PROBE seconds in the
# middle of the load. Prints the load's RESULT, the broker's CPU, and the walks per second by the
# offset each looked for (a walk visits at most offset + 1 batches, exactly that many where every
# batch holds one record, as the seed's do). Needs root (perf probe) and what compare.sh needs.
#
#   sudo bash bench/mockwalks.sh [extra 'up' arguments...]        (from the project root)
#
# Environment: CONNS (256), DURATION (25), PROBE (4), SEED (1).
set -euo pipefail
ROOT=$(pwd); CONNS=${CONNS:-256}; DURATION=${DURATION:-25}; PROBE=${PROBE:-4}
# shellcheck source=bench/anchors.sh
. "$ROOT/bench/anchors.sh"
ports_free
anchors_setup mockwalks
if [ "${SEED:-1}" = 1 ]; then
  start_seed
  echo "seed: $(load http://127.0.0.1:8001/api/v1/events/iot.sensors 25 2>&1 | grep -o 'ok2xx_rps=[0-9.]*')"
  stop_seed
fi
BROKER=$(cat "$WORK/broker/pid")
LIB=$(grep -o '/[^ ]*librdkafka[^ ]*\.so' "/proc/$BROKER/maps" | head -1)
EVENT=mockwalks:find
perf probe -d "$EVENT" >/dev/null 2>&1 || true
perf probe -x "$LIB" "$EVENT=rd_kafka_mock_msgset_find offset=%si:s64" >/dev/null 2>&1
trap 'perf probe -d "$EVENT" >/dev/null 2>&1 || true; anchors_cleanup' EXIT
ticks() { awk '{print $14 + $15}' "/proc/$BROKER/stat"; }

dotnet build "$ROOT/src/EventPlatform.Cli" -c Release -v q -nologo >/dev/null
KAFKA_BOOTSTRAP_SERVERS=$BS setsid dotnet run --no-build --project "$ROOT/src/EventPlatform.Cli" -c Release -- up \
  --Gateway:RateLimit:Enabled=false "$@" >"$WORK/up.log" 2>&1 &
UP_PID=$!
wait_for_gateway
( sleep $((DURATION / 2)); perf record -q -e "$EVENT" -p "$BROKER" -o "$WORK/walks.data" -- sleep "$PROBE" >/dev/null 2>&1 ) &
PROBER=$!
before=$(ticks)
load http://127.0.0.1:8000/api/v1/events/iot.sensors "$DURATION" 2>&1 | grep -E '^RESULT' | sed 's/ status_4xx.*//'
echo "mock broker: $(( ($(ticks) - before) * 100 / $(getconf CLK_TCK) / DURATION )) % of a core over the load"
wait "$PROBER" || true
perf script -i "$WORK/walks.data" 2>/dev/null | sed -n 's/.*offset=\([0-9-]*\).*/\1/p' | awk -v s="$PROBE" '
  { n++; if ($1 == 0) b0++; else if ($1 < 1000) b1++; else if ($1 < 3000) b2++; else b3++ }
  END { printf "walks per second: %d; starting at offset 0: %d, 1-999: %d, 1,000-2,999: %d, 3,000 and on: %d\n",
        n / s, b0 / s, b1 / s, b2 / s, b3 / s }'
