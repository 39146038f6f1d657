package gateway

import (
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseTarget(t *testing.T) {
	svc := "/r1/UA/GOV/00000001/civil-registry/persons"
	tests := []struct {
		in       string
		kind     TargetKind
		service  string
		path     string
		query    string
		meta     string
		wantCode Code
	}{
		{in: svc + "/persons/1000000042", kind: TargetService, service: "UA/GOV/00000001/civil-registry/persons", path: "/persons/1000000042"},
		{in: svc, kind: TargetService, service: "UA/GOV/00000001/civil-registry/persons", path: ""},
		{in: svc + "/", kind: TargetService, service: "UA/GOV/00000001/civil-registry/persons", path: "/"},
		{in: svc + "/a/b?x=1&y=%2F", kind: TargetService, service: "UA/GOV/00000001/civil-registry/persons", path: "/a/b", query: "x=1&y=%2F"},
		{in: svc + "/a%20b/c%3Fd", kind: TargetService, service: "UA/GOV/00000001/civil-registry/persons", path: "/a%20b/c%3Fd"},
		{in: svc + "//double", kind: TargetService, service: "UA/GOV/00000001/civil-registry/persons", path: "//double"},
		// Matrix parameters that hide no dot segment are forwarded as sent.
		{in: svc + "/persons/1000000042;x", kind: TargetService, service: "UA/GOV/00000001/civil-registry/persons", path: "/persons/1000000042;x"},
		{in: svc + "/persons/;../x", kind: TargetService, service: "UA/GOV/00000001/civil-registry/persons", path: "/persons/;../x"},
		{in: svc + "/persons/...;x", kind: TargetService, service: "UA/GOV/00000001/civil-registry/persons", path: "/persons/...;x"},
		{in: svc + "/persons/a(1)!*'$&+,;=:@~-._", kind: TargetService, service: "UA/GOV/00000001/civil-registry/persons", path: "/persons/a(1)!*'$&+,;=:@~-._"},
		{in: svc + "/persons/%C3%A9?q=\"|", kind: TargetService, service: "UA/GOV/00000001/civil-registry/persons", path: "/persons/%C3%A9", query: "q=\"|"},
		{in: "/r1/INSTANCE/CLASS2/MEMBER2/SUBSYSTEM2/BARSERVICE/v1/bar/zyggy?quu=1", kind: TargetService, service: "INSTANCE/CLASS2/MEMBER2/SUBSYSTEM2/BARSERVICE", path: "/v1/bar/zyggy", query: "quu=1"},
		{in: "/r1/INSTANCE/CLASS/MEMBER/SUBSYSTEM/BAR%2FSERVICE/x", kind: TargetService, service: "INSTANCE/CLASS/MEMBER/SUBSYSTEM/BAR%2FSERVICE", path: "/x"},
		{in: "/r1/UA/GOV/00000001/civil-registry/listMethods", kind: TargetMeta, service: "UA/GOV/00000001/civil-registry/", meta: MetaListMethods},
		{in: "/r1/UA/GOV/00000001/civil-registry/allowedMethods?serviceId=x", kind: TargetMeta, service: "UA/GOV/00000001/civil-registry/", meta: MetaAllowedMethods, query: "serviceId=x"},
		{in: "/r1/UA/GOV/00000001/civil-registry/getOpenAPI?serviceCode=persons", kind: TargetMeta, service: "UA/GOV/00000001/civil-registry/", meta: MetaGetOpenAPI, query: "serviceCode=persons"},
		{in: "/listClients?instanceId=UA", kind: TargetListClients, query: "instanceId=UA"},

		{in: svc + "/../admin", wantCode: CodeBadRequest},
		{in: svc + "/a/..", wantCode: CodeBadRequest},
		{in: svc + "/./a", wantCode: CodeBadRequest},
		{in: svc + "/%2e%2e/a", wantCode: CodeBadRequest},
		{in: svc + "/%2E%2e", wantCode: CodeBadRequest},
		{in: svc + "/.%2e/x", wantCode: CodeBadRequest},
		{in: svc + "/%2e", wantCode: CodeBadRequest},
		{in: svc + "/a%2fb", wantCode: CodeBadRequest},
		{in: svc + "/a%2Fb", wantCode: CodeBadRequest},
		{in: svc + "/a%5cb", wantCode: CodeBadRequest},
		{in: svc + "/a%5C..", wantCode: CodeBadRequest},
		{in: svc + "/a\\b", wantCode: CodeBadRequest},
		// A dot segment behind a matrix parameter: Tomcat and Spring
		// strip ";..." and then resolve the dot segment upward.
		{in: svc + "/persons/..;/admin", wantCode: CodeBadRequest},
		{in: svc + "/persons/.;/admin", wantCode: CodeBadRequest},
		{in: svc + "/..;x=1/admin", wantCode: CodeBadRequest},
		{in: svc + "/persons/..;", wantCode: CodeBadRequest},
		{in: svc + "/persons/%2e%2e;x/admin", wantCode: CodeBadRequest},
		{in: svc + "/persons/.%2E;/admin", wantCode: CodeBadRequest},
		{in: svc + "/persons/..%3B/admin", wantCode: CodeBadRequest},
		{in: svc + "/persons/.%3bx/admin", wantCode: CodeBadRequest},
		{in: svc + "/persons/%2e%2e%3b/admin", wantCode: CodeBadRequest},
		{in: svc + "/persons/..;a;b/admin", wantCode: CodeBadRequest},
		// NUL ends the segment for C-based stacks ("..%00" is "..").
		{in: svc + "/persons/..%00/admin", wantCode: CodeBadRequest},
		{in: svc + "/persons/1%00", wantCode: CodeBadRequest},
		{in: svc + "/a%zz", wantCode: CodeBadRequest},
		{in: svc + "/a%2", wantCode: CodeBadRequest},
		{in: svc + "/%%", wantCode: CodeBadRequest},
		{in: "/r1/UA/GOV/%%/civil-registry/persons", wantCode: CodeBadRequest},
		{in: svc + "/a#frag", wantCode: CodeBadRequest},
		// A '#' in the query: Python's and Node's URL readers cut the
		// query there (id=1000000042), Go's keeps it (id=1000000042#x).
		{in: svc + "/persons?id=1000000042#x", wantCode: CodeBadRequest},
		{in: svc + "/persons/1?x=1&y#", wantCode: CodeBadRequest},
		// Bytes that are no part of a path (RFC 3986 pchar): Go's URL
		// type, and so the registry's request line, would re-encode them
		// and the rest of the path with them ("%3B|" as ";%7C").
		{in: svc + "/persons/a|b", wantCode: CodeBadRequest},
		{in: svc + "/persons/1%3Bx|", wantCode: CodeBadRequest},
		{in: svc + "/persons/{id}", wantCode: CodeBadRequest},
		{in: svc + "/persons/\"a\"", wantCode: CodeBadRequest},
		{in: svc + "/persons/[1]", wantCode: CodeBadRequest},
		{in: svc + "/persons/a^b`c", wantCode: CodeBadRequest},
		{in: svc + "/persons/<b>", wantCode: CodeBadRequest},
		{in: svc + "/persons/\u00e9", wantCode: CodeBadRequest},
		{in: svc + "/persons/a\x7fb", wantCode: CodeBadRequest},
		// Not UTF-8 once decoded: overlong forms of '.' and '/' that old
		// decoders read as those ("%c0%ae%c0%ae" as "..").
		{in: svc + "/persons/%c0%ae%c0%ae/admin", wantCode: CodeBadRequest},
		{in: svc + "/persons/%e0%80%ae./admin", wantCode: CodeBadRequest},
		{in: svc + "/persons/%c0%af", wantCode: CodeBadRequest},
		{in: svc + "/persons/%ff", wantCode: CodeBadRequest},
		{in: "/r1/INSTANCE%2FCLASS%2FMEMBER%2FSUBSYSTEM%2FBARSERVICE", wantCode: CodeBadRequest},
		{in: "/r1/UA/GOV/00000001", wantCode: CodeBadRequest},
		{in: "/r1/UA/GOV/00000001/civil registry/persons", wantCode: CodeBadRequest},
		{in: "/r1/UA/GOV/0000%zz/civil-registry/persons", wantCode: CodeBadRequest},
		{in: "/r1/UA/GOV/" + strings.Repeat("9", 256) + "/civil-registry/persons", wantCode: CodeBadRequest},
		{in: "*", wantCode: CodeBadRequest},
		{in: "http://evil/r1/UA/GOV/1/x/y", wantCode: CodeBadRequest},
		{in: "/r2/UA/GOV/1/x/y", wantCode: CodeUnknownService},
		{in: svc + "/" + strings.Repeat("a", MaxTargetLen), wantCode: CodeURITooLong},
	}
	for _, tt := range tests {
		got, err := ParseTarget(tt.in)
		if tt.wantCode != "" {
			if CodeOf(err) != tt.wantCode {
				t.Errorf("ParseTarget(%.60q) code = %q (%v), want %q", tt.in, CodeOf(err), err, tt.wantCode)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseTarget(%q) error = %v", tt.in, err)
			continue
		}
		gotSvc := got.Service.String()
		if got.Kind != tt.kind || (tt.service != "" && gotSvc != tt.service) || got.Path != tt.path || got.RawQuery != tt.query || got.Meta != tt.meta {
			t.Errorf("ParseTarget(%q) = kind %d service %q path %q query %q meta %q, want %d %q %q %q %q",
				tt.in, got.Kind, gotSvc, got.Path, got.RawQuery, got.Meta, tt.kind, tt.service, tt.path, tt.query, tt.meta)
		}
	}
}

// FuzzParseTarget checks ParseTarget's promises on any input: it never
// panics; it refuses only with the documented codes; an accepted exchange's
// path and query are the received ones, unchanged, with no '#'; its path
// holds no dot segment in any form a registry may read (raw, decoded,
// before a ';'), no encoded slash or backslash, no backslash, no NUL, no
// byte that is not a pchar and nothing that is not UTF-8 once decoded, and
// Go's URL type (the registry's request line) writes it out unchanged; and
// its service id prints back to itself.
func FuzzParseTarget(f *testing.F) {
	const svc = "/r1/UA/GOV/00000001/civil-registry/persons"
	for _, seed := range []string{
		svc + "/persons/1000000042", "/r1/A/B/C/D/E%2FF/%2e%2e", svc + "/persons/..;/admin",
		svc + "/persons/.;/admin", svc + "/persons/%2e%2e;x/admin", svc + "/persons/..%3B/admin",
		svc + "/persons/.%3bx", svc + "/persons/1000000042;x", svc + "/persons/..%00", svc + "/a%5c..",
		svc + "/a%2fb", svc + "/persons/%252e%252e/admin", "/r1/UA/GOV/00000001/civil-registry/listMethods",
		"/listClients?instanceId=UA", "/tracker/v1/accesses?subject=1", "/", "/r1/UA%2FGOV/1/x/y",
		svc + "/x?a=..;/", svc + "//..;//", svc + "/x#frag", svc + "/persons?id=1#x", svc + "/a(1)!*'",
		svc + "/persons/1%3Bx|", svc + "/persons/%c0%ae%c0%ae/admin", svc + "/persons/\u00e9",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := ParseTarget(in)
		if err != nil {
			switch CodeOf(err) {
			case CodeBadRequest, CodeURITooLong, CodeUnknownService:
			default:
				t.Fatalf("ParseTarget(%q) code %q, want only BadRequest, URITooLong or UnknownService", in, CodeOf(err))
			}
			return
		}
		if got.Kind != TargetService {
			return
		}
		if strings.ContainsAny(got.Path, "\\?#") || strings.IndexByte(got.RawQuery, '#') >= 0 {
			t.Fatalf("accepted path %q query %q of %q", got.Path, got.RawQuery, in)
		}
		wantPath, wantQuery, _ := strings.Cut(in, "?")
		if !strings.HasSuffix(wantPath, got.Path) || got.RawQuery != wantQuery {
			t.Fatalf("path %q query %q are not the received ones of %q", got.Path, got.RawQuery, in)
		}
		for i := 0; i < len(got.Path); i++ {
			if c := got.Path[i]; c != '/' && !pathByte(c) {
				t.Fatalf("accepted byte %q in the path of %q", c, in)
			}
		}
		if dec, err := url.PathUnescape(got.Path); err != nil {
			t.Fatalf("path %q of %q does not decode: %v", got.Path, in, err)
		} else if u := (&url.URL{Path: dec, RawPath: got.Path}); got.Path != "" && u.EscapedPath() != got.Path {
			t.Fatalf("path %q of %q goes out as %q", got.Path, in, u.EscapedPath())
		}
		for _, seg := range strings.Split(got.Path, "/") {
			dec, ok := unescapePart(seg)
			if !ok {
				t.Fatalf("accepted broken encoding %q in %q", seg, in)
			}
			for _, form := range []string{seg, dec, beforeParam(seg), beforeParam(dec)} {
				if form == "." || form == ".." {
					t.Fatalf("accepted dot segment %q (as %q) in %q", seg, form, in)
				}
			}
			if !utf8.ValidString(dec) {
				t.Fatalf("accepted %q, not UTF-8 once decoded, in %q", seg, in)
			}
			if strings.ContainsAny(dec, "/\\\x00") {
				t.Fatalf("accepted encoded separator or NUL %q in %q", seg, in)
			}
		}
		id, err := ParseServiceID(got.Service.String())
		if err != nil || id != got.Service {
			t.Fatalf("service %q of %q does not parse back (%v, %+v)", got.Service.String(), in, err, id)
		}
	})
}
