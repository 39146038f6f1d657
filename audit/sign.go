package audit

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"
)

// headDomain opens every signed chain-head message.
const headDomain = "govbus-chain-head/v1"

// Signer signs chain heads with the node's Ed25519 key.
type Signer struct {
	key   ed25519.PrivateKey
	keyID string
}

// NewSigner returns a Signer for key (for tests and tools that hold the key
// in memory; a node loads its key with LoadSigner).
func NewSigner(key ed25519.PrivateKey) *Signer {
	pub, _ := key.Public().(ed25519.PublicKey)
	return &Signer{key: key, keyID: KeyID(pub)}
}

// GenerateKey writes a new Ed25519 private key to path as a PEM "PRIVATE
// KEY" block (PKCS #8), readable by its owner only (mode 0600). It refuses
// to overwrite an existing file (the error wraps fs.ErrExist): losing a
// chain's key makes its future heads unverifiable with the published one.
func GenerateKey(path string) error {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return fmt.Errorf("generating message log key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("encoding message log key: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("creating message log key: %w", err)
	}
	err = pem.Encode(f, &pem.Block{Type: "PRIVATE KEY", Bytes: der})
	if err = errors.Join(err, f.Sync(), f.Close()); err != nil {
		_ = os.Remove(path)
		return fmt.Errorf("writing message log key %s: %w", path, err)
	}
	return nil
}

// LoadSigner reads the private key GenerateKey wrote at path. It fails when
// the file is missing, holds no PEM "PRIVATE KEY" block, or holds a key
// that is not Ed25519.
func LoadSigner(path string) (*Signer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading message log key: %w", err)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("reading message log key %s: no PEM PRIVATE KEY block", path)
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parsing message log key %s: %w", path, err)
	}
	ed, ok := key.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("parsing message log key %s: %T is not an Ed25519 key", path, key)
	}
	return NewSigner(ed), nil
}

// Public returns the public key that verifies the Signer's heads.
func (s *Signer) Public() ed25519.PublicKey {
	pub, _ := s.key.Public().(ed25519.PublicKey)
	return pub
}

// KeyID returns KeyID(s.Public()).
func (s *Signer) KeyID() string { return s.keyID }

// KeyID names a public key: the first 16 hex digits of its SHA-256.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}

// Sign signs the chain head of node at seq, whose record has hash hash,
// and returns it with t (normalized to UTC microseconds) as its time. The
// signed message is "govbus-chain-head/v1 NODE SEQ HASH"; the time is not
// signed.
func (s *Signer) Sign(node string, seq int64, hash string, t time.Time) SignedHead {
	sig := ed25519.Sign(s.key, headMessage(node, seq, hash))
	return SignedHead{
		Node:      node,
		Seq:       seq,
		Hash:      hash,
		Time:      normalizeTime(t),
		KeyID:     s.keyID,
		Signature: base64.StdEncoding.EncodeToString(sig),
	}
}

// VerifyHead reports whether h's signature is pub's over h's node, seq and
// hash. KeyID is not checked: it only names the key.
func VerifyHead(pub ed25519.PublicKey, h SignedHead) bool {
	sig, err := base64.StdEncoding.DecodeString(h.Signature)
	if err != nil || len(pub) != ed25519.PublicKeySize {
		return false
	}
	return ed25519.Verify(pub, headMessage(h.Node, h.Seq, h.Hash), sig)
}

func headMessage(node string, seq int64, hash string) []byte {
	return []byte(headDomain + " " + node + " " + strconv.FormatInt(seq, 10) + " " + hash)
}

// MarshalPublicKey encodes pub as a PEM "PUBLIC KEY" block (PKIX), the
// form to hand to verifiers outside the node.
func MarshalPublicKey(pub ed25519.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("encoding message log public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// LoadPublicKey reads the Ed25519 public key at path: a PEM "PUBLIC KEY"
// block (MarshalPublicKey) or the private key file itself. It fails when
// the file holds neither, or a key that is not Ed25519.
func LoadPublicKey(path string) (ed25519.PublicKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading message log public key: %w", err)
	}
	block, _ := pem.Decode(data)
	if block != nil && block.Type == "PRIVATE KEY" {
		s, err := LoadSigner(path)
		if err != nil {
			return nil, err
		}
		return s.Public(), nil
	}
	if block == nil || block.Type != "PUBLIC KEY" {
		return nil, fmt.Errorf("reading message log public key %s: no PEM PUBLIC KEY block", path)
	}
	key, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parsing message log public key %s: %w", path, err)
	}
	pub, ok := key.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("parsing message log public key %s: %T is not an Ed25519 key", path, key)
	}
	return pub, nil
}
