package soap

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"
)

// maxAttackAlloc is the memory every hostile input must stay within. It is
// a count, not a time: a bound on how long parsing takes would fail on a
// loaded machine, while an input that made the parser do more than linear
// work would also make it allocate past this. Times are logged.
const maxAttackAlloc = 50 << 20

// attackExpect is what ParseRequest answers for each file under
// corpora/attacks/xml. "" means accepted (see TestAttackCorpus).
var attackExpect = map[string]Code{
	"defusedxml/cyclic.xml":        CodeInvalidXML, // DOCTYPE
	"defusedxml/dtd.xml":           CodeInvalidXML, // DOCTYPE with an external DTD
	"defusedxml/external_file.xml": CodeInvalidXML, // external entity
	"defusedxml/quadratic.xml":     CodeInvalidXML, // quadratic blowup
	"defusedxml/xmlbomb.xml":       CodeInvalidXML, // billion laughs
	"defusedxml/xmlbomb2.xml":      CodeInvalidXML,
	"xroad-admin-xxe.wsdl":         CodeInvalidXML,

	"soap-derived/soap-billion-laughs.xml":                 CodeInvalidXML,
	"soap-derived/soap-cdata-identifier.xml":               "", // one CDATA section is the value "456"
	"soap-derived/soap-comment-split-identifier.xml":       CodeInvalidXML,
	"soap-derived/soap-deep-nesting-20000.xml":             CodeInvalidXML,
	"soap-derived/soap-duplicate-client-header.xml":        CodeDuplicateHeaderField,
	"soap-derived/soap-internal-entity-benign.xml":         CodeInvalidXML,
	"soap-derived/soap-processing-instruction-in-body.xml": CodeInvalidXML,
	"soap-derived/soap-trailing-garbage.xml":               CodeInvalidXML,
	"soap-derived/soap-two-bodies.xml":                     CodeInvalidSOAP,
	"soap-derived/soap-utf16-declared-utf8-bytes.xml":      CodeInvalidXML,
	"soap-derived/soap-wrong-xroad-namespace.xml":          CodeMissingHeaderField,
	"soap-derived/soap-xinclude.xml":                       CodeInvalidXML,
	"soap-derived/soap-xxe-file.xml":                       CodeInvalidXML,
	"soap-derived/soap-xxe-in-header-userid.xml":           CodeInvalidXML,
	"soap-derived/soap-xxe-loopback-ssrf.xml":              CodeInvalidXML,
	"soap-derived/soap-xxe-parameter-entity.xml":           CodeInvalidXML,
	"soap-derived/soap12-envelope.xml":                     CodeInvalidSOAP,
}

// measured is one hostile input's cost.
type measured struct {
	name    string
	code    Code
	elapsed time.Duration
	alloc   uint64
}

// measure runs f once and returns its wall time and the bytes it allocated.
func measure(f func()) (time.Duration, uint64) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	f()
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	return elapsed, after.TotalAlloc - before.TotalAlloc
}

func TestAttackCorpus(t *testing.T) {
	root := corpusDir(t, "attacks", "xml")
	var files []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(path, ".tsv") {
			return err
		}
		files = append(files, path)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)

	var bodies [][]byte
	for _, f := range files {
		bodies = append(bodies, readFile(t, f))
	}
	watch := watchConnections(t, referencedAddrs(bodies...))
	secrets := newSecrets(t)

	var rows []measured
	seen := map[string]bool{}
	for i, path := range files {
		rel := filepath.ToSlash(strings.TrimPrefix(path, root+string(filepath.Separator)))
		seen[rel] = true
		want, ok := attackExpect[rel]
		if !ok {
			t.Errorf("%s: attack file without an expectation in attackExpect", rel)
			continue
		}
		body := bodies[i]
		var req *Request
		var err error
		elapsed, alloc := measure(func() { req, err = ParseRequest(body, textXML, Limits{}) })
		got := codeOf(t, err)
		rows = append(rows, measured{rel, got, elapsed, alloc})
		if got != want {
			t.Errorf("%s: code = %q, want %q (%v)", rel, got, want, err)
		}
		if alloc > maxAttackAlloc {
			t.Errorf("%s: allocated %d bytes (in %v), want under %d", rel, alloc, elapsed, maxAttackAlloc)
		}
		if err != nil {
			fault := Fault(string(got), err.Error(), "Client.BadRequest", "00000000-0000-0000-0000-000000000000")
			checkFault(t, fault, string(got))
			secrets.check(t, rel, err.Error(), string(fault))
		}
		if rel == "soap-derived/soap-cdata-identifier.xml" && err == nil {
			if req.Service.MemberCode != "456" {
				t.Errorf("%s: service memberCode = %q, want the CDATA content 456", rel, req.Service.MemberCode)
			}
		}

		// The same bytes as a registry's answer: refused or rewritten, within
		// the same bounds, fetching nothing.
		echoReq := &Request{Client: ID{ObjectType: ObjectMember, XRoadInstance: "EE", MemberClass: "GOV", MemberCode: "1"},
			Service:   ID{ObjectType: ObjectService, XRoadInstance: "EE", MemberClass: "GOV", MemberCode: "2", ServiceCode: "getPerson"},
			MessageID: "m", ProtocolVersion: "4.0"}
		var out []byte
		var echoErr error
		elapsed, alloc = measure(func() { out, _, echoErr = EchoResponse(body, textXML, echoReq, RequestHash(body)) })
		if alloc > maxAttackAlloc {
			t.Errorf("%s as a response: allocated %d bytes (in %v)", rel, alloc, elapsed)
		}
		if echoErr != nil {
			codeOf(t, echoErr)
			secrets.check(t, rel+" as a response", echoErr.Error())
		} else {
			secrets.check(t, rel+" as a response", string(out))
		}
	}
	for rel := range attackExpect {
		if !seen[rel] {
			t.Errorf("attackExpect names %s, which is not in the corpus", rel)
		}
	}
	watch.checkNone(t)

	var table strings.Builder
	fmt.Fprintf(&table, "\n%-52s %-32s %10s %10s\n", "file", "code", "time", "alloc")
	for _, r := range rows {
		code := string(r.code)
		if code == "" {
			code = "(accepted)"
		}
		fmt.Fprintf(&table, "%-52s %-32s %10s %8.1fKB\n", r.name, code, r.elapsed.Round(time.Microsecond), float64(r.alloc)/1024)
	}
	t.Log(table.String())
}

// TestHostileInputsBounded feeds inputs built to make a parser allocate or
// work far beyond their size, each at the default 10 MiB limit.
func TestHostileInputsBounded(t *testing.T) {
	const size = DefaultMaxBytes - 200
	build := func(prefix, unit, suffix string) []byte {
		var b bytes.Buffer
		b.Grow(size + len(suffix))
		b.WriteString(prefix)
		for b.Len()+len(unit) < size {
			b.WriteString(unit)
		}
		b.WriteString(suffix)
		return b.Bytes()
	}
	const env = `<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body>`
	const envEnd = `</e:Body></e:Envelope>`
	var attrs bytes.Buffer
	attrs.WriteString(env + `<a `)
	for i := 0; attrs.Len() < size; i++ {
		fmt.Fprintf(&attrs, "a%d='' ", i)
	}
	attrs.WriteString("/>" + envEnd)
	var nsDecls bytes.Buffer
	nsDecls.WriteString(env)
	for i := 0; nsDecls.Len() < size; i++ {
		fmt.Fprintf(&nsDecls, `<a xmlns:p%d="urn:x" xmlns:q%d="urn:y"/>`, i, i)
	}
	nsDecls.WriteString(envEnd)

	cases := []struct {
		name string
		body []byte
		want Code
	}{
		{"10 MiB of attributes on one element", attrs.Bytes(), CodeInvalidXML},
		{"10 MiB internal entity in a DOCTYPE", build(`<!DOCTYPE x [<!ENTITY a "`, "AAAAAAAA", `">]><x/>`), CodeInvalidXML},
		{"10 MiB element name", build(`<`, "AAAAAAAA", `/>`), CodeInvalidXML},
		{"10 MiB attribute value", build(env+`<a b="`, "AAAAAAAA", `"/>`+envEnd), CodeInvalidXML},
		{"10 MiB comment", build(env+`<!--`, "AAAAAAAA", `-->`+envEnd), CodeInvalidXML},
		{"10 MiB CDATA section", build(env+`<a><![CDATA[`, "AAAAAAAA", `]]></a>`+envEnd), CodeInvalidXML},
		{"10 MiB text of entity references", build(env+`<a>`, "&amp;&lt;", `</a>`+envEnd), CodeInvalidXML},
		{"10 MiB processing instruction", build(env+`<?pi `, "AAAAAAAA", `?>`+envEnd), CodeInvalidXML},
		{"2.6 million empty elements", build(env, "<a/>", envEnd), CodeInvalidXML},
		{"2.6 million open elements", build(env, "<a>", ""), CodeInvalidXML},
		{"namespace declarations on many elements", nsDecls.Bytes(), CodeInvalidXML},
		{"10 MiB of whitespace after the root", build(env+envEnd, "        ", ""), CodeInvalidXML},
		{"one byte over MaxBytes", make([]byte, DefaultMaxBytes+1), CodeMessageTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			elapsed, alloc := measure(func() { _, err = ParseRequest(tc.body, textXML, Limits{}) })
			if got := codeOf(t, err); got != tc.want {
				t.Errorf("code = %q, want %q (%v)", got, tc.want, err)
			}
			if alloc > maxAttackAlloc {
				t.Errorf("allocated %d bytes (in %v), want under %d", alloc, elapsed, maxAttackAlloc)
			}
			t.Logf("%d bytes: %v, %.1f KB allocated: %v", len(tc.body), elapsed.Round(time.Microsecond), float64(alloc)/1024, err)
		})
	}
}

// TestNothingIsRead plants a canary file and points every kind of external
// reference at it: none of its content may come back.
func TestNothingIsRead(t *testing.T) {
	canary := fmt.Sprintf("canary-%d-content", time.Now().UnixNano())
	path := filepath.Join(t.TempDir(), "canary.txt")
	if err := os.WriteFile(path, []byte(canary), 0o600); err != nil {
		t.Fatal(err)
	}
	url := "file://" + filepath.ToSlash(path)
	payloads := map[string]string{
		"external entity in userId": `<!DOCTYPE e:Envelope [<!ENTITY u SYSTEM "` + url + `">]>` + envelopeWith(`<xrd:userId>&u;</xrd:userId>`, ""),
		"external parameter entity": `<!DOCTYPE e:Envelope [<!ENTITY % p SYSTEM "` + url + `"> %p;]>` + envelopeWith("", ""),
		"XInclude in the body":      envelopeWith("", `<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="`+url+`" parse="text"/>`),
		"stylesheet PI":             `<?xml-stylesheet href="` + url + `"?>` + envelopeWith("", ""),
		"schemaLocation":            envelopeWith("", `<q xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="urn:x `+url+`"/>`),
	}
	for name, p := range payloads {
		req, err := ParseRequest([]byte(p), textXML, Limits{})
		var out string
		if err != nil {
			out = err.Error() + string(Fault(string(codeOf(t, err)), err.Error(), "Client.BadRequest", "x"))
		} else {
			out = fmt.Sprintf("%+v", *req)
		}
		if strings.Contains(out, canary) {
			t.Errorf("%s: the canary file's content came back: %s", name, out)
		}
	}
}

// secrets holds local file contents that must never appear in any output.
type secrets struct{ hostname *regexp.Regexp }

func newSecrets(t *testing.T) secrets {
	t.Helper()
	b, err := os.ReadFile("/etc/hostname")
	h := strings.TrimSpace(string(b))
	if err != nil || h == "" {
		t.Logf("no /etc/hostname to look for (%v)", err)
		return secrets{}
	}
	// A word match: a short hostname ("vm") may occur inside other words.
	return secrets{hostname: regexp.MustCompile(`\b` + regexp.QuoteMeta(h) + `\b`)}
}

func (s secrets) check(t *testing.T, name string, outputs ...string) {
	t.Helper()
	if s.hostname == nil {
		return
	}
	for _, o := range outputs {
		if s.hostname.MatchString(o) {
			t.Errorf("%s: output contains the content of /etc/hostname: %q", name, o)
		}
	}
}

// referencedAddrs returns every loopback host:port the inputs point at
// (http://127.0.0.1:9/..., localhost:8080, ...), with the scheme's default
// port when none is written.
func referencedAddrs(bodies ...[]byte) []string {
	re := regexp.MustCompile(`(?i)\b(https?|ftp)://(127(?:\.\d{1,3}){3}|localhost|\[::1\])(?::(\d{1,5}))?`)
	bare := regexp.MustCompile(`\b(127(?:\.\d{1,3}){3}):(\d{1,5})\b`)
	set := map[string]bool{}
	for _, b := range bodies {
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			port := m[3]
			if port == "" {
				port = map[string]string{"http": "80", "https": "443", "ftp": "21"}[strings.ToLower(m[1])]
			}
			host := strings.Trim(m[2], "[]")
			if strings.EqualFold(host, "localhost") {
				host = "127.0.0.1"
			}
			set[net.JoinHostPort(host, port)] = true
		}
		for _, m := range bare.FindAllStringSubmatch(string(b), -1) {
			set[net.JoinHostPort(m[1], m[2])] = true
		}
	}
	addrs := make([]string, 0, len(set))
	for a := range set {
		addrs = append(addrs, a)
	}
	sort.Strings(addrs)
	return addrs
}

// connWatch listens on addresses the inputs point at and records every
// connection made to them.
type connWatch struct {
	lns      []net.Listener
	accepted []chan string // remote addresses, per listener
}

func watchConnections(t *testing.T, addrs []string) *connWatch {
	t.Helper()
	w := &connWatch{}
	for _, a := range addrs {
		ln, err := net.Listen("tcp", a)
		if err != nil {
			t.Logf("not watching %s: %v", a, err)
			continue
		}
		t.Logf("watching %s for connections", a)
		ch := make(chan string, 64)
		w.lns = append(w.lns, ln)
		w.accepted = append(w.accepted, ch)
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				ch <- c.RemoteAddr().String()
				c.Close()
			}
		}()
	}
	if len(addrs) == 0 {
		t.Error("the attack corpus names no loopback address to watch; the pattern in referencedAddrs is stale")
	}
	t.Cleanup(func() {
		for _, ln := range w.lns {
			ln.Close()
		}
	})
	return w
}

// checkNone fails the test if anything but our own sentinel connected. The
// sentinel is dialled last: accept queues are first in, first out, so once
// it has been accepted every earlier connection has been too.
func (w *connWatch) checkNone(t *testing.T) {
	t.Helper()
	for i, ln := range w.lns {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatalf("dialling the watcher on %s: %v", ln.Addr(), err)
		}
		sentinel := c.LocalAddr().String()
		c.Close()
		for from := range w.accepted[i] {
			if from == sentinel {
				break
			}
			t.Errorf("something connected to %s from %s while parsing the attack corpus", ln.Addr(), from)
		}
	}
}

// envelopeWith returns a valid request envelope with extra header fields and
// extra content in the body element.
func envelopeWith(header, body string) string {
	return `<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xrd="http://x-road.eu/xsd/xroad.xsd" xmlns:id="http://x-road.eu/xsd/identifiers"><e:Header>` +
		`<xrd:client id:objectType="SUBSYSTEM"><id:xRoadInstance>UA</id:xRoadInstance><id:memberClass>GOV</id:memberClass><id:memberCode>00000003</id:memberCode><id:subsystemCode>eservice</id:subsystemCode></xrd:client>` +
		`<xrd:service id:objectType="SERVICE"><id:xRoadInstance>UA</id:xRoadInstance><id:memberClass>GOV</id:memberClass><id:memberCode>00000002</id:memberCode><id:subsystemCode>business-registry</id:subsystemCode><id:serviceCode>companies</id:serviceCode></xrd:service>` +
		`<xrd:id>m-1</xrd:id><xrd:protocolVersion>4.0</xrd:protocolVersion>` + header + `</e:Header>` +
		`<e:Body><c:companies xmlns:c="urn:x">` + body + `</c:companies></e:Body></e:Envelope>`
}

// checkFault parses a Fault back and checks its faultcode and detail.
func checkFault(t *testing.T, fault []byte, wantCode string) {
	t.Helper()
	env := parseFault(t, fault)
	if env.Body.Fault.Code != wantCode {
		t.Errorf("faultcode = %q, want %q", env.Body.Fault.Code, wantCode)
	}
	if env.Body.Fault.Detail.Type == "" {
		t.Errorf("Fault has no govbus:type in its detail:\n%s", fault)
	}
	// The strict scanner must accept our own output too.
	if _, err := scanResponse(bytes.TrimPrefix(fault, []byte(xml.Header)), Limits{}.withDefaults()); err != nil {
		t.Errorf("Fault rejected by our own reader: %v", err)
	}
}
