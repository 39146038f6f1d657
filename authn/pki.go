package authn

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// ParseCertificates reads the PEM CERTIFICATE blocks of data (a client's
// ca_file). It fails when data holds none, or a block that is not a
// certificate.
func ParseCertificates(data []byte) ([]*x509.Certificate, error) {
	out, err := pemBlocks(data, "CERTIFICATE", x509.ParseCertificate)
	if err == nil && len(out) == 0 {
		err = errors.New("no PEM certificate")
	}
	return out, err
}

// ParseCRLs reads certificate revocation lists (a client's crl_file):
// PEM "X509 CRL" blocks, or one DER-encoded list.
func ParseCRLs(data []byte) ([]*x509.RevocationList, error) {
	if b, _ := pem.Decode(data); b == nil {
		l, err := x509.ParseRevocationList(data)
		if err != nil {
			return nil, err
		}
		return []*x509.RevocationList{l}, nil
	}
	return pemBlocks(data, "X509 CRL", x509.ParseRevocationList)
}

// pemBlocks parses every PEM block of data, each of which must be of type
// typ, and refuses anything but white space after them.
func pemBlocks[T any](data []byte, typ string, parse func([]byte) (T, error)) ([]T, error) {
	var out []T
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type != typ {
			return nil, fmt.Errorf("a PEM block of type %q, not %s", b.Type, typ)
		}
		v, err := parse(b.Bytes)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if len(bytes.TrimSpace(data)) > 0 {
		return nil, fmt.Errorf("data that is not PEM after the %s blocks", typ)
	}
	return out, nil
}

// CRLIssuer returns the CA among cas that signed l, or an error when none
// did.
func CRLIssuer(l *x509.RevocationList, cas []*x509.Certificate) (*x509.Certificate, error) {
	for _, ca := range cas {
		if bytes.Equal(l.RawIssuer, ca.RawSubject) && l.CheckSignatureFrom(ca) == nil {
			return ca, nil
		}
	}
	return nil, errors.New("a revocation list is signed by none of the client's CAs")
}

// trust is what makes a certificate one of a client's: its own CAs and
// what they revoked.
type trust struct {
	// verified remembers the certificates whose chain to roots was
	// verified (none of it revoked), with the time span the chain is valid
	// in, so that a client
	// on a kept-alive connection is not verified again on every request.
	mu       sync.Mutex
	verified map[[sha256.Size]byte]span

	roots *x509.CertPool
	// revoked maps an issuing CA's subject (DER) to the serial numbers
	// (decimal) it revoked.
	revoked map[string]map[string]bool
}

// newTrust builds a client's trust from its CAs and revocation lists.
func newTrust(cas []*x509.Certificate, crls []*x509.RevocationList) (*trust, error) {
	t := &trust{roots: x509.NewCertPool(), revoked: map[string]map[string]bool{}}
	for _, ca := range cas {
		t.roots.AddCert(ca)
	}
	for _, l := range crls {
		ca, err := CRLIssuer(l, cas)
		if err != nil {
			return nil, err
		}
		set := t.revoked[string(ca.RawSubject)]
		if set == nil {
			set = map[string]bool{}
			t.revoked[string(ca.RawSubject)] = set
		}
		for _, e := range l.RevokedCertificateEntries {
			set[e.SerialNumber.String()] = true
		}
	}
	return t, nil
}

// check verifies that c chains to one of the client's CAs for client
// authentication at now and that no certificate of the chain is revoked
// by the CA that issued it: c itself, and the CA certificates above it,
// the one in the client's ca_file that anchors the chain included (a
// root's list may revoke an issuing CA that the file holds too). It
// returns the failure reason and a message, or "" when c is good.
func (t *trust) check(c *x509.Certificate, now time.Time) (reason, msg string) {
	switch t.chains(c, now) {
	case chainUntrusted:
		return ReasonUntrustedCertificate, "the client certificate was not issued by the client's CA"
	case chainRevoked:
		return ReasonRevokedCertificate, "the client certificate, or a CA certificate of its chain, is revoked"
	}
	return "", ""
}

// span is when a verified chain is valid.
type span struct{ from, until time.Time }

// maxVerified bounds trust.verified; past it the map starts afresh.
const maxVerified = 1024

// verdict is what trust.chains found.
type verdict int

const (
	chainGood      verdict = iota // a chain to a root, none of it revoked
	chainUntrusted                // no chain to a root, for client authentication, now
	chainRevoked                  // chains, each with a revoked certificate
)

// chains reports whether c chains to one of t's roots, for client
// authentication, at now, by a chain none of whose certificates is
// revoked.
func (t *trust) chains(c *x509.Certificate, now time.Time) verdict {
	key := sha256.Sum256(c.Raw)
	t.mu.Lock()
	sp, ok := t.verified[key]
	t.mu.Unlock()
	if ok {
		if now.Before(sp.from) || now.After(sp.until) {
			return chainUntrusted
		}
		return chainGood
	}
	chains, err := c.Verify(x509.VerifyOptions{
		Roots: t.roots, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	if err != nil {
		return chainUntrusted
	}
	i := slices.IndexFunc(chains, func(chain []*x509.Certificate) bool { return !t.anyRevoked(chain) })
	if i < 0 {
		return chainRevoked
	}
	// The span of that chain: within it, that chain alone proves c.
	sp = span{from: c.NotBefore, until: c.NotAfter}
	for _, ca := range chains[i][1:] {
		if ca.NotBefore.After(sp.from) {
			sp.from = ca.NotBefore
		}
		if ca.NotAfter.Before(sp.until) {
			sp.until = ca.NotAfter
		}
	}
	t.mu.Lock()
	if t.verified == nil || len(t.verified) >= maxVerified {
		t.verified = map[[sha256.Size]byte]span{}
	}
	t.verified[key] = sp
	t.mu.Unlock()
	return chainGood
}

// anyRevoked reports whether a list of t names a certificate of chain.
// Serial numbers are unique per issuer: any of the client's lists by a
// certificate's issuer that names it revokes it.
func (t *trust) anyRevoked(chain []*x509.Certificate) bool {
	for _, c := range chain {
		if t.revoked[string(c.RawIssuer)][c.SerialNumber.String()] {
			return true
		}
	}
	return false
}
