#!/usr/bin/env bash
# Brings each library's PublicAPI.Unshipped.txt in line with its public API, from the analyzers' own diagnostics
# (RS0016: a public member not listed; RS0017: a listed member that is gone). Run it after changing the API on
# purpose, and read the diff: it is the API change a reviewer sees.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Dependencies before their dependents: a dependent builds only once its dependencies do.
for p in src/Abstractions src/Transport.Local src/Broker src/Extensions.Hosting src/OpenTelemetry src/Transport.Redis src/Transport.RabbitMq src/Testing tests/Broker.Conformance; do
  for round in 1 2 3; do
    out=$(dotnet build "$p" -c Release 2>&1 || true)
    echo "$out" | grep "error RS0016" | grep "$p/" | sed -n "s/.*Symbol '\(.*\)' is not part of the declared public API.*/\1/p" | sort -u > "$work/add.txt" || true
    echo "$out" | grep "error RS0017" | grep "$p/" | sed -n "s/.*Symbol '\(.*\)' is part of the declared API.*/\1/p" | sort -u > "$work/remove.txt" || true
    a=$(wc -l < "$work/add.txt"); r=$(wc -l < "$work/remove.txt"); echo "$p round $round: +$a -$r"
    [ "$a" -eq 0 ] && [ "$r" -eq 0 ] && break
    { grep -v '^#nullable' "$p/PublicAPI.Unshipped.txt" | grep -vxF -f "$work/remove.txt" || true; cat "$work/add.txt"; } | sort -u > "$work/u.txt"
    { echo '#nullable enable'; cat "$work/u.txt"; } > "$p/PublicAPI.Unshipped.txt"
  done
done
