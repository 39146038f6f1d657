package config

import (
	"net/url"
	"strings"

	"github.com/govbus/govbus/soap"
)

// ConsumerURL is the base URL consumers reach this node at, without a
// trailing slash: PublicURL when set, else http://<consumer address>.
func (c *Config) ConsumerURL() string {
	if c.PublicURL != "" {
		return strings.TrimSuffix(c.PublicURL, "/")
	}
	return "http://" + c.Listeners.Consumer.Address
}

// soapSettings checks public_url.
func (v *validator) soapSettings() {
	if pu := v.cfg.PublicURL; pu != "" {
		u, err := url.Parse(pu)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
			u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.ContainsAny(pu, "\"<>&' ") {
			v.addf("public_url", "%q is not an absolute http(s) URL without credentials, query or fragment", RedactURL(pu))
		}
	}
	// max_body_bytes_in_flight and body_read_timeout cannot be negative:
	// sizes and durations are parsed so.
}

// soapSubject checks a subject "in: soap" at path p (the service's) and
// sets its Name to its Element, the name the gateway reads.
func (v *validator) soapSubject(p string, r *Registry, sub *Subject) {
	if r.Adapter != "soap" {
		v.addf(p+".subject.in", "soap: only for registries with adapter soap")
	}
	switch {
	case sub.Element == "":
		v.addf(p+".subject.element", "is required for in: soap (the local name of the subject's element)")
		return
	case !soap.IsNCName(sub.Element):
		v.addf(p+".subject.element", "%q is not an XML local name", sub.Element)
	case sub.Name != "" && sub.Name != sub.Element:
		v.addf(p+".subject.name", "for in: soap the element names the subject; leave name out")
	}
	sub.Name = sub.Element
}
