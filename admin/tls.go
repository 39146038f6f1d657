package admin

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"

	"github.com/govbus/govbus/config"
)

// ServerTLS returns the admin listener's TLS configuration, or nil when
// listeners.admin.tls is not set (plain HTTP). With a client_ca_file the
// listener asks for a client certificate and accepts only one that chains
// to those CAs; such a certificate proves the admin whose
// auth.certificates name it. Certificates are never revoked here (no
// CRL): remove the admin, or its CA, and reload or restart.
func ServerTLS(cfg *config.Config) (*tls.Config, error) {
	t := cfg.Listeners.Admin.TLS
	if t == nil {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(cfg.File(t.CertFile), cfg.File(t.KeyFile))
	if err != nil {
		return nil, fmt.Errorf("admin listener's certificate: %w", err)
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	if t.ClientCAFile == "" {
		return tc, nil
	}
	pem, err := os.ReadFile(cfg.File(t.ClientCAFile))
	if err != nil {
		return nil, fmt.Errorf("admin listener's client CAs: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, errors.New("admin listener's client CA file holds no PEM certificate")
	}
	tc.ClientCAs, tc.ClientAuth = pool, tls.VerifyClientCertIfGiven
	return tc, nil
}
