#!/usr/bin/env bash
# Checks and tests the Go binding against a liblane build tree.
#   bindings/go/test.sh [BUILD_DIR]     (default: ../../build from this script)
# Runs go vet, a gofmt check, go test -race, and go test under
# GOEXPERIMENT=cgocheck2 (the cgo pointer rules, checked at every call).
# Exits non-zero on the first failure. Needs no network: standard library only.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="${1:-$here/../../build}"
build="$(cd "$build" && pwd)"
include="$(cd "$here/../../include" && pwd)"
if [ ! -e "$build/liblane.so" ]; then
  echo "go binding: no liblane.so in $build (build liblane first)" >&2
  exit 1
fi
if ! command -v go >/dev/null 2>&1; then
  echo "go binding: 'go' not found in PATH" >&2
  exit 1
fi

export CGO_ENABLED=1
export CGO_CFLAGS="-I$include ${CGO_CFLAGS:-}"
export CGO_LDFLAGS="-L$build -Wl,-rpath,$build ${CGO_LDFLAGS:-}"
export LD_LIBRARY_PATH="$build${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export GOPROXY="${GOPROXY:-off}"  # no third-party modules: nothing to download
cd "$here"

echo "go binding: go vet"
go vet ./...
echo "go binding: gofmt"
unformatted="$(gofmt -l .)"
if [ -n "$unformatted" ]; then
  echo "gofmt would change: $unformatted" >&2
  exit 1
fi
echo "go binding: go test -race"
go test -race -count=1 ./...
echo "go binding: go test (GOEXPERIMENT=cgocheck2)"
GOEXPERIMENT=cgocheck2 go test -count=1 ./...
echo "go binding: ok"
