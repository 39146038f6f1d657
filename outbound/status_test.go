package outbound

import (
	"encoding/json"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"
)

// brokenRegistry is an endpoint that answers every connection with answer
// (no HTTP framing of its own) and closes it.
func brokenRegistry(t *testing.T, answer string) *url.URL {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 4096)
				_, _ = c.Read(buf)
				_, _ = c.Write([]byte(answer))
			}()
		}
	}()
	u, _ := url.Parse("http://" + ln.Addr().String())
	return u
}

// TestStatusHoldsNoAnswerBytes: an endpoint's last error, which GET
// /admin/status shows without a credential, never repeats what a broken
// registry sent (a person's record sent without a status line, or a
// header line of a person's name), only what went wrong.
func TestStatusHoldsNoAnswerBytes(t *testing.T) {
	for name, answer := range map[string]string{
		"no status line":     `{"id":"1000000042","family_name":"Petrenko"}` + "\r\n\r\n",
		"broken header line": "HTTP/1.1 200 OK\r\nX-Person Petrenko 1000000042\r\n\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			s := newStack(t, Config{Endpoints: []*url.URL{brokenRegistry(t, answer)},
				Breaker: Breaker{ConsecutiveFailures: 100, OpenTimeout: time.Minute}})
			if _, err := do(t, s, get()); err == nil {
				t.Fatal("a broken answer: got no error")
			}
			st := s.Status()
			if len(st.Endpoints) != 1 || st.Endpoints[0].LastError == nil || st.Endpoints[0].LastError.Error == "" {
				t.Fatalf("status %+v: want the endpoint's last error", st)
			}
			b, _ := json.Marshal(st)
			for _, secret := range []string{"Petrenko", "1000000042"} {
				if strings.Contains(string(b), secret) {
					t.Errorf("status %s repeats %q from the registry's answer", b, secret)
				}
			}
		})
	}
}
