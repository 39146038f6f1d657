package authn

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/govbus/govbus/gateway"
)

// newMTLSServer starts, on 127.0.0.1, a TLS server that asks for client
// certificates chaining to ca and answers 200 when the verified certificate
// (if any) proves the client claimed in X-Road-Client, 401 otherwise.
func newMTLSServer(t *testing.T, a *Authenticator, ca *testCA) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var cred gateway.Credential
		if r.TLS != nil && len(r.TLS.VerifiedChains) > 0 {
			cred.Certificate = r.TLS.VerifiedChains[0][0]
		}
		if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
			cred.RemoteAddr = ap.Addr()
		}
		err := a.Authenticate(r.Header.Get("X-Road-Client"), cred)
		var ge *gateway.Error
		switch {
		case err == nil:
			w.WriteHeader(http.StatusOK)
		case errors.As(err, &ge) && ge.Code == gateway.CodeUnauthenticated:
			http.Error(w, string(ge.Code), http.StatusUnauthorized)
		default:
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listening: %v", err)
	}
	srv.Listener.Close()
	srv.Listener = ln
	srv.TLS = &tls.Config{ClientAuth: tls.VerifyClientCertIfGiven, ClientCAs: ca.pool()}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // handshake failures are expected
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// mtlsClient is an HTTP client that trusts srv and presents cert (none
// when cert is nil).
func mtlsClient(srv *httptest.Server, cert *tls.Certificate) *http.Client {
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	cfg := &tls.Config{RootCAs: roots}
	if cert != nil {
		cfg.Certificates = []tls.Certificate{*cert}
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: cfg, DisableKeepAlives: true}}
}

// call makes one request claiming client and returns its status, or the
// error when the exchange failed.
func call(t *testing.T, c *http.Client, url, client string) (int, error) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Road-Client", client)
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

func TestMutualTLS(t *testing.T) {
	ca := newCA(t, "govbus clients CA")
	eserviceCert := ca.issue(t, eserviceSubject)
	benefitsCert := ca.issue(t, benefitsSubject)
	strangerCert := ca.issue(t, pkix.Name{CommonName: "stranger"})
	cas := []*x509.Certificate{ca.cert}
	a := newAuthenticator(t, []Client{
		{ID: eservice, Certificates: []CertIdentity{{SHA256: fingerprint(eserviceCert.Leaf)}}, CAs: cas},
		{ID: benefits, Certificates: []CertIdentity{{Subject: "CN=benefits,O=Pension Fund"}}, CAs: cas},
		{ID: isolated, None: true},
	})
	srv := newMTLSServer(t, a, ca)

	tests := []struct {
		name   string
		cert   *tls.Certificate
		client string
		want   int
	}{
		{"own certificate by fingerprint", &eserviceCert, eservice, http.StatusOK},
		{"own certificate by subject", &benefitsCert, benefits, http.StatusOK},
		{"certificate of another client", &eserviceCert, benefits, http.StatusUnauthorized},
		{"certificate of another client, the other way", &benefitsCert, eservice, http.StatusUnauthorized},
		{"trusted but unregistered certificate", &strangerCert, eservice, http.StatusUnauthorized},
		{"no certificate", nil, eservice, http.StatusUnauthorized},
		{"no certificate, none client", nil, isolated, http.StatusOK},
		{"certificate presented by a none client", &eserviceCert, isolated, http.StatusUnauthorized},
		{"unknown client", &eserviceCert, nobody, http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := call(t, mtlsClient(srv, tt.cert), srv.URL, tt.client)
			if err != nil {
				t.Fatalf("GET: got error %v, want status %d", err, tt.want)
			}
			if got != tt.want {
				t.Errorf("status: got %d, want %d", got, tt.want)
			}
		})
	}

	// A certificate from another CA, even one with a registered subject and
	// claiming its client, proves nothing. Go's client does not even send a
	// certificate that chains to none of the CAs the server names (so the
	// handler sees no chain); sent anyway, it fails the handshake.
	t.Run("certificate from an untrusted CA", func(t *testing.T) {
		rogue := newCA(t, "rogue CA")
		for _, c := range []struct {
			subject pkix.Name
			client  string
		}{{benefitsSubject, benefits}, {eserviceSubject, eservice}} {
			cert := rogue.issue(t, c.subject)
			got, err := call(t, mtlsClient(srv, &cert), srv.URL, c.client)
			if err != nil || got != http.StatusUnauthorized {
				t.Errorf("%s from a rogue CA: got status %d, error %v, want 401", c.subject, got, err)
			}

			forced := mtlsClient(srv, nil)
			forced.Transport.(*http.Transport).TLSClientConfig.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
				return &cert, nil
			}
			got, err = call(t, forced, srv.URL, c.client)
			if err == nil {
				t.Errorf("%s from a rogue CA, sent anyway: got status %d, want a failed handshake", c.subject, got)
			}
		}
	})
}
