package gateway

import (
	"bytes"
	"mime"
	"mime/multipart"
	"strings"
)

// overrideParam is the parameter that Laravel and Symfony (in the query or
// a form body of a POST) and Rails (in a form body) take for the request's
// method, so that a POST the policy allowed would run as a DELETE.
const overrideParam = "_method"

// checkBody runs once the body is read, before the request record:
// checkOverride, then checkSOAPBody.
func checkBody(req *Request) error {
	if err := checkOverride(req); err != nil {
		return err
	}
	return checkSOAPBody(req)
}

// checkOverride refuses an exchange whose query or form body holds a
// method override parameter, however written: the policy decided on the
// request's own method. Errors are CodeBadRequest.
func checkOverride(req *Request) error {
	found := hasOverride(req.Target.RawQuery)
	for _, ct := range req.Header["Content-Type"] {
		if found || len(req.BodyBytes) == 0 {
			break
		}
		switch strings.ToLower(strings.TrimSpace(beforeParam(ct))) {
		case "application/x-www-form-urlencoded":
			found = hasOverride(string(req.BodyBytes))
		case "multipart/form-data":
			if _, params, err := mime.ParseMediaType(ct); err == nil {
				mr := multipart.NewReader(bytes.NewReader(req.BodyBytes), params["boundary"])
				for {
					part, err := mr.NextPart()
					if err != nil {
						break
					}
					if isOverride(part.FormName()) {
						found = true
						break
					}
				}
			}
		}
	}
	if found {
		return Errorf(CodeBadRequest, "a %s parameter (a method override to some registries) is refused", overrideParam)
	}
	return nil
}

// hasOverride reports whether a raw query or form body has a key that
// some form decoder reads as overrideParam ('&' or ';' separated, '+' as
// space, percent-decoded).
func hasOverride(raw string) bool {
	for raw != "" {
		kv := raw
		if i := strings.IndexAny(raw, "&;"); i >= 0 {
			kv, raw = raw[:i], raw[i+1:]
		} else {
			raw = ""
		}
		k, _, _ := strings.Cut(kv, "=")
		if isOverride(k) {
			return true
		}
		if dk, ok := unescapePart(strings.ReplaceAll(k, "+", " ")); ok && isOverride(dk) {
			return true
		}
	}
	return false
}

// isOverride reports whether a decoded key reads as overrideParam: in any
// case, and with PHP's renaming (leading spaces dropped; ' ', '.' and '['
// read as '_').
func isOverride(key string) bool {
	key = strings.Map(func(r rune) rune {
		if r == ' ' || r == '.' || r == '[' {
			return '_'
		}
		return r
	}, strings.TrimLeft(key, " "))
	return strings.EqualFold(key, overrideParam)
}
