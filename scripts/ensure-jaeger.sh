#!/usr/bin/env bash
# ensure-jaeger: build the pinned Jaeger (tools/jaeger, its own module) once
# into a cache outside the repository, keyed by version, and print its path.
# A cold build takes ~10 minutes and ~2 GB; later calls return at once.
set -euo pipefail
cd "$(dirname "$0")/../tools/jaeger"
version=$(awk '$1 == "github.com/jaegertracing/jaeger" { print $2; exit }' go.mod)
[ -n "$version" ] || { echo "ensure-jaeger: no jaeger version in tools/jaeger/go.mod" >&2; exit 1; }
cache=${GOVBUS_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/govbus-tools}
bin="$cache/jaeger-$version/jaeger"
if [ ! -x "$bin" ]; then
  mkdir -p "$(dirname "$bin")"
  echo "ensure-jaeger: building jaeger $version into $bin (once; about 10 minutes)" >&2
  go build -o "$bin.tmp" github.com/jaegertracing/jaeger/cmd/jaeger
  mv "$bin.tmp" "$bin"
fi
echo "$bin"
