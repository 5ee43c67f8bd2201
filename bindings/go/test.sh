#!/usr/bin/env bash
# Checks and tests the Go binding against a liblane build tree.
#   bindings/go/test.sh [BUILD_DIR]     (default: ../../build from this script)
# Runs go vet, a gofmt check, staticcheck, go test -race, and go test under
# GOEXPERIMENT=cgocheck2 (the cgo pointer rules, checked at every call), for
# the lane module and for its prometheus sub-module. The C helpers compile
# with -Wall -Wextra -Werror. Exits non-zero on the first failure.
# Network: the lane module needs none (standard library only); staticcheck
# (pinned below) is installed from the Go module proxy when it is missing,
# and the prometheus sub-module's dependencies (pinned in its go.sum) are
# downloaded from it when they are not in the module cache.
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
export CGO_CFLAGS="-I$include -Werror ${CGO_CFLAGS:-}"
export CGO_LDFLAGS="-L$build -Wl,-rpath,$build ${CGO_LDFLAGS:-}"
export LD_LIBRARY_PATH="$build${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
proxy="https://proxy.golang.org"
staticcheck_version="v0.8.2"  # honnef.co/go/tools, pinned
cd "$here"

gobin="$(go env GOPATH)/bin"
staticcheck="$(command -v staticcheck || true)"
[ -z "$staticcheck" ] && [ -x "$gobin/staticcheck" ] && staticcheck="$gobin/staticcheck"
if [ -z "$staticcheck" ] || ! "$staticcheck" -version | grep -q "${staticcheck_version#v}"; then
  echo "go binding: installing staticcheck $staticcheck_version"
  (cd / && GOPROXY="$proxy" GOFLAGS=-mod=mod go install "honnef.co/go/tools/cmd/staticcheck@$staticcheck_version")
  staticcheck="$gobin/staticcheck"
fi

# check MODULE_DIR GOPROXY: every check of one module.
check() {
  local dir="$1"
  (
    cd "$dir"
    export GOPROXY="$2"
    echo "go binding ($dir): go vet"
    go vet ./...
    echo "go binding ($dir): gofmt"
    unformatted="$(gofmt -l .)"
    if [ -n "$unformatted" ]; then
      echo "gofmt would change: $unformatted" >&2
      exit 1
    fi
    echo "go binding ($dir): staticcheck"
    "$staticcheck" ./...
    echo "go binding ($dir): go test -race"
    go test -race -count=1 ./...
    echo "go binding ($dir): go test (GOEXPERIMENT=cgocheck2)"
    GOEXPERIMENT=cgocheck2 go test -count=1 ./...
  )
}

check . off  # no third-party modules: nothing to download
check prometheus "${GOPROXY_PROMETHEUS:-$proxy,off}"
echo "go binding: ok"
