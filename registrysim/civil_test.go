package registrysim

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// serve sends one request to h and returns the recorded answer.
func serve(t *testing.T, h http.Handler, method, target, body string) *httptest.ResponseRecorder {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, target, rd))
	return rec
}

// checkAnswer fails the test unless rec holds the status and, when
// wantBody is not empty, exactly that body (ignoring a final newline).
func checkAnswer(t *testing.T, rec *httptest.ResponseRecorder, wantStatus int, wantBody string) {
	t.Helper()
	if rec.Code != wantStatus {
		t.Errorf("status: got %d, want %d (body %q)", rec.Code, wantStatus, rec.Body.String())
	}
	if got := strings.TrimSuffix(rec.Body.String(), "\n"); wantBody != "" && got != wantBody {
		t.Errorf("body: got %q, want %q", got, wantBody)
	}
}

func TestCivilPersons(t *testing.T) {
	civil := NewCivilRegistry()
	tests := []struct {
		name, target string
		wantStatus   int
	}{
		{"first", "/persons/1000000001", http.StatusOK},
		{"last", "/persons/1000010000", http.StatusOK},
		{"just below", "/persons/0999999999", http.StatusNotFound},
		{"zero", "/persons/1000000000", http.StatusNotFound},
		{"just above", "/persons/1000010001", http.StatusNotFound},
		{"non-numeric", "/persons/abc", http.StatusNotFound},
		{"ten letters", "/persons/abcdefghij", http.StatusNotFound},
		{"eleven digits", "/persons/10000000001", http.StatusNotFound},
		{"empty", "/persons/", http.StatusNotFound},
		{"no slash", "/persons", http.StatusNotFound},
		{"trailing slash", "/persons/1000000001/", http.StatusNotFound},
		{"sub-resource", "/persons/1000000001/children", http.StatusNotFound},
		{"dot-dot", "/persons/..", http.StatusNotFound},
		{"dot-dot then id", "/persons/../persons/1000000001", http.StatusNotFound},
		{"encoded slash", "/persons/1000000001%2F", http.StatusNotFound},
		{"query ignored", "/persons/1000000001?fields=id", http.StatusOK},
		{"root", "/", http.StatusNotFound},
		{"unknown", "/companies/10000001", http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := serve(t, civil, http.MethodGet, tt.target, "")
			if got := rec.Header().Get("Content-Type"); got != "application/json" {
				t.Errorf("Content-Type: got %q, want application/json", got)
			}
			if tt.wantStatus != http.StatusOK {
				checkAnswer(t, rec, tt.wantStatus, `{"error":"not found"}`)
				return
			}
			checkAnswer(t, rec, http.StatusOK, "")
			var p Person
			if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
				t.Fatalf("decoding %q: %v", rec.Body.String(), err)
			}
			id := strings.TrimPrefix(strings.SplitN(tt.target, "?", 2)[0], "/persons/")
			want, _ := PersonByID(id)
			if !reflect.DeepEqual(p, want) {
				t.Errorf("person: got %+v, want %+v", p, want)
			}
		})
	}
}

func TestCivilSameAnswerTwice(t *testing.T) {
	a := serve(t, NewCivilRegistry(), http.MethodGet, "/persons/1000000777", "")
	b := serve(t, NewCivilRegistry(), http.MethodGet, "/persons/1000000777", "")
	if !bytes.Equal(a.Body.Bytes(), b.Body.Bytes()) {
		t.Errorf("two registries, same id: got %q and %q, want equal", a.Body, b.Body)
	}
	c := serve(t, NewCivilRegistry(), http.MethodGet, "/persons/1000000778", "")
	if bytes.Equal(a.Body.Bytes(), c.Body.Bytes()) {
		t.Errorf("two ids: got the same body %q", a.Body)
	}
}

// TestCivilJSONShape pins the field names of a person: exactly these, no
// more, at each level.
func TestCivilJSONShape(t *testing.T) {
	rec := serve(t, NewCivilRegistry(), http.MethodGet, "/persons/1000000001", "")
	var top map[string]json.RawMessage
	if err := json.Unmarshal(rec.Body.Bytes(), &top); err != nil {
		t.Fatalf("decoding %q: %v", rec.Body, err)
	}
	checkKeys(t, "person", top, "id", "given_name", "family_name", "birth_date", "sex",
		"birth_place", "address", "marital_status", "children")
	var addr map[string]json.RawMessage
	if err := json.Unmarshal(top["address"], &addr); err != nil {
		t.Fatalf("decoding address %s: %v", top["address"], err)
	}
	checkKeys(t, "address", addr, "street", "city", "postal_code")
	var children []map[string]json.RawMessage
	if err := json.Unmarshal(top["children"], &children); err != nil {
		t.Fatalf("decoding children %s: %v", top["children"], err)
	}
	if len(children) == 0 {
		t.Fatalf("person 1000000001: got no children, want some (this test relies on them)")
	}
	for _, c := range children {
		checkKeys(t, "child", c, "id")
	}
	for _, k := range []string{"id", "given_name", "family_name", "birth_date", "sex", "birth_place", "marital_status"} {
		var s string
		if err := json.Unmarshal(top[k], &s); err != nil || s == "" {
			t.Errorf("%s: got %s, want a non-empty string", k, top[k])
		}
	}
}

func checkKeys[V any](t *testing.T, what string, m map[string]V, want ...string) {
	t.Helper()
	got := make([]string, 0, len(m))
	for k := range m {
		got = append(got, k)
	}
	sort.Strings(got)
	sort.Strings(want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s keys: got %v, want %v", what, got, want)
	}
}

func TestCivilMethodNotAllowed(t *testing.T) {
	civil := NewCivilRegistry()
	for _, target := range []string{"/persons/1000000001", "/persons/nope", "/openapi.yaml"} {
		for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodHead} {
			rec := serve(t, civil, method, target, "")
			if rec.Code != http.StatusMethodNotAllowed {
				t.Errorf("%s %s: got status %d, want 405", method, target, rec.Code)
			}
			if got := rec.Header().Get("Allow"); got != "GET" {
				t.Errorf("%s %s: got Allow %q, want GET", method, target, got)
			}
		}
	}
}

func TestCivilOpenAPI(t *testing.T) {
	rec := serve(t, NewCivilRegistry(), http.MethodGet, "/openapi.yaml", "")
	checkAnswer(t, rec, http.StatusOK, "")
	if !bytes.Equal(rec.Body.Bytes(), CivilOpenAPI) {
		t.Errorf("body: got %d bytes, want CivilOpenAPI (%d bytes)", rec.Body.Len(), len(CivilOpenAPI))
	}
	if got := rec.Header().Get("Content-Type"); got != "application/yaml" {
		t.Errorf("Content-Type: got %q, want application/yaml", got)
	}
	spec := string(CivilOpenAPI)
	for _, want := range []string{"openapi: 3.0", "/persons/{id}:", "Person:", "Address:"} {
		if !strings.Contains(spec, want) {
			t.Errorf("CivilOpenAPI: no %q", want)
		}
	}
	for _, typ := range []reflect.Type{reflect.TypeFor[Person](), reflect.TypeFor[Address]()} {
		for f := range typ.Fields() {
			name := strings.Split(f.Tag.Get("json"), ",")[0]
			if !strings.Contains(spec, "\n        "+name+":") {
				t.Errorf("CivilOpenAPI: %s field %q is not a property", typ.Name(), name)
			}
		}
	}
}

// TestCivilOverHTTP checks the answer as a real client sees it.
func TestCivilOverHTTP(t *testing.T) {
	srv := httptest.NewServer(NewCivil())
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL + "/persons/" + FirstPersonID)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := NewCivilRegistry().PersonJSON(FirstPersonID)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, want) {
		t.Errorf("got %d %q, want 200 %q", resp.StatusCode, body, want)
	}
	if resp.ContentLength != int64(len(want)) {
		t.Errorf("Content-Length: got %d, want %d", resp.ContentLength, len(want))
	}
}

// discardWriter is a ResponseWriter that keeps nothing, so that the
// benchmark measures the registry rather than a recorder.
type discardWriter struct{ h http.Header }

func (d discardWriter) Header() http.Header         { return d.h }
func (d discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d discardWriter) WriteHeader(int)             {}

func BenchmarkCivilGet(b *testing.B) {
	for _, bc := range []struct {
		name string
		h    http.Handler
	}{
		{"bare", NewCivilRegistry()},
		{"sim", NewCivil()},
	} {
		b.Run(bc.name, func(b *testing.B) {
			reqs := make([]*http.Request, 64)
			for i := range reqs {
				reqs[i] = httptest.NewRequest(http.MethodGet, "/persons/"+personID(i*150), nil)
				reqs[i].Header.Set("X-Road-Client", "UA/GOV/00000003/eservice")
				reqs[i].Header.Set("Accept", "application/json")
			}
			w := discardWriter{h: http.Header{}}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				bc.h.ServeHTTP(w, reqs[i%len(reqs)])
				i++
			}
		})
	}
}
