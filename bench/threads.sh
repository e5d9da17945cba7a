#!/usr/bin/env bash
# Where `up` spends its CPU under compare.sh's load, thread by thread: starts compare.sh's mock Kafka
# cluster in its own process, optionally fills events.iot.sensors with the seed's stack first (as
# compare.sh does before our turn), starts `up` against it, warms it with wrk, then runs wrk for
# DURATION seconds and prints the CPU each group of threads used (threads named alike are summed, digits
# dropped: `rdk:broker1` and `rdk:broker2` are `rdk:broker#`), per request served and in % of a core.
#
#   bash bench/threads.sh [extra 'up' arguments...]        (from the project root)
#
# Environment: CONNS (256), WARMUP (5), DURATION (20), SEED (0; 1 runs the seed's stack for 25 s first),
# UP_ENV ("NAME=value ..." environment for `up`, e.g. "DOTNET_TieredPGO=0"), UP_BIN (a built `eventplatform`
# to run instead of `dotnet run`), ANCHORS (/work/shared/anchors). Needs what compare.sh needs.
set -euo pipefail
ROOT=$(pwd); CONNS=${CONNS:-256}; WARMUP=${WARMUP:-5}; DURATION=${DURATION:-20}
# shellcheck source=bench/anchors.sh
. "$ROOT/bench/anchors.sh"
ports_free
anchors_setup threads
if [ "${SEED:-0}" = 1 ]; then
  start_seed
  echo "seed: $(load http://127.0.0.1:8001/api/v1/events/iot.sensors 25 2>&1 | grep -o 'ok2xx_rps=[0-9.]*')"
  stop_seed
fi

if [ -n "${UP_BIN:-}" ]; then launch=("$UP_BIN"); else launch=(dotnet run --no-build --project "$ROOT/src/EventPlatform.Cli" -c Release --); fi
[ -n "${UP_BIN:-}" ] || dotnet build "$ROOT/src/EventPlatform.Cli" -c Release -v q -nologo >/dev/null
# shellcheck disable=SC2086
KAFKA_BOOTSTRAP_SERVERS=$BS setsid env ${UP_ENV:-} "${launch[@]}" up --Gateway:RateLimit:Enabled=false "$@" >"$WORK/up.log" 2>&1 &
UP_PID=$!
wait_for_gateway
PID=$(pid_of_port 8000); BROKER=$(cat "$WORK/broker/pid")
load http://127.0.0.1:8000/api/v1/events/iot.sensors "$WARMUP" >/dev/null 2>&1 || true

# One snapshot: "tid<TAB>name<TAB>ticks" per thread of `up`, then the process and the broker as a whole.
# A thread's name may hold spaces ("job default-job"), so its stat is split after the closing parenthesis.
snapshot() {
  python3 - "$PID" "$BROKER" <<'PY'
import os, sys
def ticks(path):
    with open(path) as f: rest = f.read().rsplit(')', 1)[1].split()
    return int(rest[11]) + int(rest[12])          # utime + stime (fields 14 and 15)
pid, broker = sys.argv[1], sys.argv[2]
for tid in os.listdir(f'/proc/{pid}/task'):
    try:
        with open(f'/proc/{pid}/task/{tid}/comm') as f: name = f.read().strip()
        print(f'{tid}\t{name}\t{ticks(f"/proc/{pid}/task/{tid}/stat")}')
    except OSError: pass                              # the thread ended meanwhile
print(f'process\t(process)\t{ticks(f"/proc/{pid}/stat")}')
print(f'broker\t(mock broker)\t{ticks(f"/proc/{broker}/stat")}')
PY
}
snapshot >"$WORK/before"
out=$(load http://127.0.0.1:8000/api/v1/events/iot.sensors "$DURATION" 2>&1)
snapshot >"$WORK/after"
echo "$out" | grep -E '^RESULT' | sed 's/ status_4xx.*//'
served=$(echo "$out" | sed -n 's/.*status_2xx=\([0-9]*\).*/\1/p' | head -1)
python3 - "$WORK/before" "$WORK/after" "${served:-0}" "$DURATION" "$(getconf CLK_TCK)" <<'PY'
import re, sys, collections
def read(path):
    rows = {}
    for line in open(path):
        tid, name, t = line.rstrip('\n').split('\t'); rows[tid] = (name, int(t))
    return rows
before, after = read(sys.argv[1]), read(sys.argv[2])
served, seconds, hz = int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
groups = collections.Counter()
for tid, (name, t) in after.items():
    start = before.get(tid, (name, 0))[1]          # a thread born during the run counts from zero
    key = name if tid in ('process', 'broker') else re.sub(r'\d+', '#', name) or '(unnamed)'
    groups[key] += t - start
def line(name, t):
    us = t / hz * 1e6 / served if served else 0
    return f'  {name:24s} {t / hz / seconds * 100:5.1f} % of a core  {us:7.1f} us/request'
print(f'{served} requests in {seconds:.0f} s; CPU by thread group:')
for name in ('(process)', '(mock broker)'):
    print(line(name, groups.pop(name)))
for name, t in groups.most_common():
    if t > 0: print(line(name, t))
PY
