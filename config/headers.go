package config

import (
	"net/textproto"

	"github.com/govbus/govbus/gateway"
)

// serviceHeaders checks a service's header allowlists: every name a header
// name govbus may pass on in that direction (gateway.CheckPassHeader,
// gateway.CheckPassResponseHeader), none listed twice.
func (v *validator) serviceHeaders(p string, s *Service) {
	for _, list := range []struct {
		key   string
		names []string
		check func(string) error
	}{
		{"pass_headers", s.PassHeaders, gateway.CheckPassHeader},
		{"pass_response_headers", s.PassResponseHeaders, gateway.CheckPassResponseHeader},
	} {
		seen := map[string]bool{}
		for k, name := range list.names {
			path := idx(p+"."+list.key, k)
			if err := list.check(name); err != nil {
				v.addf(path, "%v", err)
				continue
			}
			c := textproto.CanonicalMIMEHeaderKey(name)
			if seen[c] {
				v.addf(path, "%s is listed twice", c)
			}
			seen[c] = true
		}
	}
}
