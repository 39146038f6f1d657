package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// writeCA writes, in dir, a self-signed CA as NAME.pem and a revocation
// list it signed as NAME.crl.
func writeCA(t *testing.T, dir, name string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(der)
	crl, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number: big.NewInt(1), ThisUpdate: time.Now().Add(-time.Minute), NextUpdate: time.Now().Add(time.Hour),
		RevokedCertificateEntries: []x509.RevocationListEntry{{SerialNumber: big.NewInt(7), RevocationTime: time.Now()}},
	}, ca, key)
	if err != nil {
		t.Fatal(err)
	}
	for file, data := range map[string][]byte{
		name + ".pem": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		name + ".crl": pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: crl}),
	} {
		if err := os.WriteFile(filepath.Join(dir, file), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func TestClientAuthAccepted(t *testing.T) {
	dir := t.TempDir()
	writeCA(t, dir, "clients-ca")
	cfg, ps, err := parseDoc(t, dir, `
clients:
  - id: UA/GOV/00000003/eservice
    auth:
      ca_file: clients-ca.pem
      crl_file: clients-ca.crl
      certificates: [{subject: "CN=eservice+O=Ministry,C=UA"}, {subject: 'CN=Doe\, John'}]
  - id: UA/GOV/00000004/batch
    auth: none
  - id: UA/GOV/00000005/lan
    auth: {none: {from: [10.20.0.0/16, "fd00:20::/32", 192.0.2.7]}}
  - id: UA/GOV/00000006/lan2
    auth: {none: {}}
auth_throttle: {burst: 20}
`, nil)
	if err != nil {
		t.Fatalf("Parse: got %v, want a config", err)
	}
	for _, p := range ps {
		if !p.Warning {
			t.Errorf("problem %v, want none", p)
		}
	}
	c := cfg.Clients
	if a := c[0].Auth; a.None || a.CAFile != "clients-ca.pem" || a.CRLFile != "clients-ca.crl" || len(a.Certificates) != 2 {
		t.Errorf("certificate client: got %+v", a)
	}
	if a := c[1].Auth; !a.None || a.NoneNetworks != nil || a.NonePrefixes() != nil {
		t.Errorf("plain auth none: got %+v, want None and no networks (loopback only)", a)
	}
	want := []netip.Prefix{netip.MustParsePrefix("10.20.0.0/16"), netip.MustParsePrefix("fd00:20::/32"), netip.MustParsePrefix("192.0.2.7/32")}
	if a := c[2].Auth; !a.None || !slices.Equal(a.NonePrefixes(), want) {
		t.Errorf("auth none from networks: got %+v (%v), want None from %v", a, a.NonePrefixes(), want)
	}
	if a := c[3].Auth; !a.None || a.NonePrefixes() != nil {
		t.Errorf("auth none: {}: got %+v, want None, loopback only", a)
	}
	if got, want := cfg.AuthThrottle, (AuthThrottle{Burst: 20, PerSecond: 1, MaxAddresses: 10000}); got != want {
		t.Errorf("auth_throttle: got %+v, want %+v", got, want)
	}
}

func TestClientAuthRefused(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []want
	}{
		{"a subject that does not parse", `
clients:
  - id: UA/GOV/00000003/eservice
    auth:
      ca_file: clients-ca.pem
      certificates: [{subject: "CN=eservice, O=Ministry"}]
`, []want{{"clients[0].auth.certificates[0].subject", 5, "is not a distinguished name in RFC 4514 form"}}},
		{"an unknown attribute type", `
clients:
  - id: UA/GOV/00000003/eservice
    auth:
      ca_file: clients-ca.pem
      certificates: [{subject: "E=a@b,CN=eservice"}]
`, []want{{"clients[0].auth.certificates[0].subject", 5, `unknown attribute type "E"`}}},
		{"certificates without ca_file", `
clients:
  - id: UA/GOV/00000003/eservice
    auth:
      certificates: [{subject: "CN=eservice"}]
`, []want{{"clients[0].auth.ca_file", 3, "needs ca_file"}}},
		{"a ca_file that holds no certificate", `
clients:
  - id: UA/GOV/00000003/eservice
    auth:
      ca_file: clients-ca.crl
      certificates: [{subject: "CN=eservice"}]
`, []want{{"clients[0].auth.ca_file", 4, "not CERTIFICATE"}}},
		{"a missing ca_file", `
clients:
  - id: UA/GOV/00000003/eservice
    auth:
      ca_file: nowhere.pem
      certificates: [{subject: "CN=eservice"}]
`, []want{{"clients[0].auth.ca_file", 4, "cannot read nowhere.pem"}}},
		{"a CRL of another CA", `
clients:
  - id: UA/GOV/00000003/eservice
    auth:
      ca_file: clients-ca.pem
      crl_file: other-ca.crl
      certificates: [{subject: "CN=eservice"}]
`, []want{{"clients[0].auth.crl_file", 5, "signed by none of the client's CAs"}}},
		{"a CRL that is not one", `
clients:
  - id: UA/GOV/00000003/eservice
    auth:
      ca_file: clients-ca.pem
      crl_file: other-ca.pem
      certificates: [{subject: "CN=eservice"}]
`, []want{{"clients[0].auth.crl_file", 5, "not X509 CRL"}}},
		{"ca_file without certificates", `
clients:
  - id: UA/GOV/00000003/eservice
    auth:
      api_keys: [sha256:a590294707470c216ec053f0e5ef5440b8a91b419024de4e9b83532bf865ffb6]
      ca_file: clients-ca.pem
`, []want{{"clients[0].auth", 3, "used only with certificates"}}},
		{"auth none with a CA", `
clients:
  - id: UA/GOV/00000003/eservice
    auth: {none: {}, ca_file: clients-ca.pem}
`, []want{{"clients[0].auth", 3, "auth none cannot be combined"}}},
		{"bad networks", `
clients:
  - id: UA/GOV/00000003/eservice
    auth:
      none:
        from: [10.20.0.1/16, nowhere, "fe80::1%eth0", 10.0.0.0/33]
`, []want{
			{"clients[0].auth.none.from[0]", 5, `"10.20.0.1/16" is not a network`},
			{"clients[0].auth.none.from[1]", 5, `"nowhere" is not a network`},
			{"clients[0].auth.none.from[2]", 5, `is not a network`},
			{"clients[0].auth.none.from[3]", 5, `is not a network`},
		}},
		{"an unknown key under none", `
clients:
  - id: UA/GOV/00000003/eservice
    auth: {none: {networks: [10.0.0.0/8]}}
`, []want{{"clients[0].auth.none.networks", 3, `unknown field "networks"`}}},
		{"a bad throttle", `
auth_throttle: {burst: -1, per_second: -2, max_addresses: -3}
`, []want{
			{"auth_throttle.burst", 1, "at least 1"},
			{"auth_throttle.per_second", 1, "positive"},
			{"auth_throttle.max_addresses", 1, "at least 1"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeCA(t, dir, "clients-ca")
			writeCA(t, dir, "other-ca")
			cfg, ps, err := parseDoc(t, dir, tt.doc, nil)
			requireRejected(t, cfg, ps, err)
			checkProblems(t, ps.Errors(), tt.want)
		})
	}
}
