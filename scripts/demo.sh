#!/usr/bin/env bash
# Installs what is missing, builds liblane and runs the demo (two contended lanes).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
[ -f build/build.ninja ] || meson setup build >/dev/null
meson compile -C build lane-demo >/dev/null
./build/examples/demo/lane-demo "$@"

# The optional part: one lane shared by two processes, on a private
# redis-server (127.0.0.1, a free port, no persistence), when one is here.
if command -v redis-server >/dev/null 2>&1 && meson compile -C build shared-c >/dev/null 2>&1; then
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  dir=$(mktemp -d)
  redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$dir" --logfile "$dir/redis.log" &
  redis_pid=$!
  trap 'kill $redis_pid 2>/dev/null; rm -rf "$dir"' EXIT
  for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.05; done
  echo
  echo "== one lane of 2 slots shared by two processes (redis-server on 127.0.0.1:$port)"
  export LANE_REDIS="redis://127.0.0.1:$port/0"
  ./build/examples/shared-c worker-a & a=$!
  ./build/examples/shared-c worker-b & b=$!
  wait $a && wait $b
fi
