package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
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
		"http://127.0.0.1:19080/", "--", "/r1/S/persons/{id}", "1000000001", "1000010000", "GET", "",
		"X-Road-Client: UA/GOV/00000003/eservice", "Authorization: Bearer k"}
	if !slices.Equal(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	o.Conns, o.Threads = 1, 8 // wrk wants connections ≥ threads
	if got := WrkArgs(o, "s", time.Millisecond); got[1] != "1" || got[5] != "1s" {
		t.Errorf("threads %s, duration %s", got[1], got[5])
	}
	o.URL = mustTemplate(t, "http://h:1/r1/x/{id}?a=b")
	if got := WrkArgs(o, "s", time.Second); got[len(got)-7] != "/r1/x/{id}?a=b" {
		t.Errorf("path with a suffix: %q", got)
	}
	o.URL = mustTemplate(t, "http://h:1/readyz")
	if got := WrkArgs(o, "s", time.Second); !slices.Equal(got[len(got)-7:len(got)-2], []string{"/readyz", "0", "-1", "GET", ""}) {
		t.Errorf("fixed path: %q", got)
	}

	// A POST of a body that varies, to a fixed path: the id range is
	// passed for the body.
	o.Method, o.BodyFile, o.Body = "POST", "/tmp/env.xml", NewBodyTemplate([]byte("<code>{id}</code>"))
	o.URL, o.IDs, o.HeaderLines = mustTemplate(t, "http://h:1/"), IDRange{10000001, 10001000}, []string{"Content-Type: text/xml"}
	if got := WrkArgs(o, "s", time.Second); !slices.Equal(got[len(got)-6:], []string{"/", "10000001", "10001000", "POST", "/tmp/env.xml", "Content-Type: text/xml"}) {
		t.Errorf("POST with a varying body: %q", got)
	}
	o.Body = NewBodyTemplate([]byte("<code>10000042</code>"))
	if got := WrkArgs(o, "s", time.Second); !slices.Equal(got[len(got)-6:], []string{"/", "0", "-1", "POST", "/tmp/env.xml", "Content-Type: text/xml"}) {
		t.Errorf("POST with a fixed body: %q", got)
	}
}

// TestRunWrkPostsBodies runs the real wrk, when installed, with the
// harness's script: a POST whose body and path carry the same id drawn per
// request, with the headers, and a fixed GET.
func TestRunWrkPostsBodies(t *testing.T) {
	bin, err := exec.LookPath("wrk")
	if err != nil {
		t.Skip("wrk not installed")
	}
	var (
		mu   sync.Mutex
		ids  = map[string]bool{}
		bad  []string
		gets atomic.Int64
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			gets.Add(1)
			return
		}
		b, _ := io.ReadAll(r.Body)
		id := strings.TrimPrefix(r.URL.Path, "/c/")
		want := "<a>" + id + "</a><b>" + id + "</b>"
		mu.Lock()
		defer mu.Unlock()
		switch {
		case r.Method != http.MethodPost || r.Header.Get("Content-Type") != "text/xml; charset=utf-8" ||
			r.ContentLength != int64(len(want)) || string(b) != want || len(id) != 8 || id < "10000001" || id > "10001000":
			bad = append(bad, fmt.Sprintf("%s %s %q %q (%d)", r.Method, r.URL.Path, r.Header.Get("Content-Type"), b, r.ContentLength))
			w.WriteHeader(http.StatusBadRequest)
		default:
			ids[id] = true
		}
	}))
	defer srv.Close()
	bodyFile := filepath.Join(t.TempDir(), "body.xml")
	if err := os.WriteFile(bodyFile, []byte("<a>{id}</a><b>{id}</b>"), 0o644); err != nil {
		t.Fatal(err)
	}
	o := WrkOptions{
		Options: Options{
			URL: mustTemplate(t, srv.URL+"/c/{id}"), Method: http.MethodPost, Body: NewBodyTemplate([]byte("<a>{id}</a><b>{id}</b>")),
			IDs: IDRange{10000001, 10001000}, Conns: 2, Duration: time.Second,
		},
		Binary: bin, BodyFile: bodyFile, HeaderLines: []string{"Content-Type: text/xml; charset=utf-8"}, Threads: 1,
	}
	r, err := RunWrk(context.Background(), o, "post", 1)
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if r.Errors() > 0 || len(bad) > 0 || r.Requests == 0 {
		t.Fatalf("result %+v; bad requests (first of %d): %q", r, len(bad), bad[:min(len(bad), 3)])
	}
	if len(ids) < 100 {
		t.Errorf("only %d distinct ids in %d requests", len(ids), r.Requests)
	}

	o.URL, o.Method, o.Body, o.BodyFile, o.HeaderLines = mustTemplate(t, srv.URL+"/readyz"), "", BodyTemplate{}, "", nil
	if r, err := RunWrk(context.Background(), o, "get", 1); err != nil || r.Errors() > 0 || gets.Load() == 0 {
		t.Errorf("fixed GET: %+v, %v, %d GETs", r, err, gets.Load())
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
