package config

import (
	"net/netip"
	"os"
	"time"

	"github.com/govbus/govbus/authn"
)

// AuthThrottle limits failed consumer authentications per source address
// (the TCP peer; an IPv6 address counts by its /64). Once an address has
// spent its burst of failures, its further attempts get 429
// Client.RateLimited with Retry-After before any credential is looked at,
// until the allowance refills; a success gives nothing back. The counts
// survive reloads. Wrong admin credentials on the admin listener are
// counted apart, under the limits the node started with.
type AuthThrottle struct {
	// Burst is how many failures an address may make at once. Default 10.
	Burst int `yaml:"burst"`
	// PerSecond is how many failures the allowance regains per second.
	// Default 1.
	PerSecond float64 `yaml:"per_second"`
	// MaxAddresses bounds the addresses remembered (beyond it the one that
	// failed least recently is forgotten). Default 10000.
	MaxAddresses int `yaml:"max_addresses"`
}

// setAuthThrottleDefaults fills the unset fields of t.
func setAuthThrottleDefaults(t *AuthThrottle) {
	orDefault(&t.Burst, authn.DefaultThrottleBurst)
	orDefault(&t.PerSecond, authn.DefaultThrottlePerSecond)
	orDefault(&t.MaxAddresses, authn.DefaultThrottleMaxAddresses)
}

// authThrottle validates the throttle of failed authentications.
func (v *validator) authThrottle() {
	t := v.cfg.AuthThrottle
	if t.Burst < 1 {
		v.addf("auth_throttle.burst", "must be at least 1")
	}
	if t.PerSecond <= 0 {
		v.addf("auth_throttle.per_second", "must be positive")
	}
	if t.MaxAddresses < 1 {
		v.addf("auth_throttle.max_addresses", "must be at least 1")
	}
}

// NonePrefixes parses an auth none client's networks (nil: loopback only,
// as authn.Client.Networks decides). Validation has refused any that does
// not parse.
func (a ClientAuth) NonePrefixes() []netip.Prefix {
	if a.NoneNetworks == nil {
		return nil
	}
	var out []netip.Prefix
	for _, s := range a.NoneNetworks.From {
		if p, ok := parseNetwork(s); ok {
			out = append(out, p)
		}
	}
	return out
}

// parseNetwork parses a CIDR prefix or a single address (as a /32 or
// /128). A prefix with host bits set (10.20.0.1/16) is refused: it is
// ambiguous whether the address or the network was meant.
func parseNetwork(s string) (netip.Prefix, bool) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p, p.Addr().Zone() == "" && p == p.Masked()
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, false
	}
	return netip.PrefixFrom(a, a.BitLen()), true
}

// bothIdentities is the problem of a certificate entry with a fingerprint
// and a subject: either alone would prove the identity, so an entry meant
// to pin one certificate would accept any other of that subject.
const bothIdentities = "a certificate is named by sha256 or subject, not both: either alone would prove it " +
	"(sha256 pins one certificate; write two entries to accept either)"

// clientAuth validates one client's auth at path p.
func (v *validator) clientAuth(p, id string, a ClientAuth) {
	switch {
	case a.None && (len(a.APIKeys) > 0 || len(a.Certificates) > 0 || a.CAFile != "" || a.CRLFile != ""):
		v.addf(p, "auth none cannot be combined with api_keys, certificates, ca_file or crl_file")
	case a.None:
		from := "loopback only (127.0.0.0/8, ::1)"
		if a.NoneNetworks != nil && len(a.NoneNetworks.From) > 0 {
			from = "from its networks"
		}
		v.warnf(p, "client %s needs no credential (%s): use only on an isolated network", id, from)
	case len(a.APIKeys) == 0 && len(a.Certificates) == 0:
		v.addf(p, "a client needs api_keys, certificates, or auth: none")
	}
	if a.NoneNetworks != nil {
		for k, s := range a.NoneNetworks.From {
			if _, ok := parseNetwork(s); !ok {
				v.addf(idx(p+".none.from", k), "%q is not a network (10.20.0.0/16, fd00::/8) or an address", s)
			}
		}
	}
	for k, h := range a.APIKeys {
		if !validHash(h) {
			v.addf(idx(p+".api_keys", k), "not a key hash sha256:<64 hex digits> (govbus hash-key prints one)")
		}
	}
	for k, ci := range a.Certificates {
		cp := idx(p+".certificates", k)
		switch {
		case ci.SHA256 == "" && ci.Subject == "":
			v.addf(cp, "a certificate needs sha256 or subject")
		case ci.SHA256 != "" && ci.Subject != "":
			v.addf(cp, bothIdentities)
		}
		if ci.SHA256 != "" && !validHash(ci.SHA256) {
			v.addf(cp+".sha256", "not a hex SHA-256 fingerprint")
		}
		if ci.Subject != "" {
			if _, err := authn.ParseDN(ci.Subject); err != nil {
				v.addf(cp+".subject", "%q is not a distinguished name in RFC 4514 form (e.g. \"CN=eservice,O=Ministry\"): %v", ci.Subject, err)
			}
		}
	}
	switch {
	case a.None: // any ca_file or crl_file is refused above
	case len(a.Certificates) > 0 && a.CAFile == "":
		v.addf(p+".ca_file", "a client with certificates needs ca_file: the CA that issues its certificates")
	case len(a.Certificates) == 0 && (a.CAFile != "" || a.CRLFile != ""):
		v.addf(p, "ca_file and crl_file are used only with certificates")
	case a.CAFile != "":
		v.clientCA(p, a)
	}
}

// clientCA checks that a client's CA file holds certificates and that its
// revocation lists, if any, are signed by one of them.
func (v *validator) clientCA(p string, a ClientAuth) {
	data, err := os.ReadFile(v.cfg.File(a.CAFile))
	if err != nil {
		v.addf(p+".ca_file", "cannot read %s: %v", a.CAFile, errUnwrapped(err))
		return
	}
	cas, err := authn.ParseCertificates(data)
	if err != nil {
		v.addf(p+".ca_file", "%s: %v", a.CAFile, err)
		return
	}
	if a.CRLFile == "" {
		return
	}
	data, err = os.ReadFile(v.cfg.File(a.CRLFile))
	if err != nil {
		v.addf(p+".crl_file", "cannot read %s: %v", a.CRLFile, errUnwrapped(err))
		return
	}
	crls, err := authn.ParseCRLs(data)
	if err != nil {
		v.addf(p+".crl_file", "%s: %v", a.CRLFile, err)
		return
	}
	for i, l := range crls {
		if _, err := authn.CRLIssuer(l, cas); err != nil {
			v.addf(p+".crl_file", "%s: list %d: %v", a.CRLFile, i+1, err)
		} else if !l.NextUpdate.IsZero() && l.NextUpdate.Before(time.Now()) {
			v.warnf(p+".crl_file", "%s: list %d was due for renewal at %s: refresh the file and reload", a.CRLFile, i+1, l.NextUpdate.UTC().Format(time.RFC3339))
		}
	}
}
