package audit_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/govbus/govbus/audit"
)

func TestGenerateKeyAndLoadSigner(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.key")
	if err := audit.GenerateKey(path); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o600 {
		t.Errorf("key file mode %v, want 0600", got)
	}
	before, _ := os.ReadFile(path)
	if err := audit.GenerateKey(path); !errors.Is(err, fs.ErrExist) {
		t.Errorf("GenerateKey over an existing key: %v, want fs.ErrExist", err)
	}
	if after, _ := os.ReadFile(path); string(after) != string(before) {
		t.Error("GenerateKey changed an existing key file")
	}

	s, err := audit.LoadSigner(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(s.Public())
	if got, want := s.KeyID(), hex.EncodeToString(sum[:])[:16]; got != want || audit.KeyID(s.Public()) != want {
		t.Errorf("KeyID %q, want %q", got, want)
	}
	h := s.Sign("ee-node-1", 42, "abcd", testTime)
	if !audit.VerifyHead(s.Public(), h) {
		t.Fatal("VerifyHead rejected a fresh head")
	}
	if h.Node != "ee-node-1" || h.Seq != 42 || h.Hash != "abcd" || !h.Time.Equal(testTime) || h.KeyID != s.KeyID() {
		t.Errorf("head %+v does not carry what was signed", h)
	}
	sig, _ := base64.StdEncoding.DecodeString(h.Signature)
	if !ed25519.Verify(s.Public(), []byte("govbus-chain-head/v1 ee-node-1 42 abcd"), sig) {
		t.Error(`the signature is not over "govbus-chain-head/v1 NODE SEQ HASH"`)
	}
}

func TestVerifyHeadRejectsAlteredHeads(t *testing.T) {
	s, other := newTestSigner(t), newTestSigner(t)
	good := s.Sign("n", 10, "aa", testTime)
	for _, tc := range []struct {
		name   string
		change func(*audit.SignedHead)
		pub    []byte
	}{
		{"node", func(h *audit.SignedHead) { h.Node = "m" }, nil},
		{"seq", func(h *audit.SignedHead) { h.Seq = 11 }, nil},
		{"hash", func(h *audit.SignedHead) { h.Hash = "ab" }, nil},
		{"signature", func(h *audit.SignedHead) { h.Signature = other.Sign("n", 10, "aa", testTime).Signature }, nil},
		{"signature not base64", func(h *audit.SignedHead) { h.Signature = "!!" }, nil},
		{"other key", func(*audit.SignedHead) {}, other.Public()},
		{"no key", func(*audit.SignedHead) {}, []byte{}},
	} {
		h := good
		tc.change(&h)
		pub := s.Public()
		if tc.pub != nil {
			pub = tc.pub
		}
		if audit.VerifyHead(pub, h) {
			t.Errorf("%s: VerifyHead accepted the altered head", tc.name)
		}
	}
	unsignedTime := good
	unsignedTime.Time = testTime.AddDate(1, 0, 0)
	if !audit.VerifyHead(s.Public(), unsignedTime) {
		t.Error("the time is not signed, yet changing it failed verification")
	}
}

func TestLoadSignerRejectsOtherFiles(t *testing.T) {
	dir := t.TempDir()
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalPKCS8PrivateKey(ec)
	files := map[string][]byte{
		"not-pem":   []byte("hello"),
		"wrong-pem": pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte{1}}),
		"bad-der":   pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1, 2}}),
		"ecdsa":     pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecDER}),
	}
	for name, data := range files {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := audit.LoadSigner(path); err == nil {
			t.Errorf("%s: LoadSigner succeeded", name)
		}
	}
	if _, err := audit.LoadSigner(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v, want fs.ErrNotExist", err)
	}
}

func newTestSigner(t testing.TB) *audit.Signer {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return audit.NewSigner(key)
}

func TestPublicKeyFiles(t *testing.T) {
	dir := t.TempDir()
	keyPath := filepath.Join(dir, "audit.key")
	if err := audit.GenerateKey(keyPath); err != nil {
		t.Fatal(err)
	}
	s, err := audit.LoadSigner(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	pemPub, err := audit.MarshalPublicKey(s.Public())
	if err != nil {
		t.Fatal(err)
	}
	pubPath := filepath.Join(dir, "audit.pub")
	if err := os.WriteFile(pubPath, pemPub, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{pubPath, keyPath} {
		pub, err := audit.LoadPublicKey(path)
		if err != nil || !pub.Equal(s.Public()) {
			t.Errorf("LoadPublicKey(%s): %v, %v; want the signer's key", filepath.Base(path), pub, err)
		}
	}
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	ecPath := filepath.Join(dir, "ec.pub")
	_ = os.WriteFile(ecPath, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: ecDER}), 0o644)
	if _, err := audit.LoadPublicKey(ecPath); err == nil {
		t.Error("LoadPublicKey accepted an ECDSA key")
	}
}
