#!/usr/bin/env bash
# ensure-deps: install what the tests and benchmarks need, once. Fast when
# everything is already there; needs root (or sudo) only when something is
# missing.
set -euo pipefail

need=()
command -v promtool >/dev/null 2>&1 || need+=(prometheus)   # promtool check metrics
command -v wrk >/dev/null 2>&1 || need+=(wrk)               # make bench load generator
command -v curl >/dev/null 2>&1 || need+=(curl)             # README example calls
command -v taskset >/dev/null 2>&1 || need+=(util-linux)     # make bench CPU pinning
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)  # the message log's PostgreSQL store tests

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
echo "ensure-deps: installing ${need[*]} from Debian's packages"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "ensure-deps: need root or sudo to install ${need[*]}" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
if ! $sudo apt-get install -y --no-install-recommends "${need[@]}" >/tmp/govbus-apt.log 2>&1; then
  $sudo apt-get update >/dev/null 2>&1 || true
  $sudo apt-get install -y --no-install-recommends "${need[@]}" >/tmp/govbus-apt.log 2>&1 || {
    echo "ensure-deps: apt-get install ${need[*]} failed; see /tmp/govbus-apt.log" >&2; exit 1; }
fi
