package bench

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"
)

const wrkOutput = `Running 5s test @ http://127.0.0.1:19080/
  1 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.10ms    1.02ms  30.11ms   90.00%
    Req/Sec    30.50k     1.20k   33.00k    70.00%
  Latency Distribution
     50%    1.90ms
     75%    2.40ms
     90%    3.10ms
     99%    5.80ms
  152500 requests in 5.00s, 70.00MB read
Requests/sec:  30500.00
Transfer/sec:     14.00MB
benchload-wrk requests=152500 duration_us=5000000 non2xx=3 connect=0 read=1 write=0 timeout=2 p50_us=1900 p99_us=5800 first_bad=503 Server.RegistryBusy {"type": "x"}
`

func TestParseWrk(t *testing.T) {
	w, err := ParseWrk([]byte(wrkOutput))
	if err != nil {
		t.Fatal(err)
	}
	want := WrkOutcome{
		Requests: 152500, Duration: 5 * time.Second, P50: 1900 * time.Microsecond, P99: 5800 * time.Microsecond,
		Non2xx: 3, Read: 1, Timeout: 2, FirstBad: `503 Server.RegistryBusy {"type": "x"}`,
	}
	if w != want {
		t.Errorf("got  %+v\nwant %+v", w, want)
	}
	if !w.Failed() || w.SocketErrors() != 3 {
		t.Errorf("Failed %v, SocketErrors %d", w.Failed(), w.SocketErrors())
	}

	w.CPU = 5 * time.Second
	r := wrkResult("govbus", 2, 64, w, WrkOutcome{})
	if r.RPS != 30500 || r.P50Micros != 1900 || r.P99Micros != 5800 || r.Errors() != 6 || r.Generator != "wrk" ||
		r.GenCPU != CPUShare(5*time.Second, 5*time.Second) {
		t.Errorf("result %+v", r)
	}
	if !strings.HasPrefix(r.FirstError, "answer 503") {
		t.Errorf("FirstError %q", r.FirstError)
	}

	clean := "benchload-wrk requests=10 duration_us=1000000 non2xx=0 connect=0 read=0 write=0 timeout=0 p50_us=1 p99_us=2 first_bad=\n"
	w, err = ParseWrk([]byte(clean))
	if err != nil || w.Failed() || w.FirstBad != "" {
		t.Errorf("clean: %+v, %v", w, err)
	}
	warm := WrkOutcome{Connect: 1}
	if r := wrkResult("d", 1, 1, w, warm); r.WarmupErrors != 1 || !strings.HasPrefix(r.FirstError, "during the warm-up") {
		t.Errorf("warm-up failure: %+v", r)
	}
}

func TestParseWrkRejects(t *testing.T) {
	for name, out := range map[string]string{
		"no line":       "Requests/sec: 100\n",
		"bad number":    "benchload-wrk requests=x duration_us=1 non2xx=0 p50_us=1 p99_us=1 first_bad=\n",
		"missing field": "benchload-wrk requests=1 duration_us=1 non2xx=0 p50_us=1 first_bad=\n",
	} {
		if _, err := ParseWrk([]byte(out)); err == nil {
			t.Errorf("%s: want an error", name)
		}
	}
}

func TestWrkArgs(t *testing.T) {
	o := WrkOptions{
		Options: Options{
			URL: mustTemplate(t, "http://127.0.0.1:19080/r1/S/persons/{id}"), IDs: IDRange{1000000001, 1000010000},
			Conns: 64, Timeout: 1500 * time.Millisecond,
		},
		HeaderLines: []string{"X-Road-Client: UA/GOV/00000003/eservice", "Authorization: Bearer k"},
		Threads:     2,
	}
	got := WrkArgs(o, "/tmp/s.lua", 4200*time.Millisecond)
	want := []string{"-t", "2", "-c", "64", "-d", "5s", "--timeout", "2s", "--latency", "-s", "/tmp/s.lua",
		"http://127.0.0.1:19080/", "--", "/r1/S/persons/", "", "1000000001", "1000010000",
		"X-Road-Client: UA/GOV/00000003/eservice", "Authorization: Bearer k"}
	if !slices.Equal(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	o.Conns, o.Threads = 1, 8 // wrk wants connections ≥ threads
	if got := WrkArgs(o, "s", time.Millisecond); got[1] != "1" || got[5] != "1s" {
		t.Errorf("threads %s, duration %s", got[1], got[5])
	}
	o.URL = mustTemplate(t, "http://h:1/readyz")
	if got := WrkArgs(o, "s", time.Second); !slices.Equal(got[len(got)-6:len(got)-2], []string{"/readyz", "", "0", "-1"}) {
		t.Errorf("fixed path: %q", got)
	}
}

func TestWrkScriptHasTheCallbacks(t *testing.T) {
	for _, fn := range []string{"function setup(", "function init(", "function request(", "function response(", "function done("} {
		if !bytes.Contains(WrkScript, []byte(fn)) {
			t.Errorf("the wrk script lacks %q", fn)
		}
	}
	if !bytes.Contains(WrkScript, []byte(wrkMark)) {
		t.Errorf("the wrk script does not print %q", wrkMark)
	}
}
