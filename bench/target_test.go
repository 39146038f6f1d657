package bench

import (
	"math/rand/v2"
	"testing"
)

func TestParseIDRange(t *testing.T) {
	good := map[string]IDRange{
		"1000000001-1000010000": {1000000001, 1000010000},
		" 5 - 7 ":               {5, 7},
		"42":                    {42, 42},
	}
	for in, want := range good {
		got, err := ParseIDRange(in)
		if err != nil || got != want {
			t.Errorf("ParseIDRange(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-", "a-b", "10-1", "1-", "-5", "1-2-3", "1.5-2"} {
		if r, err := ParseIDRange(in); err == nil {
			t.Errorf("ParseIDRange(%q) = %v, want an error", in, r)
		}
	}
	if s := (IDRange{1, 9}).String(); s != "1-9" {
		t.Errorf("String = %q", s)
	}
}

func TestIDRangePickStaysInRangeAndVaries(t *testing.T) {
	r := IDRange{1000000001, 1000010000}
	rng := rand.New(rand.NewPCG(1, 2))
	seen := map[uint64]bool{}
	for range 20000 {
		id := r.Pick(rng)
		if id < r.Lo || id > r.Hi {
			t.Fatalf("Pick = %d, outside %v", id, r)
		}
		seen[id] = true
	}
	if len(seen) < 8000 { // 20000 draws over 10000 ids cover about 86%
		t.Errorf("only %d distinct ids in 20000 draws", len(seen))
	}
	one := IDRange{7, 7}
	if id := one.Pick(rng); id != 7 {
		t.Errorf("Pick of a single id = %d", id)
	}
}

func TestTemplate(t *testing.T) {
	tp, err := ParseTemplate("http://127.0.0.1:19080/r1/UA/GOV/00000001/civil-registry/persons/persons/{id}?x=1")
	if err != nil {
		t.Fatal(err)
	}
	if !tp.Varies() {
		t.Fatal("Varies = false")
	}
	if got, want := tp.Expand(1000000042), "http://127.0.0.1:19080/r1/UA/GOV/00000001/civil-registry/persons/persons/1000000042?x=1"; got != want {
		t.Errorf("Expand = %q, want %q", got, want)
	}
	origin, pre, suf := tp.Split()
	if origin != "http://127.0.0.1:19080" || pre != "/r1/UA/GOV/00000001/civil-registry/persons/persons/" || suf != "?x=1" {
		t.Errorf("Split = %q %q %q", origin, pre, suf)
	}

	fixed, err := ParseTemplate("http://127.0.0.1:19464/readyz")
	if err != nil {
		t.Fatal(err)
	}
	if fixed.Varies() || fixed.Expand(5) != "http://127.0.0.1:19464/readyz" {
		t.Errorf("fixed template: varies %v, expands to %q", fixed.Varies(), fixed.Expand(5))
	}
	if o, p, s := fixed.Split(); o != "http://127.0.0.1:19464" || p != "/readyz" || s != "" {
		t.Errorf("fixed Split = %q %q %q", o, p, s)
	}
	if o, p, _ := mustTemplate(t, "http://h:1").Split(); o != "http://h:1" || p != "/" {
		t.Errorf("bare origin Split = %q %q", o, p)
	}

	for _, bad := range []string{
		"", "/persons/{id}", "ftp://h/{id}", "http:///x", "http://h/{id}/{id}",
		"http://h/x?id={id}", "http://{id}/x", "http://h/%zz",
	} {
		if _, err := ParseTemplate(bad); err == nil {
			t.Errorf("ParseTemplate(%q): want an error", bad)
		}
	}
}

func mustTemplate(t *testing.T, s string) Template {
	t.Helper()
	tp, err := ParseTemplate(s)
	if err != nil {
		t.Fatal(err)
	}
	return tp
}

func TestParseHeader(t *testing.T) {
	n, v, err := ParseHeader("x-road-client:  UA/GOV/00000003/eservice ")
	if err != nil || n != "X-Road-Client" || v != "UA/GOV/00000003/eservice" {
		t.Errorf("got %q %q %v", n, v, err)
	}
	n, v, err = ParseHeader("Authorization: Bearer a:b")
	if err != nil || n != "Authorization" || v != "Bearer a:b" {
		t.Errorf("value with a colon: got %q %q %v", n, v, err)
	}
	for _, bad := range []string{"", "NoColon", ": v", "Bad Name: v", "X: a\r\nY: b"} {
		if _, _, err := ParseHeader(bad); err == nil {
			t.Errorf("ParseHeader(%q): want an error", bad)
		}
	}
	var h HeaderFlag
	for _, s := range []string{"A: 1", "a: 2", "B: 3"} {
		if err := h.Set(s); err != nil {
			t.Fatal(err)
		}
	}
	if got := h.Header.Values("A"); len(got) != 2 || got[0] != "1" || got[1] != "2" {
		t.Errorf("A = %v", got)
	}
	if h.String() != "A: 1, A: 2, B: 3" {
		t.Errorf("String = %q", h.String())
	}
}

func TestBodyTemplate(t *testing.T) {
	src := []byte("<a>{id}</a><b>x{id}y</b>")
	bt := NewBodyTemplate(src)
	src[0] = 'Z' // the template keeps its own copy
	if !bt.Present() || !bt.Varies() {
		t.Fatalf("Present %v, Varies %v", bt.Present(), bt.Varies())
	}
	if got := string(bt.Expand(10000042)); got != "<a>10000042</a><b>x10000042y</b>" {
		t.Errorf("Expand = %q", got)
	}
	if got := string(bt.Expand(7)); got != "<a>7</a><b>x7y</b>" {
		t.Errorf("Expand(7) = %q", got)
	}
	// Each expansion is its own slice.
	a, b := bt.Expand(1), bt.Expand(2)
	if string(a) != "<a>1</a><b>x1y</b>" || string(b) != "<a>2</a><b>x2y</b>" {
		t.Errorf("expansions %q %q", a, b)
	}

	fixed := NewBodyTemplate([]byte("<code>10000042</code>"))
	if !fixed.Present() || fixed.Varies() || string(fixed.Expand(5)) != "<code>10000042</code>" {
		t.Errorf("fixed body: %v %v %q", fixed.Present(), fixed.Varies(), fixed.Expand(5))
	}
	edge := NewBodyTemplate([]byte("{id}"))
	if string(edge.Expand(12)) != "12" {
		t.Errorf("placeholder alone: %q", edge.Expand(12))
	}
	empty := NewBodyTemplate(nil)
	if !empty.Present() || len(empty.Expand(1)) != 0 {
		t.Errorf("an empty body is a body: %v %q", empty.Present(), empty.Expand(1))
	}
	var none BodyTemplate
	if none.Present() || none.Varies() || none.Expand(1) != nil {
		t.Error("the zero BodyTemplate is not \"no body\"")
	}
}

func TestParseMethod(t *testing.T) {
	for _, tt := range []struct {
		in   string
		body bool
		want string
	}{
		{"", false, "GET"}, {"", true, "POST"}, {"POST", true, "POST"}, {"PUT", true, "PUT"},
		{"GET", false, "GET"}, {"DELETE", false, "DELETE"}, {"POST", false, "POST"},
	} {
		if got, err := ParseMethod(tt.in, tt.body); err != nil || got != tt.want {
			t.Errorf("ParseMethod(%q, %v) = %q, %v; want %q", tt.in, tt.body, got, err, tt.want)
		}
	}
	for _, tt := range []struct {
		in   string
		body bool
	}{{"post", true}, {"GET", true}, {"HEAD", true}, {"PO ST", false}, {"GET\r\n", false}} {
		if got, err := ParseMethod(tt.in, tt.body); err == nil {
			t.Errorf("ParseMethod(%q, %v) = %q, want an error", tt.in, tt.body, got)
		}
	}
}
