package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"strings"
	"unicode/utf8"
)

// The data subject a call's record names must be the one the registry
// will read from the bytes govbus forwards. Registries read the same bytes
// in different ways — a servlet container drops ";x" from a segment, a
// form decoder turns "+" into a space, a Go struct decoder matches "ID"
// to the field id, a JavaScript one reads 10000000000000001 as
// 10000000000000000 — so every place where two readers could disagree is
// refused (Client.BadRequest) instead of recorded under a guess.

// maxSubjectLen bounds a data subject.
const maxSubjectLen = 256

// SubjectOf returns the data subject of req according to the route's
// SubjectSpec: "" when the route names none or the call carries none. A
// call whose subject is ambiguous — a repeated parameter, header or JSON
// key, a key that matches the field only when case is ignored, a value
// that decodes two ways (matrix parameters, non-canonical percent-encoding,
// "+", surrounding white space, control characters, a JSON number that is
// not an exact integer, a body that is not JSON or starts with a byte
// order mark) — is a CodeBadRequest *Error: it must not be forwarded.
func (r *Route) SubjectOf(req *Request) (string, error) {
	s := r.Subject
	if s == nil {
		return "", nil
	}
	var v string
	var err error
	switch s.In {
	case "path":
		v, err = pathSubject(r.Paths, req.Target.Path, s.Name)
	case "query":
		if v, err = querySubject(req.Target.RawQuery, s.Name); err == nil {
			err = formSubject(req, s.Name)
		}
	case "header":
		v, err = headerSubject(req.Header, s.Name)
	case "json":
		v, err = JSONSubject(req.BodyBytes, s.Name)
	case "soap":
		v, err = req.SOAPSubject, nil
	}
	if err != nil {
		return "", err
	}
	if v == "" {
		return "", nil
	}
	if err := checkSubject(v); err != nil {
		return "", err
	}
	if s.Pattern != nil && !s.Pattern.MatchString(v) {
		return "", subjectError("not in the service's subject format")
	}
	return v, nil
}

// subjectError is the refusal of an ambiguous data subject.
func subjectError(format string, args ...any) *Error {
	return Errorf(CodeBadRequest, "ambiguous data subject: "+format, args...)
}

// checkSubject refuses a decoded subject that readers could take apart
// differently: surrounding white space, control or replacement
// characters, invalid UTF-8, or an over-long value.
func checkSubject(v string) error {
	if len(v) > maxSubjectLen {
		return subjectError("longer than %d bytes", maxSubjectLen)
	}
	if !utf8.ValidString(v) || strings.ContainsRune(v, utf8.RuneError) {
		return subjectError("not valid UTF-8")
	}
	if strings.TrimSpace(v) != v {
		return subjectError("surrounded by white space")
	}
	for _, c := range v {
		if c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) {
			return subjectError("control character")
		}
	}
	return nil
}

// pathSubject reads {name} from the first template the path fits. A path
// that fits no template with {name} as written but fits one as a lenient
// router reads it is refused: the registry would serve that person's data
// while govbus recorded no subject.
func pathSubject(templates []string, path, name string) (string, error) {
	for _, t := range templates {
		raw, ok := templateSegment(t, path, name)
		if !ok {
			continue
		}
		return canonicalUnescape(raw, false)
	}
	want := "{" + name + "}"
	for _, t := range templates {
		if strings.Contains(t, want) && looseMatch(t, path) {
			return "", subjectError("the path fits %s only as some routers read it (empty segments, a trailing '/', ';' parameters, encoding or case)", t)
		}
	}
	return "", nil
}

// looseMatch reports whether path fits template t as lenient routers read
// it: empty segments dropped (Tomcat and Spring collapse "//" and match a
// trailing '/'), each segment percent-decoded and cut at its first ';',
// literal segments compared ignoring case.
func looseMatch(t, path string) bool {
	for {
		t, path = strings.TrimLeft(t, "/"), strings.TrimLeft(path, "/")
		if t == "" || path == "" {
			return t == path
		}
		var ts, ps string
		ts, t = cutSegment(t)
		ps, path = cutSegment(path)
		if d, ok := unescapePart(ps); ok {
			ps = d
		}
		ps = beforeParam(ps)
		isVar := len(ts) > 1 && ts[0] == '{' && ts[len(ts)-1] == '}'
		if isVar && ps == "" || !isVar && !strings.EqualFold(ts, ps) {
			return false
		}
	}
}

// templateSegment returns the raw path segment that {name} of template t
// matches, when path fits t.
func templateSegment(t, path, name string) (string, bool) {
	v, ok := matchTemplate(t, path, name)
	return v, ok && v != ""
}

// canonicalUnescape percent-decodes a raw path segment or query value once,
// refusing what some reader would decode otherwise: ';' (matrix
// parameters, cut off by servlet containers), '+' in a query (a space to
// form decoders, a plus to others), a percent-encoded byte that needed no
// encoding (%32 for "2": one reader sees "%32", another "2"), and a
// decoded '%' (a second decoding would change it again).
func canonicalUnescape(raw string, query bool) (string, error) {
	if strings.IndexByte(raw, ';') >= 0 {
		return "", subjectError("';' in the subject (matrix parameters)")
	}
	if query && strings.IndexByte(raw, '+') >= 0 {
		return "", subjectError("'+' in the subject (a space to some readers)")
	}
	if strings.IndexByte(raw, '%') < 0 {
		return raw, nil
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] != '%' {
			continue
		}
		if i+2 >= len(raw) || !isHex(raw[i+1]) || !isHex(raw[i+2]) {
			return "", subjectError("malformed percent-encoding")
		}
		c := unhex(raw[i+1])<<4 | unhex(raw[i+2])
		if isUnreserved(c) {
			return "", subjectError("percent-encoded %q needs no encoding", string(rune(c)))
		}
		if c == ';' || c == '%' || c == '+' || c == '/' || c == '\\' || c == '?' || c == '#' {
			return "", subjectError("encoded %q in the subject", string(rune(c)))
		}
		i += 2
	}
	v, ok := unescapePart(raw)
	if !ok {
		return "", subjectError("malformed percent-encoding")
	}
	return v, nil
}

// isUnreserved reports whether c is an RFC 3986 unreserved character.
func isUnreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// querySubject reads parameter name from a raw query. A query that does
// not split into key=value pairs by '&' alone, a key written in another
// way than name (case or encoding) or a repeated parameter is refused.
func querySubject(raw, name string) (string, error) {
	if raw == "" {
		return "", nil
	}
	if strings.IndexByte(raw, ';') >= 0 {
		return "", subjectError("';' in the query (a separator to some readers)")
	}
	var value string
	found := false
	for _, kv := range strings.Split(raw, "&") {
		k, v, _ := strings.Cut(kv, "=")
		dk, ok := unescapePart(strings.ReplaceAll(k, "+", " "))
		if !ok {
			return "", subjectError("malformed percent-encoding in a query key")
		}
		if !strings.EqualFold(dk, name) && !strings.EqualFold(k, name) {
			continue
		}
		if k != name {
			return "", subjectError("query parameter %s written another way", name)
		}
		if found {
			return "", subjectError("query parameter %s sent more than once", name)
		}
		found = true
		var err error
		if value, err = canonicalUnescape(v, true); err != nil {
			return "", err
		}
	}
	return value, nil
}

// formSubject refuses a form body (application/x-www-form-urlencoded or
// multipart/form-data) that holds a parameter named like the query's
// subject, in any case or encoding, or that does not parse: Rails, PHP's
// $_REQUEST and servlet containers read a form body's parameters together
// with the query's, Rails and PHP letting the body's win.
func formSubject(req *Request, name string) error {
	if len(req.BodyBytes) == 0 {
		return nil
	}
	for _, ct := range req.Header["Content-Type"] {
		switch strings.ToLower(strings.TrimSpace(beforeParam(ct))) {
		case "application/x-www-form-urlencoded":
			for _, kv := range strings.FieldsFunc(string(req.BodyBytes), func(r rune) bool { return r == '&' || r == ';' }) {
				k, _, _ := strings.Cut(kv, "=")
				dk, ok := unescapePart(strings.ReplaceAll(k, "+", " "))
				if !ok || strings.EqualFold(dk, name) || strings.EqualFold(k, name) {
					return subjectError("the form body holds a parameter %s too", name)
				}
			}
		case "multipart/form-data":
			_, params, err := mime.ParseMediaType(ct)
			if err != nil {
				return subjectError("a form body whose parameters cannot be read")
			}
			mr := multipart.NewReader(bytes.NewReader(req.BodyBytes), params["boundary"])
			for {
				part, err := mr.NextPart()
				if err == io.EOF {
					break
				}
				if err != nil {
					return subjectError("a form body whose parameters cannot be read")
				}
				if strings.EqualFold(part.FormName(), name) {
					return subjectError("the form body holds a parameter %s too", name)
				}
			}
		}
	}
	return nil
}

// headerSubject reads the one value of header name.
func headerSubject(h map[string][]string, name string) (string, error) {
	var vals []string
	for k, v := range h {
		if strings.EqualFold(k, name) {
			vals = append(vals, v...)
		}
	}
	switch len(vals) {
	case 0:
		return "", nil
	case 1:
		if strings.IndexByte(vals[0], ',') >= 0 {
			return "", subjectError("',' in header %s (a list to some readers)", name)
		}
		return vals[0], nil
	}
	return "", subjectError("header %s sent more than once", name)
}

// JSONSubject reads the dotted field of a JSON body ("person.id"): a
// string, or an integer whose literal every JSON reader takes for the same
// number (at most 2^53 in magnitude, no fraction or exponent). Along the
// path a key that appears twice, or that matches only when case is ignored
// (Go's decoders match "ID" to id), is refused, as is a body that is not
// one JSON value or starts with a byte order mark. An empty body has no
// subject.
func JSONSubject(body []byte, field string) (string, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return "", nil
	}
	if bytes.HasPrefix(body, []byte("\xef\xbb\xbf")) {
		return "", subjectError("the JSON body starts with a byte order mark")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	v, err := findField(dec, strings.Split(field, "."))
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			return "", err
		}
		return "", Wrap(CodeBadRequest, err, "the body is not the JSON the service's data subject is read from")
	}
	// The rest of the document must be well-formed too, and end.
	if err := skipRest(dec); err != nil {
		var e *Error
		if errors.As(err, &e) {
			return "", err
		}
		return "", Wrap(CodeBadRequest, err, "the body is not the JSON the service's data subject is read from")
	}
	return v, nil
}

// findField reads the next value of dec, descending path; it returns the
// field's value ("" when absent) and leaves dec after that value.
func findField(dec *json.Decoder, path []string) (string, error) {
	tok, err := dec.Token()
	if err != nil {
		return "", err
	}
	if len(path) == 0 {
		switch x := tok.(type) {
		case string:
			return x, nil
		case json.Number:
			return exactInteger(x)
		case json.Delim:
			return "", skipValue(dec, x)
		}
		return "", nil // null, true, false: no subject
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return "", nil
	}
	if d != '{' {
		return "", skipValue(dec, d)
	}
	var value string
	seen := false
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return "", err
		}
		key := kt.(string)
		switch {
		case key == path[0]:
			if seen {
				return "", subjectError("JSON key %q appears twice", key)
			}
			seen = true
			if value, err = findField(dec, path[1:]); err != nil {
				return "", err
			}
		case strings.EqualFold(key, path[0]):
			return "", subjectError("JSON key %q differs from %q only in case", key, path[0])
		default:
			if err := skipNext(dec); err != nil {
				return "", err
			}
		}
	}
	if _, err := dec.Token(); err != nil { // '}'
		return "", err
	}
	return value, nil
}

// exactInteger accepts a JSON number that every reader decodes alike.
func exactInteger(n json.Number) (string, error) {
	s := n.String()
	digits := strings.TrimPrefix(s, "-")
	if strings.ContainsAny(digits, ".eE") {
		return "", subjectError("the JSON number is not an integer")
	}
	// 2^53 = 9007199254740992: beyond it float64 readers round.
	if len(digits) > 16 || len(digits) == 16 && digits > "9007199254740992" {
		return "", subjectError("the JSON number is beyond 2^53, read differently by different readers")
	}
	return s, nil
}

// maxJSONDepth bounds the nesting of a JSON body whose data subject is
// read: deeper bodies are refused rather than walked (a body of ten million
// '[' must not cost a stack of that depth).
const maxJSONDepth = 512

// skipNext skips the next value of dec.
func skipNext(dec *json.Decoder) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); ok {
		return skipValue(dec, d)
	}
	return nil
}

// skipValue skips the rest of an array or object whose opening delimiter
// was just read, without recursion, refusing nesting past maxJSONDepth.
func skipValue(dec *json.Decoder, open json.Delim) error {
	if open != '{' && open != '[' {
		return nil
	}
	for depth := 1; depth > 0; {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			if depth++; depth > maxJSONDepth {
				return subjectError("the JSON body is nested deeper than %d", maxJSONDepth)
			}
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
	}
	return nil
}

// skipRest checks that nothing but white space follows the first value.
func skipRest(dec *json.Decoder) error {
	if _, err := dec.Token(); err != io.EOF {
		if err == nil {
			return subjectError("more than one JSON value in the body")
		}
		return err
	}
	return nil
}
