package config

import (
	"net"
	"net/netip"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/govbus/govbus/authn"
)

// AdminListener is the operators' listener (DESIGN.md §4).
type AdminListener struct {
	// Address is host:port. Default 127.0.0.1:9465.
	Address string `yaml:"address"`
	// Hosts are further names a request's Host header may carry, e.g. the
	// name of a TLS proxy in front of the listener: "name" matches that
	// name with no port or with the listener's port, "name:port" exactly.
	// Every other Host is refused, so that DNS rebinding cannot reach the
	// listener. Default none: only the address itself, and on loopback
	// 127.0.0.1, localhost and [::1] with its port (any IP address with its
	// port when the address is 0.0.0.0 or [::]).
	Hosts []string `yaml:"hosts"`
	// TLS, when set, serves the listener over TLS only. Default none:
	// plain HTTP. A reload does not change it.
	TLS *AdminTLS `yaml:"tls"`
}

// AdminTLS is the admin listener's TLS.
type AdminTLS struct {
	// CertFile and KeyFile are the listener's certificate and key.
	// Required.
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	// ClientCAFile holds the CAs that admins' client certificates must
	// chain to; with it the listener asks for client certificates, and an
	// admin's auth.certificates prove the admin. Default none: tokens only.
	ClientCAFile string `yaml:"client_ca_file"`
}

// Admin is an operator (a person or a team) of the admin listener.
type Admin struct {
	// ID names the admin in logs: 1-64 letters, digits, '.', '_', '-' or
	// '@'. Required, unique.
	ID string `yaml:"id"`
	// Role is viewer (GET requests: status, opmon), operator (also POST
	// /admin/reload) or admin (everything, configuration changes
	// included). Required.
	Role string `yaml:"role"`
	// Auth is the admin's credential. Required; "none" is refused.
	Auth AdminAuth `yaml:"auth"`
}

// Roles are the admin roles, each allowed what the ones before it are.
var Roles = []string{"viewer", "operator", "admin"}

// AdminAuth is how an admin proves who they are: the same forms as a
// client's auth, "none" excepted.
type AdminAuth struct {
	// APIKeys are "sha256:<hex>" hashes of the admin's bearer tokens
	// (govbus hash-key prints one). At least one.
	APIKeys []string `yaml:"api_keys"`
	// Certificates identify the admin's TLS client certificates (by
	// fingerprint or whole subject DN, as a client's), which must chain to
	// listeners.admin.tls.client_ca_file; without that file any is refused.
	Certificates []CertIdentity `yaml:"certificates"`
}

// UnmarshalYAML refuses "auth: none", which is a client's form only.
func (a *AdminAuth) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return typeError(n, "an admin's auth cannot be %s: give it a mapping with api_keys", strconv.Quote(n.Value))
	}
	type plain AdminAuth
	var p plain
	if err := n.Decode(&p); err != nil {
		return err
	}
	*a = AdminAuth(p)
	return nil
}

var (
	adminIDRE = regexp.MustCompile(`^[A-Za-z0-9._@-]{1,64}$`)
	// hostRE is a DNS name (letters, digits, '-', dots between labels)
	// or a bracketed IPv6 address, with an optional port.
	hostRE = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*|\[[0-9a-f:.]+\])(:[0-9]{1,5})?$`)
)

// admins validates the admin listener's hosts and the admins.
func (v *validator) admins() {
	l := &v.cfg.Listeners.Admin
	for i, h := range l.Hosts {
		h = strings.ToLower(h)
		l.Hosts[i] = h
		if !validHost(h) {
			v.addf(idx("listeners.admin.hosts", i), "%q is not a host name or host:port (no scheme, path or wildcard)", h)
		}
	}
	certsOK := false
	if t := l.TLS; t != nil {
		v.file("listeners.admin.tls.cert_file", t.CertFile, true)
		v.file("listeners.admin.tls.key_file", t.KeyFile, true)
		v.file("listeners.admin.tls.client_ca_file", t.ClientCAFile, false)
		certsOK = t.ClientCAFile != ""
	} else if len(v.cfg.Admins) > 0 && !onLoopback(l.Address) {
		v.warnf("listeners.admin.address", "admin tokens sent to %s cross the network in clear text: keep the listener on loopback, give it tls, or put a TLS proxy in front (named in hosts)", l.Address)
	}
	clientKeys := map[string]string{}
	for _, c := range v.cfg.Clients {
		for _, h := range c.Auth.APIKeys {
			clientKeys[normalHash(h)] = c.ID
		}
	}
	ids := map[string]bool{}
	tokens := map[string]string{}
	certs := map[string]string{}
	for i, a := range v.cfg.Admins {
		p := idx("admins", i)
		switch {
		case a.ID == "":
			v.addf(p+".id", "an admin needs an id")
		case !adminIDRE.MatchString(a.ID):
			v.addf(p+".id", "%q: an admin id is 1-64 letters, digits, '.', '_', '-' or '@'", a.ID)
		case ids[a.ID]:
			v.addf(p+".id", "duplicate admin %s", a.ID)
		}
		ids[a.ID] = true
		switch {
		case a.Role == "":
			v.addf(p+".role", "an admin needs a role: %s", strings.Join(Roles, ", "))
		case !contains(Roles, a.Role):
			v.addf(p+".role", "%q is not viewer, operator or admin", a.Role)
		}
		if len(a.Auth.APIKeys) == 0 && len(a.Auth.Certificates) == 0 {
			v.addf(p+".auth", "an admin needs api_keys (hashes of bearer tokens; govbus hash-key prints one)")
		}
		for k, h := range a.Auth.APIKeys {
			kp := idx(p+".auth.api_keys", k)
			if !validHash(h) {
				v.addf(kp, "not a key hash sha256:<64 hex digits> (govbus hash-key prints one)")
				continue
			}
			h = normalHash(h)
			if other, dup := tokens[h]; dup {
				v.addf(kp, "this token is also the token of admin %s", other)
			} else if client, dup := clientKeys[h]; dup {
				v.addf(kp, "this token is also the key of client %s: an admin token must be a secret of its own", client)
			}
			tokens[h] = a.ID
		}
		if len(a.Auth.Certificates) > 0 && !certsOK {
			v.addf(p+".auth.certificates", "a certificate proves an admin only on a TLS admin listener that asks for one: set listeners.admin.tls with client_ca_file, or use api_keys")
		}
		for k, ci := range a.Auth.Certificates {
			cp := idx(p+".auth.certificates", k)
			var keys []string
			switch {
			case ci.SHA256 == "" && ci.Subject == "":
				v.addf(cp, "a certificate needs sha256 or subject")
			case ci.SHA256 != "" && ci.Subject != "":
				v.addf(cp, bothIdentities)
			case ci.SHA256 != "" && !validHash(ci.SHA256):
				v.addf(cp+".sha256", "not a hex SHA-256 fingerprint")
			case ci.SHA256 != "":
				keys = append(keys, "sha256 "+normalHash(ci.SHA256))
			}
			if ci.Subject != "" {
				if dn, err := authn.ParseDN(ci.Subject); err != nil {
					v.addf(cp+".subject", "%q is not a distinguished name in RFC 4514 form (e.g. \"CN=ops,O=Ministry\"): %v", ci.Subject, err)
				} else {
					keys = append(keys, "subject "+dn.String())
				}
			}
			for _, key := range keys {
				if other, dup := certs[key]; dup && other != a.ID {
					v.addf(cp, "this certificate also proves admin %s", other)
				}
				certs[key] = a.ID
			}
		}
	}
}

// normalHash is a key hash as compared: lower-case hex without the prefix.
func normalHash(h string) string { return strings.ToLower(strings.TrimPrefix(h, "sha256:")) }

// validHost reports whether h is a lower-case host name or IP address with
// an optional port in range.
func validHost(h string) bool {
	if !hostRE.MatchString(h) {
		return false
	}
	name, port, err := net.SplitHostPort(h)
	if err != nil {
		name, port = strings.Trim(h, "[]"), ""
	}
	if port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return false
		}
	}
	if strings.HasPrefix(h, "[") {
		_, err := netip.ParseAddr(name)
		return err == nil
	}
	return true
}

// onLoopback reports whether the address host:port is on loopback only.
func onLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}
