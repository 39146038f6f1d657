#!/usr/bin/env bash
# Load harness of govbus (make bench): the same GET /persons/{id} load sent
# directly to the simulated civil registry, through a bare Go reverse proxy
# (net/http/httputil.ReverseProxy, served by benchload proxy: the yardstick
# for any proxy on this machine) and through govbus, in alternating rounds,
# then a table of req/s, p50, p99 and errors per round, the medians, and the
# ratios govbus/direct, proxy/direct and govbus/proxy of req/s.
#
# It builds bin/govbus, bin/registrysim and bin/benchload, starts its own
# registrysim, bare proxy and govbus on bench ports (never the demo's), stops
# exactly those processes on exit, and fails (exit 1) when a port is taken, a
# server does not get ready, or any request gets no 2xx answer.
#
# Environment:
#   BENCH_DURATION   measured time per round          (default 5s)
#   BENCH_WARMUP     unmeasured warm-up before each   (default 2s)
#   BENCH_ROUNDS     rounds per scenario              (default 3)
#   BENCH_CONNS      connections of the generator     (default 64)
#   BENCH_GENERATOR  auto (wrk when installed, else the built-in benchload),
#                    wrk, or go                        (default auto)
#   BENCH_NO_BUILD   1: use the binaries already in bin/
# Ports (127.0.0.1): registry 19101, bare proxy 19090, consumer 19080,
# status 19464, admin 19465.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

DURATION=${BENCH_DURATION:-5s}
WARMUP=${BENCH_WARMUP:-2s}
ROUNDS=${BENCH_ROUNDS:-3}
CONNS=${BENCH_CONNS:-64}
GENERATOR=${BENCH_GENERATOR:-auto}

REGISTRY_ADDR=127.0.0.1:19101
PROXY_ADDR=127.0.0.1:19090
BUSINESS_ADDR=127.0.0.1:19102 # only rewritten into the config; not served
CONSUMER_ADDR=127.0.0.1:19080
STATUS_ADDR=127.0.0.1:19464
ADMIN_ADDR=127.0.0.1:19465

DEMO_CONFIG=deploy/demo/govbus.yaml
# The bench's state lives in var/bench/ (gitignored). The config sits two
# directories below the root, like deploy/demo/govbus.yaml, so relative file
# names in it (the OpenAPI description...) resolve to the same files.
WORK=var/bench
CONFIG=$WORK/govbus.yaml
RESULTS=$WORK/results.jsonl

PERSON_PATH=/persons/{id}
SERVICE=UA/GOV/00000001/civil-registry/persons
DIRECT_URL="http://$REGISTRY_ADDR$PERSON_PATH"
PROXY_URL="http://$PROXY_ADDR$PERSON_PATH"
GOVBUS_URL="http://$CONSUMER_ADDR/r1/$SERVICE$PERSON_PATH"
# The same registry behind a second registry entry with breakers and retries
# off (added to the bench config below).
GOVBUS_PLAIN_URL="http://$CONSUMER_ADDR/r1/UA/GOV/00000001/civil-plain/persons$PERSON_PATH"
GOVBUS_HEADERS=(
	-H "X-Road-Client: UA/GOV/00000003/eservice"
	-H "Authorization: Bearer demo-eservice-key"
	-H "X-Road-Purpose: service-delivery"
)

die() {
	echo "bench: $*" >&2
	exit 1
}

case $ROUNDS in '' | *[!0-9]* | 0) die "BENCH_ROUNDS=$ROUNDS: want a whole number ≥ 1" ;; esac
case $CONNS in '' | *[!0-9]* | 0) die "BENCH_CONNS=$CONNS: want a whole number ≥ 1" ;; esac
case $GENERATOR in
auto) if command -v wrk >/dev/null 2>&1; then GENERATOR=wrk; else GENERATOR=go; fi ;;
wrk) command -v wrk >/dev/null 2>&1 || die "BENCH_GENERATOR=wrk but wrk is not installed" ;;
go) ;;
*) die "BENCH_GENERATOR=$GENERATOR: want auto, wrk or go" ;;
esac

# --- build ------------------------------------------------------------------
if [[ ${BENCH_NO_BUILD:-0} != 1 ]]; then
	go build -o bin/govbus ./cmd/govbus
	go build -o bin/registrysim ./cmd/registrysim
	go build -o bin/benchload ./cmd/benchload
fi
for b in govbus registrysim benchload; do
	[[ -x bin/$b ]] || die "bin/$b is missing (build it, or unset BENCH_NO_BUILD)"
done

# --- CPU placement ----------------------------------------------------------
# Servers (registrysim, the bare proxy and govbus) share one CPU, the
# generator has another, so that the generator never takes CPU time from
# what it measures. Both proxies run for the whole run, idle in the other's
# rounds, so each round sees the same processes on the server CPU.
SERVER_PIN=()
LOAD_PIN=()
PLACEMENT="unpinned"
cpus=()
if command -v taskset >/dev/null 2>&1; then
	# The CPUs this process may use, e.g. "0-1" or "2,4-5", expanded.
	allowed=$(awk '/^Cpus_allowed_list:/ {print $2}' /proc/self/status 2>/dev/null || true)
	IFS=, read -ra parts <<<"$allowed"
	for p in "${parts[@]}"; do
		if [[ $p == *-* ]]; then
			for ((c = ${p%-*}; c <= ${p#*-}; c++)); do cpus+=("$c"); done
		elif [[ -n $p ]]; then
			cpus+=("$p")
		fi
	done
fi
if ((${#cpus[@]} >= 2)) && (($(nproc) >= 2)); then
	SERVER_PIN=(taskset -c "${cpus[0]}")
	LOAD_PIN=(taskset -c "${cpus[1]}")
	PLACEMENT="registrysim+proxy+govbus on CPU ${cpus[0]}, generator on CPU ${cpus[1]} (taskset)"
elif ! command -v taskset >/dev/null 2>&1; then
	PLACEMENT="UNPINNED: taskset not found; servers and generator share the CPUs"
else
	PLACEMENT="UNPINNED: fewer than 2 CPUs; servers and generator share the CPU"
fi

if [[ $GENERATOR == wrk ]]; then
	GEN_DESC="wrk ($( (wrk --version 2>&1 || true) | head -n1 | awk '{print $2}'), 1 thread per generator CPU, Lua script bench/wrk.lua)"
else
	if [[ ${BENCH_GENERATOR:-auto} == go ]]; then
		GEN_DESC="benchload (built-in Go closed loop; chosen by BENCH_GENERATOR=go)"
	else
		GEN_DESC="benchload (built-in Go closed loop; wrk not found)"
	fi
fi

cpu_model=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null || true)
echo "== govbus load harness"
echo "machine:    nproc $(nproc)${cpu_model:+, $cpu_model}, $(uname -sr)"
echo "go:         $(go version 2>/dev/null || echo 'not found')"
echo "generator:  $GEN_DESC"
echo "placement:  $PLACEMENT"
echo "load:       $CONNS connections, $ROUNDS rounds per scenario, $WARMUP warm-up + $DURATION measured per round"
echo "scenarios:  direct  GET $DIRECT_URL"
echo "            proxy   GET $PROXY_URL (bare httputil.ReverseProxy)"
echo "            govbus-plain  GET $GOVBUS_PLAIN_URL (breakers and retries off)"
echo "            govbus  GET $GOVBUS_URL (the demo pipeline: breakers, retries, purpose rule)"
echo "            ids 1000000001..1000010000, one drawn per request"
echo

# --- state and cleanup ------------------------------------------------------
mkdir -p "$WORK"
rm -f "$CONFIG" "$RESULTS" "$WORK"/*.log

STARTED=() # pids of what this script started, and nothing else
cleanup() {
	local status=$?
	trap - EXIT INT TERM
	if ((${#STARTED[@]} > 0)); then
		kill -TERM "${STARTED[@]}" 2>/dev/null || true
		# Let them drain; after 10 s, end them.
		for _ in $(seq 100); do
			local left=0
			for pid in "${STARTED[@]}"; do
				kill -0 "$pid" 2>/dev/null && left=1
			done
			((left == 0)) && break
			sleep 0.1
		done
		for pid in "${STARTED[@]}"; do
			kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
		done
		wait "${STARTED[@]}" 2>/dev/null || true
	fi
	if ((status != 0)); then
		echo "bench: FAILED (exit $status); logs in $WORK/" >&2
	fi
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- config -----------------------------------------------------------------
# The demo config with the bench's addresses (and, once there is one, its
# own message log under var/bench/).
{
	echo "# Written by bench/run.sh from $DEMO_CONFIG, with the bench's addresses. Do not edit."
	sed -e "s#127\.0\.0\.1:8080\b#$CONSUMER_ADDR#g" \
		-e "s#127\.0\.0\.1:9464\b#$STATUS_ADDR#g" \
		-e "s#127\.0\.0\.1:9465\b#$ADMIN_ADDR#g" \
		-e "s#127\.0\.0\.1:9101\b#$REGISTRY_ADDR#g" \
		-e "s#127\.0\.0\.1:9102\b#$BUSINESS_ADDR#g" \
		-e "s#var/messagelog#var/bench/messagelog#g" \
		"$DEMO_CONFIG" |
		awk -v reg="$REGISTRY_ADDR" '
			# A second registry on the same simulator with breakers and
			# retries off, and a rule without purposes: the "govbus-plain"
			# scenario, to price the resilience stack.
			{ print }
			/^registries:/ {
				print "  - id: UA/GOV/00000001/civil-plain"
				print "    endpoints: [http://" reg "]"
				print "    retry: {max: 0}"
				print "    breaker: {disabled: true}"
				print "    services:"
				print "      - code: persons"
			}
			/^rules:/ {
				print "  - id: bench-plain"
				print "    clients: [UA/GOV/00000003/eservice]"
				print "    services: [UA/GOV/00000001/civil-plain/persons]"
			}'
} >"$CONFIG"
if leftover=$(grep -nE '(127\.0\.0\.1|localhost|0\.0\.0\.0):(8080|9464|9465|9101|9102)\b' "$CONFIG"); then
	die "$CONFIG still names a demo address, which would collide with make run:"$'\n'"$leftover"
fi
bin/govbus check -config "$CONFIG" >"$WORK/check.log" 2>&1 ||
	die "bin/govbus check refused $CONFIG:"$'\n'"$(cat "$WORK/check.log")"

# --- start ------------------------------------------------------------------
bin/benchload ports "$REGISTRY_ADDR" "$PROXY_ADDR" "$CONSUMER_ADDR" "$STATUS_ADDR" "$ADMIN_ADDR" ||
	die "a port the bench needs is taken (see above); stop what holds it and retry"

"${SERVER_PIN[@]}" bin/registrysim -civil "$REGISTRY_ADDR" -business "" >"$WORK/registrysim.log" 2>&1 &
REGISTRY_PID=$!
STARTED+=("$REGISTRY_PID")
"${SERVER_PIN[@]}" bin/benchload proxy -listen "$PROXY_ADDR" -target "http://$REGISTRY_ADDR" >"$WORK/proxy.log" 2>&1 &
PROXY_PID=$!
STARTED+=("$PROXY_PID")
"${SERVER_PIN[@]}" bin/govbus serve -config "$CONFIG" >"$WORK/govbus.log" 2>&1 &
GOVBUS_PID=$!
STARTED+=("$GOVBUS_PID")

SERVER_PIDS=("$REGISTRY_PID" "$PROXY_PID" "$GOVBUS_PID")
if ! bin/benchload wait -timeout 20s -pid "$REGISTRY_PID,$PROXY_PID,$GOVBUS_PID" \
	"http://$REGISTRY_ADDR/persons/1000000001" "http://$PROXY_ADDR/persons/1000000001" \
	"http://$STATUS_ADDR/readyz"; then
	echo "--- registrysim log" >&2
	tail -n 20 "$WORK/registrysim.log" >&2 || true
	echo "--- proxy log" >&2
	tail -n 20 "$WORK/proxy.log" >&2 || true
	echo "--- govbus log" >&2
	tail -n 20 "$WORK/govbus.log" >&2 || true
	die "the servers did not get ready"
fi
# One call through govbus before measuring: a refusal (401, 403...) is a
# setup problem, reported as such.
bin/benchload wait -timeout 10s -pid "$REGISTRY_PID,$PROXY_PID,$GOVBUS_PID" "${GOVBUS_HEADERS[@]}" \
	"http://$CONSUMER_ADDR/r1/$SERVICE/persons/1000000001" ||
	die "govbus does not answer 2xx to the bench's call (see above)"
echo "servers ready: registrysim pid $REGISTRY_PID, proxy pid $PROXY_PID, govbus pid $GOVBUS_PID"
echo

# --- rounds -----------------------------------------------------------------
run_round() { # scenario round url [headers...]
	local scenario=$1 round=$2 url=$3
	shift 3
	local before after
	before=$( (cat "$RESULTS" 2>/dev/null || true) | wc -l)
	# A round with failed requests still reports (and fails the table);
	# a round that produced no result stops the run.
	local rc=0
	"${LOAD_PIN[@]}" bin/benchload run -generator "$GENERATOR" -scenario "$scenario" -round "$round" \
		-url "$url" -c "$CONNS" -d "$DURATION" -warmup "$WARMUP" -out "$RESULTS" "$@" || rc=$?
	if ((rc == 130)); then
		echo "bench: interrupted" >&2
		exit 130
	fi
	after=$( (cat "$RESULTS" 2>/dev/null || true) | wc -l)
	((after > before)) || die "the $scenario round $round produced no result (see above)"
	# Servers must survive every round.
	for pid in "${SERVER_PIDS[@]}"; do
		kill -0 "$pid" 2>/dev/null || die "server pid $pid died during the $scenario round $round (see $WORK/*.log)"
	done
}
for ((r = 1; r <= ROUNDS; r++)); do
	run_round direct "$r" "$DIRECT_URL"
	run_round proxy "$r" "$PROXY_URL"
	run_round govbus-plain "$r" "$GOVBUS_PLAIN_URL" "${GOVBUS_HEADERS[@]}"
	run_round govbus "$r" "$GOVBUS_URL" "${GOVBUS_HEADERS[@]}"
done

# --- report -----------------------------------------------------------------
[[ -s $RESULTS ]] || die "no round produced a result"
echo
bin/benchload table -in "$RESULTS" -ratio govbus/direct,proxy/direct,govbus/proxy,govbus/govbus-plain
