package config

import (
	"testing"
	"time"
)

// soapDoc is a document whose business registry (adapter soap) offers the
// companies service with the subject given (YAML flow mapping, line 8).
func soapDoc(top, subject string) string {
	return `
message_log: {subject_key: a-subject-key-of-16-bytes}
` + top + `
registries:
  - id: UA/GOV/00000002/business-registry
    adapter: soap
    endpoints: [http://127.0.0.1:9102]
    services:
      - {code: companies, methods: [GET, POST], paths: ["/companies/{code}"], subject: ` + subject + `}
`
}

func TestSOAPSettings(t *testing.T) {
	cfg, ps, err := parseDoc(t, t.TempDir(), soapDoc(`public_url: https://govbus.example.gov.ua/
listeners: {consumer: {address: 127.0.0.1:8080}, max_body_bytes_in_flight: 32MiB, body_read_timeout: 4s}`, `{in: soap, element: code}`), nil)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	checkProblems(t, ps, nil)
	if got := cfg.ConsumerURL(); got != "https://govbus.example.gov.ua" {
		t.Errorf("ConsumerURL = %q, want the public_url without its trailing slash", got)
	}
	if cfg.Listeners.MaxBodyBytesInFlight != 32<<20 || cfg.Listeners.BodyReadTimeout.D() != 4*time.Second {
		t.Errorf("listeners = %+v", cfg.Listeners)
	}
	sub := cfg.Registries[0].Services[0].Subject
	if sub.In != "soap" || sub.Element != "code" || sub.Name != "code" {
		t.Errorf("subject = %+v, want in soap, element code (and name code)", sub)
	}
}

func TestConsumerURLDefault(t *testing.T) {
	cfg, ps, err := parseDoc(t, t.TempDir(), soapDoc(`listeners: {consumer: {address: 10.1.2.3:8080}}`, `{in: soap, element: code}`), nil)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	checkProblems(t, ps, nil)
	if got := cfg.ConsumerURL(); got != "http://10.1.2.3:8080" {
		t.Errorf("ConsumerURL = %q, want http://<consumer address>", got)
	}
}

func TestSOAPSettingProblems(t *testing.T) {
	for _, tc := range []struct {
		name, top, subject string
		want               []want
	}{
		{"public_url with a query", `public_url: "https://govbus.example/?x=1"`, `{in: soap, element: code}`,
			[]want{{"public_url", 2, "absolute http(s) URL"}}},
		{"public_url relative", `public_url: /soap`, `{in: soap, element: code}`,
			[]want{{"public_url", 2, "absolute http(s) URL"}}},
		{"public_url with credentials", `public_url: "https://u:p@govbus.example"`, `{in: soap, element: code}`,
			[]want{{"public_url", 2, "absolute http(s) URL"}}},
		{"no element", ``, `{in: soap}`,
			[]want{{"registries[0].services[0].subject.element", 8, "is required"}}},
		{"element not an XML name", ``, `{in: soap, element: "a:b"}`,
			[]want{{"registries[0].services[0].subject.element", 8, "not an XML local name"}}},
		{"name and element differ", ``, `{in: soap, element: code, name: id}`,
			[]want{{"registries[0].services[0].subject.name", 8, "element names the subject"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, ps, _ := parseDoc(t, t.TempDir(), soapDoc(tc.top, tc.subject), nil)
			checkProblems(t, ps, tc.want)
		})
	}
}

func TestSOAPSubjectOnRESTRegistry(t *testing.T) {
	_, ps, _ := parseDoc(t, t.TempDir(), `
message_log: {subject_key: a-subject-key-of-16-bytes}
registries:
  - id: UA/GOV/00000001/civil-registry
    endpoints: [http://127.0.0.1:9101]
    services:
      - {code: persons, paths: ["/persons/{id}"], subject: {in: soap, element: id}}
`, nil)
	checkProblems(t, ps, []want{{"registries[0].services[0].subject.in", 6, "only for registries with adapter soap"}})
}
