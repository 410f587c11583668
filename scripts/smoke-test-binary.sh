#!/usr/bin/env bash
# Smoke test of the compiled daemon, run from a folder outside the repo: it starts with --dev,
# answers HealthCheck (Connect JSON over HTTP/1.1 and gRPC through buf curl), and exits 0 on
# SIGTERM within 10 s. Prints the time from exec to the first answered HealthCheck.
set -euo pipefail
binary=$(readlink -f "${1:?usage: smoke-test-binary.sh path/to/limiquantix-node}")
buf=$(readlink -f "$(dirname "$0")/../node_modules/.bin/buf")
port=$((20000 + RANDOM % 20000))
workdir=$(mktemp -d)
cd "$workdir"
# Match against captured output, never `producer | grep -q`: under pipefail grep -q exits at the
# first match and the producer then fails on a closed pipe (curl exit 23, ldconfig SIGPIPE).
has() { grep -q -- "$2" <<<"$1"; }

"$binary" --version
# The binary must not read .env (or bunfig.toml) from its working directory, as compiled Bun
# programs do by default: this one would stop the daemon from starting if it were read.
printf 'LIMIQUANTIX_SERVER_LISTEN_ADDRESS=not-an-address\n' >.env
start_ns=$(date +%s%N)
"$binary" --dev --listen "127.0.0.1:$port" --metrics-port $((port + 1)) --log-level info >daemon.log 2>&1 &
pid=$!
trap 'kill -9 $pid 2>/dev/null || true; cat "$workdir/daemon.log"' EXIT

answered=""
for _ in $(seq 1 400); do
  if body=$(curl -fsS -H 'content-type: application/json' -d '{}' \
      "http://127.0.0.1:$port/limiquantix.node.v1.NodeDaemonService/HealthCheck" 2>/dev/null); then
    answered=$(date +%s%N)
    break
  fi
  sleep 0.025
done
[ -n "$answered" ] || { echo "smoke: no HealthCheck answer within 10 s"; exit 1; }
echo "smoke: first HealthCheck answered $(( (answered - start_ns) / 1000000 )) ms after exec: $body"
has "$body" '"healthy":true'

grpc_body=$("$buf" curl --http2-prior-knowledge --protocol grpc -d '{}' \
  "http://127.0.0.1:$port/limiquantix.node.v1.NodeDaemonService/HealthCheck")
has "$grpc_body" '"healthy": true'
echo "smoke: gRPC (buf curl, reflection) ok"
has "$(curl -fsS "http://127.0.0.1:$((port + 1))/metrics")" '^node_load1 '
echo "smoke: Prometheus endpoint ok"
echo "smoke: idle RSS $(( $(awk '/VmRSS/{print $2}' /proc/$pid/status) / 1024 )) MiB"

kill -TERM $pid
for _ in $(seq 1 100); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
if kill -0 $pid 2>/dev/null; then echo "smoke: still running 10 s after SIGTERM"; exit 1; fi
wait $pid && code=0 || code=$?
trap - EXIT
[ "$code" = 0 ] || { echo "smoke: exit code $code after SIGTERM"; cat daemon.log; exit 1; }
echo "smoke: SIGTERM -> exit 0"

# The libvirt backend's Workers must load from inside the compiled binary (they are extra
# entrypoints of bun build --compile): libvirt's built-in test driver needs no daemon.
if has "$(ldconfig -p 2>/dev/null)" 'libvirt\.so\.0 '; then
  LIMIQUANTIX_NODE_STATE_DIR="$workdir/state" LIMIQUANTIX_AGENT_REST_LISTEN_ADDRESS=off \
  "$binary" --backend libvirt --libvirt-uri test:///default --listen "127.0.0.1:$port" \
    --metrics-port $((port + 1)) --storage-path "$workdir/vms" --log-level info >libvirt.log 2>&1 &
  pid=$!
  trap 'kill -9 $pid 2>/dev/null || true; cat "$workdir/libvirt.log"' EXIT
  for _ in $(seq 1 400); do
    body=$(curl -fsS -H 'content-type: application/json' -d '{}' \
      "http://127.0.0.1:$port/limiquantix.node.v1.NodeDaemonService/HealthCheck" 2>/dev/null) || true
    has "$body" '"hypervisor":"libvirt"' && break
    sleep 0.025
  done
  created=$(curl -fsS -H 'content-type: application/json' \
    -d '{"vmId":"7f8c9e2a-1b3d-4c5e-8f60-123456789abc","name":"smoke","start":true,"spec":{"memoryMib":"256"}}' \
    "http://127.0.0.1:$port/limiquantix.node.v1.NodeDaemonService/CreateVM")
  has "$created" '"state":"POWER_STATE_RUNNING"'
  echo "smoke: libvirt backend (test:///default) through the binary's Workers: VM created and running"
  kill -TERM $pid
  wait $pid && code=0 || code=$?
  trap - EXIT
  [ "$code" = 0 ] || { echo "smoke: libvirt run exit code $code after SIGTERM"; cat libvirt.log; exit 1; }
elif [ "${CI:-}" = true ]; then
  echo "smoke: libvirt.so.0 missing in CI (scripts/install-test-deps.sh installs libvirt0)"; exit 1
else
  echo "smoke: skipped the libvirt backend check: libvirt.so.0 is not installed (apt-get install libvirt0)"
fi
rm -rf "$workdir"
