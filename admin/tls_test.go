package admin

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/govbus/govbus/authn"
	"github.com/govbus/govbus/config"
	"github.com/govbus/govbus/gateway"
)

// testCA is a certificate authority made for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

var serial atomic.Int64

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial.Add(1)), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key}
}

// issue signs a certificate for subject: a server's for 127.0.0.1, else a
// client's.
func (ca *testCA) issue(t *testing.T, subject pkix.Name, server bool) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial.Add(1)), Subject: subject,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

func writePEM(t *testing.T, path, kind string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestCertificateAdmins serves the admin handler over TLS as ServerTLS
// configures it: a client certificate that chains to the client CA proves
// the admin it names (by subject or fingerprint), with the same roles and
// refusals as a token.
func TestCertificateAdmins(t *testing.T) {
	ca, stranger := newTestCA(t, "ops CA"), newTestCA(t, "some other CA")
	dir := t.TempDir()
	server := ca.issue(t, pkix.Name{CommonName: "govbus admin"}, true)
	writePEM(t, filepath.Join(dir, "server.pem"), "CERTIFICATE", server.Certificate[0])
	keyDER, err := x509.MarshalECPrivateKey(server.PrivateKey.(*ecdsa.PrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, filepath.Join(dir, "server.key"), "EC PRIVATE KEY", keyDER)
	writePEM(t, filepath.Join(dir, "ca.pem"), "CERTIFICATE", ca.cert.Raw)

	ops := ca.issue(t, pkix.Name{CommonName: "ops", Organization: []string{"Ministry"}}, false)
	watcher := ca.issue(t, pkix.Name{CommonName: "watcher"}, false)
	unknown := ca.issue(t, pkix.Name{CommonName: "intern"}, false)
	forged := stranger.issue(t, pkix.Name{CommonName: "ops", Organization: []string{"Ministry"}}, false)
	fp := sha256.Sum256(watcher.Leaf.Raw)
	keyring, err := NewKeyring([]config.Admin{
		{ID: "ops", Role: "admin", Auth: config.AdminAuth{Certificates: []config.CertIdentity{{Subject: "CN=ops,O=Ministry"}}}},
		{ID: "watcher", Role: "viewer", Auth: config.AdminAuth{Certificates: []config.CertIdentity{{SHA256: hex.EncodeToString(fp[:])}}}},
		{ID: "on-call", Role: "operator", Auth: config.AdminAuth{APIKeys: []string{authn.HashKey(operatorToken)}}},
	})
	if err != nil {
		t.Fatal(err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	listener := config.AdminListener{Address: ln.Addr().String(),
		TLS: &config.AdminTLS{CertFile: "server.pem", KeyFile: "server.key", ClientCAFile: "ca.pem"}}
	tc, err := ServerTLS(&config.Config{Dir: dir, Listeners: config.Listeners{Admin: listener}})
	if err != nil {
		t.Fatal(err)
	}
	var reloads atomic.Int32
	h := Handler(Options{Holder: gateway.NewHolder(&gateway.Snapshot{Version: "v1"}), Listener: listener,
		Keyring: func() *Keyring { return keyring },
		Reload:  func() error { reloads.Add(1); return nil }})
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	srv := httptest.NewUnstartedServer(h)
	srv.Listener.Close()
	srv.Listener, srv.TLS = ln, tc
	srv.StartTLS()
	t.Cleanup(srv.Close)

	roots := x509.NewCertPool()
	roots.AddCert(ca.cert)
	call := func(t *testing.T, cert *tls.Certificate, method, path string, headers ...string) (*http.Response, error) {
		t.Helper()
		tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}
		if cert != nil {
			tr.TLSClientConfig.Certificates = []tls.Certificate{*cert}
		}
		defer tr.CloseIdleConnections()
		req, err := http.NewRequest(method, "https://"+ln.Addr().String()+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, hd := range headers {
			name, value, _ := strings.Cut(hd, ": ")
			if name == "Host" {
				req.Host = value
				continue
			}
			req.Header.Add(name, value)
		}
		resp, err := (&http.Client{Transport: tr}).Do(req)
		if err == nil {
			resp.Body.Close()
		}
		return resp, err
	}

	cases := []struct {
		name    string
		cert    *tls.Certificate
		method  string
		path    string
		headers []string
		status  int
		code    gateway.Code
		reload  bool
	}{
		{"the admin's certificate (by subject) reloads", &ops, "POST", "/admin/reload", nil, 200, "", true},
		{"the viewer's certificate (by fingerprint) reads", &watcher, "GET", "/admin/opmon", nil, 404, "", false}, // opmon is off here
		{"the viewer's certificate may not reload", &watcher, "POST", "/admin/reload", nil, 403, gateway.CodeAccessDenied, false},
		{"a certificate of the CA that names no admin", &unknown, "GET", "/admin/opmon", nil, 401, gateway.CodeUnauthenticated, false},
		{"a token over TLS", nil, "POST", "/admin/reload", []string{bearer(operatorToken)}, 200, "", true},
		{"the viewer's certificate with the operator's token", &watcher, "POST", "/admin/reload", []string{bearer(operatorToken)}, 401, gateway.CodeUnauthenticated, false},
		{"nothing", nil, "POST", "/admin/reload", nil, 401, gateway.CodeUnauthenticated, false},
		{"the admin's certificate to a rebound name", &ops, "POST", "/admin/reload", []string{"Host: evil.example:" + port}, 403, gateway.CodeAccessDenied, false},
		{"the admin's certificate from its own https origin", &ops, "POST", "/admin/reload", []string{"Origin: https://" + ln.Addr().String()}, 200, "", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := reloads.Load()
			resp, err := call(t, c.cert, c.method, c.path, c.headers...)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != c.status || resp.Header.Get(gateway.HeaderError) != string(c.code) {
				t.Errorf("%d %s, want %d %s", resp.StatusCode, resp.Header.Get(gateway.HeaderError), c.status, c.code)
			}
			if got := reloads.Load() - before; got != map[bool]int32{true: 1}[c.reload] {
				t.Errorf("%d reloads, want reload %v", got, c.reload)
			}
		})
	}
	t.Run("a certificate of another CA is refused in the handshake", func(t *testing.T) {
		before := reloads.Load()
		// Sent whatever CAs the server asks for (a Go client would
		// otherwise keep it back and send none).
		tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots,
			GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &forged, nil }}}
		defer tr.CloseIdleConnections()
		req, err := http.NewRequest("POST", "https://"+ln.Addr().String()+"/admin/reload", nil)
		if err != nil {
			t.Fatal(err)
		}
		if resp, err := (&http.Client{Transport: tr}).Do(req); err == nil {
			resp.Body.Close()
			t.Errorf("a forged certificate got %d, want no answer", resp.StatusCode)
		}
		if reloads.Load() != before {
			t.Error("a forged certificate reloaded")
		}
	})
}

func TestServerTLSOff(t *testing.T) {
	if tc, err := ServerTLS(&config.Config{}); tc != nil || err != nil {
		t.Errorf("no tls: %v, %v; want nil, nil", tc, err)
	}
	if _, err := ServerTLS(&config.Config{Dir: t.TempDir(), Listeners: config.Listeners{Admin: config.AdminListener{
		TLS: &config.AdminTLS{CertFile: "missing.pem", KeyFile: "missing.key"}}}}); err == nil {
		t.Error("missing files: no error")
	}
}
