package admin

import (
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"strings"

	"github.com/govbus/govbus/authn"
	"github.com/govbus/govbus/config"
)

// Role is what an admin may do; each role may do all that the roles
// below it may.
type Role int

// The roles of DESIGN.md §4 and §11.
const (
	// RoleViewer reads: GET and HEAD requests.
	RoleViewer Role = iota + 1
	// RoleOperator also reloads the configuration (POST /admin/reload).
	RoleOperator
	// RoleAdmin may do everything, configuration changes included.
	RoleAdmin
)

// ParseRole parses "viewer", "operator" or "admin".
func ParseRole(s string) (Role, bool) {
	for i, name := range config.Roles {
		if s == name {
			return Role(i + 1), true
		}
	}
	return 0, false
}

// String returns the role's configuration name.
func (r Role) String() string {
	if r >= RoleViewer && int(r) <= len(config.Roles) {
		return config.Roles[r-1]
	}
	return "none"
}

// identity is an authenticated admin.
type identity struct {
	id   string
	role Role
}

// Keyring maps the admins' credentials to the admins: bearer tokens, known
// only by their SHA-256 hashes, and client certificates, by fingerprint or
// whole subject DN. It is immutable after NewKeyring and safe for
// concurrent use.
type Keyring struct {
	byHash   map[[sha256.Size]byte]identity
	certs    map[[sha256.Size]byte]identity
	subjects map[string]identity
}

// NewKeyring builds the keyring of a configuration's admins. It fails on
// what validation refuses too: an unknown role, a malformed hash or
// subject, a token or certificate shared by two admins, or an admin
// without a credential. Whether a certificate can be presented at all is
// the listener's TLS's business (ServerTLS).
func NewKeyring(admins []config.Admin) (*Keyring, error) {
	k := &Keyring{byHash: map[[sha256.Size]byte]identity{}, certs: map[[sha256.Size]byte]identity{}, subjects: map[string]identity{}}
	var errs []string
	for _, a := range admins {
		role, ok := ParseRole(a.Role)
		if !ok {
			errs = append(errs, fmt.Sprintf("admin %s: unknown role %q", a.ID, a.Role))
		}
		if len(a.Auth.APIKeys) == 0 && len(a.Auth.Certificates) == 0 {
			errs = append(errs, fmt.Sprintf("admin %s: no credential", a.ID))
		}
		who := identity{id: a.ID, role: role}
		for _, ci := range a.Auth.Certificates {
			if ci.SHA256 == "" && ci.Subject == "" {
				errs = append(errs, fmt.Sprintf("admin %s: a certificate needs sha256 or subject", a.ID))
			}
			if ci.SHA256 != "" {
				sum, err := authn.ParseHash(ci.SHA256)
				if err != nil {
					errs = append(errs, fmt.Sprintf("admin %s: certificate: %v", a.ID, err))
				} else if other, dup := k.certs[sum]; dup && other.id != a.ID {
					errs = append(errs, fmt.Sprintf("admin %s: certificate also registered for admin %s", a.ID, other.id))
				} else {
					k.certs[sum] = who
				}
			}
			if ci.Subject != "" {
				dn, err := authn.ParseDN(ci.Subject)
				if err != nil {
					errs = append(errs, fmt.Sprintf("admin %s: certificate subject: %v", a.ID, err))
				} else if other, dup := k.subjects[dn.String()]; dup && other.id != a.ID {
					errs = append(errs, fmt.Sprintf("admin %s: certificate subject also registered for admin %s", a.ID, other.id))
				} else {
					k.subjects[dn.String()] = who
				}
			}
		}
		for _, h := range a.Auth.APIKeys {
			sum, err := authn.ParseHash(h)
			if err != nil {
				errs = append(errs, fmt.Sprintf("admin %s: %v", a.ID, err))
				continue
			}
			if other, dup := k.byHash[sum]; dup {
				errs = append(errs, fmt.Sprintf("admin %s: token also registered for admin %s", a.ID, other.id))
			}
			k.byHash[sum] = who
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("building the admin keyring: %s", strings.Join(errs, "; "))
	}
	return k, nil
}

// lookup finds the admin whose token this is. A nil keyring knows no one.
func (k *Keyring) lookup(token string) (identity, bool) {
	if k == nil || token == "" {
		return identity{}, false
	}
	who, ok := k.byHash[sha256.Sum256([]byte(token))]
	return who, ok
}

// lookupCert finds the admin a verified client certificate names, by its
// fingerprint or its whole subject.
func (k *Keyring) lookupCert(c *x509.Certificate) (identity, bool) {
	if k == nil || c == nil {
		return identity{}, false
	}
	if who, ok := k.certs[sha256.Sum256(c.Raw)]; ok {
		return who, true
	}
	dn, err := authn.SubjectDN(c)
	if err != nil {
		return identity{}, false
	}
	who, ok := k.subjects[dn.String()]
	return who, ok
}
