package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"syscall"
	"time"
)

// CheckPorts tries to listen on every address and returns one error per
// address that is taken (or otherwise unusable), naming it.
func CheckPorts(addrs []string) []error {
	var errs []error
	for _, a := range addrs {
		ln, err := net.Listen("tcp", a)
		if err != nil {
			errs = append(errs, notFree(a, err))
			continue
		}
		_ = ln.Close()
	}
	return errs
}

// notFree describes the failure to listen on addr, reduced to its cause
// (such as "address already in use").
func notFree(addr string, err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		err = op.Err
	}
	return fmt.Errorf("%s is not free: %v", addr, err)
}

// Probe is one URL to poll until it answers 2xx.
type Probe struct {
	URL    string
	Header http.Header
	// Method is GET when empty.
	Method string
	// Body, when not nil, is sent with every attempt.
	Body []byte
}

// ErrNotReady is wrapped by Wait when the timeout passed.
var ErrNotReady = errors.New("not ready")

// Wait polls each probe in turn until it answers 2xx. No answer and 503
// mean "not yet" and are retried until timeout; any other status is a
// definite failure and returned at once. When a pid in pids no longer
// exists, Wait fails at once: the process it was waiting for has died.
func Wait(ctx context.Context, probes []Probe, pids []int, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	for _, p := range probes {
		last := "no answer yet"
		for {
			for _, pid := range pids {
				if !alive(pid) {
					return fmt.Errorf("process %d exited while waiting for %s", pid, p.URL)
				}
			}
			method := p.Method
			if method == "" {
				method = http.MethodGet
			}
			var body io.Reader // a nil interface when there is no body
			if p.Body != nil {
				body = bytes.NewReader(p.Body)
			}
			req, err := http.NewRequestWithContext(ctx, method, p.URL, body)
			if err != nil {
				return err
			}
			req.Header = p.Header
			resp, err := client.Do(req)
			if err == nil {
				snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
				_ = resp.Body.Close()
				if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
					break
				}
				last = describeAnswer(method, p.URL, resp, snippet)
				if resp.StatusCode != http.StatusServiceUnavailable {
					return errors.New(last)
				}
			} else if ctx.Err() == nil {
				last = err.Error()
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("%w after %s: %s", ErrNotReady, timeout, last)
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	return nil
}

// alive reports whether process pid exists (and is not a zombie we could
// not tell apart: good enough to notice a server that failed to start).
func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	if err == nil || errors.Is(err, syscall.EPERM) {
		if b, rerr := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); rerr == nil {
			return !isZombie(b)
		}
		return true
	}
	return false
}

// isZombie reads the state field of /proc/PID/stat: "PID (comm) S ...".
func isZombie(stat []byte) bool {
	for i := len(stat) - 1; i >= 0; i-- {
		if stat[i] == ')' {
			return i+2 < len(stat) && stat[i+2] == 'Z'
		}
	}
	return false
}
