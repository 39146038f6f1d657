package e2e

// Attacks on govbus's SOAP entries (issue 11 items 1, 2, 3, 7 and 12's
// getWsdl), replayed against the real binaries and the recording business
// registry on demo port 9102. Company codes 10000701…10000720 are these
// cases' own.

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

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

func init() {
	// Item 1: a SOAP body sent through the REST route carries its own
	// identity; one that is not the authenticated caller's never reaches
	// the registry.
	registerAttack("soap/rest-route-foreign-client", func(t *testing.T) {
		w := sharedAttackWorld(t)
		w.clearReceived(t, "9102")
		a := w.do(t, "POST", businessPath, []byte(saEnvelope(saCovert, "10000701", "")), with(eservice, saTextXML)...)
		if a.Status != 400 || a.Type != "Client.BadRequest" {
			t.Errorf("foreign xrd:client: %v, want 400 Client.BadRequest", a)
		}
		w.wantNothingReceived(t, "9102")
	})
	registerAttack("soap/rest-route-foreign-user", func(t *testing.T) {
		w := sharedAttackWorld(t)
		w.clearReceived(t, "9102")
		a := w.do(t, "POST", businessPath, []byte(saEnvelope(saEservice, "10000702", "<xrd:userId>EE-someone-else</xrd:userId>")),
			with(eservice, saTextXML, "X-Road-UserId: EE37702211234")...)
		if a.Status != 400 || a.Type != "Client.BadRequest" {
			t.Errorf("xrd:userId other than X-Road-UserId: %v, want 400 Client.BadRequest", a)
		}
		w.wantNothingReceived(t, "9102")
	})
	registerAttack("soap/rest-route-dtd", func(t *testing.T) {
		w := sharedAttackWorld(t)
		w.clearReceived(t, "9102")
		body := `<?xml version="1.0"?><!DOCTYPE S:Envelope [<!ENTITY x SYSTEM "file:///etc/hostname">]>` +
			strings.TrimPrefix(saEnvelope(saEservice, "10000703", ""), `<?xml version="1.0" encoding="UTF-8"?>`)
		a := w.do(t, "POST", businessPath, []byte(body), with(eservice, saTextXML)...)
		if a.Status != 400 || a.Type != "Client.BadRequest" {
			t.Errorf("a DTD: %v, want 400 Client.BadRequest", a)
		}
		w.wantNothingReceived(t, "9102")
	})
	// The exchange's own envelope still passes, byte for byte.
	registerAttack("soap/rest-route-valid", func(t *testing.T) {
		w := sharedAttackWorld(t)
		w.clearReceived(t, "9102")
		body := saEnvelope(saEservice, "10000704", "")
		a := w.do(t, "POST", businessPath, []byte(body), with(eservice, saTextXML)...)
		if a.Status != 200 || !bytes.Contains(a.Body, []byte("10000704")) {
			t.Fatalf("the caller's own envelope: %v, want 200 with the company", a)
		}
		got := w.received(t, "9102")
		if len(got) != 1 || string(got[0].Body) != body {
			t.Fatalf("the registry received %d requests, want exactly the body sent", len(got))
		}
		if ct := got[0].Header.Values("Content-Type"); len(ct) != 1 || ct[0] != "text/xml; charset=utf-8" {
			t.Errorf("Content-Type at the registry = %q", ct)
		}
	})

	// Item 2: the registry reads the first part of a multipart; govbus
	// used to check the part start= names. Both must be one part.
	registerAttack("soap/multipart-first-part-identity", func(t *testing.T) {
		w := sharedAttackWorld(t)
		w.clearReceived(t, "9102")
		body := "--MIME_b\r\nContent-Type: text/xml; charset=UTF-8\r\nContent-ID: <evil>\r\n\r\n" + saEnvelope(saCovert, "10000705", "") +
			"\r\n--MIME_b\r\nContent-Type: text/xml; charset=UTF-8\r\nContent-ID: <soap>\r\n\r\n" + saEnvelope(saEservice, "10000705", "") +
			"\r\n--MIME_b--\r\n"
		a := w.do(t, "POST", "/", []byte(body), with(saKey, `Content-Type: multipart/related; type="text/xml"; start="<soap>"; boundary=MIME_b`)...)
		// POST / answers every error as a SOAP 1.1 Fault, with status 500.
		if a.Type != "Client.BadRequest" || !bytes.Contains(a.Body, []byte("Fault")) {
			t.Errorf("multipart whose first part is another identity: %v, want a Client.BadRequest Fault", a)
		}
		w.wantNothingReceived(t, "9102")
	})
	registerAttack("soap/multipart-second-envelope", func(t *testing.T) {
		w := sharedAttackWorld(t)
		w.clearReceived(t, "9102")
		body := "--MIME_b\r\nContent-Type: text/xml; charset=UTF-8\r\nContent-ID: <soap>\r\n\r\n" + saEnvelope(saEservice, "10000706", "") +
			"\r\n--MIME_b\r\nContent-Type: application/soap+xml\r\nContent-ID: <soap>\r\n\r\n" + saEnvelope(saCovert, "10000706", "") +
			"\r\n--MIME_b--\r\n"
		a := w.do(t, "POST", businessPath, []byte(body), with(eservice, `Content-Type: multipart/related; type="text/xml"; boundary=MIME_b`)...)
		if a.Status != 400 || a.Type != "Client.BadRequest" {
			t.Errorf("a second envelope with the root's Content-ID on the REST route: %v, want 400 Client.BadRequest", a)
		}
		w.wantNothingReceived(t, "9102")
	})

	// Item 12 (getWsdl): the WSDL's soap:address is the configured public
	// URL (by default the consumer listener), never the Host sent.
	registerAttack("soap/getwsdl-host", func(t *testing.T) {
		w := sharedAttackWorld(t)
		a := w.do(t, "GET", "/r1/UA/GOV/00000002/business-registry/getWsdl?serviceCode=companies", nil, with(eservice, "Host: evil.example")...)
		if a.Status != 200 {
			t.Fatalf("getWsdl: %v", a)
		}
		want := `location="http://127.0.0.1:` + w.ports["8080"] + `/"`
		if bytes.Contains(a.Body, []byte("evil.example")) || !bytes.Contains(a.Body, []byte(want)) {
			t.Errorf("soap:address is not %s:\n%s", want, a.Body)
		}
		// A caller no rule lets call the service is refused.
		b := w.do(t, "GET", "/r1/UA/GOV/00000002/business-registry/getWsdl?serviceCode=companies", nil, benefits...)
		if b.Status != 403 || b.Type != "Client.AccessDenied" {
			t.Errorf("getWsdl for benefits: %v, want 403 Client.AccessDenied", b)
		}
	})

	// Item 3 (SOAP): SOAP passthrough calls record their subject, so the
	// company's Data Tracker lists them; a mapped REST call too.
	registerAttack("soap/passthrough-subject", func(t *testing.T) {
		w := sharedAttackWorld(t)
		const code = "10000707"
		before := w.trackerCount(t, code)
		for i := 0; i < 2; i++ {
			if a := w.do(t, "POST", "/", []byte(saEnvelope(saEservice, code, "")), with(saKey, saTextXML)...); a.Status != 200 {
				t.Fatalf("SOAP call: %v", a)
			}
		}
		if a := w.do(t, "GET", businessPath+"/companies/"+code, nil, eservice...); a.Status != 200 {
			t.Fatalf("mapped REST call: %v", a)
		}
		if got := w.trackerCount(t, code) - before; got != 3 {
			t.Errorf("tracker entries for the company: %d new, want 3 (two SOAP calls, one REST call)", got)
		}
		// Two subject elements: which one the registry reads is not ours
		// to guess.
		w.clearReceived(t, "9102")
		twice := strings.Replace(saEnvelope(saEservice, code, ""), "<bus:code>"+code+"</bus:code>",
			"<bus:code>"+code+"</bus:code><bus:code>10000708</bus:code>", 1)
		if a := w.do(t, "POST", "/", []byte(twice), with(saKey, saTextXML)...); a.Type != "Client.BadRequest" {
			t.Errorf("two subject elements: %v, want a Client.BadRequest Fault", a)
		}
		w.wantNothingReceived(t, "9102")
	})

	// Item 7: anonymous POST / is refused before its body is read, so 24
	// slow 10 MiB posts leave govbus's peak memory where it was.
	registerAttack("soap/anonymous-memory", func(t *testing.T) {
		w, procs, err := launchAttackWorld(t, t.TempDir(), nil)
		t.Cleanup(func() {
			for _, p := range procs {
				stopProc(p)
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		govbus := procs[len(procs)-1]
		before := peakRSS(t, govbus.Process.Pid)
		const posts, size = 24, 10 << 20
		answers := make([]string, posts)
		var wg sync.WaitGroup
		for i := range posts {
			wg.Add(1)
			go func() {
				defer wg.Done()
				answers[i] = slowAnonymousPost(w.ports["8080"], size)
			}()
		}
		wg.Wait()
		// Refused unread either way: the first for want of a credential,
		// the rest, once the burst of failures from this address is spent,
		// by the throttle of failed authentications.
		for i, a := range answers {
			if a != "Client.Unauthenticated" && a != "Client.RateLimited" {
				t.Errorf("post %d: answer %q, want Client.Unauthenticated or Client.RateLimited", i, a)
			}
		}
		after := peakRSS(t, govbus.Process.Pid)
		t.Logf("govbus peak RSS %d KiB before, %d KiB after %d anonymous posts of %d MiB", before, after, posts, size>>20)
		if after-before > 100<<10 {
			t.Errorf("govbus's peak RSS grew by %d KiB, want under 100 MiB", after-before)
		}
	})
}

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
