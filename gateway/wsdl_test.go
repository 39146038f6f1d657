package gateway

import "testing"

func TestSOAPAddressRewrite(t *testing.T) {
	for in, want := range map[string]string{
		`<soap:address location="http://10.0.0.7:9102/"/>`:             `<soap:address location="http://govbus.example:8080/"/>`,
		`<soap12:address location="https://r.internal/ws" />`:          `<soap12:address location="http://govbus.example:8080/" />`,
		`<wsdl:port name="p"><soap:address location="x"/></wsdl:port>`: `<wsdl:port name="p"><soap:address location="http://govbus.example:8080/"/></wsdl:port>`,
		`<http:address location="keep-me-too"/>`:                       `<http:address location="http://govbus.example:8080/"/>`,
		`<addressing location="not-an-address-element"/>`:              `<addressing location="not-an-address-element"/>`,
	} {
		if got := string(soapAddress.ReplaceAll([]byte(in), []byte("${1}http://govbus.example:8080/${2}"))); got != want {
			t.Errorf("rewrite(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestOneLine(t *testing.T) {
	for in, want := range map[string]string{
		"case 7":                     "case 7",
		"  case\n  7\r\n\tfollow-up": "case 7 follow-up",
		"a\x00b\x7fc":                "a b c",
		"":                           "",
	} {
		if got := oneLine(in); got != want {
			t.Errorf("oneLine(%q) = %q, want %q", in, got, want)
		}
	}
}
