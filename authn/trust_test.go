package authn

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"testing"
	"time"

	"github.com/govbus/govbus/gateway"
)

// TestCertificateIssuer checks that a certificate proves a client only
// when the client's own CA issued it: another CA (one the TLS listener
// may trust for other clients) cannot issue a certificate with the
// client's subject, nor is a registered fingerprint enough.
func TestCertificateIssuer(t *testing.T) {
	own, other := newCA(t, "eservice CA"), newCA(t, "benefits CA")
	ownCert := own.issue(t, eserviceSubject).Leaf
	forged := other.issue(t, eserviceSubject).Leaf
	byPrint := other.issue(t, pkix.Name{CommonName: "registered by fingerprint"}).Leaf
	a := newAuthenticator(t, []Client{
		{ID: eservice, Certificates: []CertIdentity{{Subject: "CN=eservice,O=Ministry"}, {SHA256: fingerprint(byPrint)}}, CAs: []*x509.Certificate{own.cert}},
		{ID: benefits, Certificates: []CertIdentity{{Subject: "CN=benefits,O=Pension Fund"}}, CAs: []*x509.Certificate{other.cert}},
	})
	if err := a.Authenticate(eservice, gateway.Credential{Certificate: ownCert}); err != nil {
		t.Errorf("own CA's certificate: got %v, want nil", err)
	}
	checkUnauthenticated(t, a.Authenticate(eservice, gateway.Credential{Certificate: forged}))
	checkUnauthenticated(t, a.Authenticate(eservice, gateway.Credential{Certificate: byPrint}))

	// Two CAs in one client's ca_file: either issues its certificates.
	both := newAuthenticator(t, []Client{{ID: eservice, Certificates: []CertIdentity{{Subject: "CN=eservice,O=Ministry"}}, CAs: []*x509.Certificate{other.cert, own.cert}}})
	for _, c := range []*x509.Certificate{ownCert, forged} {
		if err := both.Authenticate(eservice, gateway.Credential{Certificate: c}); err != nil {
			t.Errorf("a certificate of one of two CAs: got %v, want nil", err)
		}
	}
}

// TestCertificateUse checks that the certificate must be valid now and
// usable for client authentication.
func TestCertificateUse(t *testing.T) {
	ca := newCA(t, "eservice CA")
	c := ca.issue(t, eserviceSubject).Leaf
	now := time.Now()
	clock := func() time.Time { return now }
	a, err := NewWithOptions([]Client{{ID: eservice, Certificates: []CertIdentity{{Subject: "CN=eservice,O=Ministry"}}, CAs: []*x509.Certificate{ca.cert}}}, Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Authenticate(eservice, gateway.Credential{Certificate: c}); err != nil {
		t.Fatalf("a valid certificate: got %v, want nil", err)
	}
	now = now.Add(2 * time.Hour) // past NotAfter
	checkUnauthenticated(t, a.Authenticate(eservice, gateway.Credential{Certificate: c}))

	server := ca.issueWith(t, eserviceSubject, x509.ExtKeyUsageServerAuth).Leaf
	now = time.Now()
	checkUnauthenticated(t, a.Authenticate(eservice, gateway.Credential{Certificate: server}))
}

// TestRevoked checks that a certificate its CA revoked is refused, and
// only that one.
func TestRevoked(t *testing.T) {
	ca := newCA(t, "eservice CA")
	revoked := ca.issue(t, eserviceSubject).Leaf
	good := ca.issue(t, eserviceSubject).Leaf
	byPrint := ca.issue(t, pkix.Name{CommonName: "by fingerprint"}).Leaf
	a := newAuthenticator(t, []Client{{
		ID: eservice, Certificates: []CertIdentity{{Subject: "CN=eservice,O=Ministry"}, {SHA256: fingerprint(byPrint)}},
		CAs: []*x509.Certificate{ca.cert}, CRLs: []*x509.RevocationList{ca.revoke(t, revoked, byPrint)},
	}})
	checkUnauthenticated(t, a.Authenticate(eservice, gateway.Credential{Certificate: revoked}))
	checkUnauthenticated(t, a.Authenticate(eservice, gateway.Credential{Certificate: byPrint}))
	if err := a.Authenticate(eservice, gateway.Credential{Certificate: good}); err != nil {
		t.Errorf("a certificate not revoked: got %v, want nil", err)
	}
}

// TestParseFiles checks the readers of ca_file and crl_file.
func TestParseFiles(t *testing.T) {
	ca := newCA(t, "eservice CA")
	certs, err := ParseCertificates(append(pemOf("CERTIFICATE", ca.cert.Raw), pemOf("CERTIFICATE", newCA(t, "second").cert.Raw)...))
	if err != nil || len(certs) != 2 {
		t.Errorf("ParseCertificates of two: got %d, %v, want 2", len(certs), err)
	}
	for name, data := range map[string][]byte{
		"empty":      nil,
		"a key":      pemOf("EC PRIVATE KEY", []byte{1}),
		"not PEM":    []byte("hello"),
		"junk after": append(pemOf("CERTIFICATE", ca.cert.Raw), "junk"...),
	} {
		if _, err := ParseCertificates(data); err == nil {
			t.Errorf("ParseCertificates(%s): got nil, want an error", name)
		}
	}
	l := ca.revoke(t, ca.issue(t, eserviceSubject).Leaf)
	for name, data := range map[string][]byte{"DER": l.Raw, "PEM": pemOf("X509 CRL", l.Raw)} {
		got, err := ParseCRLs(data)
		if err != nil || len(got) != 1 || len(got[0].RevokedCertificateEntries) != 1 {
			t.Errorf("ParseCRLs(%s): got %v, %v, want one list", name, got, err)
		}
	}
	if _, err := ParseCRLs(pemOf("CERTIFICATE", ca.cert.Raw)); err == nil {
		t.Errorf("ParseCRLs of a certificate: got nil, want an error")
	}
	if _, err := CRLIssuer(l, []*x509.Certificate{newCA(t, "other").cert}); err == nil {
		t.Errorf("CRLIssuer with another CA: got nil, want an error")
	}
}

// BenchmarkAuthenticateCertificate measures proving a client certificate
// by subject, as every request on a kept-alive mTLS connection does.
func BenchmarkAuthenticateCertificate(b *testing.B) {
	ca := newCA(b, "eservice CA")
	c := ca.issue(b, eserviceSubject).Leaf
	a := newAuthenticator(b, []Client{{ID: eservice, Certificates: []CertIdentity{{Subject: "CN=eservice,O=Ministry"}}, CAs: []*x509.Certificate{ca.cert}}})
	cred := gateway.Credential{Certificate: c}
	b.ReportAllocs()
	for b.Loop() {
		if err := a.Authenticate(eservice, cred); err != nil {
			b.Fatal(err)
		}
	}
}

// intermediate makes a CA named cn whose certificate ca signs.
func (ca *testCA) intermediate(t testing.TB, cn string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("generating CA key: %v", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(t), Subject: pkix.Name{CommonName: cn, Organization: []string{"govbus tests"}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatalf("creating intermediate CA certificate: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("parsing intermediate CA certificate: %v", err)
	}
	return &testCA{cert: cert, key: key}
}

// TestRevokedIssuingCA checks that a client's ca_file holding a root and
// its issuing CA, with the root's list revoking the issuing CA, proves no
// certificate that CA issued: the issuing CA in the file anchors the
// chain, but its own revocation counts too.
func TestRevokedIssuingCA(t *testing.T) {
	root := newCA(t, "national root")
	issuing := root.intermediate(t, "issuing CA")
	leaf := issuing.issue(t, eserviceSubject).Leaf
	clients := func(crls ...*x509.RevocationList) []Client {
		return []Client{{
			ID: eservice, Certificates: []CertIdentity{{Subject: "CN=eservice,O=Ministry"}},
			CAs: []*x509.Certificate{root.cert, issuing.cert}, CRLs: crls,
		}}
	}
	if err := newAuthenticator(t, clients(root.revoke(t))).Authenticate(eservice, gateway.Credential{Certificate: leaf}); err != nil {
		t.Fatalf("a certificate of an issuing CA not revoked: got %v, want nil", err)
	}
	obs := &countingObserver{n: map[string]int{}}
	a, err := NewWithOptions(clients(root.revoke(t, issuing.cert)), Options{Observer: obs})
	if err != nil {
		t.Fatal(err)
	}
	checkUnauthenticated(t, a.Authenticate(eservice, gateway.Credential{Certificate: leaf}))
	if got := obs.get(ReasonRevokedCertificate); got != 1 {
		t.Errorf("failures counted as %s: %d, want 1", ReasonRevokedCertificate, got)
	}
}
