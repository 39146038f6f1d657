// Package authn proves consumer identities: API keys (kept only as SHA-256
// hashes), TLS client certificates mapped to client ids, and clients on
// isolated networks that need no credential ("auth: none").
package authn

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/govbus/govbus/gateway"
)

// Client is how one client proves who it is.
type Client struct {
	// ID is the client's subsystem id in canonical form.
	ID string
	// None marks a client that needs no credential (isolated networks).
	None bool
	// KeyHashes are hex SHA-256 hashes of the client's API keys.
	KeyHashes []string
	// Certificates identify the client's TLS certificates.
	Certificates []CertIdentity
}

// CertIdentity matches a verified client certificate, by the SHA-256
// fingerprint of its DER encoding or by its subject distinguished name
// (as x509's pkix.Name.String prints it, e.g. "CN=eservice,O=Ministry").
type CertIdentity struct {
	SHA256  string
	Subject string
}

// Authenticator maps credentials to client ids. It is immutable after New
// and safe for concurrent use.
type Authenticator struct {
	keys     map[[sha256.Size]byte]string
	certs    map[[sha256.Size]byte]string
	subjects map[string]string
	none     map[string]bool
	known    map[string]bool
}

var _ gateway.Authenticator = (*Authenticator)(nil)

// New builds an Authenticator. It fails when a hash is malformed or a key or
// certificate is registered for two clients.
func New(clients []Client) (*Authenticator, error) {
	a := &Authenticator{
		keys:     map[[sha256.Size]byte]string{},
		certs:    map[[sha256.Size]byte]string{},
		subjects: map[string]string{},
		none:     map[string]bool{},
		known:    map[string]bool{},
	}
	var errs []string
	for _, c := range clients {
		a.known[c.ID] = true
		if c.None {
			a.none[c.ID] = true
		}
		for _, h := range c.KeyHashes {
			sum, err := ParseHash(h)
			if err != nil {
				errs = append(errs, fmt.Sprintf("%s: %v", c.ID, err))
				continue
			}
			if other, dup := a.keys[sum]; dup && other != c.ID {
				errs = append(errs, fmt.Sprintf("%s: API key also registered for %s", c.ID, other))
			}
			a.keys[sum] = c.ID
		}
		for _, ci := range c.Certificates {
			if ci.SHA256 != "" {
				sum, err := ParseHash(ci.SHA256)
				if err != nil {
					errs = append(errs, fmt.Sprintf("%s: certificate: %v", c.ID, err))
					continue
				}
				if other, dup := a.certs[sum]; dup && other != c.ID {
					errs = append(errs, fmt.Sprintf("%s: certificate also registered for %s", c.ID, other))
				}
				a.certs[sum] = c.ID
			}
			if ci.Subject != "" {
				if other, dup := a.subjects[ci.Subject]; dup && other != c.ID {
					errs = append(errs, fmt.Sprintf("%s: certificate subject also registered for %s", c.ID, other))
				}
				a.subjects[ci.Subject] = c.ID
			}
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("building authenticator: %s", strings.Join(errs, "; "))
	}
	return a, nil
}

// ParseHash parses a hex SHA-256 hash, optionally prefixed "sha256:".
func ParseHash(s string) ([sha256.Size]byte, error) {
	var sum [sha256.Size]byte
	s = strings.TrimPrefix(s, "sha256:")
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != sha256.Size {
		return sum, fmt.Errorf("not a hex SHA-256 hash")
	}
	copy(sum[:], b)
	return sum, nil
}

// HashKey returns the "sha256:<hex>" form of an API key, as stored in the
// configuration.
func HashKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Authenticate proves that cred belongs to client. Every presented
// credential must belong to the claimed client; a client without one is
// accepted only when configured with auth none. It returns a
// gateway.CodeUnauthenticated *Error otherwise.
func (a *Authenticator) Authenticate(client string, cred gateway.Credential) error {
	if !a.known[client] {
		return gateway.Errorf(gateway.CodeUnauthenticated, "unknown client")
	}
	presented := false
	if cred.APIKey != "" {
		presented = true
		owner, ok := a.keys[sha256.Sum256([]byte(cred.APIKey))]
		if !ok {
			return gateway.Errorf(gateway.CodeUnauthenticated, "unknown API key")
		}
		if owner != client {
			return gateway.Errorf(gateway.CodeUnauthenticated, "the API key belongs to another client")
		}
	}
	if cred.Certificate != nil {
		presented = true
		if owner, ok := a.certOwner(cred.Certificate); !ok {
			return gateway.Errorf(gateway.CodeUnauthenticated, "unknown client certificate")
		} else if owner != client {
			return gateway.Errorf(gateway.CodeUnauthenticated, "the client certificate belongs to another client")
		}
	}
	if !presented && !a.none[client] {
		return gateway.Errorf(gateway.CodeUnauthenticated, "a credential is required: Authorization: Bearer <key> or a TLS client certificate")
	}
	return nil
}

// certOwner finds the client a verified certificate belongs to.
func (a *Authenticator) certOwner(c *x509.Certificate) (string, bool) {
	if owner, ok := a.certs[sha256.Sum256(c.Raw)]; ok {
		return owner, true
	}
	owner, ok := a.subjects[c.Subject.String()]
	return owner, ok
}
