#!/usr/bin/env bash
# The processor's benchmark (issue 10, item 8): on the embedded broker of the `broker` command, preloads
# --events events (wire-format Avro, the three types), then per run a raw Confluent.Kafka
# consume-and-produce pipe and the `processor` default job over the same input, side by side, and last
# the delay from a window's close to its result in events.aggregated.
#   bash bench/processor.sh [--events 1000000] [--runs 3] [--live-seconds 130] [--live-rate 2000] [-- processor settings]
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build bench/EventPlatform.ProcessorBench -c Release -nologo -v q
exec dotnet bench/EventPlatform.ProcessorBench/bin/Release/net10.0/EventPlatform.ProcessorBench.dll "$@"
