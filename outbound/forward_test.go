package outbound

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"
)

// TestPathSentAsGiven checks that the registry's request line holds the
// path and query exactly as the call gave them: Go's URL type would
// re-encode a path it does not hold escaped itself ("(" as "%28") and,
// where the path holds a byte it would escape, write out what the
// consumer encoded ("%3B" as a matrix separator ";").
func TestPathSentAsGiven(t *testing.T) {
	var got atomic.Pointer[string]
	f := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := r.RequestURI
		got.Store(&s)
	}))
	t.Cleanup(f.Close)
	u, _ := url.Parse(f.URL + "/base")
	s := newStack(t, Config{Endpoints: []*url.URL{u}})
	for _, p := range []string{
		"/persons/a(1)", "/persons/!*'", "/persons/a%3Bb,c", "/persons/x%3D1&y=$@:",
		"/persons/%41b", "/persons/%7e~", "/persons//1", "/persons/1/", "/persons/[1]",
	} {
		c := get()
		c.Path, c.RawQuery = p, "q=(1)"
		resp, err := do(t, s, c)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		resp.Release()
		want := "/base" + p + "?q=(1)"
		if g := *got.Load(); g != want || resp.Forwarded != want {
			t.Errorf("%s: the registry received %q (Forwarded %q), want %q", p, g, resp.Forwarded, want)
		}
	}
}
