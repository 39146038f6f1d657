package bench

import (
	"context"
	"encoding/binary"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// statLine is a /proc/PID/stat line of pid named comm, in state, with
// utime, stime and starttime as given and the other fields as a real one.
func statLine(pid int, comm, state string, utime, stime, starttime int64) string {
	return strconv.Itoa(pid) + " (" + comm + ") " + state +
		" 1 1234 1234 0 -1 4194560 5091 0 3 0 " +
		strconv.FormatInt(utime, 10) + " " + strconv.FormatInt(stime, 10) +
		" 0 0 20 0 9 0 " + strconv.FormatInt(starttime, 10) +
		" 1270136832 4461 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
}

func TestParseProcStat(t *testing.T) {
	for _, comm := range []string{"registrysim", "my (odd) cmd", "a) b) (c", ")", "x 1 2 3 4 5 6 7 8 9 10 11 12"} {
		got, err := parseProcStat(1234, statLine(1234, comm, "S", 250, 31, 987654))
		if err != nil {
			t.Errorf("%q: %v", comm, err)
			continue
		}
		if want := (procStat{Ticks: 281, StartTime: 987654, State: "S"}); got != want {
			t.Errorf("%q: got %+v, want %+v", comm, got, want)
		}
	}
	// A line as the kernel writes it, with the name of the brief.
	line := "1234 (my (odd) cmd) S 1 1234 1234 0 -1 4194304 101 0 0 0 7 3 0 0 20 0 1 0 1212388 3133440 412 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 1 1 1 1 1 1 1 0"
	if got, err := parseProcStat(1234, line); err != nil || got != (procStat{Ticks: 10, StartTime: 1212388, State: "S"}) {
		t.Errorf("kernel line: %+v, %v", got, err)
	}

	for name, line := range map[string]string{
		"another pid":     statLine(99, "x", "S", 1, 1, 1),
		"no parenthesis":  "1234 x S 1 2 3",
		"empty":           "",
		"too few fields":  "1234 (x) S 1 1234 1234 0 -1 4194560 5091 0 3 0 7 3",
		"utime not a num": strings.Replace(statLine(1234, "x", "S", 1, 1, 1), " 0 3 0 1 1 ", " 0 3 0 a 1 ", 1),
		"negative stime":  statLine(1234, "x", "S", 1, -1, 1),
	} {
		if got, err := parseProcStat(1234, line); err == nil {
			t.Errorf("%s: accepted as %+v", name, got)
		}
	}
}

// fakeProc is a directory laid out like /proc for ServerCPU.Proc.
type fakeProc string

func (p fakeProc) set(t *testing.T, pid int, state string, utime, stime, starttime int64) {
	t.Helper()
	dir := filepath.Join(string(p), strconv.Itoa(pid))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "stat"), []byte(statLine(pid, "govbus serve", state, utime, stime, starttime)), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestServerCPUSumsThePids(t *testing.T) {
	proc := fakeProc(t.TempDir())
	proc.set(t, 10, "S", 100, 20, 5000)
	proc.set(t, 11, "R", 7, 0, 6000)
	m := &ServerCPU{Pids: []int{10, 11}, Proc: string(proc), Hz: 100}
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	proc.set(t, 10, "R", 350, 70, 5000) // +300 ticks
	proc.set(t, 11, "S", 52, 5, 6000)   // +50 ticks
	if err := m.Stop(); err != nil {
		t.Fatal(err)
	}
	if m.Total() != 3500*time.Millisecond {
		t.Errorf("Total = %v, want 3.5s", m.Total())
	}
	if got := m.PerRequest(10000); got != 350 {
		t.Errorf("PerRequest = %v µs, want 350", got)
	}
	if got := m.PerRequest(0); got != 0 {
		t.Errorf("PerRequest(0) = %v", got)
	}

	// Another rate of ticks.
	m = &ServerCPU{Pids: []int{11}, Proc: string(proc), Hz: 250}
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	proc.set(t, 11, "S", 77, 5, 6000)
	if err := m.Stop(); err != nil || m.Total() != 100*time.Millisecond {
		t.Errorf("at 250 Hz: %v, %v", m.Total(), err)
	}
}

func TestServerCPUFailsWhenAPidIsGone(t *testing.T) {
	proc := fakeProc(t.TempDir())
	start := func(t *testing.T) *ServerCPU {
		t.Helper()
		proc.set(t, 10, "S", 1, 1, 5000)
		proc.set(t, 11, "S", 1, 1, 6000)
		m := &ServerCPU{Pids: []int{10, 11}, Proc: string(proc), Hz: 100}
		if err := m.Start(); err != nil {
			t.Fatal(err)
		}
		return m
	}

	m := start(t)
	if err := os.RemoveAll(filepath.Join(string(proc), "11")); err != nil {
		t.Fatal(err)
	}
	if err := m.Stop(); err == nil || !strings.Contains(err.Error(), "11 is gone") {
		t.Errorf("vanished: %v", err)
	}
	if err := m.Start(); err == nil || !strings.Contains(err.Error(), "11 is gone") {
		t.Errorf("gone at the start: %v", err)
	}

	m = start(t)
	proc.set(t, 10, "Z", 5, 1, 5000)
	if err := m.Stop(); err == nil || !strings.Contains(err.Error(), "10 has exited") {
		t.Errorf("zombie: %v", err)
	}

	m = start(t)
	proc.set(t, 11, "S", 2, 1, 7000) // another process, the same pid
	if err := m.Stop(); err == nil || !strings.Contains(err.Error(), "replaced") {
		t.Errorf("pid reused: %v", err)
	}

	if err := (&ServerCPU{Proc: string(proc), Hz: 100}).Start(); err == nil {
		t.Error("no pid accepted")
	}
	if err := (&ServerCPU{Pids: []int{10}, Proc: string(proc), Hz: 100}).Stop(); err == nil {
		t.Error("Stop without Start accepted")
	}
}

// TestServerCPUOfThisProcess reads the real /proc: the CPU this test burns
// between Start and Stop shows, to the tick.
func TestServerCPUOfThisProcess(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("/proc/PID/stat is Linux's")
	}
	m := &ServerCPU{Pids: []int{os.Getpid()}}
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	cpu0 := processCPU()
	x := 0
	for processCPU()-cpu0 < 300*time.Millisecond {
		for i := range 100000 {
			x += i
		}
	}
	used := processCPU() - cpu0
	if err := m.Stop(); err != nil {
		t.Fatal(err)
	}
	// Two readings, two fields each, each short of a tick at most.
	tick := time.Second / time.Duration(m.Hz)
	if m.Total() < used-4*tick {
		t.Errorf("Total = %v for at least %v burnt (x %d)", m.Total(), used, x)
	}
}

func TestParseAuxv(t *testing.T) {
	vec := func(size int, order binary.AppendByteOrder, pairs ...uint64) []byte {
		var b []byte
		for _, v := range pairs {
			if size == 4 {
				b = order.AppendUint32(b, uint32(v))
			} else {
				b = order.AppendUint64(b, v)
			}
		}
		return b
	}
	// AT_PHDR, AT_PAGESZ, AT_CLKTCK, AT_NULL.
	if hz, err := parseAuxv(vec(8, binary.LittleEndian, 3, 0x400040, 6, 4096, 17, 100, 0, 0), 8, binary.LittleEndian); err != nil || hz != 100 {
		t.Errorf("64-bit little-endian: %d, %v", hz, err)
	}
	if hz, err := parseAuxv(vec(4, binary.BigEndian, 6, 4096, 17, 1024, 0, 0), 4, binary.BigEndian); err != nil || hz != 1024 {
		t.Errorf("32-bit big-endian: %d, %v", hz, err)
	}
	for name, b := range map[string][]byte{
		"absent":        vec(8, binary.LittleEndian, 6, 4096, 0, 0),
		"after AT_NULL": vec(8, binary.LittleEndian, 6, 4096, 0, 0, 17, 100),
		"zero":          vec(8, binary.LittleEndian, 17, 0, 0, 0),
		"empty":         nil,
	} {
		if hz, err := parseAuxv(b, 8, binary.LittleEndian); err == nil {
			t.Errorf("%s: %d accepted", name, hz)
		}
	}
}

// TestClockTicks: what the kernel gives this process is what the C library
// (getconf CLK_TCK) reports.
func TestClockTicks(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("/proc/self/auxv is Linux's")
	}
	hz, err := ClockTicks()
	if err != nil || hz <= 0 {
		t.Fatalf("ClockTicks = %d, %v", hz, err)
	}
	out, err := exec.Command("getconf", "CLK_TCK").Output()
	if err != nil {
		t.Skipf("getconf CLK_TCK: %v (ClockTicks gave %d)", err, hz)
	}
	if want := strings.TrimSpace(string(out)); strconv.FormatInt(hz, 10) != want {
		t.Errorf("ClockTicks = %d, getconf CLK_TCK = %s", hz, want)
	}
}

// countingMeter records how many requests a server had handled when it
// was started and stopped.
type countingMeter struct {
	handled     *atomic.Int64
	start, stop int64
	startErr    error
}

func (m *countingMeter) Start() error { m.start = m.handled.Load(); return m.startErr }
func (m *countingMeter) Stop() error  { m.stop = m.handled.Load(); return nil }

// TestRunMetersTheMeasuredPhaseOnly: the meter starts after the warm-up's
// requests and stops after the measured ones, of the built-in generator.
func TestRunMetersTheMeasuredPhaseOnly(t *testing.T) {
	var handled atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handled.Add(1) }))
	defer srv.Close()
	meter := &countingMeter{handled: &handled}
	m, w, err := Run(context.Background(), Options{
		URL: mustTemplate(t, srv.URL+"/p/{id}"), IDs: IDRange{1, 100}, Conns: 3,
		Warmup: 50 * time.Millisecond, Duration: 100 * time.Millisecond, Meter: meter,
	})
	if err != nil {
		t.Fatal(err)
	}
	if meter.start != w.Requests || meter.start == 0 {
		t.Errorf("started after %d requests; the warm-up had %d", meter.start, w.Requests)
	}
	if meter.stop-meter.start != m.Requests || m.Requests == 0 {
		t.Errorf("%d requests between start and stop; the measured phase had %d", meter.stop-meter.start, m.Requests)
	}

	// A meter that cannot start ends the run before the measured phase.
	handled.Store(0)
	meter = &countingMeter{handled: &handled, startErr: errors.New("server process 7 is gone")}
	_, w, err = Run(context.Background(), Options{
		URL: mustTemplate(t, srv.URL+"/p/{id}"), IDs: IDRange{1, 100}, Conns: 1,
		Warmup: 20 * time.Millisecond, Duration: time.Minute, Meter: meter,
	})
	if err == nil || !strings.Contains(err.Error(), "7 is gone") || handled.Load() != w.Requests {
		t.Errorf("err %v; %d handled, %d in the warm-up", err, handled.Load(), w.Requests)
	}
}

// TestRunWrkMetersTheMeasuredPhaseOnly: the same with wrk, when installed.
// wrk stops with requests in flight that it does not count, so the server
// may have handled up to one per connection more than the result says.
func TestRunWrkMetersTheMeasuredPhaseOnly(t *testing.T) {
	bin, err := exec.LookPath("wrk")
	if err != nil {
		t.Skip("wrk not installed")
	}
	var handled atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handled.Add(1) }))
	defer srv.Close()
	meter := &countingMeter{handled: &handled}
	o := WrkOptions{
		Options: Options{
			URL: mustTemplate(t, srv.URL+"/p/{id}"), IDs: IDRange{1, 100}, Conns: 2,
			Warmup: time.Second, Duration: time.Second, Meter: meter,
		},
		Binary: bin, Threads: 1,
	}
	r, err := RunWrk(context.Background(), o, "x", 1)
	if err != nil {
		t.Fatal(err)
	}
	if meter.start == 0 {
		t.Error("started before the warm-up")
	}
	if n := meter.stop - meter.start; n < r.Requests || n > r.Requests+int64(o.Conns) || r.Requests == 0 {
		t.Errorf("%d requests between start and stop; wrk measured %d", n, r.Requests)
	}
}
