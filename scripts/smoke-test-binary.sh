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

"$binary" --version
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
echo "$body" | grep -q '"healthy":true'

"$buf" curl --http2-prior-knowledge --protocol grpc -d '{}' \
  "http://127.0.0.1:$port/limiquantix.node.v1.NodeDaemonService/HealthCheck" | grep -q '"healthy": true'
echo "smoke: gRPC (buf curl, reflection) ok"
curl -fsS "http://127.0.0.1:$((port + 1))/metrics" | grep -q '^node_load1 '
echo "smoke: Prometheus endpoint ok"
echo "smoke: idle RSS $(( $(awk '/VmRSS/{print $2}' /proc/$pid/status) / 1024 )) MiB"

kill -TERM $pid
for _ in $(seq 1 100); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
if kill -0 $pid 2>/dev/null; then echo "smoke: still running 10 s after SIGTERM"; exit 1; fi
wait $pid && code=0 || code=$?
trap - EXIT
[ "$code" = 0 ] || { echo "smoke: exit code $code after SIGTERM"; cat daemon.log; exit 1; }
echo "smoke: SIGTERM -> exit 0"
rm -rf "$workdir"
