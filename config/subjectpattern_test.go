package config

import (
	"strings"
	"testing"
)

func TestSubjectPattern(t *testing.T) {
	doc := func(pattern string) string {
		return ruleDoc(`{code: persons, paths: ["/persons/{id}"], subject: {in: path, name: id, pattern: '`+pattern+`'}}`,
			"    clients: [UA/GOV/00000003/eservice]\n    services: [UA/GOV/00000001/civil/persons]\n") +
			"message_log: {subject_key: a-secret-subject-key-0123}\n"
	}
	if _, _, err := parseDoc(t, t.TempDir(), doc("[0-9]{10}"), nil); err != nil {
		t.Errorf("a valid pattern: %v", err)
	}
	_, _, err := parseDoc(t, t.TempDir(), doc("[0-9"), nil)
	if err == nil || !strings.Contains(err.Error(), "registries[0].services[0].subject.pattern") {
		t.Errorf("a broken pattern: %v, want a problem at registries[0].services[0].subject.pattern", err)
	}
	re, err := CompileSubjectPattern("[0-9]{10}")
	if err != nil || !re.MatchString("1000000042") || re.MatchString("01000000042") || re.MatchString("x1000000042") {
		t.Errorf("CompileSubjectPattern does not anchor the pattern: %v", err)
	}
}
