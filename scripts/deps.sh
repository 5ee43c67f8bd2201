#!/usr/bin/env bash
# Installs what building and testing liblane needs on Debian, if it is
# missing. Idempotent: does nothing (not even apt-get update) when all is there.
set -euo pipefail

packages=(meson ninja-build pkg-config g++ gcc doctest-dev valgrind python3 abigail-tools libsqlite3-dev python3-pip libbenchmark-dev libtbb-dev libexpected-dev clang libclang-rt-14-dev redis-server libhiredis-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# The metrics test parses lane_registry_metrics with prometheus_client's parser.
install_python_deps() {
  python3 -c 'import prometheus_client' 2>/dev/null || python3 -m pip install --quiet prometheus_client \
    || python3 -m pip install --quiet --break-system-packages prometheus_client
}
if [ ${#missing[@]} -eq 0 ]; then
  install_python_deps
  exit 0
fi

echo "deps: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "deps: missing ${missing[*]} and not root; install them and retry" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
install_python_deps
