package main

import (
	"bytes"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/govbus/govbus/registrysim"
)

// syncBuffer is an io.Writer safe for the server goroutines' logs.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestBusinessServed starts the business registry alone on a free port,
// asks it for the WSDL and a company, and stops it with SIGINT.
func TestBusinessServed(t *testing.T) {
	var stderr syncBuffer
	done := make(chan int, 1)
	go func() { done <- run([]string{"-civil", "", "-business", "127.0.0.1:0"}, &stderr) }()

	listening := regexp.MustCompile(`registry=business addr=(127\.0\.0\.1:\d+)`)
	var addr string
	for deadline := time.Now().Add(10 * time.Second); ; {
		if m := listening.FindStringSubmatch(stderr.String()); m != nil {
			addr = m[1]
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no business registry listening after 10s: %s", stderr.String())
		}
		select {
		case status := <-done:
			t.Fatalf("run ended with %d before listening: %s", status, stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
	}

	resp, err := http.Get("http://" + addr + "/?wsdl")
	if err != nil {
		t.Fatal(err)
	}
	wsdl, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Contains(wsdl, []byte(`location="http://`+addr+`/"`)) {
		t.Errorf("GET /?wsdl: got %d %.200q, want the WSDL with this address", resp.StatusCode, wsdl)
	}
	req := `<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xrd="http://x-road.eu/xsd/xroad.xsd" xmlns:id="http://x-road.eu/xsd/identifiers"><SOAP-ENV:Header>` +
		`<xrd:client id:objectType="SUBSYSTEM"><id:xRoadInstance>UA</id:xRoadInstance><id:memberClass>GOV</id:memberClass><id:memberCode>00000003</id:memberCode><id:subsystemCode>eservice</id:subsystemCode></xrd:client>` +
		`<xrd:service id:objectType="SERVICE"><id:xRoadInstance>UA</id:xRoadInstance><id:memberClass>GOV</id:memberClass><id:memberCode>00000002</id:memberCode><id:subsystemCode>business-registry</id:subsystemCode><id:serviceCode>companies</id:serviceCode></xrd:service>` +
		`<xrd:id>1</xrd:id><xrd:protocolVersion>4.0</xrd:protocolVersion></SOAP-ENV:Header><SOAP-ENV:Body>` +
		`<bus:getCompany xmlns:bus="` + registrysim.BusinessNamespace + `"><bus:code>` + registrysim.FirstCompanyCode + `</bus:code></bus:getCompany></SOAP-ENV:Body></SOAP-ENV:Envelope>`
	resp, err = http.Post("http://"+addr+"/", "text/xml; charset=utf-8", strings.NewReader(req))
	if err != nil {
		t.Fatal(err)
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	want, _ := registrysim.CompanyByCode(registrysim.FirstCompanyCode)
	if resp.StatusCode != http.StatusOK || !bytes.Contains(answer, []byte("<bus:name>"+want.Name+"</bus:name>")) {
		t.Errorf("getCompany: got %d %q, want 200 with %s", resp.StatusCode, answer, want.Name)
	}

	if err := syscall.Kill(syscall.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case status := <-done:
		if status != 0 {
			t.Errorf("exit status after SIGINT: got %d, want 0 (%s)", status, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not end after SIGINT")
	}
	if strings.Contains(stderr.String(), "not built yet") {
		t.Errorf("stderr still says the business registry is not built: %s", stderr.String())
	}
}

func TestNothingToServe(t *testing.T) {
	var stderr syncBuffer
	if status := run([]string{"-civil", "", "-business", ""}, &stderr); status != 2 {
		t.Errorf("exit status: got %d, want 2 (%s)", status, stderr.String())
	}
}
