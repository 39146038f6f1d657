package bench

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Meter is started right before the measured phase of a run and stopped
// right after it, never around the warm-up. Run and RunWrk call it; an
// error from either ends the run with that error.
type Meter interface {
	Start() error
	Stop() error
}

// ServerCPU is a Meter of the CPU time (user and system) that a set of
// processes, the servers of a scenario, spend between Start and Stop. It
// reads /proc/PID/stat, so it works on Linux only.
//
// Precision: the kernel reports those times in whole clock ticks (10 ms at
// the usual 100 Hz), so each of the two fields of each process is off by
// less than one tick at each end. Over a measured phase of a few seconds
// in which the servers keep a CPU busy, that is well under 2% of the total
// per process; spread over the thousands of requests of the phase it is
// precise enough to compare scenarios, not to read single microseconds.
type ServerCPU struct {
	Pids []int
	// Proc is where the proc file system is mounted; "/proc" when empty.
	Proc string
	// Hz is the unit of the times in /proc/PID/stat, in ticks per second;
	// when 0, Start reads it from the kernel (see ClockTicks).
	Hz int64

	start []procStat
	total time.Duration
}

// procStat is what ServerCPU reads from one /proc/PID/stat line.
type procStat struct {
	// Ticks is utime + stime (fields 14 and 15), in clock ticks.
	Ticks int64
	// StartTime (field 22) is when the process started, in clock ticks
	// after boot: a pid that was reused by another process has another.
	StartTime int64
	// State (field 3) is R, S, D, Z (zombie)...
	State string
}

// parseProcStat reads the /proc/PID/stat line of pid. The command name
// (field 2) is in parentheses and may itself hold spaces and parentheses;
// the kernel does not escape them, but no later field holds a ')', so the
// name ends at the last one.
func parseProcStat(pid int, line string) (procStat, error) {
	line = strings.TrimRight(line, "\n")
	head, _, ok := strings.Cut(line, " (")
	end := strings.LastIndexByte(line, ')')
	if !ok || end < 0 || head != strconv.Itoa(pid) {
		return procStat{}, fmt.Errorf("/proc/%d/stat: unexpected line %q", pid, line)
	}
	// rest[i] is field i+3: rest[0] the state, rest[11] utime, rest[12]
	// stime, rest[19] starttime.
	rest := strings.Fields(line[end+1:])
	if len(rest) < 20 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: %d fields after the command name, want at least 20: %q", pid, len(rest), line)
	}
	var nums [3]int64
	for i, f := range []int{11, 12, 19} {
		n, err := strconv.ParseInt(rest[f], 10, 64)
		if err != nil || n < 0 {
			return procStat{}, fmt.Errorf("/proc/%d/stat: field %d is %q, not a count of ticks", pid, f+3, rest[f])
		}
		nums[i] = n
	}
	return procStat{Ticks: nums[0] + nums[1], StartTime: nums[2], State: rest[0]}, nil
}

// read reads /proc/PID/stat of pid; a process that is gone, or a zombie
// (exited, not yet reaped), is an error.
func (m *ServerCPU) read(pid int) (procStat, error) {
	proc := m.Proc
	if proc == "" {
		proc = "/proc"
	}
	b, err := os.ReadFile(filepath.Join(proc, strconv.Itoa(pid), "stat"))
	if errors.Is(err, fs.ErrNotExist) {
		return procStat{}, fmt.Errorf("server process %d is gone", pid)
	}
	if err != nil {
		return procStat{}, err
	}
	s, err := parseProcStat(pid, string(b))
	if err != nil {
		return procStat{}, err
	}
	if s.State == "Z" || s.State == "X" {
		return procStat{}, fmt.Errorf("server process %d has exited (state %s)", pid, s.State)
	}
	return s, nil
}

// Start reads the CPU time of every process so far.
func (m *ServerCPU) Start() error {
	if len(m.Pids) == 0 {
		return errors.New("server CPU: no pid to measure")
	}
	if m.Hz == 0 {
		hz, err := ClockTicks()
		if err != nil {
			return err
		}
		m.Hz = hz
	}
	m.start, m.total = make([]procStat, len(m.Pids)), 0
	for i, pid := range m.Pids {
		s, err := m.read(pid)
		if err != nil {
			return err
		}
		m.start[i] = s
	}
	return nil
}

// Stop reads the CPU time of every process again; Total is then the sum
// of what each spent since Start.
func (m *ServerCPU) Stop() error {
	if m.start == nil {
		return errors.New("server CPU: Stop without Start")
	}
	var ticks int64
	for i, pid := range m.Pids {
		s, err := m.read(pid)
		if err != nil {
			return err
		}
		if s.StartTime != m.start[i].StartTime {
			return fmt.Errorf("server process %d was replaced by another with the same pid", pid)
		}
		ticks += s.Ticks - m.start[i].Ticks
	}
	m.total = time.Duration(ticks) * time.Second / time.Duration(m.Hz)
	return nil
}

// Total is the CPU time the processes spent between Start and Stop.
func (m *ServerCPU) Total() time.Duration { return m.total }

// PerRequest is Total over requests, in microseconds; 0 without requests.
func (m *ServerCPU) PerRequest(requests int64) float64 {
	if requests <= 0 {
		return 0
	}
	return micros(m.total) / float64(requests)
}

// atClkTck is the key of the clock tick rate in the auxiliary vector
// (AT_CLKTCK in <elf.h>).
const atClkTck = 17

// ClockTicks returns the unit of the times in /proc/PID/stat in ticks per
// second: the kernel's USER_HZ, which it also hands every process as
// AT_CLKTCK in its auxiliary vector, where the C library's
// sysconf(_SC_CLK_TCK) (and so getconf CLK_TCK) finds it. It is 100 on
// every architecture Go runs on under Linux; reading it from
// /proc/self/auxv rather than assuming it costs a few lines and no cgo.
func ClockTicks() (int64, error) {
	b, err := os.ReadFile("/proc/self/auxv")
	if err != nil {
		return 0, fmt.Errorf("the clock tick rate: %v", err)
	}
	return parseAuxv(b, strconv.IntSize/8, binary.NativeEndian)
}

// parseAuxv finds AT_CLKTCK in an auxiliary vector: pairs of words (key,
// value) of wordSize bytes in the given byte order, ended by a zero key.
func parseAuxv(b []byte, wordSize int, order binary.ByteOrder) (int64, error) {
	word := func(p []byte) uint64 {
		if wordSize == 4 {
			return uint64(order.Uint32(p))
		}
		return order.Uint64(p)
	}
	for len(b) >= 2*wordSize {
		key, val := word(b), word(b[wordSize:])
		b = b[2*wordSize:]
		if key == 0 { // AT_NULL: the end
			break
		}
		if key != atClkTck {
			continue
		}
		if val == 0 || val > 1<<20 {
			return 0, fmt.Errorf("the auxiliary vector gives a clock tick rate of %d", val)
		}
		return int64(val), nil
	}
	return 0, errors.New("the auxiliary vector holds no clock tick rate (AT_CLKTCK)")
}
