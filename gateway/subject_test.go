package gateway

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
)

func TestSubjectOf(t *testing.T) {
	path := &Route{Paths: []string{"/persons/{id}", "/persons/{id}/children"}, Subject: &SubjectSpec{In: "path", Name: "id"}}
	query := &Route{Subject: &SubjectSpec{In: "query", Name: "id"}}
	header := &Route{Subject: &SubjectSpec{In: "header", Name: "X-Person-Id"}}
	body := &Route{Subject: &SubjectSpec{In: "json", Name: "person.id"}}
	flat := &Route{Subject: &SubjectSpec{In: "json", Name: "id"}}
	soap := &Route{Subject: &SubjectSpec{In: "soap", Name: "code"}}
	format := &Route{Paths: []string{"/persons/{id}"}, Subject: &SubjectSpec{In: "path", Name: "id", Pattern: regexp.MustCompile(`^(?:[0-9]{10})$`)}}
	for _, tc := range []struct {
		name  string
		route *Route
		req   Request
		want  string // "!" for a refusal
	}{
		{"path plain", path, Request{Target: Target{Path: "/persons/1000000042"}}, "1000000042"},
		{"path second template", path, Request{Target: Target{Path: "/persons/1000000042/children"}}, "1000000042"},
		{"path needed encoding", path, Request{Target: Target{Path: "/persons/a%40b"}}, "a@b"},
		{"path other shape", path, Request{Target: Target{Path: "/other/1"}}, ""},
		{"path matrix parameter", path, Request{Target: Target{Path: "/persons/1000000042;x"}}, "!"},
		{"path encoded semicolon", path, Request{Target: Target{Path: "/persons/1000000042%3Bx"}}, "!"},
		{"path encoded semicolon lower", path, Request{Target: Target{Path: "/persons/1000000042%3bx"}}, "!"},
		{"path space padded", path, Request{Target: Target{Path: "/persons/%201000000042"}}, "!"},
		{"path space after", path, Request{Target: Target{Path: "/persons/1000000042%20"}}, "!"},
		{"path tab", path, Request{Target: Target{Path: "/persons/1000000042%09"}}, "!"},
		{"path needless encoding", path, Request{Target: Target{Path: "/persons/100000004%32"}}, "!"},
		{"path double encoding", path, Request{Target: Target{Path: "/persons/1000000042%2532"}}, "!"},
		{"path broken encoding", path, Request{Target: Target{Path: "/persons/10%G0"}}, "!"},
		{"path encoded question mark", path, Request{Target: Target{Path: "/persons/1000000042%3Fx"}}, "!"},
		{"path encoded hash", path, Request{Target: Target{Path: "/persons/1000000042%23x"}}, "!"},
		{"path NUL", path, Request{Target: Target{Path: "/persons/1%00"}}, "!"},
		{"path invalid UTF-8", path, Request{Target: Target{Path: "/persons/1%FF"}}, "!"},
		// A path that fits a template only as lenient routers read it:
		// Tomcat and Spring collapse "//", drop ";..." and match a
		// trailing '/', ASP.NET ignores case, all of them decode "%72".
		{"path empty segment", path, Request{Target: Target{Path: "/persons//1000000042"}}, "!"},
		{"path leading empty segment", path, Request{Target: Target{Path: "//persons/1000000042"}}, "!"},
		{"path trailing slash", path, Request{Target: Target{Path: "/persons/1000000042/"}}, "!"},
		{"path empty segment before literal", path, Request{Target: Target{Path: "/persons/1000000042//children"}}, "!"},
		{"path literal with matrix parameter", path, Request{Target: Target{Path: "/persons/1000000042/children;x"}}, "!"},
		{"path literal encoded", path, Request{Target: Target{Path: "/persons/1000000042/child%72en"}}, "!"},
		{"path literal case", path, Request{Target: Target{Path: "/Persons/1000000042"}}, "!"},
		{"path first literal with matrix parameter", path, Request{Target: Target{Path: "/persons;v=2/1000000042"}}, "!"},
		{"path no subject segment", path, Request{Target: Target{Path: "/persons/"}}, ""},
		{"path longer", path, Request{Target: Target{Path: "/persons/1000000042/children/x"}}, ""},

		{"query plain", query, Request{Target: Target{RawQuery: "id=1000000042&x=1"}}, "1000000042"},
		{"query absent", query, Request{Target: Target{RawQuery: "x=1"}}, ""},
		{"query none", query, Request{}, ""},
		{"query repeated", query, Request{Target: Target{RawQuery: "id=1000000042&id=1000000043"}}, "!"},
		{"query repeated same", query, Request{Target: Target{RawQuery: "id=1000000042&id=1000000042"}}, "!"},
		{"query encoded key", query, Request{Target: Target{RawQuery: "id=1000000042&i%64=1000000043"}}, "!"},
		{"query case", query, Request{Target: Target{RawQuery: "ID=1000000043"}}, "!"},
		{"query semicolon", query, Request{Target: Target{RawQuery: "x=1;id=1000000042"}}, "!"},
		{"query plus", query, Request{Target: Target{RawQuery: "id=1000000042+"}}, "!"},
		{"query needless encoding", query, Request{Target: Target{RawQuery: "id=100000004%32"}}, "!"},
		// Rails, PHP's $_REQUEST and servlet containers read a form body's
		// parameters with the query's (Rails and PHP let the body win).
		{"query and form body", query, formRequest("id=1000000042", "application/x-www-form-urlencoded", "id=1000000043"), "!"},
		{"query and form body same", query, formRequest("id=1000000042", "application/x-www-form-urlencoded", "x=1&id=1000000042"), "!"},
		{"query and form body encoded key", query, formRequest("id=1000000042", "Application/X-WWW-Form-Urlencoded; charset=utf-8", "i%64=1000000043"), "!"},
		{"form body only", query, formRequest("", "application/x-www-form-urlencoded", "id=1000000043"), "!"},
		{"query and multipart form", query, formRequest("id=1000000042", "multipart/form-data; boundary=B",
			"--B\r\nContent-Disposition: form-data; name=\"id\"\r\n\r\n1000000043\r\n--B--\r\n"), "!"},
		{"query and broken multipart form", query, formRequest("id=1000000042", "multipart/form-data; boundary=B", "--B\r\nx"), "!"},
		{"query and form body without it", query, formRequest("id=1000000042", "application/x-www-form-urlencoded", "x=1"), "1000000042"},
		{"query and multipart form without it", query, formRequest("id=1000000042", "multipart/form-data; boundary=B",
			"--B\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n1\r\n--B--\r\n"), "1000000042"},
		{"query and JSON body", query, formRequest("id=1000000042", "application/json", `{"id": "1000000043"}`), "1000000042"},

		{"header plain", header, Request{Header: http.Header{"X-Person-Id": {"1000000042"}}}, "1000000042"},
		{"header repeated", header, Request{Header: http.Header{"X-Person-Id": {"1000000042", "1000000043"}}}, "!"},
		{"header list", header, Request{Header: http.Header{"X-Person-Id": {"1000000042, 1000000043"}}}, "!"},
		{"header two spellings", header, Request{Header: http.Header{"X-Person-Id": {"1"}, "x-person-id": {"2"}}}, "!"},
		{"header padded", header, Request{Header: http.Header{"X-Person-Id": {" 1000000042"}}}, "!"},

		{"json string", body, Request{BodyBytes: []byte(`{"person": {"id": "1000000042"}, "x": [1, {"id": 2}]}`)}, "1000000042"},
		{"json integer", flat, Request{BodyBytes: []byte(`{"id": 1000000042}`)}, "1000000042"},
		{"json largest exact", flat, Request{BodyBytes: []byte(`{"id": 9007199254740992}`)}, "9007199254740992"},
		{"json absent", flat, Request{BodyBytes: []byte(`{"other": 1}`)}, ""},
		{"json empty body", flat, Request{}, ""},
		{"json deeper than the path", body, Request{BodyBytes: []byte(`{"person": "1000000042"}`)}, ""},
		{"json beyond 2^53", flat, Request{BodyBytes: []byte(`{"id": 10000000000000001}`)}, "!"},
		{"json just beyond 2^53", flat, Request{BodyBytes: []byte(`{"id": 9007199254740993}`)}, "!"},
		{"json fraction", flat, Request{BodyBytes: []byte(`{"id": 1000000042.0}`)}, "!"},
		{"json exponent", flat, Request{BodyBytes: []byte(`{"id": 1e9}`)}, "!"},
		{"json upper case key", flat, Request{BodyBytes: []byte(`{"ID": "1000000042"}`)}, "!"},
		{"json title case key", flat, Request{BodyBytes: []byte(`{"id": "1", "Id": "1000000042"}`)}, "!"},
		{"json nested key case", body, Request{BodyBytes: []byte(`{"Person": {"id": "1000000042"}}`)}, "!"},
		{"json duplicate key", flat, Request{BodyBytes: []byte(`{"id": "1000000042", "id": "1000000043"}`)}, "!"},
		{"json duplicate parent", body, Request{BodyBytes: []byte(`{"person": {"id": "1"}, "person": {"id": "2"}}`)}, "!"},
		{"json BOM", flat, Request{BodyBytes: []byte("\xef\xbb\xbf{\"id\": \"1000000042\"}")}, "!"},
		{"json not JSON", flat, Request{BodyBytes: []byte(`id=1000000042`)}, "!"},
		{"json trailing value", flat, Request{BodyBytes: []byte(`{"id": "1"} {"id": "2"}`)}, "!"},
		{"json truncated", flat, Request{BodyBytes: []byte(`{"id": "1", "x": [`)}, "!"},
		{"json lone surrogate", flat, Request{BodyBytes: []byte(`{"id": "1000000042\ud800"}`)}, "!"},
		{"json nested deeper than the bound", flat, Request{BodyBytes: []byte(`{"x": ` + strings.Repeat("[", maxJSONDepth+1) + strings.Repeat("]", maxJSONDepth+1) + `, "id": "1"}`)}, "!"},
		{"json nested within the bound", flat, Request{BodyBytes: []byte(`{"x": ` + strings.Repeat("[{\"a\":", 100) + "1" + strings.Repeat("}]", 100) + `, "id": "1"}`)}, "1"},
		{"json padded string", flat, Request{BodyBytes: []byte(`{"id": "1000000042 "}`)}, "!"},

		{"format kept", format, Request{Target: Target{Path: "/persons/1000000042"}}, "1000000042"},
		{"format leading zero", format, Request{Target: Target{Path: "/persons/01000000042"}}, "!"},
		{"format underscores", format, Request{Target: Target{Path: "/persons/1_000_000_042"}}, "!"},
		{"format full-width digits", format, Request{Target: Target{Path: "/persons/%EF%BC%91000000042"}}, "!"},
		{"format plus sign", format, Request{Target: Target{Path: "/persons/+100000042"}}, "!"},
		{"soap from the parser", soap, Request{SOAPSubject: "10000042"}, "10000042"},
		{"no subject", &Route{}, Request{Target: Target{Path: "/persons/1;x"}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.route.SubjectOf(&tc.req)
			if tc.want == "!" {
				if CodeOf(err) != CodeBadRequest {
					t.Fatalf("SubjectOf = %q, %v; want a Client.BadRequest refusal", got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("SubjectOf = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

// FuzzJSONSubject checks that a subject read from a JSON body is the one
// a plain decoder reads as well, and that reading never panics.
func FuzzJSONSubject(f *testing.F) {
	for _, s := range []string{`{"id": "1"}`, `{"id": 1}`, `{"ID": 1}`, `{"id": 1, "id": 2}`, "\xef\xbb\xbf{}", `{"person": {"id": "x"}}`, `[{"id": 1}]`, `{"id": 1e400}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		v, err := JSONSubject(body, "id")
		if err != nil {
			if CodeOf(err) != CodeBadRequest {
				t.Fatalf("refusal with code %s, want Client.BadRequest", CodeOf(err))
			}
			return
		}
		if v == "" {
			return
		}
		if strings.TrimSpace(v) != v {
			t.Fatalf("accepted a padded subject %q", v)
		}
	})
}

// FuzzPathSubject checks that an accepted path subject needs no second
// reading: it has no ';', no '%', no surrounding space.
func FuzzPathSubject(f *testing.F) {
	route := &Route{Paths: []string{"/persons/{id}"}, Subject: &SubjectSpec{In: "path", Name: "id"}}
	for _, s := range []string{"1000000042", "1000000042;x", "%32", "%20", "a%40b", "%3B", "..;"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, seg string) {
		if strings.ContainsAny(seg, "/?#") {
			return
		}
		v, err := route.SubjectOf(&Request{Target: Target{Path: "/persons/" + seg}})
		if err != nil {
			return
		}
		if strings.ContainsAny(v, ";%") || strings.TrimSpace(v) != v {
			t.Fatalf("accepted %q from segment %q", v, seg)
		}
	})
}

// formRequest is a call with query q and a body of content type ct.
func formRequest(q, ct, body string) Request {
	return Request{Target: Target{RawQuery: q}, Header: http.Header{"Content-Type": {ct}}, BodyBytes: []byte(body)}
}
