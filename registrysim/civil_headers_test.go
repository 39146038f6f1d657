package registrysim

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestCivilAnswerHeaders(t *testing.T) {
	c := NewCivilRegistry()
	p, _ := PersonByID("1000000042")
	for _, tc := range []struct {
		target string
		want   map[string]string // "" for absent
	}{
		{"/persons/1000000042", map[string]string{
			"Content-Disposition": `inline; filename="1000000042.json"`, "X-Person-Name": "", "Set-Cookie": ""}},
		{"/persons/1000000042?leak=1", map[string]string{
			"Content-Disposition": `attachment; filename="` + p.FamilyName + "-" + p.GivenName + "-" + p.BirthDate + `.json"`,
			"X-Person-Name":       p.GivenName + " " + p.FamilyName,
			"Set-Cookie":          "JSESSIONID=sim-1000000042; Path=/; HttpOnly"}},
	} {
		rec := httptest.NewRecorder()
		c.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tc.target, nil))
		if rec.Code != 200 {
			t.Fatalf("%s: status %d", tc.target, rec.Code)
		}
		if etag := rec.Header().Get("Etag"); len(etag) != 18 || !strings.HasPrefix(etag, `"`) {
			t.Errorf("%s: ETag %q, want a quoted digest", tc.target, etag)
		}
		for name, want := range tc.want {
			if got := rec.Header().Get(name); got != want {
				t.Errorf("%s: %s = %q, want %q", tc.target, name, got, want)
			}
		}
	}
}
