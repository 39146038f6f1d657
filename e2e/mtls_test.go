package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// pki is a throwaway certificate authority for the test.
type pki struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	dir  string
}

func newPKI(t *testing.T) *pki {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "govbus test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	p := &pki{cert: cert, key: key, dir: t.TempDir()}
	p.write(t, "ca.pem", "CERTIFICATE", der)
	return p
}

func (p *pki) write(t *testing.T, name, typ string, der []byte) string {
	t.Helper()
	path := filepath.Join(p.dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// issue makes a leaf certificate and returns it as a tls.Certificate, also
// writing NAME.pem and NAME.key.
func (p *pki) issue(t *testing.T, name string, subject pkix.Name, server bool) tls.Certificate {
	t.Helper()
	return p.issueRaw(t, name, subject, nil, server)
}

// issueRaw is issue with the subject encoded from rdns, exactly as given,
// when rdns is not nil.
func (p *pki) issueRaw(t *testing.T, name string, subject pkix.Name, rdns pkix.RDNSequence, server bool) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: subject,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if rdns != nil {
		if tmpl.RawSubject, err = asn1.Marshal(rdns); err != nil {
			t.Fatal(err)
		}
	}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.cert, &key.PublicKey, p.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	p.write(t, name+".pem", "CERTIFICATE", der)
	p.write(t, name+".key", "EC PRIVATE KEY", kder)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func TestMutualTLSListener(t *testing.T) {
	govbus, registrysim := binaries(t)
	ca := newPKI(t)
	ca.issue(t, "server", pkix.Name{CommonName: "govbus"}, true)
	eservice := ca.issue(t, "eservice", pkix.Name{CommonName: "eservice", Organization: []string{"State e-services agency"}}, false)
	benefits := ca.issue(t, "benefits", pkix.Name{CommonName: "benefits"}, false)
	stranger := newPKI(t).issue(t, "stranger", pkix.Name{CommonName: "eservice", Organization: []string{"State e-services agency"}}, false)

	free := freePorts(t, 6)
	d := &demo{ports: map[string]string{}}
	for i, p := range demoPorts {
		d.ports[p] = free[i]
	}
	src, err := os.ReadFile("../deploy/demo/govbus.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg := d.rewrite(string(src))
	cfg = strings.ReplaceAll(cfg, "../../registrysim/", mustAbs(t, "../registrysim")+"/")
	cfg = strings.Replace(cfg, "  admin: {address:", "  consumer_tls: {address: 127.0.0.1:"+free[5]+
		", cert_file: "+ca.dir+"/server.pem, key_file: "+ca.dir+"/server.key, client_ca_file: "+ca.dir+"/ca.pem}\n  admin: {address:", 1)
	cfg = strings.Replace(cfg, "    name: E-service backend\n    auth:\n",
		"    name: E-service backend\n    auth:\n      ca_file: "+ca.dir+"/ca.pem\n      certificates: [{subject: \"CN=eservice,O=State e-services agency\"}]\n", 1)
	d.config = filepath.Join(t.TempDir(), "govbus.yaml")
	if err := os.WriteFile(d.config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	start(t, registrysim, "-civil", "127.0.0.1:"+d.ports["9101"], "-business", "")
	start(t, govbus, "serve", "-config", d.config)
	waitReady(t, "http://127.0.0.1:"+d.ports["9464"]+"/readyz")
	waitReady(t, "http://127.0.0.1:"+d.ports["9101"]+"/_sim/stats") // the registry may still be starting

	roots := x509.NewCertPool()
	roots.AddCert(ca.cert)
	call := func(cert *tls.Certificate, client string) (int, error) {
		tc := &tls.Config{RootCAs: roots}
		if cert != nil {
			tc.Certificates = []tls.Certificate{*cert}
		}
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: tc}, Timeout: 5 * time.Second}
		req, _ := http.NewRequest("GET", "https://127.0.0.1:"+free[5]+"/r1/UA/GOV/00000001/civil-registry/persons/persons/1000000042", nil)
		req.Header.Set("X-Road-Client", client)
		req.Header.Set("X-Road-Purpose", "service-delivery")
		resp, err := c.Do(req)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	for _, tt := range []struct {
		name   string
		cert   *tls.Certificate
		client string
		want   int
	}{
		{"own certificate", &eservice, "UA/GOV/00000003/eservice", 200},
		{"certificate of another client", &benefits, "UA/GOV/00000003/eservice", 401},
		{"no certificate", nil, "UA/GOV/00000003/eservice", 401},
	} {
		got, err := call(tt.cert, tt.client)
		if err != nil || got != tt.want {
			t.Errorf("%s: status %d (%v), want %d", tt.name, got, err, tt.want)
		}
	}
	// A certificate from an unknown CA with the right subject must not get in.
	if got, err := call(&stranger, "UA/GOV/00000003/eservice"); err == nil && got == 200 {
		t.Errorf("certificate from an untrusted CA was accepted")
	}
}
