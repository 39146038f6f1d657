package registrysim

import (
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
)

// wsdlDefinitions is as much of a WSDL 1.1 document as the tests check.
type wsdlDefinitions struct {
	XMLName         xml.Name   `xml:"http://schemas.xmlsoap.org/wsdl/ definitions"`
	Attrs           []xml.Attr `xml:",any,attr"`
	TargetNamespace string     `xml:"targetNamespace,attr"`
	Types           struct {
		Schemas []struct {
			TargetNamespace string `xml:"targetNamespace,attr"`
			Elements        []struct {
				Name string `xml:"name,attr"`
			} `xml:"http://www.w3.org/2001/XMLSchema element"`
		} `xml:"http://www.w3.org/2001/XMLSchema schema"`
	} `xml:"http://schemas.xmlsoap.org/wsdl/ types"`
	Messages []struct {
		Name  string `xml:"name,attr"`
		Parts []struct {
			Name    string `xml:"name,attr"`
			Element string `xml:"element,attr"`
		} `xml:"http://schemas.xmlsoap.org/wsdl/ part"`
	} `xml:"http://schemas.xmlsoap.org/wsdl/ message"`
	PortTypes []struct {
		Operations []struct {
			Name   string         `xml:"name,attr"`
			Input  wsdlMessageRef `xml:"http://schemas.xmlsoap.org/wsdl/ input"`
			Output wsdlMessageRef `xml:"http://schemas.xmlsoap.org/wsdl/ output"`
		} `xml:"http://schemas.xmlsoap.org/wsdl/ operation"`
	} `xml:"http://schemas.xmlsoap.org/wsdl/ portType"`
	Bindings []struct {
		Style struct {
			Style     string `xml:"style,attr"`
			Transport string `xml:"transport,attr"`
		} `xml:"http://schemas.xmlsoap.org/wsdl/soap/ binding"`
		Operations []struct {
			Name   string          `xml:"name,attr"`
			Input  wsdlBindingBody `xml:"http://schemas.xmlsoap.org/wsdl/ input"`
			Output wsdlBindingBody `xml:"http://schemas.xmlsoap.org/wsdl/ output"`
		} `xml:"http://schemas.xmlsoap.org/wsdl/ operation"`
	} `xml:"http://schemas.xmlsoap.org/wsdl/ binding"`
	Service struct {
		Port struct {
			Address struct {
				Location string `xml:"location,attr"`
			} `xml:"http://schemas.xmlsoap.org/wsdl/soap/ address"`
		} `xml:"http://schemas.xmlsoap.org/wsdl/ port"`
	} `xml:"http://schemas.xmlsoap.org/wsdl/ service"`
}

type wsdlMessageRef struct {
	Message string `xml:"message,attr"`
}

type wsdlBindingBody struct {
	Body struct {
		Use string `xml:"use,attr"`
	} `xml:"http://schemas.xmlsoap.org/wsdl/soap/ body"`
	Headers []struct {
		Message string `xml:"message,attr"`
		Part    string `xml:"part,attr"`
	} `xml:"http://schemas.xmlsoap.org/wsdl/soap/ header"`
}

// resolve splits a QName of the definitions into namespace and local name.
func (d *wsdlDefinitions) resolve(t *testing.T, qname string) (string, string) {
	t.Helper()
	prefix, local, ok := strings.Cut(qname, ":")
	if !ok {
		t.Fatalf("QName %q has no prefix", qname)
	}
	for _, a := range d.Attrs {
		if a.Name.Space == "xmlns" && a.Name.Local == prefix {
			return a.Value, local
		}
	}
	t.Fatalf("QName %q: prefix %s is not declared", qname, prefix)
	return "", ""
}

// checkWSDL checks that a WSDL describes getCompany, is internally
// consistent (every message, part and element it refers to exists: the
// defect that makes strict clients reject some X-Road WSDLs) and points
// at location.
func checkWSDL(t *testing.T, body []byte, location string) {
	t.Helper()
	var d wsdlDefinitions
	if err := xml.Unmarshal(body, &d); err != nil {
		t.Fatalf("decoding the WSDL: %v", err)
	}
	if d.TargetNamespace != BusinessNamespace {
		t.Errorf("targetNamespace: got %q, want %q", d.TargetNamespace, BusinessNamespace)
	}
	elements := map[[2]string]bool{}
	for _, s := range d.Types.Schemas {
		for _, e := range s.Elements {
			if e.Name != "" {
				elements[[2]string{s.TargetNamespace, e.Name}] = true
			}
		}
	}
	parts := map[[2]string]bool{}
	for _, m := range d.Messages {
		for _, p := range m.Parts {
			parts[[2]string{m.Name, p.Name}] = true
			if ns, local := d.resolve(t, p.Element); !elements[[2]string{ns, local}] {
				t.Errorf("message %s part %s: element %s is not declared in any schema", m.Name, p.Name, p.Element)
			}
		}
	}
	messagePart := func(ref, part string) {
		t.Helper()
		ns, local := d.resolve(t, ref)
		if ns != d.TargetNamespace || !parts[[2]string{local, part}] {
			t.Errorf("reference to message %s part %s: no such part", ref, part)
		}
	}
	if len(d.PortTypes) != 1 || len(d.PortTypes[0].Operations) != 1 || d.PortTypes[0].Operations[0].Name != "getCompany" {
		t.Fatalf("portType: got %+v, want one with the one operation getCompany", d.PortTypes)
	}
	op := d.PortTypes[0].Operations[0]
	messagePart(op.Input.Message, "body")
	messagePart(op.Output.Message, "body")
	if len(d.Bindings) != 1 || len(d.Bindings[0].Operations) != 1 || d.Bindings[0].Operations[0].Name != "getCompany" {
		t.Fatalf("binding: got %+v, want one with the one operation getCompany", d.Bindings)
	}
	b := d.Bindings[0]
	if b.Style.Style != "document" || b.Style.Transport != "http://schemas.xmlsoap.org/soap/http" {
		t.Errorf("soap:binding: got %+v, want document over HTTP", b.Style)
	}
	for _, io := range []wsdlBindingBody{b.Operations[0].Input, b.Operations[0].Output} {
		if io.Body.Use != "literal" {
			t.Errorf("soap:body use: got %q, want literal", io.Body.Use)
		}
		var got []string
		for _, h := range io.Headers {
			messagePart(h.Message, h.Part)
			got = append(got, h.Part)
		}
		if want := []string{"client", "service", "userId", "id", "issue", "protocolVersion"}; !reflect.DeepEqual(got, want) {
			t.Errorf("soap:header parts: got %v, want %v", got, want)
		}
	}
	if d.Service.Port.Address.Location != location {
		t.Errorf("soap:address location: got %q, want %q", d.Service.Port.Address.Location, location)
	}
}

func TestBusinessWSDL(t *testing.T) {
	biz := NewBusinessRegistry()
	for _, target := range []string{"/?wsdl", "/?WSDL", "/wsdl", "/any/path?x=1&wsdl=", "http://business.test:9102/?wsdl"} {
		rec := serve(t, biz, http.MethodGet, target, "")
		if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "text/xml; charset=utf-8" {
			t.Errorf("GET %s: got %d %q, want 200 text/xml", target, rec.Code, rec.Header().Get("Content-Type"))
		}
		host := "example.com" // httptest.NewRequest's default
		if strings.HasPrefix(target, "http://") {
			host = "business.test:9102"
		}
		checkWSDL(t, rec.Body.Bytes(), "http://"+host+"/")
	}
	// A Host that needs escaping in an attribute stays well-formed.
	req := httptest.NewRequest(http.MethodGet, "/?wsdl", nil)
	req.Host = `a&b"c`
	rec := httptest.NewRecorder()
	biz.ServeHTTP(rec, req)
	checkWSDL(t, rec.Body.Bytes(), `http://a&b"c/`)
	// The embedded file itself is consistent and has the default address.
	checkWSDL(t, BusinessWSDL, "http://127.0.0.1:9102/")
}
