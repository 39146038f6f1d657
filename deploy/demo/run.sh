#!/usr/bin/env bash
# run.sh: the demo world of DESIGN.md §7, in the foreground. Starts the
# simulated registries and govbus (children of this script, in make's process
# group), prints example calls, and stops exactly what it started on Ctrl-C,
# SIGTERM, or when make goes away.
set -uo pipefail
cd "$(dirname "$0")/../.."

CONFIG=deploy/demo/govbus.yaml
mkdir -p var
pids=()

port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

for spec in "8080:govbus consumer" "9464:govbus status" "9465:govbus admin" "9101:civil registry" "9102:business registry"; do
  port=${spec%%:*}
  if port_taken "$port"; then
    echo "make run: port 127.0.0.1:$port (${spec#*:}) is already in use; stop whatever holds it and try again." >&2
    exit 1
  fi
done

bin/govbus check -config "$CONFIG" >/dev/null || exit 1

stop() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null; done
}
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM
trap 'stop' EXIT

bin/registrysim -civil 127.0.0.1:9101 -business 127.0.0.1:9102 2>>var/registrysim.log &
pids+=($!)
bin/govbus serve -config "$CONFIG" 2>>var/govbus.log &
pids+=($!)

# If make itself is killed, take the children down too.
parent=$PPID
( while kill -0 "$parent" 2>/dev/null; do sleep 1; done; kill -TERM $$ 2>/dev/null ) &
watchdog=$!

for _ in $(seq 1 100); do
  if curl -fsS -o /dev/null http://127.0.0.1:9464/readyz 2>/dev/null; then break; fi
  for pid in "${pids[@]}"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "make run: a process exited at start-up; see var/govbus.log and var/registrysim.log:" >&2
      tail -n 5 var/govbus.log var/registrysim.log >&2
      exit 1
    fi
  done
  sleep 0.1
done

cat <<MSG
govbus is up (logs: var/govbus.log, var/registrysim.log; Ctrl-C stops everything).
  consumer  http://127.0.0.1:8080     status  http://127.0.0.1:9464/metrics
  admin     http://127.0.0.1:9465/admin/status   civil registry  http://127.0.0.1:9101
  admin token  demo-admin-token (admin demo-admin, role admin): every admin call but
               GET /admin/status needs -H 'Authorization: Bearer demo-admin-token'
  business registry (SOAP)  http://127.0.0.1:9102/?wsdl

Example calls (the same as in README.md):
MSG
sed -n '/<!-- example-calls:start -->/,/<!-- example-calls:end -->/p' README.md | grep -E '^curl ' | sed 's/^/  /'
echo

wait -n "${pids[@]}"
echo "make run: a demo process stopped (see var/*.log); stopping the rest" >&2
kill "$watchdog" 2>/dev/null
exit 1
