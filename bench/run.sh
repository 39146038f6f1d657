#!/usr/bin/env bash
# Load harness of govbus (make bench): the same GET /persons/{id} load sent
# directly to the simulated civil registry, through a bare Go reverse proxy
# (net/http/httputil.ReverseProxy, served by benchload proxy: the yardstick
# for any proxy on this machine), through govbus with tracing off and the
# message log on (SQLite, durable group commit), through a third govbus
# with the message log off, and through a second govbus that traces every
# exchange (100% sampling, message log on) and exports the spans over
# OTLP/HTTP to a running Jaeger; and SOAP: an X-Road SOAP 4.0 envelope of
# about 2 KiB (bench/soap-companies.xml, the company code drawn per request)
# POSTed straight to the simulated business registry (soap-direct) and
# through govbus's POST / (soap-govbus, passthrough), and the REST-to-SOAP
# call GET /r1/.../business-registry/companies/companies/{code} through
# govbus (rest-to-soap, JSON answer); all in alternating rounds. Then a
# table of req/s, p50, p99, errors and the servers' CPU per request per
# round, the medians, and the ratios govbus/direct, proxy/direct,
# govbus/proxy, govbus/govbus-plain, govbus/govbus-nolog (the price of the
# message log; the project's target is a cost of at most 20%, a ratio of
# 0.80 or more), govbus-traced/govbus, soap-govbus/soap-direct and
# rest-to-soap/soap-direct of req/s, each followed by a "cost" line with
# the two scenarios' server CPU per request; and the size on disk and the
# records of each message log written.
#
# Server CPU per request: req/s alone is a poor measure of cost when the
# generator's CPU is shared (Jaeger runs there in the traced rounds) or a
# round is noisy. So each round also reads, from /proc/PID/stat, the CPU
# time (user+system) of the processes that do the scenario's work, right
# before and right after its measured phase (not the warm-up), and divides
# it by the measured requests (benchload run -server-pids). Those processes:
#   direct, soap-direct                          registrysim
#   proxy                                        the bare proxy, registrysim
#   govbus-plain, govbus-minimised, govbus,
#   soap-govbus, rest-to-soap                    govbus, registrysim
#   govbus-nolog                                 govbus-nolog, registrysim
#   govbus-traced                                govbus-traced, registrysim
# Jaeger is not counted in govbus-traced: its CPU is reported on its own
# line. The kernel counts CPU time in ticks of 10 ms: over a 3 s round of
# thousands of requests that is precise to a percent or two. It is what the
# kernel charges to those processes: network work it does in softirq
# context may land on another process (the generator) or on none.
#
# It builds bin/govbus, bin/registrysim and bin/benchload, gets the pinned
# Jaeger from scripts/ensure-jaeger.sh, starts its own registrysim (civil
# and business registries in one process), bare
# proxy, three govbus and Jaeger on bench ports (never the demo's), stops
# exactly those processes on exit, and fails (exit 1) when a port is taken, a
# server does not get ready, any request gets no 2xx answer, a govbus with
# the message log on recorded nothing, or no span of the traced govbus
# reached Jaeger. When Jaeger cannot be obtained it prints
# "SKIPPED govbus-traced: ..." and runs the other scenarios.
#
# The message logs live in var/bench/ (messagelog.db of the govbus,
# messagelog-traced.db of the traced govbus, with their -wal and -shm files
# and signing keys); the databases are removed at the start of each run, so
# that every run logs into empty ones, and the keys kept.
#
# Environment:
#   BENCH_DURATION   measured time per round          (default 3s)
#   BENCH_WARMUP     unmeasured warm-up before each   (default 1s)
#   BENCH_ROUNDS     rounds per scenario              (default 3)
#   BENCH_CONNS      connections of the generator     (default 64)
#   BENCH_GENERATOR  auto (wrk when installed, else the built-in benchload),
#                    wrk, or go                        (default auto)
#   BENCH_NO_BUILD   1: use the binaries already in bin/
# Ports (127.0.0.1): registry 19101, business registry (SOAP) 19102, bare
# proxy 19090, govbus consumer
# 19080, status 19464, admin 19465; traced govbus consumer 19081, status
# 19466, admin 19467; govbus without message log consumer 19082, status
# 19468, admin 19469; Jaeger OTLP/HTTP 19318, query HTTP 19686, query gRPC
# 19685.
# OTEL_* variables of the caller are ignored: only the traced govbus gets
# one, OTEL_EXPORTER_OTLP_ENDPOINT, so that it samples with its default
# (parent-based always-on: 100%) and the others trace nothing.
# The final lines count the records of each message log with sqlite3 when
# it is installed, and give their size on disk alone otherwise.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

while read -r v; do unset "$v"; done < <(compgen -e | grep '^OTEL_' || true)

# 9 scenarios x 3 rounds x (1s + 3s) = 108 s of load, about 2.5 minutes in
# all. (The measured time went from 4s to 3s when govbus-nolog came; the
# warm-up went from 2s to 1s when the three SOAP scenarios came, to stay
# within 2.5 minutes. wrk takes whole seconds. One second of warm-up is
# thousands of requests on every connection: enough to fill the pools.)
DURATION=${BENCH_DURATION:-3s}
WARMUP=${BENCH_WARMUP:-1s}
ROUNDS=${BENCH_ROUNDS:-3}
CONNS=${BENCH_CONNS:-64}
GENERATOR=${BENCH_GENERATOR:-auto}

REGISTRY_ADDR=127.0.0.1:19101
PROXY_ADDR=127.0.0.1:19090
BUSINESS_ADDR=127.0.0.1:19102 # the business registry (SOAP 1.1), same registrysim
CONSUMER_ADDR=127.0.0.1:19080
STATUS_ADDR=127.0.0.1:19464
ADMIN_ADDR=127.0.0.1:19465
# The traced govbus: the same config on its own listeners.
TRACED_CONSUMER_ADDR=127.0.0.1:19081
TRACED_STATUS_ADDR=127.0.0.1:19466
TRACED_ADMIN_ADDR=127.0.0.1:19467
# The govbus without message log: the same config with message_log off, on
# its own listeners.
NOLOG_CONSUMER_ADDR=127.0.0.1:19082
NOLOG_STATUS_ADDR=127.0.0.1:19468
NOLOG_ADMIN_ADDR=127.0.0.1:19469
# Jaeger, the collector the traced govbus exports to.
JAEGER_OTLP_ADDR=127.0.0.1:19318
JAEGER_QUERY_ADDR=127.0.0.1:19686
JAEGER_GRPC_ADDR=127.0.0.1:19685

DEMO_CONFIG=deploy/demo/govbus.yaml
# The bench's state lives in var/bench/ (gitignored). The config sits two
# directories below the root, like deploy/demo/govbus.yaml, so relative file
# names in it (the OpenAPI description...) resolve to the same files.
WORK=var/bench
CONFIG=$WORK/govbus.yaml
TRACED_CONFIG=$WORK/govbus-traced.yaml
NOLOG_CONFIG=$WORK/govbus-nolog.yaml
JAEGER_CONFIG=$WORK/jaeger.yaml
RESULTS=$WORK/results.jsonl

PERSON_PATH=/persons/{id}
SERVICE=UA/GOV/00000001/civil-registry/persons
DIRECT_URL="http://$REGISTRY_ADDR$PERSON_PATH"
PROXY_URL="http://$PROXY_ADDR$PERSON_PATH"
GOVBUS_URL="http://$CONSUMER_ADDR/r1/$SERVICE$PERSON_PATH"
# The same registry behind a second registry entry with breakers and retries
# off (added to the bench config below).
GOVBUS_PLAIN_URL="http://$CONSUMER_ADDR/r1/UA/GOV/00000001/civil-plain/persons$PERSON_PATH"
# The demo pipeline with the benefits rule's field list (bench-minimised).
GOVBUS_MIN_URL="http://$CONSUMER_ADDR/r1/UA/GOV/00000001/civil-min/persons$PERSON_PATH"
# The govbus call through the traced govbus.
GOVBUS_TRACED_URL="http://$TRACED_CONSUMER_ADDR/r1/$SERVICE$PERSON_PATH"
# The govbus call through the govbus without message log.
GOVBUS_NOLOG_URL="http://$NOLOG_CONSUMER_ADDR/r1/$SERVICE$PERSON_PATH"
GOVBUS_HEADERS=(
	-H "X-Road-Client: UA/GOV/00000003/eservice"
	-H "Authorization: Bearer demo-eservice-key"
	-H "X-Road-Purpose: service-delivery"
)
# SOAP: the X-Road SOAP 4.0 envelope of eservice to the companies service
# (about 2 KiB with userId and issue; {id} is the company code, and the end
# of xrd:id), POSTed as is to the business registry and to govbus's POST /,
# where the identity comes from xrd:client and the API key proves it. The
# rule eservice-reads-companies wants the purpose.
SOAP_ENVELOPE=bench/soap-companies.xml
COMPANY_IDS=10000001-10001000
SOAP_DIRECT_URL="http://$BUSINESS_ADDR/"
SOAP_GOVBUS_URL="http://$CONSUMER_ADDR/"
REST_TO_SOAP_URL="http://$CONSUMER_ADDR/r1/UA/GOV/00000002/business-registry/companies/companies/{id}"
SOAP_HEADERS=(-H "Content-Type: text/xml; charset=utf-8")
SOAP_GOVBUS_HEADERS=(
	"${SOAP_HEADERS[@]}"
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
[[ -s $SOAP_ENVELOPE ]] || die "$SOAP_ENVELOPE, the SOAP scenarios' envelope, is missing"

# --- Jaeger -----------------------------------------------------------------
# The pinned Jaeger v2 (built once into a cache; make bench's deps already
# did). Without it the traced scenario is skipped, not the run.
TRACED=1
SKIP_TRACED=""
jaeger_rc=0
JAEGER=$(scripts/ensure-jaeger.sh) || jaeger_rc=$?
if ((jaeger_rc != 0)); then
	SKIP_TRACED="Jaeger could not be obtained (scripts/ensure-jaeger.sh exit $jaeger_rc, see its messages above)"
elif [[ ! -x $JAEGER ]]; then
	SKIP_TRACED="scripts/ensure-jaeger.sh printed '$JAEGER', which is not an executable"
fi
if [[ -n $SKIP_TRACED ]]; then
	TRACED=0
	SKIP_TRACED="SKIPPED govbus-traced: $SKIP_TRACED; the other scenarios run"
	echo "$SKIP_TRACED" >&2
fi

# --- CPU placement ----------------------------------------------------------
# Servers (registrysim, the bare proxy and the govbus) share one CPU, the
# generator has another, so that the generator never takes CPU time from
# what it measures. The proxies run for the whole run, idle in the others'
# rounds, so each round sees the same processes on the server CPU. Jaeger,
# the collector of the traced govbus and not part of what is measured, runs
# on the generator's CPU; the run reports the CPU time it took there.
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
	PLACEMENT="registrysim (civil+business)+proxy+govbus+govbus-nolog on CPU ${cpus[0]}, generator on CPU ${cpus[1]} (taskset)"
	if ((TRACED)); then
		PLACEMENT="registrysim (civil+business)+proxy+govbus+govbus-nolog+govbus-traced on CPU ${cpus[0]}, generator on CPU ${cpus[1]} (taskset)"
	fi
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

if ((TRACED)); then
	# ensure-jaeger's cache is keyed by version: .../jaeger-VERSION/jaeger.
	JAEGER_VERSION=$(basename "$(dirname "$JAEGER")")
	JAEGER_VERSION="cmd/jaeger of github.com/jaegertracing/jaeger ${JAEGER_VERSION#jaeger-}"
	if ((${#LOAD_PIN[@]} > 0)); then
		JAEGER_PLACEMENT="Jaeger on CPU ${cpus[1]} with the generator (taskset): it is the collector, not part of the system under test"
	else
		JAEGER_PLACEMENT="Jaeger unpinned: it is the collector, not part of the system under test"
	fi
fi

cpu_model=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null || true)
echo "== govbus load harness"
echo "machine:    nproc $(nproc)${cpu_model:+, $cpu_model}, $(uname -sr)"
echo "go:         $(go version 2>/dev/null || echo 'not found')"
echo "generator:  $GEN_DESC"
echo "placement:  $PLACEMENT"
if ((TRACED)); then
	echo "            $JAEGER_PLACEMENT;"
fi
echo "            each govbus idles while another is measured"
echo "load:       $CONNS connections, $ROUNDS rounds per scenario, $WARMUP warm-up + $DURATION measured per round"
echo "scenarios:  direct  GET $DIRECT_URL"
echo "            proxy   GET $PROXY_URL (bare httputil.ReverseProxy)"
echo "            govbus-plain  GET $GOVBUS_PLAIN_URL (breakers and retries off)"
echo "            govbus-minimised  GET $GOVBUS_MIN_URL (the demo pipeline plus data minimisation to 3 fields)"
echo "            govbus-nolog  GET $GOVBUS_NOLOG_URL (the demo pipeline in a third govbus,"
echo "                    message_log: {disabled: true}; tracing off)"
echo "            govbus  GET $GOVBUS_URL (the demo pipeline: breakers, retries, purpose rule,"
echo "                    message log on: SQLite $WORK/messagelog.db, durable group commit; tracing off)"
if ((TRACED)); then
	echo "            govbus-traced  GET $GOVBUS_TRACED_URL (the same pipeline in a second govbus,"
	echo "                    100% sampling, spans exported over OTLP/HTTP to Jaeger ($JAEGER_VERSION) on $JAEGER_OTLP_ADDR, in-memory storage;"
	echo "                    message log on: SQLite $WORK/messagelog-traced.db)"
else
	echo "            govbus-traced  SKIPPED (Jaeger could not be obtained)"
fi
echo "            ids 1000000001..1000010000, one drawn per request"
soap_bytes=$(sed 's/{id}/10000042/g' "$SOAP_ENVELOPE" | wc -c)
echo "            soap-direct  POST $SOAP_DIRECT_URL (the business registry, SOAP 1.1)"
echo "            soap-govbus  POST $SOAP_GOVBUS_URL (X-Road SOAP passthrough through govbus: the same"
echo "                    pipeline and message log as govbus; tracing off)"
echo "                    both: $SOAP_ENVELOPE, $soap_bytes bytes, Content-Type text/xml"
echo "            rest-to-soap  GET $REST_TO_SOAP_URL (through govbus,"
echo "                    mapped onto the SOAP operation companies, JSON answer)"
echo "            company codes 10000001..10001000, one drawn per request (the body's code and xrd:id, the REST path)"
echo

# --- state and cleanup ------------------------------------------------------
mkdir -p "$WORK"
rm -f "$CONFIG" "$TRACED_CONFIG" "$NOLOG_CONFIG" "$JAEGER_CONFIG" "$RESULTS" "$WORK"/*.log

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
# The demo config with the bench's addresses and its own message log under
# var/bench/.
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
				# The demo pipeline with the benefits rule data
				# minimisation, without its 10/s rate limit: the
				# "govbus-minimised" scenario.
				print "  - id: UA/GOV/00000001/civil-min"
				print "    endpoints: [http://" reg "]"
				print "    services:"
				print "      - code: persons"
				print "        paths: [\"/persons/{id}\"]"
			}
			/^rules:/ {
				print "  - id: bench-plain"
				print "    clients: [UA/GOV/00000003/eservice]"
				print "    services: [UA/GOV/00000001/civil-plain/persons]"
				print "  - id: bench-minimised"
				print "    clients: [UA/GOV/00000003/eservice]"
				print "    services: [UA/GOV/00000001/civil-min/persons]"
				print "    purposes: [service-delivery]"
				print "    fields: [id, birth_date, marital_status]"
			}'
} >"$CONFIG"
if leftover=$(grep -nE '(127\.0\.0\.1|localhost|0\.0\.0\.0):(8080|9464|9465|9101|9102)\b' "$CONFIG"); then
	die "$CONFIG still names a demo address, which would collide with make run:"$'\n'"$leftover"
fi
bin/govbus check -config "$CONFIG" >"$WORK/check.log" 2>&1 ||
	die "bin/govbus check refused $CONFIG:"$'\n'"$(cat "$WORK/check.log")"

# msglog_field CONFIG KEY prints message_log.KEY of CONFIG (block style, as
# the demo config writes it), without quotes; nothing when it is absent.
msglog_field() {
	awk -v key="$2" '
		/^message_log:/ { inml = 1; next }
		inml && /^[^ \t#]/ { inml = 0 }
		inml && $1 == key ":" { v = $2; gsub(/^["\047]|["\047]$/, "", v); print v; exit }' "$1"
}
# check_msglog CONFIG: the message log of CONFIG must be on, in SQLite, with
# its database and key under var/bench/ (never the demo's var/messagelog*);
# sets MSGLOG_DB to the database.
check_msglog() {
	local cfg=$1 disabled store key
	disabled=$(msglog_field "$cfg" disabled)
	store=$(msglog_field "$cfg" store)
	MSGLOG_DB=$(msglog_field "$cfg" path)
	key=$(msglog_field "$cfg" signing_key)
	[[ $disabled != true ]] ||
		die "$cfg has the message log off; the govbus scenarios measure it on (see message_log: in $DEMO_CONFIG)"
	[[ $store == sqlite ]] ||
		die "$cfg: message_log.store is '$store'; the bench expects the sqlite store (see message_log: in $DEMO_CONFIG)"
	[[ $MSGLOG_DB == "$WORK"/?* && $MSGLOG_DB != *..* && $key == "$WORK"/?* && $key != *..* ]] ||
		die "$cfg: message_log path '$MSGLOG_DB' and signing_key '$key' must be under $WORK/ (the bench rewrites the var/messagelog* of $DEMO_CONFIG)"
}
check_msglog "$CONFIG"
GOVBUS_DB=$MSGLOG_DB
MSGLOG_DBS=("$GOVBUS_DB")

# The govbus without message log: the bench config on its own listeners,
# with the message_log: block replaced by message_log: {disabled: true}
# (govbus check warns that exchanges leave no record: that is the point).
{
	echo "# Written by bench/run.sh from $CONFIG, with the listeners of the govbus without message log and message_log off. Do not edit."
	sed -e '/^# Written by bench/d' \
		-e "s#$CONSUMER_ADDR\b#$NOLOG_CONSUMER_ADDR#g" \
		-e "s#$STATUS_ADDR\b#$NOLOG_STATUS_ADDR#g" \
		-e "s#$ADMIN_ADDR\b#$NOLOG_ADMIN_ADDR#g" \
		"$CONFIG" |
		awk '
			# The block: its first line, then the indented, blank and
			# comment lines up to the next top-level key.
			/^message_log:/ { print "message_log: {disabled: true}"; skip = 1; found++; next }
			skip && (/^[ \t]/ || /^[ \t]*$/ || /^#/) { next }
			{ skip = 0; print }
			END { if (found != 1) exit 3 }'
} >"$NOLOG_CONFIG" || die "$CONFIG holds no single message_log: block to turn off"
if leftover=$(grep -nE "($CONSUMER_ADDR|$STATUS_ADDR|$ADMIN_ADDR)\b" "$NOLOG_CONFIG"); then
	die "$NOLOG_CONFIG still names a listener of the govbus with the message log:"$'\n'"$leftover"
fi
bin/govbus check -config "$NOLOG_CONFIG" >"$WORK/check-nolog.log" 2>&1 ||
	die "bin/govbus check refused $NOLOG_CONFIG:"$'\n'"$(cat "$WORK/check-nolog.log")"
grep -q 'message_log.disabled' "$WORK/check-nolog.log" ||
	die "bin/govbus check does not say that the message log of $NOLOG_CONFIG is off:"$'\n'"$(cat "$WORK/check-nolog.log")"

if ((TRACED)); then
	# The traced govbus: the bench config on its own listeners and its own
	# message log. Tracing is switched on by the environment when it
	# starts, not here.
	{
		echo "# Written by bench/run.sh from $CONFIG, with the traced govbus's listeners. Do not edit."
		sed -e '/^# Written by bench/d' \
			-e "s#$CONSUMER_ADDR\b#$TRACED_CONSUMER_ADDR#g" \
			-e "s#$STATUS_ADDR\b#$TRACED_STATUS_ADDR#g" \
			-e "s#$ADMIN_ADDR\b#$TRACED_ADMIN_ADDR#g" \
			-e "s#var/bench/messagelog#var/bench/messagelog-traced#g" \
			"$CONFIG"
	} >"$TRACED_CONFIG"
	if leftover=$(grep -nE "($CONSUMER_ADDR|$STATUS_ADDR|$ADMIN_ADDR)\b" "$TRACED_CONFIG"); then
		die "$TRACED_CONFIG still names a listener of the untraced govbus:"$'\n'"$leftover"
	fi
	bin/govbus check -config "$TRACED_CONFIG" >"$WORK/check-traced.log" 2>&1 ||
		die "bin/govbus check refused $TRACED_CONFIG:"$'\n'"$(cat "$WORK/check-traced.log")"
	check_msglog "$TRACED_CONFIG"
	TRACED_DB=$MSGLOG_DB
	[[ $TRACED_DB != "$GOVBUS_DB" ]] || die "$TRACED_CONFIG shares the message log $GOVBUS_DB of $CONFIG"
	MSGLOG_DBS+=("$TRACED_DB")

	# Jaeger: OTLP/HTTP in, in-memory storage, the query API out; every
	# listener on 127.0.0.1. enable_tracing: false keeps Jaeger from
	# exporting its own spans to the default OTLP port (4317).
	cat >"$JAEGER_CONFIG" <<-EOF
		# Written by bench/run.sh. Do not edit.
		service:
		  extensions: [jaeger_storage, jaeger_query]
		  pipelines:
		    traces: {receivers: [otlp], processors: [batch], exporters: [jaeger_storage_exporter]}
		  telemetry:
		    metrics: {level: none}
		    logs: {level: warn}
		extensions:
		  jaeger_storage:
		    backends:
		      mem: {memory: {max_traces: 100000}}
		  jaeger_query:
		    storage: {traces: mem}
		    enable_tracing: false
		    http: {endpoint: "$JAEGER_QUERY_ADDR"}
		    grpc: {endpoint: "$JAEGER_GRPC_ADDR"}
		receivers:
		  otlp:
		    protocols:
		      http: {endpoint: "$JAEGER_OTLP_ADDR"}
		processors:
		  batch: {timeout: 200ms}
		exporters:
		  jaeger_storage_exporter: {trace_storage: mem}
	EOF
fi

# --- start ------------------------------------------------------------------
PORTS=("$REGISTRY_ADDR" "$BUSINESS_ADDR" "$PROXY_ADDR" "$CONSUMER_ADDR" "$STATUS_ADDR" "$ADMIN_ADDR"
	"$NOLOG_CONSUMER_ADDR" "$NOLOG_STATUS_ADDR" "$NOLOG_ADMIN_ADDR")
if ((TRACED)); then
	PORTS+=("$TRACED_CONSUMER_ADDR" "$TRACED_STATUS_ADDR" "$TRACED_ADMIN_ADDR"
		"$JAEGER_OTLP_ADDR" "$JAEGER_QUERY_ADDR" "$JAEGER_GRPC_ADDR")
fi
bin/benchload ports "${PORTS[@]}" ||
	die "a port the bench needs is taken (see above); stop what holds it and retry"

# Empty message logs for every run (only now: with a port taken, another
# bench may be running on them). Any left by an earlier run's layout go too.
for db in "${MSGLOG_DBS[@]}" "$WORK"/messagelog*.db; do
	rm -f "$db" "$db-wal" "$db-shm" "$db-journal"
done

# Jaeger first, so that the traced govbus's first spans find it.
if ((TRACED)); then
	JAEGER_LISTEN_HOST=127.0.0.1 "${LOAD_PIN[@]}" "$JAEGER" --config="file:$JAEGER_CONFIG" >"$WORK/jaeger.log" 2>&1 &
	JAEGER_PID=$!
	STARTED+=("$JAEGER_PID")
	if ! bin/benchload wait -timeout 30s -pid "$JAEGER_PID" "http://$JAEGER_QUERY_ADDR/api/services"; then
		echo "--- jaeger log" >&2
		tail -n 20 "$WORK/jaeger.log" >&2 || true
		die "Jaeger did not get ready"
	fi
fi

"${SERVER_PIN[@]}" bin/registrysim -civil "$REGISTRY_ADDR" -business "$BUSINESS_ADDR" >"$WORK/registrysim.log" 2>&1 &
REGISTRY_PID=$!
STARTED+=("$REGISTRY_PID")
"${SERVER_PIN[@]}" bin/benchload proxy -listen "$PROXY_ADDR" -target "http://$REGISTRY_ADDR" >"$WORK/proxy.log" 2>&1 &
PROXY_PID=$!
STARTED+=("$PROXY_PID")
"${SERVER_PIN[@]}" bin/govbus serve -config "$CONFIG" >"$WORK/govbus.log" 2>&1 &
GOVBUS_PID=$!
STARTED+=("$GOVBUS_PID")

"${SERVER_PIN[@]}" bin/govbus serve -config "$NOLOG_CONFIG" >"$WORK/govbus-nolog.log" 2>&1 &
NOLOG_PID=$!
STARTED+=("$NOLOG_PID")

SERVER_PIDS=("$REGISTRY_PID" "$PROXY_PID" "$GOVBUS_PID" "$NOLOG_PID")
READY_URLS=("http://$REGISTRY_ADDR/persons/1000000001" "http://$BUSINESS_ADDR/?wsdl" "http://$PROXY_ADDR/persons/1000000001"
	"http://$STATUS_ADDR/readyz" "http://$NOLOG_STATUS_ADDR/readyz")
CALL_URLS=("http://$CONSUMER_ADDR/r1/$SERVICE/persons/1000000001" "http://$NOLOG_CONSUMER_ADDR/r1/$SERVICE/persons/1000000001"
	"${REST_TO_SOAP_URL/\{id\}/10000001}")
LOGS=(registrysim proxy govbus govbus-nolog)
if ((TRACED)); then
	OTEL_EXPORTER_OTLP_ENDPOINT="http://$JAEGER_OTLP_ADDR" "${SERVER_PIN[@]}" bin/govbus serve -config "$TRACED_CONFIG" >"$WORK/govbus-traced.log" 2>&1 &
	TRACED_PID=$!
	STARTED+=("$TRACED_PID")
	SERVER_PIDS+=("$TRACED_PID" "$JAEGER_PID")
	READY_URLS+=("http://$TRACED_STATUS_ADDR/readyz")
	CALL_URLS+=("http://$TRACED_CONSUMER_ADDR/r1/$SERVICE/persons/1000000001")
	LOGS+=(govbus-traced jaeger)
fi
pid_list=$(IFS=,; echo "${SERVER_PIDS[*]}")

if ! bin/benchload wait -timeout 20s -pid "$pid_list" "${READY_URLS[@]}"; then
	for l in "${LOGS[@]}"; do
		echo "--- $l log" >&2
		tail -n 20 "$WORK/$l.log" >&2 || true
	done
	die "the servers did not get ready"
fi
# One call through each govbus before measuring: a refusal (401, 403...) is
# a setup problem, reported as such.
bin/benchload wait -timeout 10s -pid "$pid_list" "${GOVBUS_HEADERS[@]}" "${CALL_URLS[@]}" ||
	die "govbus does not answer 2xx to the bench's call (see above)"
# The same for the SOAP envelope, straight to the registry and through govbus.
bin/benchload wait -timeout 10s -pid "$pid_list" "${SOAP_HEADERS[@]}" -body-file "$SOAP_ENVELOPE" -id 10000001 "$SOAP_DIRECT_URL" ||
	die "the business registry does not answer 2xx to the bench's envelope $SOAP_ENVELOPE (see above)"
bin/benchload wait -timeout 10s -pid "$pid_list" "${SOAP_GOVBUS_HEADERS[@]}" -body-file "$SOAP_ENVELOPE" -id 10000001 "$SOAP_GOVBUS_URL" ||
	die "govbus does not answer 2xx to the bench's envelope $SOAP_ENVELOPE (see above)"
# Tracing is on in the traced govbus only; each says so when it starts.
for l in govbus govbus-nolog; do
	if grep -q 'exporting spans' "$WORK/$l.log"; then
		die "the untraced $l exports spans (see $WORK/$l.log): does $DEMO_CONFIG name a tracing endpoint?"
	fi
done
if ((TRACED)) && ! grep -q 'exporting spans' "$WORK/govbus-traced.log"; then
	die "the traced govbus does not say it exports spans (see $WORK/govbus-traced.log)"
fi
echo -n "servers ready: registrysim pid $REGISTRY_PID, proxy pid $PROXY_PID, govbus pid $GOVBUS_PID, govbus-nolog pid $NOLOG_PID"
if ((TRACED)); then
	echo ", govbus-traced pid $TRACED_PID, jaeger pid $JAEGER_PID"
else
	echo
fi
echo

# --- rounds -----------------------------------------------------------------
run_round() { # scenario round server-pids url [headers...]
	local scenario=$1 round=$2 pids=$3 url=$4
	shift 4
	local before after
	before=$( (cat "$RESULTS" 2>/dev/null || true) | wc -l)
	# A round with failed requests still reports (and fails the table);
	# a round that produced no result stops the run.
	local rc=0
	"${LOAD_PIN[@]}" bin/benchload run -generator "$GENERATOR" -scenario "$scenario" -round "$round" \
		-url "$url" -c "$CONNS" -d "$DURATION" -warmup "$WARMUP" -server-pids "$pids" -out "$RESULTS" "$@" || rc=$?
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
# CPU time (user + system, in clock ticks) of a process so far.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
JAEGER_TICKS=0 # Jaeger's CPU time during the traced rounds
TRACED_SECONDS=0
if ((TRACED)); then
	JAEGER_TICKS0=$(cpu_ticks "$JAEGER_PID")
fi
# The server processes of each scenario (see the header), for -server-pids.
ON_REGISTRY=$REGISTRY_PID
ON_PROXY=$PROXY_PID,$REGISTRY_PID
ON_GOVBUS=$GOVBUS_PID,$REGISTRY_PID
ON_NOLOG=$NOLOG_PID,$REGISTRY_PID
if ((TRACED)); then
	ON_TRACED=$TRACED_PID,$REGISTRY_PID
fi
for ((r = 1; r <= ROUNDS; r++)); do
	run_round direct "$r" "$ON_REGISTRY" "$DIRECT_URL"
	run_round proxy "$r" "$ON_PROXY" "$PROXY_URL"
	run_round govbus-plain "$r" "$ON_GOVBUS" "$GOVBUS_PLAIN_URL" "${GOVBUS_HEADERS[@]}"
	run_round govbus-minimised "$r" "$ON_GOVBUS" "$GOVBUS_MIN_URL" "${GOVBUS_HEADERS[@]}"
	run_round govbus-nolog "$r" "$ON_NOLOG" "$GOVBUS_NOLOG_URL" "${GOVBUS_HEADERS[@]}"
	run_round govbus "$r" "$ON_GOVBUS" "$GOVBUS_URL" "${GOVBUS_HEADERS[@]}"
	if ((TRACED)); then
		t0=$(date +%s.%N) c0=$(cpu_ticks "$JAEGER_PID")
		run_round govbus-traced "$r" "$ON_TRACED" "$GOVBUS_TRACED_URL" "${GOVBUS_HEADERS[@]}"
		c1=$(cpu_ticks "$JAEGER_PID")
		JAEGER_TICKS=$((JAEGER_TICKS + c1 - c0))
		TRACED_SECONDS=$(awk -v a="$TRACED_SECONDS" -v t0="$t0" -v t1="$(date +%s.%N)" 'BEGIN {print a + t1 - t0}')
	fi
	run_round soap-direct "$r" "$ON_REGISTRY" "$SOAP_DIRECT_URL" "${SOAP_HEADERS[@]}" \
		-body-file "$SOAP_ENVELOPE" -ids "$COMPANY_IDS"
	run_round soap-govbus "$r" "$ON_GOVBUS" "$SOAP_GOVBUS_URL" "${SOAP_GOVBUS_HEADERS[@]}" \
		-body-file "$SOAP_ENVELOPE" -ids "$COMPANY_IDS"
	run_round rest-to-soap "$r" "$ON_GOVBUS" "$REST_TO_SOAP_URL" "${GOVBUS_HEADERS[@]}" -ids "$COMPANY_IDS"
done

# --- report -----------------------------------------------------------------
[[ -s $RESULTS ]] || die "no round produced a result"
echo
table_rc=0
bin/benchload table -in "$RESULTS" \
	-ratio govbus/direct,proxy/direct,govbus/proxy,govbus/govbus-plain,govbus/govbus-nolog,govbus-minimised/govbus,govbus-traced/govbus,soap-govbus/soap-direct,rest-to-soap/soap-direct ||
	table_rc=$?
if ((TRACED)); then
	# Jaeger shares the generator's CPU: what it took, in the traced rounds
	# and in all the others.
	awk -v ticks="$JAEGER_TICKS" -v other="$(($(cpu_ticks "$JAEGER_PID") - JAEGER_TICKS0 - JAEGER_TICKS))" \
		-v hz="$(getconf CLK_TCK)" -v secs="$TRACED_SECONDS" 'BEGIN {
		printf "jaeger: %.1f CPU-s in the %.1f s of the govbus-traced rounds, warm-ups included (%.0f%% of one CPU, taken from the generator CPU); %.1f CPU-s in all other rounds\n",
			ticks / hz, secs, (secs > 0 ? 100 * ticks / hz / secs : 0), other / hz }'
	# The spans must really have arrived: Jaeger lists govbus (only the
	# traced govbus exports), and the traced govbus reports what it dropped.
	bin/benchload spans -query "http://$JAEGER_QUERY_ADDR" -service govbus \
		-metrics "http://$TRACED_STATUS_ADDR/metrics" -timeout 15s ||
		die "FAIL: the spans of govbus-traced could not be confirmed in Jaeger (see the benchload spans line above, $WORK/govbus-traced.log and $WORK/jaeger.log)"
else
	echo "$SKIP_TRACED"
fi
# The message logs written (counted while their govbus still runs: every
# answered exchange is already on disk), and the one that is off.
bin/benchload msglog -name "govbus (rounds govbus, govbus-plain, soap-govbus and rest-to-soap)" -db "$GOVBUS_DB" \
	-metrics "http://$STATUS_ADDR/metrics" ||
	die "FAIL: the message log of govbus could not be confirmed (see the benchload msglog line above and $WORK/govbus.log)"
if ((TRACED)); then
	bin/benchload msglog -name "govbus-traced" -db "$TRACED_DB" -metrics "http://$TRACED_STATUS_ADDR/metrics" ||
		die "FAIL: the message log of govbus-traced could not be confirmed (see the benchload msglog line above and $WORK/govbus-traced.log)"
fi
echo "message log of govbus-nolog: off (message_log: {disabled: true} in $NOLOG_CONFIG)"
exit "$table_rc"
