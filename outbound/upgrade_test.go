package outbound

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/govbus/govbus/gateway"
)

// TestSwitchingProtocolsIsNoAnswer checks that a registry's 101 answer to
// a request that asked for no upgrade never reaches the consumer: passed
// on, it would tell a proxy in front of govbus to turn the consumer's
// connection into a tunnel.
func TestSwitchingProtocolsIsNoAnswer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var calls atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				if _, err := http.ReadRequest(br); err != nil {
					return
				}
				calls.Add(1)
				_, _ = c.Write([]byte("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n"))
			}()
		}
	}()
	s := newStack(t, Config{Endpoints: []*url.URL{{Scheme: "http", Host: ln.Addr().String()}}})
	resp, err := do(t, s, get())
	if err == nil {
		resp.Release()
		t.Fatalf("a 101 answer was handed back as the registry's answer: status %d", resp.Status)
	}
	var ge *gateway.Error
	if !errors.As(err, &ge) || ge.Code != gateway.CodeRegistryUnavailable {
		t.Errorf("error = %v, want %s", err, gateway.CodeRegistryUnavailable)
	}
	if strings.Contains(err.Error(), ln.Addr().String()) {
		t.Errorf("error %q names the endpoint", err)
	}
}
