package gateway

import (
	"strings"
	"unicode/utf8"
)

// MaxTargetLen is the longest request target govbus accepts (8 KiB);
// longer ones are CodeURITooLong.
const MaxTargetLen = 8 << 10

// TargetKind tells what a request target addresses.
type TargetKind uint8

// Kinds of request target.
const (
	// TargetService is an exchange: /r1/{serviceId}[/{path}].
	TargetService TargetKind = iota + 1
	// TargetMeta is a metaservice of a subsystem: /r1/{subsystemId}/{name}.
	TargetMeta
	// TargetListClients is the directory: /listClients.
	TargetListClients
	// TargetTracker is the Data Tracker: /tracker/v1/accesses.
	TargetTracker
	// TargetSOAP is an X-Road SOAP 4.0 request: POST / or /soap.
	TargetSOAP
)

// Metaservice names, as in the X-Road REST metaservice protocol.
const (
	MetaListMethods    = "listMethods"
	MetaAllowedMethods = "allowedMethods"
	MetaGetOpenAPI     = "getOpenAPI"
	MetaGetWsdl        = "getWsdl"
)

// Target is a parsed request target.
type Target struct {
	Kind TargetKind
	// Service is the addressed service (TargetService) or, with an empty
	// Code, the addressed subsystem (TargetMeta).
	Service ServiceID
	// Meta is the metaservice name for TargetMeta.
	Meta string
	// Path is the path after the service code exactly as received (still
	// percent-encoded): "" or starting with "/". It is forwarded unchanged.
	Path string
	// RawQuery is the query as received, without '?'.
	RawQuery string
}

// ParseTarget parses the raw request target (origin form) of a consumer
// request. It never cleans or rewrites the path: every part of the service
// id is percent-decoded once, and in the path after the service code a "."
// or ".." segment (literal or encoded, alone or before a ';' matrix
// parameter), an encoded '/' or '\', a literal '\', a NUL, a broken
// percent-encoding, a byte that must be percent-encoded (no RFC 3986
// pchar) or a segment that is not UTF-8 once decoded is refused. A '#'
// anywhere is refused, the query's included.
// Errors are *Error with CodeURITooLong, CodeBadRequest or, for a target that
// names nothing govbus serves, CodeUnknownService.
func ParseTarget(raw string) (Target, error) {
	if len(raw) > MaxTargetLen {
		return Target{}, Errorf(CodeURITooLong, "request target longer than %d bytes", MaxTargetLen)
	}
	if raw == "" || raw[0] != '/' {
		return Target{}, Errorf(CodeBadRequest, "request target must be an absolute path")
	}
	// A '#' is no part of a request target; in the query, too, some
	// readers (Python's, Node's) cut it off there and others (Go's) keep
	// it, so a query parameter would have two values.
	if strings.IndexByte(raw, '#') >= 0 {
		return Target{}, Errorf(CodeBadRequest, "request target must not contain '#' (a fragment)")
	}
	path, query := raw, ""
	if i := strings.IndexByte(raw, '?'); i >= 0 {
		path, query = raw[:i], raw[i+1:]
	}
	if path == "/listClients" {
		return Target{Kind: TargetListClients, RawQuery: query}, nil
	}
	if path == TrackerPath {
		return Target{Kind: TargetTracker, RawQuery: query}, nil
	}
	if path == "/" || path == "/soap" {
		return Target{Kind: TargetSOAP, RawQuery: query}, nil
	}
	rest, ok := strings.CutPrefix(path, "/r1/")
	if !ok {
		return Target{}, Errorf(CodeUnknownService, "no such endpoint; exchanges are /r1/{serviceId}[/{path}]")
	}
	var parts [5]string
	for i := 0; i < 5; i++ {
		j := strings.IndexByte(rest, '/')
		if j < 0 {
			if i < 4 {
				return Target{}, Errorf(CodeBadRequest, "malformed service identifier: want /r1/INSTANCE/MEMBERCLASS/MEMBERCODE/SUBSYSTEM/SERVICECODE")
			}
			parts[i], rest = rest, ""
			break
		}
		parts[i], rest = rest[:j], rest[j:]
		if i < 4 {
			rest = rest[1:]
		}
	}
	// rest is now "" or "/..." (the path after the service code).
	if rest == "" {
		switch parts[4] {
		case MetaListMethods, MetaAllowedMethods, MetaGetOpenAPI, MetaGetWsdl:
			sub, err := serviceFromParts([5]string{parts[0], parts[1], parts[2], parts[3], "x"})
			if err != nil {
				return Target{}, err
			}
			sub.Code = ""
			return Target{Kind: TargetMeta, Service: sub, Meta: parts[4], RawQuery: query}, nil
		}
	}
	svc, err := serviceFromParts(parts)
	if err != nil {
		return Target{}, err
	}
	if err := checkPath(rest); err != nil {
		return Target{}, err
	}
	return Target{Kind: TargetService, Service: svc, Path: rest, RawQuery: query}, nil
}

// checkPath refuses traversal and separator tricks in the forwarded path:
// a segment that is "." or "..", or whose part before its first ';' is,
// once percent-decoded (checking the decoded form covers the raw one); an
// encoded '/' or '\', a literal '\', a NUL or a broken percent-encoding;
// a byte that is no pchar; a segment that is not UTF-8 once decoded.
func checkPath(p string) error {
	for p != "" {
		var seg string
		seg, p = cutSegment(p[1:])
		if strings.IndexByte(seg, '\\') >= 0 {
			return Errorf(CodeBadRequest, "backslash in path")
		}
		for i := 0; i < len(seg); i++ {
			if !pathByte(seg[i]) {
				// Go's URL type, and so the registry's request line,
				// would re-encode it and the rest of the path with it
				// ("%3B|" as ";%7C").
				return Errorf(CodeBadRequest, "character %q in path: percent-encode it", seg[i])
			}
		}
		dec, ok := unescapePart(seg)
		if !ok {
			return Errorf(CodeBadRequest, "malformed percent-encoding in path")
		}
		if !utf8.ValidString(dec) {
			// Old decoders read overlong forms ("%c0%ae") as '.' or '/'.
			return Errorf(CodeBadRequest, "path is not UTF-8 once percent-decoded")
		}
		if isDot(dec) || isDot(beforeParam(dec)) {
			// Tomcat, Jetty and Spring drop ";params" from a segment and
			// then resolve what is left: "..;x" climbs like "..".
			return Errorf(CodeBadRequest, "dot segment in path")
		}
		if strings.IndexByte(dec, 0) >= 0 {
			return Errorf(CodeBadRequest, "NUL in path")
		}
		if strings.ContainsAny(dec, "/\\") {
			return Errorf(CodeBadRequest, "encoded slash or backslash in path")
		}
	}
	return nil
}

// pathByte reports whether c may appear as it is in a path segment: an
// RFC 3986 pchar, or the '%' of a percent-encoding.
func pathByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		strings.IndexByte("-._~!$&'()*+,;=:@%", c) >= 0
}

func isDot(seg string) bool { return seg == "." || seg == ".." }

// beforeParam returns seg up to its first ';' (all of it when none).
func beforeParam(seg string) string {
	if i := strings.IndexByte(seg, ';'); i >= 0 {
		return seg[:i]
	}
	return seg
}
