#!/usr/bin/env bash
# Runs every test of the solution and ends with one line of totals taken from the test results.
set -uo pipefail
cd "$(dirname "$0")"

results="TestResults"
rm -rf "$results"
# A test that hangs is stopped after 15 minutes and named in the output (the run then fails), rather
# than holding the run until CI's own limit.
dotnet test EventPlatform.slnx -c Release --logger "trx" --results-directory "$results" \
  --blame-hang-timeout 15m --blame-hang-dump-type none "$@"
status=$?

# Totals from the TRX files (one per test project), so a run that executed nothing shows as 0.
passed=0; failed=0; skipped=0; files=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  files=$((files + 1))
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters"); passed=$((passed + ${p:-0}))
  f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters"); failed=$((failed + ${f:-0}))
  t=$(sed -n 's/.* total="\([0-9]*\)".*/\1/p' <<<"$counters")
  e=$(sed -n 's/.* executed="\([0-9]*\)".*/\1/p' <<<"$counters")
  skipped=$((skipped + ${t:-0} - ${e:-0}))
done

echo "test result files: $files"
echo "$passed passed, $failed failed, $skipped skipped"
if [ "$status" -ne 0 ] || [ "$failed" -ne 0 ] || [ "$passed" -eq 0 ]; then
  exit 1
fi
