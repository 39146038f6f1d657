package config

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// keyHash is the configuration form of token.
func keyHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return "sha256:" + hex.EncodeToString(sum[:])
}

func TestAdmins(t *testing.T) {
	cfg, ps, err := parseDoc(t, t.TempDir(), `
listeners:
  admin:
    address: 127.0.0.1:9465
    hosts: [Admin.Govbus.Example, "admin.govbus.example:8443", "[::1]:9999"]
admins:
  - id: watcher
    role: viewer
    auth: {api_keys: [`+keyHash("v")+`]}
  - {id: on-call, role: operator, auth: {api_keys: [`+keyHash("o")+`, `+keyHash("o2")+`]}}
  - {id: ops-lead, role: admin, auth: {api_keys: [`+keyHash("a")+`]}}
`, nil)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	checkProblems(t, ps, nil)
	if got, want := strings.Join(cfg.Listeners.Admin.Hosts, " "), "admin.govbus.example admin.govbus.example:8443 [::1]:9999"; got != want {
		t.Errorf("hosts = %q, want %q (lower case)", got, want)
	}
	if len(cfg.Admins) != 3 || cfg.Admins[1].ID != "on-call" || cfg.Admins[1].Role != "operator" ||
		len(cfg.Admins[1].Auth.APIKeys) != 2 || cfg.Admins[2].Auth.APIKeys[0] != keyHash("a") {
		t.Errorf("admins = %+v", cfg.Admins)
	}
}

func TestAdminProblems(t *testing.T) {
	_, ps, err := parseDoc(t, t.TempDir(), `
listeners:
  admin:
    hosts: [admin.example, "http://admin.example", "*.example", "", "admin.example:99999", "a/b"]
clients:
  - id: UA/GOV/00000003/eservice
    auth: {api_keys: [`+keyHash("client")+`]}
admins:
  - {id: ops, role: viewer, auth: {api_keys: [`+keyHash("b")+`]}}
  - {id: ops, role: operator, auth: {api_keys: [`+keyHash("c")+`]}}
  - {role: root, auth: {api_keys: ["sha256:zz"]}}
  - {id: nokeys, role: admin, auth: {}}
  - {id: shared, role: admin, auth: {api_keys: [`+keyHash("b")+`]}}
  - {id: client-key, role: admin, auth: {api_keys: [`+keyHash("client")+`]}}
  - {id: certs, role: admin, auth: {api_keys: [`+keyHash("d")+`], certificates: [{subject: CN=ops}]}}
  - {id: norole, auth: {api_keys: [`+keyHash("e")+`]}}
  - {id: "two words", role: viewer, auth: {api_keys: [`+keyHash("f")+`]}}
`, nil)
	requireRejected(t, nil, ps, err)
	checkProblems(t, ps, []want{
		{"listeners.admin.hosts[1]", 3, "not a host name"},
		{"listeners.admin.hosts[2]", 3, "not a host name"},
		{"listeners.admin.hosts[3]", 3, "not a host name"},
		{"listeners.admin.hosts[4]", 3, "not a host name"},
		{"listeners.admin.hosts[5]", 3, "not a host name"},
		{"admins[1].id", 9, "duplicate admin ops"},
		{"admins[2].id", 10, "an admin needs an id"},
		{"admins[2].role", 10, `"root" is not viewer, operator or admin`},
		{"admins[2].auth.api_keys[0]", 10, "not a key hash"},
		{"admins[3].auth", 11, "an admin needs api_keys"},
		{"admins[4].auth.api_keys[0]", 12, "also the token of admin ops"},
		{"admins[5].auth.api_keys[0]", 13, "also the key of client UA/GOV/00000003/eservice"},
		{"admins[6].auth.certificates", 14, "only on a TLS admin listener"},
		{"admins[7].role", 15, "an admin needs a role"},
		{"admins[8].id", 16, "letters, digits"},
	})
}

// TestAdminAuthNone: an admin can never go without a credential.
func TestAdminAuthNone(t *testing.T) {
	_, ps, err := parseDoc(t, t.TempDir(), `
admins:
  - id: ops
    role: admin
    auth: none
`, nil)
	requireRejected(t, nil, ps, err)
	checkProblems(t, ps, []want{{"admins[0].auth", 4, "an admin's auth cannot be \"none\""}})
}

// TestAdminTokensInClearText: tokens on a listener off loopback travel
// unencrypted; that loads, with a warning.
func TestAdminTokensInClearText(t *testing.T) {
	doc := `
listeners:
  admin: {address: 0.0.0.0:9465}
admins:
  - {id: ops, role: admin, auth: {api_keys: [` + keyHash("a") + `]}}
`
	_, ps, err := parseDoc(t, t.TempDir(), doc, nil)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	checkProblems(t, ps, []want{{"listeners.admin.address", 2, "in clear text"}})
	if len(ps) == 1 && !ps[0].Warning {
		t.Errorf("%v: an error, want a warning", ps[0])
	}
	// On loopback, or without admins, nothing to warn about.
	for _, doc := range []string{
		strings.Replace(doc, "0.0.0.0", "127.0.0.1", 1),
		strings.Replace(doc, "0.0.0.0:9465", `"[::1]:9465"`, 1),
		strings.Replace(doc, "0.0.0.0", "localhost", 1),
		doc[:strings.Index(doc, "admins:")],
	} {
		if _, ps, err := parseDoc(t, t.TempDir(), doc, nil); err != nil || len(ps) != 0 {
			t.Errorf("%s: problems %v, error %v; want none", doc, ps, err)
		}
	}
}

// TestAdminTLS: with TLS and a client CA, certificates prove admins; the
// files must exist, subjects must be DNs, and one certificate proves one
// admin only.
func TestAdminTLS(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"admin.pem", "admin.key", "ops-ca.pem"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	fp := strings.TrimPrefix(keyHash("cert"), "sha256:")
	cfg, ps, err := parseDoc(t, dir, `
listeners:
  admin:
    address: 0.0.0.0:9465
    tls: {cert_file: admin.pem, key_file: admin.key, client_ca_file: ops-ca.pem}
admins:
  - {id: ops, role: admin, auth: {certificates: [{subject: "CN=ops,O=Ministry"}, {sha256: `+fp+`}]}}
  - {id: night, role: operator, auth: {api_keys: [`+keyHash("n")+`]}}
`, nil)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	checkProblems(t, ps, nil) // no clear-text warning: the listener has TLS
	if tls := cfg.Listeners.Admin.TLS; tls == nil || tls.ClientCAFile != "ops-ca.pem" || len(cfg.Admins[0].Auth.Certificates) != 2 {
		t.Errorf("tls %+v, admins %+v", tls, cfg.Admins)
	}

	_, ps, err = parseDoc(t, dir, `
listeners:
  admin:
    tls: {cert_file: admin.pem, key_file: missing.key}
admins:
  - {id: ops, role: admin, auth: {certificates: [{subject: "CN=ops,O=Ministry"}]}}
  - id: dup
    role: viewer
    auth:
      certificates: [{subject: "CN=ops,O=Ministry"}, {subject: "CN=ops, O=Ministry"}, {}, {sha256: nothex}, {sha256: `+fp+`, subject: "CN=dup"}]
`, nil)
	requireRejected(t, nil, ps, err)
	checkProblems(t, ps, []want{
		{"listeners.admin.tls.key_file", 3, "cannot read missing.key"},
		{"admins[0].auth.certificates", 5, "set listeners.admin.tls with client_ca_file"},
		{"admins[1].auth.certificates", 9, "set listeners.admin.tls with client_ca_file"},
		{"admins[1].auth.certificates[0]", 9, "also proves admin ops"},
		{"admins[1].auth.certificates[1].subject", 9, "not a distinguished name"},
		{"admins[1].auth.certificates[2]", 9, "needs sha256 or subject"},
		{"admins[1].auth.certificates[3].sha256", 9, "not a hex SHA-256 fingerprint"},
		{"admins[1].auth.certificates[4]", 9, "sha256 or subject, not both"},
	})
}
