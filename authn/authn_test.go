package authn

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/govbus/govbus/gateway"
)

const (
	eservice = "UA/GOV/00000003/eservice"
	benefits = "UA/GOV/00000004/benefits"
	portal   = "UA/GOV/00000005/citizen-portal"
	isolated = "UA/GOV/00000006/isolated"
	nobody   = "UA/GOV/00000009/nobody"
)

var (
	eserviceSubject = pkix.Name{CommonName: "eservice", Organization: []string{"Ministry"}}
	benefitsSubject = pkix.Name{CommonName: "benefits", Organization: []string{"Pension Fund"}}
)

// world is a set of clients with their credentials, as a test sees them.
type world struct {
	ca           *testCA
	eserviceCert *x509.Certificate // registered by fingerprint
	benefitsCert *x509.Certificate // registered by subject
	strangerCert *x509.Certificate // signed by the CA, registered for no one
	clients      []Client
}

func newWorld(t testing.TB) *world {
	t.Helper()
	w := &world{ca: newCA(t, "govbus test CA")}
	w.eserviceCert = w.ca.issue(t, eserviceSubject).Leaf
	w.benefitsCert = w.ca.issue(t, benefitsSubject).Leaf
	w.strangerCert = w.ca.issue(t, pkix.Name{CommonName: "stranger"}).Leaf
	w.clients = []Client{
		{
			ID:           eservice,
			KeyHashes:    []string{HashKey("demo-eservice-key"), strings.TrimPrefix(HashKey("eservice-second-key"), "sha256:")},
			Certificates: []CertIdentity{{SHA256: fingerprint(w.eserviceCert)}},
			CAs:          []*x509.Certificate{w.ca.cert},
		},
		{
			ID:           benefits,
			KeyHashes:    []string{strings.ToUpper(HashKey("demo-benefits-key")[len("sha256:"):])},
			Certificates: []CertIdentity{{Subject: "CN=benefits,O=Pension Fund"}},
			CAs:          []*x509.Certificate{w.ca.cert},
		},
		{ID: portal, KeyHashes: []string{HashKey("demo-portal-key")}},
		{ID: isolated, None: true},
	}
	return w
}

func newAuthenticator(t testing.TB, clients []Client) *Authenticator {
	t.Helper()
	a, err := New(clients)
	if err != nil {
		t.Fatalf("New: got error %v, want none", err)
	}
	return a
}

// checkUnauthenticated fails unless err is a CodeUnauthenticated *gateway.Error.
func checkUnauthenticated(t *testing.T, err error) {
	t.Helper()
	var ge *gateway.Error
	switch {
	case err == nil:
		t.Errorf("Authenticate: got nil, want %s", gateway.CodeUnauthenticated)
	case !errors.As(err, &ge):
		t.Errorf("Authenticate: got %v (%T), want a *gateway.Error", err, err)
	case ge.Code != gateway.CodeUnauthenticated:
		t.Errorf("Authenticate: got code %s, want %s", ge.Code, gateway.CodeUnauthenticated)
	}
}

func TestAuthenticate(t *testing.T) {
	w := newWorld(t)
	a := newAuthenticator(t, w.clients)
	key := func(k string) gateway.Credential { return gateway.Credential{APIKey: k} }
	cert := func(c *x509.Certificate) gateway.Credential { return gateway.Credential{Certificate: c} }
	tests := []struct {
		name   string
		client string
		cred   gateway.Credential
		wantOK bool
	}{
		{"own key", eservice, key("demo-eservice-key"), true},
		{"own second key (hash without prefix)", eservice, key("eservice-second-key"), true},
		{"own key (hash in upper case)", benefits, key("demo-benefits-key"), true},
		{"key of another client", eservice, key("demo-benefits-key"), false},
		{"key of another client, the other way", benefits, key("demo-eservice-key"), false},
		{"unknown key", eservice, key("guessed-key"), false},
		{"key in another case", eservice, key("DEMO-ESERVICE-KEY"), false},
		{"key hash presented as a key", eservice, key(HashKey("demo-eservice-key")), false},
		{"no credential for a keyed client", eservice, gateway.Credential{}, false},
		{"no credential for a certificate client", benefits, gateway.Credential{}, false},
		{"unknown client with a valid key", nobody, key("demo-eservice-key"), false},
		{"unknown client without credential", nobody, gateway.Credential{}, false},
		{"empty client id", "", key("demo-eservice-key"), false},
		{"client id in another case", strings.ToLower(eservice), key("demo-eservice-key"), false},
		{"none client without credential, from loopback", isolated, gateway.Credential{RemoteAddr: netip.MustParseAddr("127.0.0.1")}, true},
		{"none client without credential, from elsewhere", isolated, gateway.Credential{RemoteAddr: netip.MustParseAddr("192.0.2.1")}, false},
		{"none client with another client's key", isolated, key("demo-eservice-key"), false},
		{"none client with an unknown key", isolated, key("guessed-key"), false},
		{"none client with another client's certificate", isolated, cert(w.eserviceCert), false},

		{"own certificate by fingerprint", eservice, cert(w.eserviceCert), true},
		{"own certificate by subject", benefits, cert(w.benefitsCert), true},
		{"certificate of another client (by subject)", eservice, cert(w.benefitsCert), false},
		{"certificate of another client (by fingerprint)", benefits, cert(w.eserviceCert), false},
		{"unregistered certificate", eservice, cert(w.strangerCert), false},
		{"certificate for a key-only client", portal, cert(w.eserviceCert), false},

		{"own key and own certificate", eservice, gateway.Credential{APIKey: "demo-eservice-key", Certificate: w.eserviceCert}, true},
		{"own key and another's certificate", eservice, gateway.Credential{APIKey: "demo-eservice-key", Certificate: w.benefitsCert}, false},
		{"another's key and own certificate", eservice, gateway.Credential{APIKey: "demo-benefits-key", Certificate: w.eserviceCert}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := a.Authenticate(tt.client, tt.cred)
			if tt.wantOK {
				if err != nil {
					t.Errorf("Authenticate(%q): got %v, want nil", tt.client, err)
				}
				return
			}
			checkUnauthenticated(t, err)
		})
	}
}

// TestAuthenticateSubjectForm checks that a subject identity matches the
// certificate's whole subject in RFC 4514 order, and nothing else.
func TestAuthenticateSubjectForm(t *testing.T) {
	ca := newCA(t, "govbus test CA")
	c := ca.issue(t, pkix.Name{CommonName: "eservice", Organization: []string{"Ministry"}, Country: []string{"UA"}}).Leaf
	tests := []struct {
		subject string
		wantOK  bool
	}{
		{"CN=eservice,O=Ministry,C=UA", true},
		{"cn=eservice,o=Ministry,c=UA", true}, // type names are case-insensitive (RFC 4514 §3)
		{"2.5.4.3=eservice,2.5.4.10=Ministry,2.5.4.6=UA", true},
		{"C=UA,O=Ministry,CN=eservice", false},
		{"CN=eservice,O=Ministry", false},
		{"CN=eservice", false},
		{"CN=eservice,O=ministry,C=UA", false},
		{"CN=eservice+O=Ministry,C=UA", false},
	}
	for _, tt := range tests {
		a := newAuthenticator(t, []Client{{ID: eservice, Certificates: []CertIdentity{{Subject: tt.subject}}, CAs: []*x509.Certificate{ca.cert}}})
		err := a.Authenticate(eservice, gateway.Credential{Certificate: c})
		if got := err == nil; got != tt.wantOK {
			t.Errorf("subject %q against %q: got ok=%v (%v), want ok=%v", tt.subject, c.Subject, got, err, tt.wantOK)
		}
	}
}

func TestNewRefuses(t *testing.T) {
	w := newWorld(t)
	fp := fingerprint(w.eserviceCert)
	cas := []*x509.Certificate{w.ca.cert}
	tests := []struct {
		name    string
		clients []Client
		wantMsg string // "" when New must accept the clients
	}{
		{"valid world", w.clients, ""},
		{"no clients", nil, ""},
		{"same key twice for one client", []Client{{ID: eservice, KeyHashes: []string{HashKey("k"), HashKey("k")}}}, ""},
		{"short key hash", []Client{{ID: eservice, KeyHashes: []string{"sha256:abc"}}}, eservice},
		{"key hash not hex", []Client{{ID: eservice, KeyHashes: []string{"sha256:" + strings.Repeat("zz", 32)}}}, eservice},
		{"key instead of its hash", []Client{{ID: eservice, KeyHashes: []string{"demo-eservice-key"}}}, eservice},
		{"empty key hash", []Client{{ID: eservice, KeyHashes: []string{""}}}, eservice},
		{"same key for two clients", []Client{
			{ID: eservice, KeyHashes: []string{HashKey("shared")}},
			{ID: benefits, KeyHashes: []string{HashKey("other"), HashKey("shared")}},
		}, "API key also registered for " + eservice},
		{"malformed certificate fingerprint", []Client{{ID: eservice, Certificates: []CertIdentity{{SHA256: fp[:62]}}, CAs: cas}}, eservice},
		{"same certificate for two clients", []Client{
			{ID: eservice, Certificates: []CertIdentity{{SHA256: fp}}, CAs: cas},
			{ID: benefits, Certificates: []CertIdentity{{SHA256: strings.ToUpper(fp)}}, CAs: cas},
		}, "certificate also registered for " + eservice},
		{"same subject for two clients", []Client{
			{ID: eservice, Certificates: []CertIdentity{{Subject: "CN=shared"}}, CAs: cas},
			{ID: benefits, Certificates: []CertIdentity{{Subject: "cn=shared"}}, CAs: cas},
		}, "subject also registered for " + eservice},
		{"certificates without a CA", []Client{{ID: eservice, Certificates: []CertIdentity{{SHA256: fp}}}}, "certificates need the client's CA"},
		{"subject that does not parse", []Client{{ID: eservice, Certificates: []CertIdentity{{Subject: "CN=eservice, O=Ministry"}}, CAs: cas}}, "certificate subject"},
		{"revocation list of another CA", []Client{{
			ID: eservice, Certificates: []CertIdentity{{SHA256: fp}}, CAs: cas,
			CRLs: []*x509.RevocationList{newCA(t, "other CA").revoke(t)},
		}}, "signed by none of the client's CAs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := New(tt.clients)
			if tt.wantMsg == "" {
				if err != nil || a == nil {
					t.Errorf("New: got %v, %v, want an authenticator", a, err)
				}
				return
			}
			if err == nil || a != nil {
				t.Fatalf("New: got %v, %v, want nil and an error", a, err)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("New: got error %q, want it to mention %q", err, tt.wantMsg)
			}
		})
	}
}

// TestNewReportsEveryProblem checks that New names every bad entry, not
// just the first.
func TestNewReportsEveryProblem(t *testing.T) {
	_, err := New([]Client{
		{ID: eservice, KeyHashes: []string{"sha256:bad"}},
		{ID: benefits, KeyHashes: []string{"also-bad"}},
	})
	if err == nil {
		t.Fatal("New: got nil, want an error")
	}
	for _, id := range []string{eservice, benefits} {
		if !strings.Contains(err.Error(), id) {
			t.Errorf("New: got error %q, want it to name %s", err, id)
		}
	}
}

func TestHashKey(t *testing.T) {
	tests := []struct{ key, want string }{
		// The hashes in deploy/demo/govbus.yaml.
		{"demo-eservice-key", "sha256:a590294707470c216ec053f0e5ef5440b8a91b419024de4e9b83532bf865ffb6"},
		{"demo-benefits-key", "sha256:82185642139b69a1bd2a3b0c39230acf7eafdb0d90e131ef8841f66253e781f2"},
		{"demo-portal-key", "sha256:9bdc095594e27a33d12a48fd6ed8d3b3a4bb7abc6219b82867f2b5660b13be90"},
		{"", "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
	}
	for _, tt := range tests {
		if got := HashKey(tt.key); got != tt.want {
			t.Errorf("HashKey(%q): got %q, want %q", tt.key, got, tt.want)
		}
	}
}

func TestParseHash(t *testing.T) {
	const hexHash = "a590294707470c216ec053f0e5ef5440b8a91b419024de4e9b83532bf865ffb6"
	tests := []struct {
		in     string
		wantOK bool
	}{
		{"sha256:" + hexHash, true},
		{hexHash, true},
		{strings.ToUpper(hexHash), true},
		{"", false},
		{"sha256:", false},
		{"sha256:" + hexHash[:62], false},
		{"sha256:" + hexHash + "00", false},
		{"sha256:" + hexHash[:63], false},
		{"SHA256:" + hexHash, false},
		{"sha512:" + hexHash, false},
		{"sha256:" + strings.Repeat("g", 64), false},
		{" " + hexHash, false},
	}
	for _, tt := range tests {
		sum, err := ParseHash(tt.in)
		if got := err == nil; got != tt.wantOK {
			t.Errorf("ParseHash(%q): got error %v, want ok=%v", tt.in, err, tt.wantOK)
			continue
		}
		if got := hex.EncodeToString(sum[:]); tt.wantOK && got != hexHash {
			t.Errorf("ParseHash(%q): got %s, want %s", tt.in, got, hexHash)
		}
	}
}

// TestAuthenticateConcurrent checks, under -race, that one Authenticator
// serves many goroutines.
func TestAuthenticateConcurrent(t *testing.T) {
	w := newWorld(t)
	a := newAuthenticator(t, w.clients)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 16 {
		wg.Go(func() {
			for j := range 200 {
				if err := a.Authenticate(eservice, gateway.Credential{APIKey: "demo-eservice-key", Certificate: w.eserviceCert}); err != nil {
					errs <- err
					return
				}
				if err := a.Authenticate(benefits, gateway.Credential{APIKey: "demo-eservice-key"}); err == nil {
					errs <- errors.New("goroutine " + strconv.Itoa(i) + " call " + strconv.Itoa(j) + ": another client's key accepted")
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// BenchmarkAuthenticateKey measures proving an API key among 10,000 clients.
func BenchmarkAuthenticateKey(b *testing.B) {
	clients := make([]Client, 10000)
	for i := range clients {
		clients[i] = Client{ID: "UA/GOV/" + strconv.Itoa(10000000+i) + "/app", KeyHashes: []string{HashKey("key-" + strconv.Itoa(i))}}
	}
	a := newAuthenticator(b, clients)
	client, cred := clients[4242].ID, gateway.Credential{APIKey: "key-4242"}
	b.ReportAllocs()
	for b.Loop() {
		if err := a.Authenticate(client, cred); err != nil {
			b.Fatal(err)
		}
	}
}

// TestUnknownClientAnswersLikeAKnownOne checks that a claimed client that
// does not exist gets, for every credential, the very answer a configured
// client gets: otherwise any bogus key tells which clients exist, those
// that listClients hides included (an auth none client outside its
// networks).
func TestUnknownClientAnswersLikeAKnownOne(t *testing.T) {
	w := newWorld(t)
	a := newAuthenticator(t, w.clients)
	outside := netip.MustParseAddr("192.0.2.1")
	creds := map[string]gateway.Credential{
		"no credential":                {RemoteAddr: outside},
		"an unknown key":               {APIKey: "guessed-key", RemoteAddr: outside},
		"another client's key":         {APIKey: "demo-portal-key", RemoteAddr: outside},
		"an unregistered certificate":  {Certificate: w.strangerCert, RemoteAddr: outside},
		"another client's certificate": {Certificate: w.benefitsCert, RemoteAddr: outside},
	}
	for name, cred := range creds {
		want := a.Authenticate(isolated, cred)
		checkUnauthenticated(t, want)
		got := a.Authenticate(nobody, cred)
		checkUnauthenticated(t, got)
		if got == nil || want == nil || got.Error() != want.Error() {
			t.Errorf("%s: an unknown client gets %q, the auth none client outside its networks %q; want the same", name, got, want)
		}
		if eservice := a.Authenticate(eservice, cred); name != "no credential" && (eservice == nil || got == nil || eservice.Error() != got.Error()) {
			t.Errorf("%s: an unknown client gets %q, a keyed client %q; want the same", name, got, eservice)
		}
	}
}
