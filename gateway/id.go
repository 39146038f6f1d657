package gateway

import (
	"strings"
)

// maxPartLen is the longest identifier part X-Road accepts.
const maxPartLen = 255

// ClientID names a subsystem: INSTANCE/MEMBERCLASS/MEMBERCODE/SUBSYSTEM.
type ClientID struct {
	Instance, MemberClass, MemberCode, Subsystem string
}

// ServiceID names a service of a subsystem:
// INSTANCE/MEMBERCLASS/MEMBERCODE/SUBSYSTEM/SERVICECODE.
type ServiceID struct {
	ClientID
	// Code is the decoded service code; it may contain '/'.
	Code string
}

// String returns the canonical form, e.g. "UA/GOV/00000003/eservice".
func (c ClientID) String() string {
	return c.Instance + "/" + c.MemberClass + "/" + c.MemberCode + "/" + c.Subsystem
}

// Member returns the member part, INSTANCE/MEMBERCLASS/MEMBERCODE.
func (c ClientID) Member() string {
	return c.Instance + "/" + c.MemberClass + "/" + c.MemberCode
}

// IsZero reports whether c is the zero value.
func (c ClientID) IsZero() bool { return c == ClientID{} }

// String returns the canonical form, with a '/' inside the service code
// written as %2F so that the string parses back to the same identifier.
func (s ServiceID) String() string {
	return s.ClientID.String() + "/" + strings.ReplaceAll(s.Code, "/", "%2F")
}

// Subsystem returns the subsystem that provides the service.
func (s ServiceID) Subsystem() ClientID { return s.ClientID }

// validPart reports whether p is 1–255 characters of the X-Road identifier
// charset: A-Z a-z 0-9 and ' ( ) + , - . = ?
func validPart(p string) bool {
	if len(p) == 0 || len(p) > maxPartLen {
		return false
	}
	for i := 0; i < len(p); i++ {
		if !idChar[p[i]] {
			return false
		}
	}
	return true
}

// idChar marks the bytes allowed in identifier parts.
var idChar = func() (t [256]bool) {
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for _, c := range "'()+,-.=?" {
		t[c] = true
	}
	return t
}()

// validCode reports whether a decoded service code is valid: like a part,
// but it may also contain '/' (between non-empty pieces).
func validCode(code string) bool {
	if len(code) == 0 || len(code) > maxPartLen {
		return false
	}
	for {
		piece, rest, more := strings.Cut(code, "/")
		if !validPart(piece) {
			return false
		}
		if !more {
			return true
		}
		code = rest
	}
}

// ParseClientID parses INSTANCE/MEMBERCLASS/MEMBERCODE/SUBSYSTEM as it
// appears in a header or a configuration file (no percent-decoding).
// It returns a CodeBadRequest *Error when s is not a valid client id.
func ParseClientID(s string) (ClientID, error) {
	var parts [4]string
	if !splitN(s, parts[:]) {
		return ClientID{}, Errorf(CodeBadRequest, "malformed client identifier: want INSTANCE/MEMBERCLASS/MEMBERCODE/SUBSYSTEM")
	}
	for _, p := range parts {
		if !validPart(p) {
			return ClientID{}, Errorf(CodeBadRequest, "malformed client identifier: each part must be 1-255 characters of A-Z a-z 0-9 ' ( ) + , - . = ?")
		}
	}
	return ClientID{parts[0], parts[1], parts[2], parts[3]}, nil
}

// ParseServiceID parses INSTANCE/MEMBERCLASS/MEMBERCODE/SUBSYSTEM/SERVICECODE
// as it appears in a configuration file or a flag. Everything after the
// fourth '/' is the service code, whose own '/'s may be written plain
// (BAR/SERVICE, as X-Road names the code) or as %2F; every part is
// percent-decoded once. A request target is parsed by ParseTarget instead,
// where only %2F can stand for a '/' of the code.
// It returns a CodeBadRequest *Error when s is not a valid service id.
func ParseServiceID(s string) (ServiceID, error) {
	var parts [5]string
	rest := s
	for i := 0; i < 4; i++ {
		j := strings.IndexByte(rest, '/')
		if j < 0 {
			return ServiceID{}, Errorf(CodeBadRequest, "malformed service identifier: want INSTANCE/MEMBERCLASS/MEMBERCODE/SUBSYSTEM/SERVICECODE")
		}
		parts[i], rest = rest[:j], rest[j+1:]
	}
	if strings.IndexByte(rest, '/') < 0 {
		parts[4] = rest
		return serviceFromParts(parts)
	}
	// A plain '/' in the code: each piece is decoded once, then joined.
	var dec [5]string
	for i, p := range parts[:4] {
		d, ok := unescapePart(p)
		if !ok {
			return ServiceID{}, Errorf(CodeBadRequest, "malformed service identifier: bad percent-encoding")
		}
		dec[i] = d
	}
	var b strings.Builder
	for i, piece := range strings.Split(rest, "/") {
		d, ok := unescapePart(piece)
		if !ok {
			return ServiceID{}, Errorf(CodeBadRequest, "malformed service identifier: bad percent-encoding")
		}
		if i > 0 {
			b.WriteByte('/')
		}
		b.WriteString(d)
	}
	dec[4] = b.String()
	return serviceFromDecoded(dec)
}

// serviceFromParts decodes and validates the five raw (percent-encoded)
// parts of a service id.
func serviceFromParts(raw [5]string) (ServiceID, error) {
	var dec [5]string
	for i, p := range raw {
		d, ok := unescapePart(p)
		if !ok {
			return ServiceID{}, Errorf(CodeBadRequest, "malformed service identifier: bad percent-encoding")
		}
		dec[i] = d
	}
	return serviceFromDecoded(dec)
}

// serviceFromDecoded validates the five decoded parts of a service id.
func serviceFromDecoded(dec [5]string) (ServiceID, error) {
	for _, p := range dec[:4] {
		if !validPart(p) {
			return ServiceID{}, Errorf(CodeBadRequest, "malformed service identifier: each part must be 1-255 characters of A-Z a-z 0-9 ' ( ) + , - . = ?")
		}
	}
	if !validCode(dec[4]) {
		return ServiceID{}, Errorf(CodeBadRequest, "malformed service code: 1-255 characters of A-Z a-z 0-9 ' ( ) + , - . = ? and encoded /")
	}
	return ServiceID{ClientID{dec[0], dec[1], dec[2], dec[3]}, dec[4]}, nil
}

// splitN splits s at '/' into exactly len(out) parts.
func splitN(s string, out []string) bool {
	for i := range out {
		if i == len(out)-1 {
			if strings.IndexByte(s, '/') >= 0 {
				return false
			}
			out[i] = s
			return true
		}
		j := strings.IndexByte(s, '/')
		if j < 0 {
			return false
		}
		out[i], s = s[:j], s[j+1:]
	}
	return true
}

// unescapePart percent-decodes p once. It does not allocate when p holds no
// '%'. '+' stays '+' (path semantics).
func unescapePart(p string) (string, bool) {
	n := strings.Count(p, "%")
	if n == 0 {
		return p, true
	}
	b := make([]byte, 0, max(len(p)-2*n, 0)) // "%%" has more % than room
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c != '%' {
			b = append(b, c)
			continue
		}
		if i+2 >= len(p) || !isHex(p[i+1]) || !isHex(p[i+2]) {
			return "", false
		}
		b = append(b, unhex(p[i+1])<<4|unhex(p[i+2]))
		i += 2
	}
	return string(b), true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}
