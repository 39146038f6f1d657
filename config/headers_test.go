package config

import (
	"testing"
)

// headersDoc is a registry with one service whose header lists are
// services[0]'s, the lines given as its last two lines (lines 8 and 9).
func headersDoc(lines string) string {
	return `
registries:
  - id: UA/GOV/00000001/civil-registry
    endpoints: [http://127.0.0.1:9101]
    services:
      - code: persons
        paths: ["/persons/{id}"]
` + lines + `message_log: {disabled: true}
`
}

func TestServiceHeaderProblems(t *testing.T) {
	for _, tt := range []struct {
		name  string
		lines string
		want  []want
	}{
		{"allowed", "        pass_headers: [X-Tenant, x-request-origin]\n        pass_response_headers: [Location, X-Total-Count]\n", nil},
		{"refused request headers",
			"        pass_headers: [X-Road-Client, authorization, Cookie, X-HTTP-Method-Override, X-Original-URL, X-Real-IP, X_Tenant, 'X Tenant', X-Forwarded-For, Accept-Encoding, x-tenant, X-Tenant]\n",
			[]want{
				{"registries[0].services[0].pass_headers[0]", 7, "never passed on"},
				{"registries[0].services[0].pass_headers[1]", 7, "never passed on"},
				{"registries[0].services[0].pass_headers[2]", 7, "never passed on"},
				{"registries[0].services[0].pass_headers[3]", 7, "never passed on"},
				{"registries[0].services[0].pass_headers[4]", 7, "never passed on"},
				{"registries[0].services[0].pass_headers[5]", 7, "never passed on"},
				{"registries[0].services[0].pass_headers[6]", 7, "'_'"},
				{"registries[0].services[0].pass_headers[7]", 7, "not a header name"},
				{"registries[0].services[0].pass_headers[8]", 7, "never passed on"},
				{"registries[0].services[0].pass_headers[9]", 7, "never passed on"},
				{"registries[0].services[0].pass_headers[11]", 7, "listed twice"},
			}},
		{"refused response headers", "        pass_response_headers: [Set-Cookie, X-Road-Error, Content-Length, WWW-Authenticate]\n",
			[]want{
				{"registries[0].services[0].pass_response_headers[0]", 7, "never passed on"},
				{"registries[0].services[0].pass_response_headers[1]", 7, "never passed on"},
				{"registries[0].services[0].pass_response_headers[2]", 7, "never passed on"},
				{"registries[0].services[0].pass_response_headers[3]", 7, "never passed on"},
			}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg, ps, err := parseDoc(t, t.TempDir(), headersDoc(tt.lines), nil)
			var got Problems
			for _, p := range ps {
				if p.Path != "message_log.disabled" {
					got = append(got, p)
				}
			}
			checkProblems(t, got, tt.want)
			if len(tt.want) > 0 {
				requireRejected(t, cfg, ps, err)
				return
			}
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			svc := cfg.Registries[0].Services[0]
			if len(svc.PassHeaders) != 2 || len(svc.PassResponseHeaders) != 2 {
				t.Errorf("pass_headers %v, pass_response_headers %v", svc.PassHeaders, svc.PassResponseHeaders)
			}
		})
	}
}

// TestServiceCodeWithSlash: X-Road service codes may hold '/' (DESIGN.md
// §2); the configuration names them plainly, rules in the canonical %2F
// form of the id.
func TestServiceCodeWithSlash(t *testing.T) {
	doc := `
registries:
  - id: UA/GOV/00000001/civil-registry
    endpoints: [http://127.0.0.1:9101]
    services:
      - code: BAR/SERVICE
      - code: persons/v2
clients:
  - {id: UA/GOV/00000003/eservice, auth: {api_keys: [` + hashA + `]}}
rules:
  - id: bar
    clients: [UA/GOV/00000003/eservice]
    services: [UA/GOV/00000001/civil-registry/BAR%2FSERVICE]
message_log: {disabled: true}
`
	_, ps, err := parseDoc(t, t.TempDir(), doc, nil)
	if err != nil {
		t.Fatalf("refused: %v", err)
	}
	for _, p := range ps.Errors() {
		t.Errorf("problem: %v", p)
	}
}
