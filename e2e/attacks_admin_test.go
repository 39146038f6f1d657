package e2e

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The admin listener (issue 11 item 11): without a Host check and a
// credential, a page on any site could reload the node with a form POST
// and read /admin/opmon through DNS rebinding.

// adminToken is the demo admin's bearer token.
const adminToken = "Authorization: Bearer demo-admin-token"

func init() {
	registerAttack("admin/cross-site-form-reload", func(t *testing.T) {
		w := sharedAttackWorld(t)
		before := w.reloads(t)
		form := []byte("x=1")
		for _, c := range []struct {
			name    string
			headers []string
			status  int
			typ     string
		}{
			{"a form posted from another site", []string{"Content-Type: application/x-www-form-urlencoded",
				"Origin: http://evil.example", "Sec-Fetch-Site: cross-site", "Sec-Fetch-Mode: navigate"}, 403, "Client.AccessDenied"},
			{"a form from a browser that names no site", []string{"Content-Type: application/x-www-form-urlencoded"}, 401, "Client.Unauthenticated"},
			{"a form to a rebound name", []string{"Content-Type: application/x-www-form-urlencoded", "Host: evil.example:" + w.ports["9465"]}, 403, "Client.AccessDenied"},
			{"the demo token from another site", []string{adminToken, "Origin: http://evil.example"}, 403, "Client.AccessDenied"},
			{"the demo token to a rebound name", []string{adminToken, "Host: evil.example:" + w.ports["9465"]}, 403, "Client.AccessDenied"},
		} {
			a := w.doOn(t, "9465", "POST", "/admin/reload", form, c.headers...)
			if a.Status != c.status || a.Type != c.typ {
				t.Errorf("%s: %v, want %d %s", c.name, a, c.status, c.typ)
			}
			wantErrorBody(t, c.name, a)
		}
		if after := w.reloads(t); after != before {
			t.Errorf("govbus_config_reloads_total went from %d to %d: a refused request reloaded", before, after)
		}
	})

	registerAttack("admin/demo-token-reloads", func(t *testing.T) {
		w := sharedAttackWorld(t)
		before := w.reloads(t)
		a := w.doOn(t, "9465", "POST", "/admin/reload", nil, adminToken)
		if a.Status != 200 || a.Type != "" || !bytes.Contains(a.Body, []byte(`"config_version"`)) {
			t.Errorf("reload with the demo token: %v, want 200 with the config version", a)
		}
		if after := w.reloads(t); after != before+1 {
			t.Errorf("govbus_config_reloads_total went from %d to %d, want one more", before, after)
		}
	})

	registerAttack("admin/dns-rebinding-read", func(t *testing.T) {
		w := sharedAttackWorld(t)
		rebound := "Host: evil.example:" + w.ports["9465"]
		for _, path := range []string{"/admin/status", "/admin/opmon", "/admin/opmon?limit=5"} {
			for _, headers := range [][]string{{rebound}, {rebound, adminToken}} {
				a := w.doOn(t, "9465", "GET", path, nil, headers...)
				if a.Status != 403 || a.Type != "Client.AccessDenied" {
					t.Errorf("GET %s %v: %v, want 403 Client.AccessDenied", path, headers, a)
				}
				wantErrorBody(t, "GET "+path, a)
			}
		}
		// The same reads addressed to the listener itself pass.
		if a := w.doOn(t, "9465", "GET", "/admin/status", nil); a.Status != 200 {
			t.Errorf("GET /admin/status: %v, want 200", a)
		}
		if a := w.doOn(t, "9465", "GET", "/admin/opmon?limit=5", nil, adminToken); a.Status != 200 || !bytes.Contains(a.Body, []byte(`"records"`)) {
			t.Errorf("GET /admin/opmon with the demo token: %v, want 200 with records", a)
		}
		if a := w.doOn(t, "9465", "GET", "/admin/opmon?limit=5", nil); a.Status != 401 || a.Type != "Client.Unauthenticated" {
			t.Errorf("GET /admin/opmon without a token: %v, want 401 Client.Unauthenticated", a)
		}
	})

	registerAttack("admin/viewer-may-not-reload", func(t *testing.T) {
		sum := sha256.Sum256([]byte("watcher-token"))
		w := newAttackWorld(t, func(cfg string) string {
			return strings.Replace(cfg, "\nadmins:\n", "\nadmins:\n  - {id: watcher, role: viewer, auth: {api_keys: [sha256:"+hex.EncodeToString(sum[:])+"]}}\n", 1)
		})
		viewer := "Authorization: Bearer watcher-token"
		if a := w.doOn(t, "9465", "GET", "/admin/opmon?limit=5", nil, viewer); a.Status != 200 {
			t.Fatalf("the viewer reads opmon: %v, want 200 (is the viewer configured?)", a)
		}
		// Change the file: a reload would show in config_version.
		start := w.configVersion(t)
		src, err := os.ReadFile(w.config)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(w.config, append(src, "\n# changed\n"...), 0o600); err != nil {
			t.Fatal(err)
		}
		a := w.doOn(t, "9465", "POST", "/admin/reload", nil, viewer)
		if a.Status != 403 || a.Type != "Client.AccessDenied" {
			t.Errorf("reload by a viewer: %v, want 403 Client.AccessDenied", a)
		}
		wantErrorBody(t, "reload by a viewer", a)
		if got := w.configVersion(t); got != start {
			t.Errorf("config_version %s after the viewer's refused reload, want still %s", got, start)
		}
		if a := w.doOn(t, "9465", "POST", "/admin/reload", nil, adminToken); a.Status != 200 {
			t.Errorf("reload by the demo admin: %v, want 200", a)
		}
		if got := w.configVersion(t); got == start {
			t.Errorf("config_version still %s after the admin's reload of a changed file", got)
		}
	})
}

func init() {
	registerAttack("admin/certificates-over-tls", func(t *testing.T) {
		ca := newPKI(t)
		ca.issue(t, "admin-server", pkix.Name{CommonName: "govbus admin"}, true)
		operator := ca.issue(t, "ops", pkix.Name{CommonName: "ops", Organization: []string{"Ministry"}}, false)
		viewer := ca.issue(t, "watcher", pkix.Name{CommonName: "watcher", Organization: []string{"Ministry"}}, false)
		intern := ca.issue(t, "intern", pkix.Name{CommonName: "intern", Organization: []string{"Ministry"}}, false)
		adminLine := regexp.MustCompile(`(?m)^  admin: \{address: (127\.0\.0\.1:\d+)\}$`)
		w := newAttackWorld(t, func(cfg string) string {
			cfg = adminLine.ReplaceAllString(cfg, "  admin: {address: $1, tls: {cert_file: "+ca.dir+"/admin-server.pem, key_file: "+
				ca.dir+"/admin-server.key, client_ca_file: "+ca.dir+"/ca.pem}}")
			return strings.Replace(cfg, "\nadmins:\n", "\nadmins:\n"+
				"  - {id: ops, role: operator, auth: {certificates: [{subject: \"CN=ops,O=Ministry\"}]}}\n"+
				"  - {id: watcher, role: viewer, auth: {certificates: [{subject: \"CN=watcher,O=Ministry\"}]}}\n", 1)
		})
		roots := x509.NewCertPool()
		roots.AddCert(ca.cert)
		call := func(cert *tls.Certificate, headers ...string) (int, string) {
			t.Helper()
			tc := &tls.Config{RootCAs: roots}
			if cert != nil {
				tc.Certificates = []tls.Certificate{*cert}
			}
			tr := &http.Transport{TLSClientConfig: tc}
			defer tr.CloseIdleConnections()
			req, err := http.NewRequest("POST", "https://127.0.0.1:"+w.ports["9465"]+"/admin/reload", nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range headers {
				name, value, _ := strings.Cut(h, ": ")
				req.Header.Add(name, value)
			}
			resp, err := (&http.Client{Transport: tr, Timeout: 20 * time.Second}).Do(req)
			if err != nil {
				t.Fatalf("POST /admin/reload over TLS: %v", err)
			}
			resp.Body.Close()
			return resp.StatusCode, resp.Header.Get("X-Road-Error")
		}
		before := w.reloads(t)
		for _, c := range []struct {
			name    string
			cert    *tls.Certificate
			headers []string
			status  int
			typ     string
		}{
			{"no credential", nil, nil, 401, "Client.Unauthenticated"},
			{"a certificate of the CA that names no admin", &intern, nil, 401, "Client.Unauthenticated"},
			{"the viewer's certificate", &viewer, nil, 403, "Client.AccessDenied"},
			{"the viewer's certificate with the demo token", &viewer, []string{adminToken}, 401, "Client.Unauthenticated"},
		} {
			if status, typ := call(c.cert, c.headers...); status != c.status || typ != c.typ {
				t.Errorf("%s: %d %s, want %d %s", c.name, status, typ, c.status, c.typ)
			}
		}
		if after := w.reloads(t); after != before {
			t.Errorf("refused reloads over TLS moved govbus_config_reloads_total from %d to %d", before, after)
		}
		if status, typ := call(&operator); status != 200 || typ != "" {
			t.Errorf("the operator's certificate: %d %s, want 200", status, typ)
		}
		if status, _ := call(nil, adminToken); status != 200 {
			t.Errorf("the demo token over TLS: %d, want 200", status)
		}
		if after := w.reloads(t); after != before+2 {
			t.Errorf("govbus_config_reloads_total went from %d to %d, want two more", before, after)
		}
		// The listener speaks TLS only: a plain request is answered 400.
		if a := w.doOn(t, "9465", "POST", "/admin/reload", nil, adminToken); a.Status != 400 {
			t.Errorf("plain HTTP to the TLS admin listener: %v, want 400", a)
		}
	})
}

// wantErrorBody checks DESIGN.md §3's error body on a refused admin call.
func wantErrorBody(t *testing.T, what string, a attackAnswer) {
	t.Helper()
	var body map[string]string
	if err := json.Unmarshal(a.Body, &body); err != nil || body["type"] != a.Type || body["message"] == "" || body["detail"] == "" {
		t.Errorf("%s: error body %q, want type %s, message and detail", what, a.Body, a.Type)
	}
}

// reloads is the sum of govbus_config_reloads_total over its results.
func (w *attackWorld) reloads(t *testing.T) int {
	t.Helper()
	a := w.doOn(t, "9464", "GET", "/metrics", nil)
	if a.Status != 200 {
		t.Fatalf("GET /metrics: %v", a)
	}
	n, found := 0, false
	sc := bufio.NewScanner(bytes.NewReader(a.Body))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "govbus_config_reloads_total{") {
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		n, found = n+int(v), true
	}
	if !found {
		t.Fatal("/metrics has no govbus_config_reloads_total")
	}
	return n
}

// configVersion is the config_version /admin/status shows.
func (w *attackWorld) configVersion(t *testing.T) string {
	t.Helper()
	a := w.doOn(t, "9465", "GET", "/admin/status", nil)
	var st struct {
		ConfigVersion string `json:"config_version"`
	}
	if err := json.Unmarshal(a.Body, &st); err != nil || a.Status != 200 || st.ConfigVersion == "" {
		t.Fatalf("GET /admin/status: %v", a)
	}
	return st.ConfigVersion
}
