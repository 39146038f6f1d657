package authn

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// DN is an X.509 distinguished name, kept whole: every relative
// distinguished name (RDN) in its order, and a multi-valued RDN
// (CN=a+O=b) as one RDN. Two DNs are the same name exactly when their
// String forms are equal.
type DN struct {
	// rdns are in the certificate's (ASN.1) order, the most significant
	// first; the attributes of each RDN are sorted by their string form.
	rdns [][]attribute
}

// attribute is one attribute type and value of an RDN.
type attribute struct {
	oid   string // dotted
	value string
}

// keywords are the attribute type names of RFC 4514 §3 (and SERIALNUMBER
// and POSTALCODE, which x509 certificates use): a DN's String form names
// these types so, any other by its dotted OID.
var keywords = map[string]string{
	"2.5.4.3":                    "CN",
	"2.5.4.7":                    "L",
	"2.5.4.8":                    "ST",
	"2.5.4.10":                   "O",
	"2.5.4.11":                   "OU",
	"2.5.4.6":                    "C",
	"2.5.4.9":                    "STREET",
	"0.9.2342.19200300.100.1.25": "DC",
	"0.9.2342.19200300.100.1.1":  "UID",
	"2.5.4.5":                    "SERIALNUMBER",
	"2.5.4.17":                   "POSTALCODE",
}

// oidOf maps an upper-case keyword to its dotted OID.
func oidOf(keyword string) (string, bool) {
	for oid, k := range keywords {
		if k == keyword {
			return oid, true
		}
	}
	return "", false
}

// String returns the DN in RFC 4514 form: the most significant RDN last
// ("CN=eservice,O=Ministry"), a multi-valued RDN's attributes joined by
// "+", type names in upper case, values escaped where RFC 4514 requires
// (and control characters as \XX).
func (d DN) String() string {
	var b strings.Builder
	for i := len(d.rdns) - 1; i >= 0; i-- {
		if i != len(d.rdns)-1 {
			b.WriteByte(',')
		}
		for j, a := range d.rdns[i] {
			if j > 0 {
				b.WriteByte('+')
			}
			b.WriteString(a.String())
		}
	}
	return b.String()
}

func (a attribute) String() string {
	name, ok := keywords[a.oid]
	if !ok {
		name = a.oid
	}
	return name + "=" + escapeValue(a.value)
}

// escapeValue escapes an attribute value as RFC 4514 §2.4 requires.
func escapeValue(v string) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case strings.IndexByte(`"+,;<>\`, c) >= 0,
			c == '#' && i == 0,
			c == ' ' && (i == 0 || i == len(v)-1):
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c == 0x7f:
			fmt.Fprintf(&b, `\%02X`, c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// sortRDN puts an RDN's attributes in a fixed order (an RDN is a set).
func sortRDN(rdn []attribute) {
	slices.SortFunc(rdn, func(x, y attribute) int { return strings.Compare(x.String(), y.String()) })
}

// ParseDN parses a distinguished name in the string form of RFC 4514
// (e.g. "CN=eservice,O=Ministry", "CN=eservice+O=Ministry"). It is
// strict: no space around "," or "+", no unknown type keyword (use the
// dotted OID), no value in "#hex" form, no unescaped special character,
// no empty DN, and no attribute twice in one RDN.
func ParseDN(s string) (DN, error) {
	if s == "" {
		return DN{}, errors.New("empty distinguished name")
	}
	var rdns [][]attribute
	var rdn []attribute
	for i := 0; ; {
		a, next, err := parseAttribute(s, i)
		if err != nil {
			return DN{}, err
		}
		for _, o := range rdn {
			if o.oid == a.oid {
				return DN{}, fmt.Errorf("attribute %s twice in one RDN", a)
			}
		}
		rdn = append(rdn, a)
		if next == len(s) || s[next] == ',' {
			sortRDN(rdn)
			rdns = append(rdns, rdn)
			rdn = nil
		}
		if next == len(s) {
			break
		}
		if next == len(s)-1 {
			return DN{}, fmt.Errorf("nothing after the final %q", s[next])
		}
		i = next + 1
	}
	slices.Reverse(rdns) // the string names the most significant RDN last
	return DN{rdns: rdns}, nil
}

// parseAttribute parses "type=value" at s[i:] and returns the index of
// the "," or "+" that ends it, or len(s).
func parseAttribute(s string, i int) (attribute, int, error) {
	eq := strings.IndexByte(s[i:], '=')
	if eq < 0 {
		return attribute{}, 0, fmt.Errorf("%q is not type=value", s[i:])
	}
	oid, err := parseType(s[i : i+eq])
	if err != nil {
		return attribute{}, 0, err
	}
	i += eq + 1
	if i < len(s) && s[i] == '#' {
		return attribute{}, 0, errors.New(`values in "#hex" form are not supported (identify such a certificate by its sha256)`)
	}
	var v []byte
	start := i
	lastEscaped := false
	for i < len(s) && s[i] != ',' && s[i] != '+' {
		c := s[i]
		switch {
		case c == '\\':
			if i+1 >= len(s) {
				return attribute{}, 0, errors.New(`a "\" ends the name`)
			}
			if strings.IndexByte(`"+,;<>\ #=`, s[i+1]) >= 0 {
				v = append(v, s[i+1])
				i += 2
			} else if i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
				n, _ := strconv.ParseUint(s[i+1:i+3], 16, 8)
				v = append(v, byte(n))
				i += 3
			} else {
				return attribute{}, 0, fmt.Errorf(`bad escape at %q`, s[i:])
			}
			lastEscaped = true
			continue
		case c == ' ' && i == start:
			return attribute{}, 0, fmt.Errorf(`a value starts with a space (no space after "," or "+"; escape it as "\ ")`)
		case strings.IndexByte("\";<>\x00", c) >= 0:
			return attribute{}, 0, fmt.Errorf("unescaped %q in a value", c)
		}
		v = append(v, c)
		lastEscaped = false
		i++
	}
	if len(v) > 0 && v[len(v)-1] == ' ' && !lastEscaped {
		return attribute{}, 0, errors.New(`a value ends with a space (no space before "," or "+"; escape it as "\ ")`)
	}
	if !utf8.Valid(v) {
		return attribute{}, 0, errors.New("a value is not UTF-8")
	}
	return attribute{oid: oid, value: string(v)}, i, nil
}

// parseType parses an attribute type: a keyword (any case) or a dotted
// OID, returned as the dotted OID.
func parseType(t string) (string, error) {
	if t == "" {
		return "", errors.New("an attribute has no type")
	}
	if t[0] >= '0' && t[0] <= '9' {
		parts := strings.Split(t, ".")
		if len(parts) < 2 {
			return "", fmt.Errorf("%q is not a dotted OID", t)
		}
		for _, p := range parts {
			if p == "" || len(p) > 1 && p[0] == '0' || strings.Trim(p, "0123456789") != "" || len(p) > 9 {
				return "", fmt.Errorf("%q is not a dotted OID", t)
			}
		}
		return t, nil
	}
	if oid, ok := oidOf(strings.ToUpper(t)); ok {
		return oid, nil
	}
	return "", fmt.Errorf("unknown attribute type %q (write its dotted OID, or one of CN, O, OU, L, ST, C, STREET, DC, UID, SERIALNUMBER, POSTALCODE; no space around \",\")", t)
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// SubjectDN reads a certificate's subject from its DER encoding
// (RawSubject), every RDN as encoded. It fails when the subject does not
// parse or holds a value that is not a character string: such a
// certificate can be identified only by its fingerprint.
func SubjectDN(c *x509.Certificate) (DN, error) {
	var seq pkix.RDNSequence
	rest, err := asn1.Unmarshal(c.RawSubject, &seq)
	if err != nil {
		return DN{}, fmt.Errorf("parsing the subject: %w", err)
	}
	if len(rest) > 0 {
		return DN{}, errors.New("parsing the subject: trailing data")
	}
	if len(seq) == 0 {
		return DN{}, errors.New("the subject is empty")
	}
	rdns := make([][]attribute, len(seq))
	for i, set := range seq {
		if len(set) == 0 {
			return DN{}, errors.New("the subject has an empty RDN")
		}
		for _, atv := range set {
			v, ok := atv.Value.(string)
			if !ok || !utf8.ValidString(v) {
				return DN{}, fmt.Errorf("the subject's %s is not a character string", atv.Type)
			}
			rdns[i] = append(rdns[i], attribute{oid: atv.Type.String(), value: v})
		}
		sortRDN(rdns[i])
	}
	return DN{rdns: rdns}, nil
}
