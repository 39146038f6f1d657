package gateway

import "testing"

func TestPathTemplate(t *testing.T) {
	r := &Route{Paths: []string{"/persons/{id}", "/persons/{id}/children", "/persons"}}
	for path, want := range map[string]string{
		"/persons/1000000042":          "/persons/{id}",
		"/persons/1000000042/children": "/persons/{id}/children",
		"/persons":                     "/persons",
		"/persons/":                    "/{path}",
		"/persons/1/x":                 "/{path}",
		"/other/1000000042":            "/{path}",
		"":                             "/",
		"/":                            "/",
	} {
		if got := r.PathTemplate(path); got != want {
			t.Errorf("PathTemplate(%q) = %q, want %q", path, got, want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { r.PathTemplate("/persons/1000000042/children") }); n != 0 {
		t.Errorf("PathTemplate allocates %v times", n)
	}
}
