package config

import (
	"net/url"
	"strings"
)

// DemoSubjectKey is the demo world's published subject key
// (deploy/demo/govbus.yaml's default when GOVBUS_SUBJECT_KEY is unset).
// Only a configuration with demo: true may use it.
const DemoSubjectKey = "demo-subject-key-not-for-production"

// RedactURL returns s with any user information replaced, so that a
// problem message never prints a password: "https://user:pw@host/x"
// becomes "https://REDACTED@host/x". Text that does not parse as a URL but
// holds an '@' before its first '/' after the scheme is redacted the same
// way.
func RedactURL(s string) string {
	if u, err := url.Parse(s); err == nil && u.User != nil {
		u.User = url.User("REDACTED")
		return u.String()
	}
	rest, scheme := s, ""
	if i := strings.Index(s, "://"); i >= 0 {
		scheme, rest = s[:i+3], s[i+3:]
	}
	end := len(rest)
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		end = i
	}
	if at := strings.LastIndexByte(rest[:end], '@'); at >= 0 {
		return scheme + "REDACTED" + rest[at:]
	}
	return s
}
