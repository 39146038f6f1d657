package config

import (
	"strings"
	"testing"
)

func TestRedactURL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"https://user:s3cret@registry.internal:8443/x", "https://REDACTED@registry.internal:8443/x"},
		{"https://s3cret@registry.internal", "https://REDACTED@registry.internal"},
		{"ht tp://user:s3cret@host/x?y", "ht tp://REDACTED@host/x?y"},
		{"http://host/a@b", "http://host/a@b"},
		{"http://registry.internal", "http://registry.internal"},
	} {
		if got := RedactURL(tc.in); got != tc.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestProblemsNeverPrintEndpointPasswords(t *testing.T) {
	for _, endpoint := range []string{"https://user:s3cret@registry.internal:8443", "https://user:s3cret@registry.internal?x=1", "htt p://user:s3cret@registry"} {
		doc := strings.Replace(ruleDoc("{code: persons}", "    clients: [UA/GOV/00000003/eservice]\n    services: [UA/GOV/00000001/civil/persons]\n"), "http://127.0.0.1:9101", endpoint, 1)
		_, problems, err := parseDoc(t, t.TempDir(), doc, nil)
		if err == nil {
			t.Errorf("%s: accepted, want a problem", endpoint)
		}
		for _, p := range problems {
			if strings.Contains(p.String(), "s3cret") {
				t.Errorf("problem prints the password: %s", p)
			}
		}
		if err != nil && strings.Contains(err.Error(), "s3cret") {
			t.Errorf("error prints the password: %v", err)
		}
	}
}

func TestDemoSubjectKeyOnlyInTheDemo(t *testing.T) {
	doc := ruleDoc("{code: persons}", "    clients: [UA/GOV/00000003/eservice]\n    services: [UA/GOV/00000001/civil/persons]\n") +
		"message_log: {subject_key: " + DemoSubjectKey + "}\n"
	if _, _, err := parseDoc(t, t.TempDir(), doc, nil); err == nil || !strings.Contains(err.Error(), "message_log.subject_key") {
		t.Errorf("demo key outside the demo: %v, want a message_log.subject_key problem", err)
	}
	if _, _, err := parseDoc(t, t.TempDir(), "demo: true\n"+strings.TrimPrefix(doc, "\n"), nil); err != nil {
		t.Errorf("demo key with demo: true: %v", err)
	}
}
