package soap

import (
	"bytes"
	"strings"
	"testing"
)

const baseEnvelope = `<?xml version="1.0" encoding="UTF-8"?>
<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xrd="http://x-road.eu/xsd/xroad.xsd" xmlns:id="http://x-road.eu/xsd/identifiers">
<e:Header>
<xrd:client id:objectType="SUBSYSTEM"><id:xRoadInstance>UA</id:xRoadInstance><id:memberClass>GOV</id:memberClass><id:memberCode>00000003</id:memberCode><id:subsystemCode>eservice</id:subsystemCode></xrd:client>
<xrd:service id:objectType="SERVICE"><id:xRoadInstance>UA</id:xRoadInstance><id:memberClass>GOV</id:memberClass><id:memberCode>00000002</id:memberCode><id:subsystemCode>business-registry</id:subsystemCode><id:serviceCode>companies</id:serviceCode><id:serviceVersion>v1</id:serviceVersion></xrd:service>
<xrd:userId>EE37702211234</xrd:userId>
<xrd:id>m-1</xrd:id>
<xrd:protocolVersion>4.0</xrd:protocolVersion>
</e:Header>
<e:Body><c:companies xmlns:c="urn:x"><c:code>10000001</c:code></c:companies></e:Body>
</e:Envelope>`

// edit returns baseEnvelope with old replaced by new, failing when old is
// not in it (a table row that edits nothing would test nothing).
func edit(t *testing.T, old, new string) []byte {
	t.Helper()
	if !strings.Contains(baseEnvelope, old) {
		t.Fatalf("baseEnvelope does not contain %q", old)
	}
	return []byte(strings.Replace(baseEnvelope, old, new, 1))
}

func TestParseRequestRules(t *testing.T) {
	const (
		memberCode = "<id:memberCode>00000003</id:memberCode>"
		objService = ` id:objectType="SERVICE"`
		userID     = "<xrd:userId>EE37702211234</xrd:userId>"
		version    = "<xrd:protocolVersion>4.0</xrd:protocolVersion>"
		msgID      = "<xrd:id>m-1</xrd:id>"
		body       = `<c:companies xmlns:c="urn:x"><c:code>10000001</c:code></c:companies>`
		decl       = `<?xml version="1.0" encoding="UTF-8"?>`
		envStart   = `<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"`
		headerEnd  = "</e:Header>"
	)
	cases := []struct {
		name, old, new string
		want           Code
		check          func(*testing.T, *Request)
	}{
		{name: "baseline", old: "", new: "", check: func(t *testing.T, r *Request) {
			if r.Client.String() != "UA/GOV/00000003/eservice" || r.Service.String() != "UA/GOV/00000002/business-registry/companies" {
				t.Errorf("ids = %s, %s", r.Client, r.Service)
			}
		}},
		{name: "CDATA identifier value", old: memberCode, new: "<id:memberCode><![CDATA[00000003]]></id:memberCode>", check: func(t *testing.T, r *Request) {
			if r.Client.MemberCode != "00000003" {
				t.Errorf("memberCode = %q", r.Client.MemberCode)
			}
		}},
		{name: "text and CDATA in one value", old: memberCode, new: "<id:memberCode>00<![CDATA[000]]>003</id:memberCode>", want: CodeInvalidXML},
		{name: "comment splitting a value", old: memberCode, new: "<id:memberCode>0000<!---->0003</id:memberCode>", want: CodeInvalidXML},
		{name: "comment in a simple field", old: msgID, new: "<xrd:id><!-- x -->m-1</xrd:id>", want: CodeInvalidXML},
		{name: "element inside a value", old: memberCode, new: "<id:memberCode><b/>00000003</id:memberCode>", want: CodeInvalidXML},
		{name: "entity and character references", old: userID, new: "<xrd:userId>EE&amp;&#x41;&lt;</xrd:userId>", check: func(t *testing.T, r *Request) {
			if r.UserID != "EE&A<" {
				t.Errorf("userId = %q", r.UserID)
			}
		}},
		{name: "comments between fields and in the body", old: msgID, new: "<!-- before -->" + msgID + "<!-- after -->", check: func(t *testing.T, r *Request) {
			if !bytes.Contains(r.HeaderXML, []byte("<!-- before -->")) {
				t.Errorf("HeaderXML lost the comment: %q", r.HeaderXML)
			}
		}},
		{name: "undeclared prefix", old: body, new: `<c:companies/>`, want: CodeInvalidXML},
		{name: "prefix undeclared with an empty URI", old: body, new: `<c:companies xmlns:c=""/>`, want: CodeInvalidXML},
		{name: "duplicate attribute", old: objService, new: objService + objService, want: CodeInvalidXML},
		{name: "duplicate attribute after namespace resolution", old: objService, new: objService + ` xmlns:j="http://x-road.eu/xsd/identifiers" j:objectType="SERVICE"`, want: CodeInvalidXML},
		{name: "XML declaration not first", old: decl, new: " " + decl, want: CodeInvalidXML},
		{name: "processing instruction", old: decl, new: decl + `<?xml-stylesheet href="x"?>`, want: CodeInvalidXML},
		{name: "processing instruction in the header", old: version, new: version + `<?pi?>`, want: CodeInvalidXML},
		{name: "declared Latin-1", old: decl, new: `<?xml version="1.0" encoding="ISO-8859-1"?>`, want: CodeInvalidXML},
		{name: "XML 1.1", old: decl, new: `<?xml version="1.1"?>`, want: CodeInvalidXML},
		{name: "UTF-8 BOM", old: decl, new: "\xEF\xBB\xBF" + decl, check: func(t *testing.T, r *Request) {
			if !bytes.HasPrefix(r.Envelope, utf8BOM) {
				t.Error("Envelope must keep the BOM: the hash covers the bytes as sent")
			}
		}},
		{name: "invalid UTF-8", old: userID, new: "<xrd:userId>\xff</xrd:userId>", want: CodeInvalidXML},
		{name: "control character reference", old: userID, new: "<xrd:userId>&#1;</xrd:userId>", want: CodeInvalidXML},
		{name: "undefined entity", old: userID, new: "<xrd:userId>&nbsp;</xrd:userId>", want: CodeInvalidXML},
		{name: "mismatched end tag", old: "</e:Body>", new: "</e:Bodies>", want: CodeInvalidXML},
		{name: "truncated", old: "</e:Envelope>", new: "", want: CodeInvalidXML},
		{name: "trailing comment and whitespace", old: "</e:Envelope>", new: "</e:Envelope>\n<!-- end -->\n"},
		{name: "trailing text", old: "</e:Envelope>", new: "</e:Envelope>x", want: CodeInvalidXML},
		{name: "XInclude", old: body, new: `<c:companies xmlns:c="urn:x"><xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="/etc/passwd"/></c:companies>`, want: CodeInvalidXML},
		{name: "service objectType MEMBER", old: objService, new: ` id:objectType="MEMBER"`, want: CodeInvalidXML},
		{name: "client objectType SERVER", old: `id:objectType="SUBSYSTEM"`, new: `id:objectType="SERVER"`, want: CodeInvalidXML},
		{name: "unqualified objectType", old: `id:objectType="SUBSYSTEM"`, new: `objectType="SUBSYSTEM"`, want: CodeInvalidXML},
		{name: "MEMBER client with a subsystemCode", old: `id:objectType="SUBSYSTEM"`, new: `id:objectType="MEMBER"`, want: CodeInvalidXML},
		{name: "SUBSYSTEM client without subsystemCode", old: "<id:subsystemCode>eservice</id:subsystemCode>", new: "", want: CodeInvalidXML},
		{name: "MEMBER client", old: `id:objectType="SUBSYSTEM"><id:xRoadInstance>UA</id:xRoadInstance><id:memberClass>GOV</id:memberClass><id:memberCode>00000003</id:memberCode><id:subsystemCode>eservice</id:subsystemCode>`,
			new: `id:objectType="MEMBER"><id:xRoadInstance>UA</id:xRoadInstance><id:memberClass>GOV</id:memberClass><id:memberCode>00000003</id:memberCode>`, check: func(t *testing.T, r *Request) {
				if r.Client.String() != "UA/GOV/00000003" || r.Client.ObjectType != ObjectMember {
					t.Errorf("client = %s (%s)", r.Client, r.Client.ObjectType)
				}
			}},
		{name: "missing memberClass", old: "<id:memberClass>GOV</id:memberClass><id:memberCode>00000003", new: "<id:memberCode>00000003", want: CodeInvalidXML},
		{name: "empty memberCode", old: memberCode, new: "<id:memberCode/>", want: CodeInvalidXML},
		{name: "missing serviceCode", old: "<id:serviceCode>companies</id:serviceCode>", new: "", want: CodeInvalidXML},
		{name: "groupCode in an identifier", old: memberCode, new: memberCode + "<id:groupCode>g</id:groupCode>", want: CodeInvalidXML},
		{name: "foreign element in an identifier", old: memberCode, new: memberCode + `<x:y xmlns:x="urn:x"/>`, want: CodeInvalidXML},
		{name: "identifier part twice", old: memberCode, new: memberCode + memberCode, want: CodeInvalidXML},
		{name: "protocolVersion with spaces", old: version, new: "<xrd:protocolVersion> 4.0 </xrd:protocolVersion>", want: CodeInvalidProtocolVersion},
		{name: "protocolVersion 4.1", old: version, new: "<xrd:protocolVersion>4.1</xrd:protocolVersion>", want: CodeInvalidProtocolVersion},
		{name: "empty id", old: msgID, new: "<xrd:id/>", want: CodeMissingHeaderField},
		{name: "no id", old: msgID, new: "", want: CodeMissingHeaderField},
		{name: "no client", old: `<xrd:client id:objectType="SUBSYSTEM"><id:xRoadInstance>UA</id:xRoadInstance><id:memberClass>GOV</id:memberClass><id:memberCode>00000003</id:memberCode><id:subsystemCode>eservice</id:subsystemCode></xrd:client>`, new: "", want: CodeMissingHeaderField},
		{name: "userId twice", old: userID, new: userID + userID, want: CodeDuplicateHeaderField},
		{name: "foreign header twice", old: msgID, new: msgID + `<a:x xmlns:a="urn:a"/><a:x xmlns:a="urn:a"/>`, want: CodeDuplicateHeaderField},
		{name: "foreign headers", old: msgID, new: msgID + `<a:x xmlns:a="urn:a"><a:y/></a:x><xrd:unknownField>z</xrd:unknownField>`},
		{name: "issue and represented party", old: msgID, new: msgID + `<xrd:issue>case-7</xrd:issue><repr:representedParty xmlns:repr="http://x-road.eu/xsd/representation.xsd"><repr:partyClass>COM</repr:partyClass><repr:partyCode>123</repr:partyCode></repr:representedParty>`, check: func(t *testing.T, r *Request) {
			if r.Issue != "case-7" || r.RepresentedParty == nil || *r.RepresentedParty != (ID{MemberClass: "COM", MemberCode: "123"}) {
				t.Errorf("issue %q, party %+v", r.Issue, r.RepresentedParty)
			}
		}},
		{name: "represented party without partyCode", old: msgID, new: msgID + `<repr:representedParty xmlns:repr="http://x-road.eu/xsd/representation.xsd"><repr:partyClass>COM</repr:partyClass></repr:representedParty>`, want: CodeInvalidXML},
		{name: "SOAP 1.2", old: "http://schemas.xmlsoap.org/soap/envelope/", new: "http://www.w3.org/2003/05/soap-envelope", want: CodeInvalidSOAP},
		{name: "root is not an Envelope", old: envStart, new: `<e:Envelope xmlns:e="urn:not-soap"`, want: CodeInvalidSOAP},
		{name: "two Headers", old: headerEnd, new: headerEnd + "<e:Header/>", want: CodeInvalidSOAP},
		{name: "Header after Body", old: "</e:Body>", new: "</e:Body><e:Header/>", want: CodeInvalidSOAP},
		{name: "element after Body", old: "</e:Body>", new: "</e:Body><x/>", want: CodeInvalidSOAP},
		{name: "element before Body", old: headerEnd, new: headerEnd + "<x/>", want: CodeInvalidSOAP},
		{name: "text in the Envelope", old: headerEnd, new: headerEnd + "text", want: CodeInvalidSOAP},
		{name: "text in the Header", old: headerEnd, new: "text" + headerEnd, want: CodeInvalidSOAP},
		{name: "text beside the Body element", old: body, new: body + "text", want: CodeInvalidBody},
		{name: "Fault in a request Body", old: body, new: `<e:Fault><faultcode>x</faultcode></e:Fault>`, want: CodeInvalidBody},
		{name: "Body element is not the service code", old: body, new: `<c:company xmlns:c="urn:x"/>`, want: CodeInconsistentHeaders},
		{name: "Body element with the service code as a prefix", old: body, new: `<c:companiesRequest xmlns:c="urn:x"/>`, want: CodeInconsistentHeaders},
		{name: "Body element in the default namespace", old: body, new: `<companies xmlns="urn:y"/>`, check: func(t *testing.T, r *Request) {
			if r.BodyName.Space != "urn:y" || r.BodyName.Local != "companies" {
				t.Errorf("BodyName = %+v", r.BodyName)
			}
		}},
		{name: "missing Body wins over header errors", old: "<e:Body>" + body + "</e:Body>", new: "", want: CodeMissingBody},
		{name: "duplicate field wins over a bad version", old: version, new: "<xrd:protocolVersion>9</xrd:protocolVersion>" + userID, want: CodeDuplicateHeaderField},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := []byte(baseEnvelope)
			if tc.old != "" {
				body = edit(t, tc.old, tc.new)
			}
			req, err := ParseRequest(body, textXML, Limits{})
			if got := codeOf(t, err); got != tc.want {
				t.Fatalf("code = %q, want %q (%v)", got, tc.want, err)
			}
			if err == nil && tc.check != nil {
				tc.check(t, req)
			}
		})
	}
}

func TestParseRequestLimits(t *testing.T) {
	body := []byte(baseEnvelope)
	cases := []struct {
		name string
		lim  Limits
		want Code
	}{
		{"defaults", Limits{}, ""},
		{"depth 4 is enough", Limits{MaxDepth: 4}, ""},
		{"depth 3", Limits{MaxDepth: 3}, CodeInvalidXML},
		{"elements", Limits{MaxElements: 10}, CodeInvalidXML},
		{"attributes", Limits{MaxAttrs: 2}, CodeInvalidXML},
		{"name length", Limits{MaxNameLen: 12}, CodeInvalidXML},
		{"text length", Limits{MaxTextLen: 10}, CodeInvalidXML},
		{"bytes", Limits{MaxBytes: int64(len(body) - 1)}, CodeMessageTooLarge},
		{"bytes exactly", Limits{MaxBytes: int64(len(body))}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseRequest(body, textXML, tc.lim)
			if got := codeOf(t, err); got != tc.want {
				t.Errorf("code = %q, want %q (%v)", got, tc.want, err)
			}
		})
	}
	if (Limits{}).withDefaults() != (Limits{MaxBytes: 10 << 20, MaxDepth: 64, MaxElements: 100000, MaxAttrs: 64, MaxNameLen: 256, MaxTextLen: 1 << 20}) {
		t.Errorf("defaults = %+v", Limits{}.withDefaults())
	}
}

func TestParseRequestContentTypes(t *testing.T) {
	env := []byte(baseEnvelope)
	cases := []struct {
		contentType string
		want        Code
	}{
		{"text/xml", ""},
		{"TEXT/XML; Charset=UTF-8", ""},
		{"application/soap+xml; charset=utf-8; action=\"companies\"", ""},
		{"", CodeInvalidContentType},
		{"text/html", CodeInvalidContentType},
		{"application/json", CodeInvalidContentType},
		{"text/xml; charset=ISO-8859-1", CodeInvalidContentType},
		{"text/xml; charset=\"", CodeInvalidContentType},
		{"multipart/related", CodeInvalidContentType},
	}
	for _, tc := range cases {
		_, err := ParseRequest(env, tc.contentType, Limits{})
		if got := codeOf(t, err); got != tc.want {
			t.Errorf("%q: code = %q, want %q (%v)", tc.contentType, got, tc.want, err)
		}
	}
}

func TestParseRequestMultipart(t *testing.T) {
	const soapPart = "Content-Type: text/xml; charset=UTF-8\r\nContent-ID: <soap>\r\n\r\n" + baseEnvelope
	const attachment = "Content-Type: application/octet-stream\r\nContent-ID: <att>\r\n\r\n\x00binary\r\n"
	join := func(parts ...string) string {
		var b strings.Builder
		for _, p := range parts {
			b.WriteString("--MIME_b\r\n" + p + "\r\n")
		}
		b.WriteString("--MIME_b--\r\n")
		return b.String()
	}
	cases := []struct {
		name, body, contentType string
		want                    Code
	}{
		{"SOAP part first", join(soapPart, attachment), "multipart/related; type=\"text/xml\"; boundary=MIME_b", ""},
		{"start names the second part", join(attachment, soapPart), "multipart/related; type=\"text/xml\"; start=\"<soap>\"; boundary=MIME_b", CodeInvalidSOAP},
		{"start names the first part", join(soapPart, attachment), "multipart/related; type=\"text/xml\"; start=\"<soap>\"; boundary=MIME_b", ""},
		{"multipart/mixed", join(soapPart), "multipart/mixed; boundary=MIME_b", ""},
		{"start names no part", join(soapPart, attachment), "multipart/related; start=\"<nope>\"; boundary=MIME_b", CodeInvalidSOAP},
		{"first part is not XML", join(attachment, soapPart), "multipart/related; boundary=MIME_b", CodeInvalidContentType},
		{"SOAP part in base64", join("Content-Type: text/xml\r\nContent-Transfer-Encoding: base64\r\n\r\nPGE+", attachment), "multipart/related; boundary=MIME_b", CodeInvalidContentType},
		{"SOAP part in Latin-1", join("Content-Type: text/xml; charset=ISO-8859-1\r\n\r\n" + baseEnvelope), "multipart/related; boundary=MIME_b", CodeInvalidContentType},
		{"no closing delimiter", "--MIME_b\r\n" + soapPart + "\r\n", "multipart/related; boundary=MIME_b", CodeInvalidSOAP},
		{"no parts", "just text", "multipart/related; boundary=MIME_b", CodeInvalidSOAP},
		{"empty SOAP part", join("Content-Type: text/xml\r\n\r\n"), "multipart/related; boundary=MIME_b", CodeInvalidSOAP},
		{"bad SOAP part", join("Content-Type: text/xml\r\n\r\n<a/>"), "multipart/related; boundary=MIME_b", CodeInvalidSOAP},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, err := ParseRequest([]byte(tc.body), tc.contentType, Limits{})
			if got := codeOf(t, err); got != tc.want {
				t.Fatalf("code = %q, want %q (%v)", got, tc.want, err)
			}
			if err != nil {
				return
			}
			if string(req.Envelope) != baseEnvelope {
				t.Errorf("Envelope is not the SOAP part's bytes:\n%q", req.Envelope)
			}
			if string(req.Raw) != tc.body || req.ContentType != tc.contentType {
				t.Error("Raw and ContentType must be the request as received")
			}
		})
	}
	big := join(soapPart, attachment)
	if _, err := ParseRequest([]byte(big), "multipart/related; boundary=MIME_b", Limits{MaxBytes: int64(len(big) - 1)}); codeOf(t, err) != CodeMessageTooLarge {
		t.Errorf("multipart over MaxBytes: err = %v, want client.message_too_large", err)
	}
}

func TestIDString(t *testing.T) {
	cases := []struct {
		id   ID
		want string
	}{
		{ID{XRoadInstance: "UA", MemberClass: "GOV", MemberCode: "00000003", SubsystemCode: "eservice"}, "UA/GOV/00000003/eservice"},
		{ID{XRoadInstance: "EE", MemberClass: "BUSINESS", MemberCode: "consumer"}, "EE/BUSINESS/consumer"},
		{ID{XRoadInstance: "UA", MemberClass: "GOV", MemberCode: "1", SubsystemCode: "civil", ServiceCode: "persons", ServiceVersion: "v1"}, "UA/GOV/1/civil/persons"},
		{ID{XRoadInstance: "EE", MemberClass: "GOV", MemberCode: "1", ServiceCode: "getState"}, "EE/GOV/1/getState"},
		{ID{XRoadInstance: "UA", MemberClass: "GOV", MemberCode: "1", SubsystemCode: "s", ServiceCode: "BAR/SERVICE"}, "UA/GOV/1/s/BAR%2FSERVICE"},
		{ID{XRoadInstance: "UA", MemberClass: "GOV", MemberCode: "a%2Fb", SubsystemCode: "s"}, "UA/GOV/a%252Fb/s"},
	}
	for _, tc := range cases {
		if got := tc.id.String(); got != tc.want {
			t.Errorf("%+v.String() = %q, want %q", tc.id, got, tc.want)
		}
	}
}

func TestErrorGovbusType(t *testing.T) {
	cases := map[Code]string{
		CodeInvalidBody:              "Client.BadRequest",
		CodeInvalidXML:               "Client.BadRequest",
		CodeInvalidContentType:       "Client.BadRequest",
		CodeMessageTooLarge:          "Client.PayloadTooLarge",
		CodeServerInvalidSOAP:        "Server.InternalError",
		CodeServerInvalidXML:         "Server.InternalError",
		CodeServerInvalidContentType: "Server.InternalError",
	}
	for code, want := range cases {
		e := &Error{Code: code, Message: "m"}
		if got := e.GovbusType(); got != want {
			t.Errorf("%s: GovbusType = %s, want %s", code, got, want)
		}
		if e.Error() != string(code)+": m" {
			t.Errorf("Error() = %q", e.Error())
		}
	}
	long := newError(CodeInvalidXML, strings.Repeat("é", 300)+"\xff")
	if len(long.Message) > maxMessageLen+3 || !strings.HasSuffix(long.Message, "...") || !isValidUTF8(long.Message) {
		t.Errorf("long message not cut cleanly: %d bytes %q", len(long.Message), long.Message[len(long.Message)-10:])
	}
}

func isValidUTF8(s string) bool { return strings.ToValidUTF8(s, "") == s }
