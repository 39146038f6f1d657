package gateway

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// foldServer serves a handler that reads the whole body behind FoldGuard
// and counts the requests it was given.
func foldServer(t *testing.T) (addr string, served *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served = new(atomic.Int64)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Got", r.Header.Get("X-A"))
		_, _ = io.WriteString(w, strings.ReplaceAll(string(b), "\n", "|"))
	})}
	go func() { _ = srv.Serve(FoldGuard(ln)) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String(), served
}

// exchange writes raw on a new connection and reads answers until the
// server closes it; the deadline only bounds a failing test.
func exchange(t *testing.T, addr, raw string) []*http.Response {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	var out []*http.Response
	for {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatalf("no close after %d answers: the connection hangs", len(out))
			}
			return out
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body = io.NopCloser(strings.NewReader(string(b)))
		out = append(out, resp)
		if resp.Close {
			return out
		}
	}
}

func statuses(rs []*http.Response) string {
	var s []string
	for _, r := range rs {
		s = append(s, r.Status[:3])
	}
	return strings.Join(s, " ")
}

func TestFoldGuard(t *testing.T) {
	const get = "GET /x HTTP/1.1\r\nHost: h\r\n"
	for _, tc := range []struct {
		name   string
		raw    string
		want   string // statuses of the answers, in order
		served int64
	}{
		{"folded with a space", get + "X-A: a\r\n b\r\n\r\n", "400", 0},
		{"folded with a tab", get + "X-A: a\r\n\tb\r\nConnection: close\r\n\r\n", "400", 0},
		{"folded identity", get + "X-Road-Client: UA/GOV/00000003/\r\n eservice\r\n\r\n", "400", 0},
		{"first header line indented", "GET /x HTTP/1.1\r\n Host: h\r\n\r\n", "400", 0},
		{"bare LF lines", "GET /x HTTP/1.1\nHost: h\nX-A: a\n b\n\n", "400", 0},
		{"folded second request after a body",
			"POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 12\r\n\r\n{\n  \"a\": 1\n}" +
				get + "X-A: a\r\n b\r\n\r\n", "200 400", 1},
		{"folded after a chunked body",
			"POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\n\n  \n \r\n0\r\nX-T: 1\r\n\r\n" +
				get + "X-A: a\r\n\tb\r\n\r\n", "200 400", 1},
		// Go ignores Transfer-Encoding in an HTTP/1.0 request and frames
		// its body by Content-Length: the guard must too, or the body's
		// bytes pass for a head whose Content-Length hides the next one.
		{"HTTP/1.0 with Transfer-Encoding",
			"POST /x HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\nContent-Length: 43\r\n\r\n" +
				"0\r\n\r\nJ / HTTP/1.1\r\nContent-Length: 4096\r\n\r\n" + get + "X-A: a\r\n b\r\n\r\n", "200 400", 1},
		// Framing lines longer than the guard keeps, which Go reads: the
		// guard stopped looking at the connection. Now they are refused,
		// but for a chunk size whose extension alone is long.
		{"padded Content-Length", "POST /x HTTP/1.1\r\nHost: h\r\nContent-Length:" + strings.Repeat(" ", 300) + "0\r\n\r\n" +
			get + "X-A: a\r\n b\r\n\r\n", "400", 0},
		{"zero-padded Content-Length", "POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: " + strings.Repeat("0", 300) + "\r\n\r\n" +
			get + "X-A: a\r\n b\r\n\r\n", "400", 0},
		{"padded Transfer-Encoding", "POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:" + strings.Repeat(" ", 300) + "chunked\r\n\r\n0\r\n\r\n" +
			get + "X-A: a\r\n b\r\n\r\n", "400", 0},
		{"long chunk extension", "POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1;" + strings.Repeat("x", 300) + "\r\na\r\n0\r\n\r\n" +
			get + "X-A: a\r\n b\r\n\r\n", "200 400", 1},
		// Bodies full of lines that start with spaces are no heads.
		{"keep-alive bodies", "POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 9\r\n\r\n\n \n\t\n  \n" +
			"POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n\n \n\r\n2\r\n \t\r\n0\r\n\r\n" +
			get + "X-A: a\r\nConnection: close\r\n\r\n", "200 200 200", 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr, served := foldServer(t)
			got := exchange(t, addr, tc.raw)
			if s := statuses(got); s != tc.want {
				t.Errorf("answers %q, want %q", s, tc.want)
			}
			if n := served.Load(); n != tc.served {
				t.Errorf("handler served %d requests, want %d", n, tc.served)
			}
		})
	}
}

func FuzzHeadScanner(f *testing.F) {
	f.Add("POST /x HTTP/1.1\r\nContent-Length: 3\r\n\r\n \n GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n", 3)
	f.Add("POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n \r\n0\r\n\r\n", 1)
	f.Add("POST /x HTTP/1.0\r\nTransfer-Encoding: chunked\r\nContent-Length: 7\r\n\r\n0\r\n\r\n \nGET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n", 40)
	f.Add("POST /x HTTP/1.1\r\nContent-Length: "+strings.Repeat("0", 300)+"\r\n\r\n", 20)
	f.Fuzz(func(t *testing.T, in string, cut int) {
		// Split reads find what one read finds.
		var whole, split headScanner
		want := whole.scan([]byte(in))
		if cut < 0 {
			cut = -cut
		}
		cut %= len(in) + 1
		got := split.scan([]byte(in[:cut]))
		if got < 0 {
			if g := split.scan([]byte(in[cut:])); g >= 0 {
				got = cut + g
			}
		}
		if got != want {
			t.Fatalf("scan of %q split at %d found %d, whole found %d", in, cut, got, want)
		}
	})
}
