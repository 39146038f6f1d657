#!/usr/bin/env bash
# ensure-soapclients: install the real SOAP clients that e2e/soapclients_test.go
# drives against govbus, once. Fast when everything is already there.
#   - node-soap, pinned in tools/soapclients/package-lock.json: `npm ci` when
#     node_modules is missing or was installed from another lock file;
#   - zeep from Debian (python3-zeep, for /usr/bin/python3, not pyenv's
#     python3): `apt-get install` when /usr/bin/python3 cannot import it
#     (needs root or sudo).
# Without Node.js and npm it only warns: the node-soap tests then skip
# (outside CI) and say why.
set -euo pipefail
cd "$(dirname "$0")/../tools/soapclients"

# node-soap
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
  stamp=node_modules/.govbus-lock.sha256
  want=$(sha256sum package-lock.json | cut -d' ' -f1)
  have=$(cat "$stamp" 2>/dev/null || true)
  if [ "$want" != "$have" ] || [ ! -f node_modules/soap/package.json ]; then
    echo "ensure-soapclients: npm ci in tools/soapclients" >&2
    if ! npm ci --no-audit --no-fund --loglevel=error >/tmp/govbus-npm.log 2>&1; then
      echo "ensure-soapclients: npm ci failed; see /tmp/govbus-npm.log" >&2
      exit 1
    fi
    echo "$want" >"$stamp"
  fi
else
  echo "ensure-soapclients: node/npm not found; the node-soap tests will skip (install Node.js >= 20.19 with npm)" >&2
fi

# zeep, from Debian's packages, for Debian's python3
if ! /usr/bin/python3 -c 'import zeep' >/dev/null 2>&1; then
  echo "ensure-soapclients: installing python3-zeep from Debian's packages" >&2
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "ensure-soapclients: need root or sudo to install python3-zeep" >&2; exit 1; }
    sudo="sudo"
  fi
  export DEBIAN_FRONTEND=noninteractive
  if ! $sudo apt-get install -y --no-install-recommends python3-zeep >/tmp/govbus-apt-zeep.log 2>&1; then
    $sudo apt-get update >/dev/null 2>&1 || true
    $sudo apt-get install -y --no-install-recommends python3-zeep >/tmp/govbus-apt-zeep.log 2>&1 || {
      echo "ensure-soapclients: apt-get install python3-zeep failed; see /tmp/govbus-apt-zeep.log" >&2; exit 1; }
  fi
fi
