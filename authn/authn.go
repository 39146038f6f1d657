// Package authn proves consumer identities: API keys (kept only as SHA-256
// hashes), TLS client certificates (by fingerprint or whole subject DN,
// issued by the client's own CA, not revoked), and clients on isolated
// networks that need no credential ("auth: none", from named networks
// only). It also throttles failed authentications per source address.
package authn

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/govbus/govbus/gateway"
)

// Client is how one client proves who it is.
type Client struct {
	// ID is the client's subsystem id in canonical form.
	ID string
	// None marks a client that needs no credential (isolated networks). It
	// is accepted only from NoneFrom.
	None bool
	// NoneFrom are the networks a None client may call from (the TCP peer
	// address of the connection). Empty: loopback only (127.0.0.0/8, ::1).
	NoneFrom []netip.Prefix
	// KeyHashes are hex SHA-256 hashes of the client's API keys.
	KeyHashes []string
	// Certificates identify the client's TLS certificates; each matches
	// only a certificate that chains to one of CAs.
	Certificates []CertIdentity
	// CAs are the certificate authorities that issue the client's
	// certificates (besides those the TLS listener trusts). Required with
	// Certificates.
	CAs []*x509.Certificate
	// CRLs list certificates the CAs revoked; each must be signed by one of
	// CAs. Optional.
	CRLs []*x509.RevocationList
}

// Networks returns the networks a None client is accepted from: NoneFrom,
// or loopback when NoneFrom is empty.
func (c Client) Networks() []netip.Prefix {
	if len(c.NoneFrom) > 0 {
		return c.NoneFrom
	}
	return []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
}

// CertIdentity matches a client certificate by the SHA-256 fingerprint of
// its DER encoding, or by its whole subject distinguished name in RFC 4514
// form (ParseDN: every RDN, in order, e.g. "CN=eservice,O=Ministry").
type CertIdentity struct {
	SHA256  string
	Subject string
}

// The reasons of failed authentications, as counted by an Observer. They
// are a fixed set (FailureReasons), never a client id or a key.
const (
	ReasonUnknownClient        = "unknown_client"
	ReasonNoCredential         = "no_credential"
	ReasonUnknownKey           = "unknown_key"
	ReasonOtherClient          = "other_client"
	ReasonUnknownCertificate   = "unknown_certificate"
	ReasonUntrustedCertificate = "untrusted_certificate"
	ReasonRevokedCertificate   = "revoked_certificate"
	ReasonNetwork              = "network"
	ReasonThrottled            = "throttled"
)

// FailureReasons returns every reason an Observer may be told.
func FailureReasons() []string {
	return []string{
		ReasonUnknownClient, ReasonNoCredential, ReasonUnknownKey, ReasonOtherClient, ReasonUnknownCertificate,
		ReasonUntrustedCertificate, ReasonRevokedCertificate, ReasonNetwork, ReasonThrottled,
	}
}

// Observer is told of every failed authentication, with its reason.
type Observer interface {
	AuthFailed(reason string)
}

// Options are an Authenticator's optional dependencies.
type Options struct {
	// Throttle, when set, counts failures per source address and refuses
	// an address's attempts (Client.RateLimited) once Limits are spent.
	// Nil: no throttling.
	Throttle *Throttle
	Limits   ThrottleLimits
	// Observer is told of failures; nil: no one is.
	Observer Observer
	// Now is the clock certificates are checked at; nil: time.Now.
	Now func() time.Time
}

// client is what the Authenticator knows of one client.
type client struct {
	none  bool
	from  []netip.Prefix
	trust *trust // nil: no certificate identifies the client
}

// allows reports whether a none client may call from addr.
func (c *client) allows(addr netip.Addr) bool {
	addr = addr.Unmap().WithZone("")
	for _, p := range c.from {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// Authenticator maps credentials to client ids. It is immutable after New
// and safe for concurrent use (its Throttle is shared and locked).
type Authenticator struct {
	keys     map[[sha256.Size]byte]string
	certs    map[[sha256.Size]byte]string
	subjects map[string]string // DN.String() -> client
	clients  map[string]*client
	opts     Options
}

var _ gateway.Authenticator = (*Authenticator)(nil)

// New builds an Authenticator without throttling; see NewWithOptions.
func New(clients []Client) (*Authenticator, error) {
	return NewWithOptions(clients, Options{})
}

// NewWithOptions builds an Authenticator. It fails when a hash or a
// subject is malformed, a key, certificate or subject is registered for
// two clients, a client with certificates has no CA, or a revocation list
// is signed by none of its client's CAs.
func NewWithOptions(clients []Client, opts Options) (*Authenticator, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	opts.Limits = opts.Limits.withDefaults()
	a := &Authenticator{
		keys:     map[[sha256.Size]byte]string{},
		certs:    map[[sha256.Size]byte]string{},
		subjects: map[string]string{},
		clients:  map[string]*client{},
		opts:     opts,
	}
	var errs []string
	for _, c := range clients {
		ac := &client{none: c.None}
		a.clients[c.ID] = ac
		if c.None {
			ac.from = c.Networks()
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
		if len(c.Certificates) > 0 {
			if len(c.CAs) == 0 {
				errs = append(errs, fmt.Sprintf("%s: certificates need the client's CA", c.ID))
			} else if t, err := newTrust(c.CAs, c.CRLs); err != nil {
				errs = append(errs, fmt.Sprintf("%s: %v", c.ID, err))
			} else {
				ac.trust = t
			}
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
				dn, err := ParseDN(ci.Subject)
				if err != nil {
					errs = append(errs, fmt.Sprintf("%s: certificate subject %q: %v", c.ID, ci.Subject, err))
					continue
				}
				if other, dup := a.subjects[dn.String()]; dup && other != c.ID {
					errs = append(errs, fmt.Sprintf("%s: certificate subject also registered for %s", c.ID, other))
				}
				a.subjects[dn.String()] = c.ID
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
// credential must belong to the claimed client; a certificate counts only
// when it chains to the client's own CA and is not revoked; a client
// without a credential is accepted only when configured with auth none
// and calling from its networks. It returns a gateway.CodeUnauthenticated
// *Error otherwise, and a gateway.CodeRateLimited one (with RetryAfter),
// before looking at the credential, while cred.RemoteAddr's allowance of
// failures is spent.
func (a *Authenticator) Authenticate(client string, cred gateway.Credential) error {
	return a.throttled(cred, func() (string, string) { return a.check(client, cred) })
}

// AuthenticateAny proves that cred belongs to some configured client, as
// Authenticate would for that client, counting at most one failure; it is
// for checks made before the claimed client is known (a SOAP envelope not
// yet read). Errors as for Authenticate.
func (a *Authenticator) AuthenticateAny(cred gateway.Credential) error {
	return a.throttled(cred, func() (string, string) {
		switch {
		case cred.APIKey != "":
			owner, ok := a.keys[sha256.Sum256([]byte(cred.APIKey))]
			if !ok {
				return ReasonUnknownKey, "unknown API key"
			}
			return a.check(owner, cred)
		case cred.Certificate != nil:
			owner, ok := a.certOwner(cred.Certificate)
			if !ok {
				return ReasonUnknownCertificate, "unknown client certificate"
			}
			return a.check(owner, cred)
		}
		for _, c := range a.clients {
			if c.none && c.allows(cred.RemoteAddr) {
				return "", ""
			}
		}
		return ReasonNoCredential, noCredential
	})
}

// throttled runs check (which returns a failure's reason and message, or
// "" when the credential is good) unless cred's address is throttled, and
// counts a failure.
func (a *Authenticator) throttled(cred gateway.Credential, check func() (reason, msg string)) error {
	th, l := a.opts.Throttle, a.opts.Limits
	if th != nil {
		if wait := th.wait(cred.RemoteAddr, l); wait > 0 {
			a.failed(ReasonThrottled)
			return &gateway.Error{Code: gateway.CodeRateLimited, Message: "too many failed authentications from this address", RetryAfter: wait}
		}
	}
	reason, msg := check()
	if reason == "" {
		return nil
	}
	a.failed(reason)
	if th != nil {
		th.fail(cred.RemoteAddr, l)
	}
	return gateway.Errorf(gateway.CodeUnauthenticated, "%s", msg)
}

func (a *Authenticator) failed(reason string) {
	if a.opts.Observer != nil {
		a.opts.Observer.AuthFailed(reason)
	}
}

// noCredential is the message of a request without a credential.
const noCredential = "a credential is required: Authorization: Bearer <key> or a TLS client certificate"

// check returns why cred does not prove client id, or "" when it does. A
// client that does not exist gets the message a configured one would get
// for the same credential, so that no answer tells which clients exist
// (listClients hides auth none clients outside their networks).
func (a *Authenticator) check(id string, cred gateway.Credential) (reason, msg string) {
	c, ok := a.clients[id]
	if !ok {
		if reason, msg = a.prove(id, &client{}, cred); reason == "" {
			msg = noCredential // never: credentials belong to configured clients
		}
		return ReasonUnknownClient, msg
	}
	return a.prove(id, c, cred)
}

// prove returns why cred does not prove client id, configured as c,
// or "" when it does.
func (a *Authenticator) prove(id string, c *client, cred gateway.Credential) (reason, msg string) {
	presented := false
	if cred.APIKey != "" {
		presented = true
		owner, ok := a.keys[sha256.Sum256([]byte(cred.APIKey))]
		if !ok {
			return ReasonUnknownKey, "unknown API key"
		}
		if owner != id {
			return ReasonOtherClient, "the API key belongs to another client"
		}
	}
	if cred.Certificate != nil {
		presented = true
		owner, ok := a.certOwner(cred.Certificate)
		if !ok {
			return ReasonUnknownCertificate, "unknown client certificate"
		}
		if owner != id {
			return ReasonOtherClient, "the client certificate belongs to another client"
		}
		if reason, msg := c.trust.check(cred.Certificate, a.opts.Now()); reason != "" {
			return reason, msg
		}
	}
	if presented {
		return "", ""
	}
	if !c.none {
		return ReasonNoCredential, noCredential
	}
	if c.allows(cred.RemoteAddr) {
		return "", ""
	}
	// The same answer as for a client that needs a credential: no one
	// outside the networks learns that this client needs none.
	return ReasonNetwork, noCredential
}

// certOwner finds the client a certificate names, by fingerprint or by
// its whole subject.
func (a *Authenticator) certOwner(c *x509.Certificate) (string, bool) {
	if owner, ok := a.certs[sha256.Sum256(c.Raw)]; ok {
		return owner, true
	}
	dn, err := SubjectDN(c)
	if err != nil {
		return "", false
	}
	owner, ok := a.subjects[dn.String()]
	return owner, ok
}
