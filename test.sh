#!/usr/bin/env bash
# Runs every test of Broker. On a fresh Debian machine with the .NET SDK it installs and starts what the tests
# need: a redis-server and a rabbitmq-server on 127.0.0.1, unless BROKER_TEST_REDIS / BROKER_TEST_RABBITMQ name
# servers (a server the tests cannot reach fails them), and docker-compose, which checks docker-compose.yml offline.
# Prints "N passed, N failed" as its last line and exits non-zero if anything failed.
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v dotnet >/dev/null; then
  echo "test.sh: the .NET 10 SDK (dotnet) must be on PATH" >&2
  exit 1
fi

work=$(mktemp -d)
cleanup() {
  if [ -f "$work/redis.pid" ]; then
    redis-cli -p "$redis_port" shutdown nosave >/dev/null 2>&1 || kill "$(cat "$work/redis.pid")" 2>/dev/null || true
  fi
  if [ -f "$work/rabbitmq.started" ]; then
    ${sudo:-} rabbitmqctl -q stop >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

install_packages() {
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "test.sh: installing $*"
  $sudo apt-get update -qq -o DPkg::Lock::Timeout=300
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=300 "$@" >/dev/null
}

command -v docker-compose >/dev/null || install_packages docker-compose

port_is_free() { ! (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if [ -z "${BROKER_TEST_REDIS:-}" ]; then
  command -v redis-server >/dev/null || install_packages redis-server
  redis_port=16379
  while ! port_is_free "$redis_port"; do redis_port=$((redis_port + 1)); done
  # appendonly: a restarted server keeps every write it acknowledged.
  redis-server --bind 127.0.0.1 --port "$redis_port" --daemonize yes --save '' --appendonly yes \
    --dir "$work" --pidfile "$work/redis.pid" --logfile "$work/redis.log"
  for _ in $(seq 100); do
    [ "$(redis-cli -p "$redis_port" ping 2>/dev/null)" = "PONG" ] && break
    sleep 0.1
  done
  export BROKER_TEST_REDIS="redis://127.0.0.1:$redis_port"
  echo "test.sh: redis-server on $BROKER_TEST_REDIS"
fi

# RabbitMQ does not start itself on install here (no systemd); it listens on loopback only, under a node name that
# does not depend on the hostname. A node that already runs (an earlier run's, or the user's) is used as it is.
if [ -z "${BROKER_TEST_RABBITMQ:-}" ]; then
  command -v rabbitmq-server >/dev/null || install_packages rabbitmq-server
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  if ! grep -q '^NODENAME=rabbit@localhost' /etc/rabbitmq/rabbitmq-env.conf 2>/dev/null; then
    $sudo tee -a /etc/rabbitmq/rabbitmq-env.conf >/dev/null <<'CONF'
NODENAME=rabbit@localhost
NODE_IP_ADDRESS=127.0.0.1
NODE_PORT=5672
export ERL_EPMD_ADDRESS=127.0.0.1
SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
ulimit -S -n "$(ulimit -H -n)"
CONF
  fi
  # The management plugin, on loopback too, lists the queues for `broker queues`, which AMQP cannot.
  if ! grep -q '^management.tcp.ip' /etc/rabbitmq/rabbitmq.conf 2>/dev/null; then
    echo 'management.tcp.ip = 127.0.0.1' | $sudo tee -a /etc/rabbitmq/rabbitmq.conf >/dev/null
  fi
  if ! $sudo rabbitmqctl -q status >/dev/null 2>&1; then
    (cd / && $sudo setsid rabbitmq-server >"$work/rabbitmq.log" 2>&1 </dev/null &)
    touch "$work/rabbitmq.started"
  fi
  # await_startup fails at once while the Erlang node is not up yet, so it is retried until the node answers.
  started=""
  for _ in $(seq 60); do
    if $sudo rabbitmqctl -q await_startup --timeout 120 >/dev/null 2>&1; then started=yes; break; fi
    sleep 1
  done
  if [ -z "$started" ]; then
    echo "test.sh: rabbitmq-server did not start" >&2
    cat "$work/rabbitmq.log" >&2
    exit 1
  fi
  # Enabled on the running node, which also serves a node started before this script; a second time changes nothing.
  $sudo rabbitmq-plugins -q enable rabbitmq_management >/dev/null
  # No credentials in the URL: the client then logs in as guest, which RabbitMQ lets in from loopback only.
  export BROKER_TEST_RABBITMQ="amqp://127.0.0.1:5672/"
  # The fault tests stop and start this node's RabbitMQ application through it.
  export BROKER_TEST_RABBITMQCTL="$sudo rabbitmqctl"
  echo "test.sh: rabbitmq-server on amqp://127.0.0.1:5672/"
fi

log="$work/test.log"
set +e
# The unit tests, which need no server, first: a broken build or contract shows in seconds; then the conformance
# suite and the fault tests of each transport, and what spans them. A hung test host is
# killed (with a dump) rather than holding CI to its time limit.
dotnet build Broker.sln -c Release 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
for project in tests/Broker.UnitTests tests/Broker.Tests.Local tests/Broker.Tests.Redis tests/Broker.Tests.RabbitMq tests/Broker.Tests; do
  [ "$status" -eq 0 ] || break
  dotnet test "$project" -c Release --no-build --logger "console;verbosity=normal" --blame-hang-timeout 5m 2>&1 | tee -a "$log"
  status=${PIPESTATUS[0]}
done
set -e

# dotnet test closes each test assembly with "Passed: N" and, when some failed, "Failed: N" lines.
read -r passed failed < <(awk '/^ +Passed: +[0-9]+ *$/ { p += $2 } /^ +Failed: +[0-9]+ *$/ { f += $2 } END { print p + 0, f + 0 }' "$log")
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  failed=1 # the build or the test host failed before any test could
fi
# The failures again at the end, where a reader of only the log's tail finds them: each "Failed" block up to the
# next test's line, its first 40 lines.
if [ "$failed" -gt 0 ]; then
  echo "test.sh: the failed tests:"
  awk '/^  (Passed|Skipped) / { on = 0 } /^  Failed / { on = 1; n = 0 } on && n++ < 40' "$log"
fi
echo "$passed passed, $failed failed"
exit "$status"
