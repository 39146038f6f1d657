package soap

import (
	"bytes"
	"encoding/xml"
	"testing"
)

// faultEnvelope is a SOAP Fault response as a client reads it.
type faultEnvelope struct {
	XMLName xml.Name
	Body    struct {
		Fault struct {
			Code   string `xml:"faultcode"`
			String string `xml:"faultstring"`
			Detail struct {
				Type string `xml:"urn:govbus:fault type"`
				ID   string `xml:"urn:govbus:fault detail"`
			} `xml:"detail"`
		} `xml:"http://schemas.xmlsoap.org/soap/envelope/ Fault"`
	} `xml:"http://schemas.xmlsoap.org/soap/envelope/ Body"`
}

// parseFault parses the Fault f back, and stops the test if it does not
// parse: f is not well-formed XML.
func parseFault(t *testing.T, f []byte) (env faultEnvelope) {
	t.Helper()
	if err := xml.Unmarshal(f, &env); err != nil {
		t.Fatalf("Fault does not parse back, it is not well-formed XML: %v\n%s", err, f)
	}
	return env
}

func TestFault(t *testing.T) {
	cases := []struct{ code, message, govbusType, detail string }{
		{"client.invalid_body", "the Body must hold exactly one element", "Client.BadRequest", "6f1c2a9e-0d3b-4c51-9d1e-2f5a8b7c6d40"},
		{"Server.RegistryTimeout", "deadline passed", "Server.RegistryTimeout", "b5d6"},
		{"client.invalid_xml", "hostile <message> & ]]> \x00\x1b \xff 'quotes\" \r\n", "Client.BadRequest", "</detail>"},
		{"client.invalid_soap", "", "", ""},
	}
	for _, tc := range cases {
		f := Fault(tc.code, tc.message, tc.govbusType, tc.detail)
		if !bytes.HasPrefix(f, []byte(`<?xml version="1.0" encoding="UTF-8"?>`)) {
			t.Errorf("no XML declaration: %s", f)
		}
		env := parseFault(t, f)
		if env.XMLName != (xml.Name{Space: "http://schemas.xmlsoap.org/soap/envelope/", Local: "Envelope"}) {
			t.Errorf("root = %+v", env.XMLName)
		}
		fault := env.Body.Fault
		if fault.Code != tc.code || fault.Detail.Type != tc.govbusType || fault.Detail.ID != tc.detail {
			t.Errorf("got code %q type %q detail %q, want %q %q %q", fault.Code, fault.Detail.Type, fault.Detail.ID, tc.code, tc.govbusType, tc.detail)
		}
		if tc.message == cases[0].message && fault.String != tc.message {
			t.Errorf("faultstring = %q, want %q", fault.String, tc.message)
		}
		// Our own strict reader accepts it as a SOAP Fault response.
		shape, perr := scanResponse(bytes.TrimPrefix(f, []byte(xml.Header)), Limits{}.withDefaults())
		if perr != nil || !shape.fault {
			t.Errorf("scanResponse: %v, fault=%v\n%s", perr, shape.fault, f)
		}
	}
}
