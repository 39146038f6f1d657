package e2e

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/govbus/govbus/audit"
)

// Fixtures of the attack cases in attacks_test.go: what a case needs that
// the harness (attacks_helpers_test.go) does not provide.

// adminToken is the demo admin's bearer token.
const adminToken = "Authorization: Bearer demo-admin-token"

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

// intermediate makes a CA certificate named name that p signs, written as
// NAME.pem in p's directory; the CA it returns writes there too.
func (p *pki) intermediate(t *testing.T, name string) *pki {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.cert, &key.PublicKey, p.key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	p.write(t, name+".pem", "CERTIFICATE", der)
	return &pki{cert: cert, key: key, dir: p.dir}
}

// saEnvelope is an X-Road SOAP 4.0 request to the demo's companies
// service for company code, from client (INSTANCE/CLASS/CODE/SUBSYSTEM),
// with extra header fields.
func saEnvelope(client, code, extra string) string {
	p := strings.Split(client, "/")
	return `<?xml version="1.0" encoding="UTF-8"?>
<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xrd="http://x-road.eu/xsd/xroad.xsd" xmlns:id="http://x-road.eu/xsd/identifiers">
<S:Header>
<xrd:client id:objectType="SUBSYSTEM"><id:xRoadInstance>` + p[0] + `</id:xRoadInstance><id:memberClass>` + p[1] + `</id:memberClass><id:memberCode>` + p[2] + `</id:memberCode><id:subsystemCode>` + p[3] + `</id:subsystemCode></xrd:client>
<xrd:service id:objectType="SERVICE"><id:xRoadInstance>UA</id:xRoadInstance><id:memberClass>GOV</id:memberClass><id:memberCode>00000002</id:memberCode><id:subsystemCode>business-registry</id:subsystemCode><id:serviceCode>companies</id:serviceCode></xrd:service>
<xrd:id>attack-` + code + `</xrd:id>` + extra + `
<xrd:protocolVersion>4.0</xrd:protocolVersion>
</S:Header>
<S:Body><bus:companies xmlns:bus="http://business-registry.gov.ua/ws"><bus:code>` + code + `</bus:code></bus:companies></S:Body>
</S:Envelope>`
}

const (
	saEservice = "UA/GOV/00000003/eservice"
	saCovert   = "UA/GOV/00000009/police-covert"
	saTextXML  = "Content-Type: text/xml; charset=utf-8"
)

// saKey is eservice's credential without X-Road-Client, as X-Road SOAP
// clients send it (the identity is in the envelope).
var saKey = []string{"Authorization: Bearer demo-eservice-key", "X-Road-Purpose: service-delivery"}

// slowAnonymousPost sends POST / with a declared body of size bytes and no
// credential, the body in 64 KiB pieces while the answer is awaited, and
// returns the answer's X-Road-Error (or what went wrong).
func slowAnonymousPost(port string, size int) string {
	conn, err := net.Dial("tcp", "127.0.0.1:"+port)
	if err != nil {
		return err.Error()
	}
	defer conn.Close()
	// An upper bound for a failing run only; a passing one ends at once.
	_ = conn.SetDeadline(time.Now().Add(60 * time.Second))
	head := "POST / HTTP/1.1\r\nHost: govbus\r\nContent-Type: text/xml\r\nContent-Length: " + strconv.Itoa(size) + "\r\n\r\n"
	if _, err := conn.Write([]byte(head)); err != nil {
		return err.Error()
	}
	go func() {
		chunk := bytes.Repeat([]byte(" "), 64<<10)
		for sent := 0; sent < size; sent += len(chunk) {
			if _, err := conn.Write(chunk); err != nil {
				return // govbus answered and closed: the body is not wanted
			}
		}
	}()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return err.Error()
	}
	resp.Body.Close()
	return resp.Header.Get("X-Road-Error")
}

// peakRSS is a process's peak resident set (VmHWM) in KiB.
func peakRSS(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("no /proc/%d/status to read the peak RSS from: %v", pid, err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			if err != nil {
				t.Fatalf("VmHWM: %q", line)
			}
			return n
		}
	}
	t.Fatal("no VmHWM in /proc/PID/status")
	return 0
}

// subjectServices adds to the demo's civil registry a service whose data
// subject is a query parameter and one whose subject is a JSON body field,
// both open to eservice.
func subjectServices(cfg string) string {
	cfg = strings.Replace(cfg, "        subject: {in: path, name: id, pattern: '[0-9]{10}'}   # the person is the data subject (Data Tracker)\n",
		`        subject: {in: path, name: id, pattern: '[0-9]{10}'}   # the person is the data subject (Data Tracker)
      - code: lookup
        methods: [GET]
        paths: ["/persons"]
        subject: {in: query, name: id}
      - code: search
        methods: [POST]
        paths: ["/search"]
        subject: {in: json, name: person.id}
`, 1)
	return strings.Replace(cfg, "\nrules:\n", `
rules:
  - id: eservice-subject-services
    clients: [UA/GOV/00000003/eservice]
    services: [UA/GOV/00000001/civil-registry/lookup, UA/GOV/00000001/civil-registry/search]
    purposes: [service-delivery]
`, 1)
}

// simControl sends a control order to the civil registry of w.
func simControl(t *testing.T, w *attackWorld, method, path, body string) {
	t.Helper()
	a := w.doOn(t, "9101", method, path, []byte(body), "Content-Type: application/json")
	if a.Status != 200 {
		t.Fatalf("%s %s: %v", method, path, a)
	}
}

// worldRecords exports w's message log and returns the records of one
// message id, in chain order.
func worldRecords(t *testing.T, w *attackWorld, messageID string) []audit.Record {
	t.Helper()
	cmd := exec.Command(w.govbusBin, "audit", "export", "-config", w.config)
	cmd.Dir = w.dir // the log's path is relative to govbus's working directory
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("govbus audit export: %v", err)
	}
	var recs []audit.Record
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		var r audit.Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("export line %q: %v", sc.Text(), err)
		}
		if r.MessageID == messageID {
			recs = append(recs, r)
		}
	}
	return recs
}

// trackerWorldTweak gives the portal's tracker right a condition that a
// call without the Kyiv office's header fails, and the Data Tracker a
// budget of trackerBudget calls that does not refill while the test runs
// (one call per 1000 s).
func trackerWorldTweak(cfg string) string {
	rule := "  - id: portal-tracker\n    clients: [UA/GOV/00000005/citizen-portal]\n    rights: [tracker]\n"
	if !strings.Contains(cfg, rule) {
		panic("the demo configuration has no portal-tracker rule as expected")
	}
	cfg = strings.Replace(cfg, rule, rule+`    condition: 'headers["x-office"] == "kyiv"'`+"\n", 1)
	return cfg + "\ntracker: {rate: {per_second: 0.001, burst: " + strconv.Itoa(trackerBudget) + "}, max_limit: 50}\n"
}

// trackerBudget is the tracker calls the portal may make in the tracker
// world; every case but the last spends fewer than it together.
const trackerBudget = 20

// asOfficial is the portal, asking for the official with the Kyiv
// office's header.
var asOfficial = with(portal, "X-Road-UserId: UA-OFFICIAL-4711", "X-Office: kyiv")

// trackerExport returns w's message log records of the Data Tracker.
func trackerExport(t *testing.T, w *attackWorld) []audit.Record {
	t.Helper()
	cmd := exec.Command(w.govbusBin, "audit", "export", "-config", w.config, "-service", "tracker")
	cmd.Dir = w.dir
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("govbus audit export: %v", err)
	}
	var recs []audit.Record
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		var r audit.Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("export line %q: %v", sc.Text(), err)
		}
		recs = append(recs, r)
	}
	return recs
}

// trackerPage is one answer of the Data Tracker.
type trackerPage struct {
	Accesses []struct {
		Service   string `json:"service"`
		Subsystem string `json:"subsystem"`
		Outcome   string `json:"outcome"`
	} `json:"accesses"`
	NextCursor string `json:"next_cursor"`
}
