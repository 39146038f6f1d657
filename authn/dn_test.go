package authn

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"testing"

	"github.com/govbus/govbus/gateway"
)

var (
	oidCN = asn1.ObjectIdentifier{2, 5, 4, 3}
	oidO  = asn1.ObjectIdentifier{2, 5, 4, 10}
	oidOU = asn1.ObjectIdentifier{2, 5, 4, 11}
)

// rdn is one RDN of attributes given as type, value, type, value...
func rdn(tv ...any) pkix.RelativeDistinguishedNameSET {
	var set pkix.RelativeDistinguishedNameSET
	for i := 0; i < len(tv); i += 2 {
		set = append(set, pkix.AttributeTypeAndValue{Type: tv[i].(asn1.ObjectIdentifier), Value: tv[i+1]})
	}
	return set
}

// TestSubjectAttacks replays certificates whose subjects x509's
// pkix.Name.String prints as "CN=eservice,O=Ministry" although they are
// other names: only the certificate whose subject is exactly that name
// proves eservice.
func TestSubjectAttacks(t *testing.T) {
	ca := newCA(t, "govbus test CA")
	a := newAuthenticator(t, []Client{{
		ID: eservice, Certificates: []CertIdentity{{Subject: "CN=eservice,O=Ministry"}}, CAs: []*x509.Certificate{ca.cert},
	}})
	tests := []struct {
		name   string
		rdns   pkix.RDNSequence
		wantOK bool
	}{
		{"the subject itself: O=Ministry/CN=eservice", pkix.RDNSequence{rdn(oidO, "Ministry"), rdn(oidCN, "eservice")}, true},
		{"a second CN: O=Ministry/CN=attacker/CN=eservice", pkix.RDNSequence{rdn(oidO, "Ministry"), rdn(oidCN, "attacker"), rdn(oidCN, "eservice")}, false},
		{"a second CN after: O=Ministry/CN=eservice/CN=attacker", pkix.RDNSequence{rdn(oidO, "Ministry"), rdn(oidCN, "eservice"), rdn(oidCN, "attacker")}, false},
		{"a multi-valued RDN: CN=eservice+O=Ministry", pkix.RDNSequence{rdn(oidCN, "eservice", oidO, "Ministry")}, false},
		{"another order: CN=eservice/O=Ministry", pkix.RDNSequence{rdn(oidCN, "eservice"), rdn(oidO, "Ministry")}, false},
		{"an extra OU: O=Ministry/OU=x/CN=eservice", pkix.RDNSequence{rdn(oidO, "Ministry"), rdn(oidOU, "x"), rdn(oidCN, "eservice")}, false},
		{"a second O: O=Evil/O=Ministry/CN=eservice", pkix.RDNSequence{rdn(oidO, "Evil"), rdn(oidO, "Ministry"), rdn(oidCN, "eservice")}, false},
		{"a trailing space: CN=eservice ", pkix.RDNSequence{rdn(oidO, "Ministry"), rdn(oidCN, "eservice ")}, false},
		{"a comma inside a value: O=Ministry/CN=eservice,O=Ministry", pkix.RDNSequence{rdn(oidCN, "eservice,O=Ministry")}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ca.issueRaw(t, tt.rdns).Leaf
			err := a.Authenticate(eservice, gateway.Credential{Certificate: c})
			if tt.wantOK {
				if err != nil {
					t.Errorf("Authenticate: got %v, want nil", err)
				}
				return
			}
			checkUnauthenticated(t, err)
		})
	}
}

// TestSubjectMultiValued checks that a configured multi-valued RDN matches
// that RDN in either attribute order (an RDN is a set) and nothing else.
func TestSubjectMultiValued(t *testing.T) {
	ca := newCA(t, "govbus test CA")
	multi := ca.issueRaw(t, pkix.RDNSequence{rdn(oidCN, "eservice", oidO, "Ministry")}).Leaf
	split := ca.issueRaw(t, pkix.RDNSequence{rdn(oidO, "Ministry"), rdn(oidCN, "eservice")}).Leaf
	for _, subject := range []string{"CN=eservice+O=Ministry", "O=Ministry+CN=eservice"} {
		a := newAuthenticator(t, []Client{{ID: eservice, Certificates: []CertIdentity{{Subject: subject}}, CAs: []*x509.Certificate{ca.cert}}})
		if err := a.Authenticate(eservice, gateway.Credential{Certificate: multi}); err != nil {
			t.Errorf("%s, multi-valued certificate: got %v, want nil", subject, err)
		}
		checkUnauthenticated(t, a.Authenticate(eservice, gateway.Credential{Certificate: split}))
	}
}

func TestParseDN(t *testing.T) {
	tests := []struct {
		in, want string // want "" when ParseDN must refuse in
	}{
		{"CN=eservice,O=Ministry", "CN=eservice,O=Ministry"},
		{"cn=eservice,o=Ministry", "CN=eservice,O=Ministry"},
		{"O=Ministry+CN=eservice", "CN=eservice+O=Ministry"},
		{"CN=eservice,CN=attacker,O=Ministry", "CN=eservice,CN=attacker,O=Ministry"},
		{"2.5.4.3=eservice", "CN=eservice"},
		{"2.5.4.97=NTRUA-12345678,C=UA", "2.5.4.97=NTRUA-12345678,C=UA"},
		{`CN=Doe\, John,O=Ministry`, `CN=Doe\, John,O=Ministry`},
		{`CN=a\2Cb`, `CN=a\,b`},
		{`CN=a=b`, `CN=a=b`},
		{`CN=\ padded\ `, `CN=\ padded\ `},
		{`CN=\#1`, `CN=\#1`},
		{`CN=Київ`, `CN=Київ`},
		{`CN=\D0\9A`, `CN=К`},
		{`SERIALNUMBER=UA-1234,CN=x`, `SERIALNUMBER=UA-1234,CN=x`},
		{`CN=`, `CN=`},

		{"", ""},
		{"CN=eservice, O=Ministry", ""},
		{"CN=eservice ,O=Ministry", ""},
		{"CN=eservice,", ""},
		{"CN=eservice+", ""},
		{",CN=eservice", ""},
		{"CN=eservice,,O=Ministry", ""},
		{"eservice", ""},
		{"Common Name=eservice", ""},
		{"EMAIL=a@b", ""},
		{"CN=#0403616263", ""},
		{`CN=a"b`, ""},
		{"CN=a;O=b", ""},
		{"CN=a<b", ""},
		{`CN=a\`, ""},
		{`CN=a\zz`, ""},
		{`CN=\FF`, ""},
		{"CN=a+CN=b", ""},
		{"2=x", ""},
		{"2..4.3=x", ""},
		{"2.05.4.3=x", ""},
		{"=x", ""},
	}
	for _, tt := range tests {
		dn, err := ParseDN(tt.in)
		if tt.want == "" {
			if err == nil {
				t.Errorf("ParseDN(%q): got %q, want an error", tt.in, dn)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseDN(%q): got error %v, want %q", tt.in, err, tt.want)
			continue
		}
		if got := dn.String(); got != tt.want {
			t.Errorf("ParseDN(%q).String(): got %q, want %q", tt.in, got, tt.want)
		}
		// The String form parses back to itself.
		if again, err := ParseDN(dn.String()); err != nil || again.String() != dn.String() {
			t.Errorf("ParseDN(%q): got %q, %v, want %q again", dn.String(), again, err, dn.String())
		}
	}
}

// TestSubjectDN checks the RFC 4514 form read from certificates.
func TestSubjectDN(t *testing.T) {
	ca := newCA(t, "govbus test CA")
	tests := []struct {
		rdns pkix.RDNSequence
		want string
	}{
		{pkix.RDNSequence{rdn(oidO, "Ministry"), rdn(oidCN, "eservice")}, "CN=eservice,O=Ministry"},
		{pkix.RDNSequence{rdn(oidO, "Ministry"), rdn(oidCN, "attacker"), rdn(oidCN, "eservice")}, "CN=eservice,CN=attacker,O=Ministry"},
		{pkix.RDNSequence{rdn(oidCN, "eservice", oidO, "Ministry")}, "CN=eservice+O=Ministry"},
		{pkix.RDNSequence{rdn(oidCN, "a,b+c\\d")}, `CN=a\,b\+c\\d`},
		{pkix.RDNSequence{rdn(asn1.ObjectIdentifier{2, 5, 4, 97}, "NTRUA-1")}, "2.5.4.97=NTRUA-1"},
	}
	for _, tt := range tests {
		dn, err := SubjectDN(ca.issueRaw(t, tt.rdns).Leaf)
		if err != nil || dn.String() != tt.want {
			t.Errorf("SubjectDN: got %q, %v, want %q", dn, err, tt.want)
		}
	}
}

// FuzzParseDN checks that whatever parses prints a form that parses back
// to the same name.
func FuzzParseDN(f *testing.F) {
	for _, s := range []string{"CN=eservice,O=Ministry", `CN=a\,b+O=c`, `2.5.4.97=x\20`, "CN=\\ a\\ "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		dn, err := ParseDN(s)
		if err != nil {
			return
		}
		again, err := ParseDN(dn.String())
		if err != nil || again.String() != dn.String() {
			t.Fatalf("ParseDN(%q) = %q, which parses to %q, %v", s, dn, again, err)
		}
	})
}
