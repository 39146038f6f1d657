package e2e

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/json"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// addClients inserts client entries (YAML list items) at the head of the
// demo's clients and rules at the head of its rules.
func addClients(cfg, clients, rules string) string {
	cfg = strings.Replace(cfg, "\nclients:\n", "\nclients:\n"+clients, 1)
	return strings.Replace(cfg, "\nrules:\n", "\nrules:\n"+rules, 1)
}

// ephemeralPort is a free port outside freePorts' range (the kernel's
// pick), so that it cannot collide with the world's own ports.
func ephemeralPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// fromAddr is an HTTP client whose connections leave from local address
// ip, with cert (if any) presented over TLS to a server of roots.
func fromAddr(ip string, roots *x509.CertPool, cert *tls.Certificate) *http.Client {
	tr := &http.Transport{
		DialContext:       (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}).DialContext,
		DisableKeepAlives: true,
	}
	if roots != nil {
		tr.TLSClientConfig = &tls.Config{RootCAs: roots}
		if cert != nil {
			tr.TLSClientConfig.Certificates = []tls.Certificate{*cert}
		}
	}
	return &http.Client{Transport: tr, Timeout: 20 * time.Second}
}

// get sends GET u with headers ("Name: value") on c.
func get(t *testing.T, c *http.Client, u string, headers ...string) attackAnswer {
	t.Helper()
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range headers {
		name, value, _ := strings.Cut(h, ":")
		req.Header.Add(strings.TrimSpace(name), strings.TrimSpace(value))
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: reading the answer: %v", u, err)
	}
	return attackAnswer{Status: resp.StatusCode, Type: resp.Header.Get("X-Road-Error"), Header: resp.Header, Body: b}
}

// listedSubsystems returns the subsystem codes /listClients names to c.
func listedSubsystems(t *testing.T, c *http.Client, base string) map[string]bool {
	t.Helper()
	a := get(t, c, base+"/listClients")
	if a.Status != 200 {
		t.Fatalf("listClients: %v", a)
	}
	var list struct {
		Member []struct {
			ID struct {
				ApplicationCode string `json:"applicationCode"`
			} `json:"id"`
		} `json:"member"`
	}
	if err := json.Unmarshal(a.Body, &list); err != nil {
		t.Fatalf("listClients: %v: %s", err, a.Body)
	}
	out := map[string]bool{}
	for _, m := range list.Member {
		out[m.ID.ApplicationCode] = true
	}
	return out
}

// hostAddress is an IPv4 address of this machine that is not loopback, or
// "" when it has none.
func hostAddress() string {
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() && !n.IP.IsLinkLocalUnicast() {
			return n.IP.String()
		}
	}
	return ""
}

// metricValue reads one sample of govbus's /metrics ("" when absent).
func metricValue(t *testing.T, w *attackWorld, series string) string {
	t.Helper()
	a := get(t, w.client, w.url("9464")+"/metrics")
	if a.Status != 200 {
		t.Fatalf("GET /metrics: %v", a)
	}
	for line := range strings.Lines(string(a.Body)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), series+" "); ok {
			return v
		}
	}
	return ""
}

func init() {
	// Item 10: an auth none client is valid only from its networks (plain
	// auth none: loopback), judged by the TCP peer and never a header, and
	// listClients names it to no one outside them.
	registerAttack("authn/none-outside-networks", func(t *testing.T) {
		w := newAttackWorld(t, func(cfg string) string {
			// On every interface, so that a call can come from this
			// machine's own non-loopback address.
			cfg = strings.Replace(cfg, "consumer: {address: 127.0.0.1:", "consumer: {address: 0.0.0.0:", 1)
			return addClients(cfg, `  - id: UA/GOV/00000003/isolated
    name: Isolated batch
    auth: {none: {from: [10.99.0.0/16]}}
  - id: UA/GOV/00000003/batch
    name: Loopback batch
    auth: none
`, `  - id: none-clients-read-persons
    clients: [UA/GOV/00000003/isolated, UA/GOV/00000003/batch]
    services: [UA/GOV/00000001/civil-registry/persons]
    methods: [GET]
    paths: ["/persons/*"]
    purposes: [service-delivery]
`)
		})
		person := civilPath + "/persons/1000000301"
		claim := func(client string, more ...string) []string {
			return append([]string{"X-Road-Client: UA/GOV/00000003/" + client, "X-Road-Purpose: service-delivery"}, more...)
		}
		for _, c := range []struct {
			name    string
			headers []string
		}{
			{"from loopback", claim("isolated")},
			{"X-Forwarded-For inside its network", claim("isolated", "X-Forwarded-For: 10.99.0.7")},
			{"X-Real-IP and Forwarded inside its network", claim("isolated", "X-Real-IP: 10.99.0.7", "Forwarded: for=10.99.0.7")},
		} {
			w.clearReceived(t, "9101")
			a := w.do(t, "GET", person, nil, c.headers...)
			if a.Status != 401 || a.Type != "Client.Unauthenticated" {
				t.Errorf("isolated %s: %v, want 401 Client.Unauthenticated", c.name, a)
			}
			w.wantNothingReceived(t, "9101")
		}
		if got := listedSubsystems(t, w.client, w.url("8080")); got["isolated"] || !got["eservice"] {
			t.Errorf("listClients from loopback names %v, want eservice and not isolated", got)
		}

		// Plain auth none: loopback passes (so the refusals above are the
		// networks at work, not a broken client)...
		w.clearReceived(t, "9101")
		if a := w.do(t, "GET", person, nil, claim("batch")...); a.Status != 200 {
			t.Errorf("batch from loopback: %v, want 200", a)
		}
		if got := w.received(t, "9101"); len(got) != 1 || got[0].Header.Get("X-Road-Client") != "UA/GOV/00000003/batch" {
			t.Errorf("batch from loopback: the registry received %d requests, want one from batch", len(got))
		}
		if got := listedSubsystems(t, w.client, w.url("8080")); !got["batch"] {
			t.Errorf("listClients from loopback names %v, want batch", got)
		}
		// ...and from this machine's own non-loopback address it does not.
		host := hostAddress()
		if host == "" {
			t.Log("no non-loopback address on this machine: the call from outside loopback is not tried")
			return
		}
		c := fromAddr(host, nil, nil)
		base := "http://" + net.JoinHostPort(host, w.ports["8080"])
		w.clearReceived(t, "9101")
		if a := get(t, c, base+person, claim("batch", "X-Forwarded-For: 127.0.0.1")...); a.Status != 401 || a.Type != "Client.Unauthenticated" {
			t.Errorf("batch from %s: %v, want 401 Client.Unauthenticated", host, a)
		}
		w.wantNothingReceived(t, "9101")
		if got := listedSubsystems(t, c, base); got["batch"] || got["isolated"] || !got["eservice"] {
			t.Errorf("listClients from %s names %v, want eservice and neither none client", host, got)
		}
	})

	// Item 12 (failed authentications): a burst of wrong keys from one
	// address ends in 429 with Retry-After, before any key is looked at;
	// another address is not affected; the failures are counted by reason.
	registerAttack("authn/throttle-wrong-keys", func(t *testing.T) {
		w := newAttackWorld(t, func(cfg string) string {
			// The default burst (10), refilled slowly enough that a slow
			// machine gains no attempt during the test.
			return cfg + "\nauth_throttle: {per_second: 0.001}\n"
		})
		person := civilPath + "/persons/1000000302"
		wrong := func(i int) []string {
			return []string{"X-Road-Client: UA/GOV/00000003/eservice", "Authorization: Bearer guess-" + strconv.Itoa(i), "X-Road-Purpose: service-delivery"}
		}
		w.clearReceived(t, "9101")
		for i := range 10 {
			if a := w.do(t, "GET", person, nil, wrong(i)...); a.Status != 401 || a.Type != "Client.Unauthenticated" {
				t.Fatalf("wrong key %d: %v, want 401 Client.Unauthenticated", i, a)
			}
		}
		for _, c := range []struct {
			name    string
			headers []string
		}{{"11th wrong key", wrong(10)}, {"the right key, after the burst", eservice}} {
			a := w.do(t, "GET", person, nil, c.headers...)
			if a.Status != 429 || a.Type != "Client.RateLimited" {
				t.Errorf("%s: %v, want 429 Client.RateLimited", c.name, a)
			}
			if s, err := strconv.Atoi(a.Header.Get("Retry-After")); err != nil || s < 1 {
				t.Errorf("%s: Retry-After %q, want whole seconds >= 1", c.name, a.Header.Get("Retry-After"))
			}
		}
		w.wantNothingReceived(t, "9101")

		// Another source address (127.0.0.2 is loopback too) is not
		// throttled, and its success frees no one.
		other := fromAddr("127.0.0.2", nil, nil)
		if a := get(t, other, w.url("8080")+person, eservice...); a.Status != 200 {
			t.Errorf("the right key from 127.0.0.2: %v, want 200", a)
		}
		if a := w.do(t, "GET", person, nil, eservice...); a.Status != 429 {
			t.Errorf("the right key from 127.0.0.1 after 127.0.0.2's success: %v, want 429", a)
		}
		for series, want := range map[string]string{
			`govbus_auth_failures_total{reason="unknown_key"}`: "10",
			`govbus_auth_failures_total{reason="throttled"}`:   "3",
		} {
			if got := metricValue(t, w, series); got != want {
				t.Errorf("%s: got %q, want %s", series, got, want)
			}
		}
	})

	// A SOAP call without X-Road-Client is checked before its envelope is
	// read against every client's credentials; that check must count no
	// failure for a good key, or a busy SOAP client throttles itself.
	registerAttack("authn/soap-good-key-not-throttled", func(t *testing.T) {
		w := newAttackWorld(t, nil)
		for i := range 15 {
			code := strconv.Itoa(10000951 + i)
			a := w.do(t, "POST", "/", []byte(saEnvelope(saEservice, code, "")), with(saKey, saTextXML)...)
			if a.Status != 200 {
				t.Fatalf("SOAP call %d with eservice's key: %v, want 200", i, a)
			}
		}
		for _, reason := range []string{"unknown_key", "other_client", "no_credential", "throttled"} {
			series := `govbus_auth_failures_total{reason="` + reason + `"}`
			if got := metricValue(t, w, series); got != "0" {
				t.Errorf("%s: got %q, want 0", series, got)
			}
		}
	})

	// Item 9: over the consumer TLS listener, a certificate proves a
	// client only when its whole subject is the configured DN and the
	// client's own CA issued it, not revoked.
	registerAttack("authn/certificates", func(t *testing.T) {
		// The listener trusts both CAs; they even share a name, so the
		// forged certificate's issuer reads like the real one's.
		own, other := newPKI(t), newPKI(t)
		own.issue(t, "server", pkix.Name{CommonName: "govbus"}, true)
		var (
			cn = asn1.ObjectIdentifier{2, 5, 4, 3}
			o  = asn1.ObjectIdentifier{2, 5, 4, 10}
		)
		atv := func(typ asn1.ObjectIdentifier, v string) pkix.AttributeTypeAndValue {
			return pkix.AttributeTypeAndValue{Type: typ, Value: v}
		}
		subject := pkix.Name{CommonName: "eservice", Organization: []string{"Ministry"}}
		good := own.issue(t, "eservice", subject, false)
		revoked := own.issue(t, "revoked", subject, false)
		own.writeCRL(t, "clients.crl", revoked)
		bundle, err := os.ReadFile(filepath.Join(own.dir, "ca.pem"))
		if err != nil {
			t.Fatal(err)
		}
		otherPEM, _ := os.ReadFile(filepath.Join(other.dir, "ca.pem"))
		listenerCAs := filepath.Join(own.dir, "listener-cas.pem")
		if err := os.WriteFile(listenerCAs, append(bundle, otherPEM...), 0o600); err != nil {
			t.Fatal(err)
		}
		tlsPort := ephemeralPort(t)
		w := newAttackWorld(t, func(cfg string) string {
			cfg = strings.Replace(cfg, "  admin: {address:", "  consumer_tls: {address: 127.0.0.1:"+tlsPort+
				", cert_file: "+own.dir+"/server.pem, key_file: "+own.dir+"/server.key, client_ca_file: "+listenerCAs+"}\n  admin: {address:", 1)
			return strings.Replace(cfg, "    name: E-service backend\n    auth:\n",
				"    name: E-service backend\n    auth:\n      ca_file: "+own.dir+"/ca.pem\n      crl_file: "+own.dir+"/clients.crl\n"+
					"      certificates: [{subject: \"CN=eservice,O=Ministry\"}]\n", 1)
		})
		roots := x509.NewCertPool()
		roots.AddCert(own.cert)
		person := civilPath + "/persons/1000000303"
		claim := []string{"X-Road-Client: UA/GOV/00000003/eservice", "X-Road-Purpose: service-delivery"}
		call := func(cert tls.Certificate) attackAnswer {
			return get(t, fromAddr("127.0.0.1", roots, &cert), "https://127.0.0.1:"+tlsPort+person, claim...)
		}

		w.clearReceived(t, "9101")
		if a := call(good); a.Status != 200 {
			t.Fatalf("eservice's own certificate: %v, want 200", a)
		}
		if got := w.received(t, "9101"); len(got) != 1 || got[0].Header.Get("X-Road-Client") != "UA/GOV/00000003/eservice" {
			t.Errorf("own certificate: the registry received %d requests, want one from eservice", len(got))
		}
		for _, c := range []struct {
			name string
			cert tls.Certificate
		}{
			{"O=Ministry/CN=attacker/CN=eservice", own.issueRaw(t, "second-cn", pkix.Name{}, pkix.RDNSequence{
				{atv(o, "Ministry")}, {atv(cn, "attacker")}, {atv(cn, "eservice")}}, false)},
			{"CN=eservice+O=Ministry", own.issueRaw(t, "multi-valued", pkix.Name{}, pkix.RDNSequence{
				{atv(cn, "eservice"), atv(o, "Ministry")}}, false)},
			{"the right DN from another CA the listener trusts", other.issue(t, "other-ca", subject, false)},
			{"a revoked certificate", revoked},
		} {
			w.clearReceived(t, "9101")
			if a := call(c.cert); a.Status != 401 || a.Type != "Client.Unauthenticated" {
				t.Errorf("%s: %v, want 401 Client.Unauthenticated", c.name, a)
			}
			w.wantNothingReceived(t, "9101")
		}
	})
}

// writeCRL writes a revocation list of the CA naming certs as NAME (PEM).
func (p *pki) writeCRL(t *testing.T, name string, certs ...tls.Certificate) {
	t.Helper()
	tmpl := &x509.RevocationList{Number: big.NewInt(1), ThisUpdate: time.Now().Add(-time.Minute), NextUpdate: time.Now().Add(time.Hour)}
	for _, c := range certs {
		leaf, err := x509.ParseCertificate(c.Certificate[0])
		if err != nil {
			t.Fatal(err)
		}
		tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries,
			x509.RevocationListEntry{SerialNumber: leaf.SerialNumber, RevocationTime: time.Now().Add(-time.Minute)})
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, p.cert, p.key)
	if err != nil {
		t.Fatal(err)
	}
	p.write(t, name, "X509 CRL", der)
}
