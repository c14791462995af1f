#!/usr/bin/env bash
# Runs every test of Broker. On a fresh Debian machine with the .NET SDK it sets up what the tests need first.
# Prints "N passed, N failed" as its last line and exits non-zero if anything failed.
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v dotnet >/dev/null; then
  echo "test.sh: the .NET 10 SDK (dotnet) must be on PATH" >&2
  exit 1
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
# A hung test host is killed (with a dump) rather than holding CI to its time limit.
dotnet test Broker.sln -c Release --logger "console;verbosity=normal" --blame-hang-timeout 5m 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

# dotnet test closes each test assembly with "Passed: N" and, when some failed, "Failed: N" lines.
read -r passed failed < <(awk '/^ +Passed: +[0-9]+ *$/ { p += $2 } /^ +Failed: +[0-9]+ *$/ { f += $2 } END { print p + 0, f + 0 }' "$log")
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  failed=1 # the build or the test host failed before any test could
fi
echo "$passed passed, $failed failed"
exit "$status"
