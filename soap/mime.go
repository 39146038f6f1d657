package soap

import (
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"net/textproto"
	"strings"
)

// maxParts bounds the parts read from one multipart request.
const maxParts = 1000

// requestEnvelope checks the request's Content-Type and size and returns the
// SOAP envelope bytes: the whole body for text/xml and application/soap+xml,
// the root part (the first, which start= must name when given) for
// multipart/related and multipart/mixed.
func requestEnvelope(body []byte, contentType string, lim Limits) ([]byte, *Error) {
	if perr := ambiguousParams(contentType); perr != nil {
		return nil, perr
	}
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return nil, newError(CodeInvalidContentType, "malformed Content-Type")
	}
	switch mt {
	case "text/xml", "application/soap+xml":
		if !utf8Charset(params["charset"]) {
			return nil, newError(CodeInvalidContentType, "only the UTF-8 charset is accepted")
		}
	case "multipart/related", "multipart/mixed":
	default:
		return nil, newError(CodeInvalidContentType, "Content-Type must be text/xml, application/soap+xml or multipart/related")
	}
	if int64(len(body)) > lim.MaxBytes {
		return nil, newError(CodeMessageTooLarge, "the message is larger than the limit")
	}
	if mt == "text/xml" || mt == "application/soap+xml" {
		return body, nil
	}
	return multipartEnvelope(body, params)
}

// multipartEnvelope returns the SOAP part of a SOAP-with-attachments request,
// read with mime/multipart (strict framing: part headers end at an empty
// line). Every part is read to its end, so that a malformed multipart is
// refused even when the SOAP part comes first.
//
// A registry may read a multipart differently from us (the first part
// rather than the one start= names, the last of two parts with one
// Content-ID, a delimiter-like line we read as content), so anything that
// could make it see another envelope than the one we checked is refused
// with client.invalid_soap:
//   - the SOAP part must be the first part; start=, when given, must name it;
//   - the SOAP part has one Content-Type and at most one
//     Content-Transfer-Encoding (client.invalid_content_type otherwise);
//   - every Content-ID appears once (compared without brackets and spaces);
//   - no other part is SOAP or XML (text/xml, application/soap+xml,
//     application/xop+xml, application/xml, any +xml type), and every
//     other part's Content-Type, when present, must parse
//     (client.invalid_content_type otherwise);
//   - every line that starts with the delimiter is one mime/multipart read
//     as a delimiter: none hides in a part or after the closing delimiter;
//   - the preamble and the epilogue are white space only.
func multipartEnvelope(body []byte, params map[string]string) ([]byte, *Error) {
	boundary := params["boundary"]
	if boundary == "" {
		return nil, newError(CodeInvalidContentType, "multipart Content-Type without a boundary")
	}
	if !validBoundary(boundary) {
		return nil, newError(CodeInvalidContentType, "the multipart boundary is not 1 to 70 of RFC 2046's characters")
	}
	start := trimContentID(params["start"])
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	var env []byte
	ids := map[string]bool{}
	parts := 0
	for ; ; parts++ {
		part, err := mr.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, newError(CodeInvalidSOAP, "malformed multipart message")
		}
		if parts == maxParts {
			return nil, newError(CodeInvalidSOAP, "too many parts in the multipart message")
		}
		if id, has := part.Header["Content-Id"]; has {
			if len(id) != 1 {
				return nil, newError(CodeInvalidSOAP, "a part of the multipart message has two Content-IDs")
			}
			key := trimContentID(id[0])
			if ids[key] {
				return nil, newError(CodeInvalidSOAP, "two parts of the multipart message have the same Content-ID")
			}
			ids[key] = true
		}
		if parts == 0 {
			if start != "" && trimContentID(part.Header.Get("Content-ID")) != start {
				return nil, newError(CodeInvalidSOAP, "start= names another part than the first: the SOAP part must be the first part")
			}
			if len(part.Header["Content-Type"]) > 1 || len(part.Header["Content-Transfer-Encoding"]) > 1 {
				// Which one a registry reads is its choice: the last
				// Content-Transfer-Encoding could make it decode base64.
				return nil, newError(CodeInvalidContentType, "the SOAP part has two Content-Types or Content-Transfer-Encodings")
			}
			if perr := ambiguousParams(part.Header.Get("Content-Type")); perr != nil {
				return nil, perr
			}
			if perr := checkPartType(part.Header); perr != nil {
				return nil, perr
			}
			if env, err = io.ReadAll(part); err != nil {
				return nil, newError(CodeInvalidSOAP, "malformed multipart message")
			}
			continue
		}
		if perr := checkAttachmentType(part.Header); perr != nil {
			return nil, perr
		}
		if _, err := io.Copy(io.Discard, part); err != nil {
			return nil, newError(CodeInvalidSOAP, "malformed multipart message")
		}
	}
	if parts == 0 {
		return nil, newError(CodeInvalidSOAP, "the multipart message has no SOAP part")
	}
	// parts delimiters and the closing one: any other line that starts
	// with the delimiter is one we did not read as such.
	if delimiterLines(body, []byte("--"+boundary)) != parts+1 {
		return nil, newError(CodeInvalidSOAP, "the multipart message has delimiter lines inside a part or after its end")
	}
	if !blankOutside(body, []byte("--"+boundary)) {
		return nil, newError(CodeInvalidSOAP, "the multipart message has content before its first part or after its end")
	}
	return env, nil
}

// blankOutside reports whether the preamble (before the first delimiter
// line) and the epilogue (after the closing one) of body are white space
// only: a registry that reads the body as XML from its first element
// (Go's xml.Decoder.Decode, lenient SAX readers) would take an envelope
// there for the message, which MIME readers skip.
func blankOutside(body, delim []byte) bool {
	first, last := -1, -1
	for from := 0; ; {
		i := bytes.Index(body[from:], delim)
		if i < 0 {
			break
		}
		at := from + i
		if at == 0 || body[at-1] == '\n' {
			if first < 0 {
				first = at
			}
			last = at
		}
		from = at + 1
	}
	if first < 0 {
		return false
	}
	return isSpace(body[:first]) && isSpace(bytes.TrimPrefix(body[last+len(delim):], []byte("--")))
}

// ambiguousParams refuses a request's (or its SOAP part's) Content-Type
// whose parameters readers decode differently: a backslash, which
// mime.ParseMediaType keeps before a character that needs no escape
// ("MIME\_b") where RFC 2045's quoted-pair drops it ("MIME_b"); and an
// RFC 2231 parameter (boundary*=, start*0=), which mime.ParseMediaType
// puts over the plain one of the same name while readers without RFC 2231
// keep the plain one. Either way a registry would frame the body by
// another boundary, or take another part for the root, than govbus.
func ambiguousParams(contentType string) *Error {
	quoted := false
	for i := 0; i < len(contentType); i++ {
		switch c := contentType[i]; {
		case c == '\\':
			return newError(CodeInvalidContentType, "a backslash in the Content-Type is not accepted")
		case c == '"':
			quoted = !quoted
		case c == '*' && !quoted:
			return newError(CodeInvalidContentType, "RFC 2231 parameters (name*=) in the Content-Type are not accepted")
		}
	}
	return nil
}

// validBoundary reports whether b is a boundary as RFC 2046 §5.1.1 allows
// it: 1 to 70 of DIGIT ALPHA ' ( ) + _ , - . / : = ? and space, not ending
// in a space. Readers that split parameters naively (on ';' or quotes)
// then agree with mime's.
func validBoundary(b string) bool {
	if len(b) == 0 || len(b) > 70 || b[len(b)-1] == ' ' {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || strings.IndexByte("'()+_,-./:=? ", c) >= 0) {
			return false
		}
	}
	return true
}

// checkAttachmentType refuses an attachment that a registry could take for
// a SOAP message: an XML type, or a Content-Type that does not parse.
func checkAttachmentType(h textproto.MIMEHeader) *Error {
	ct, has := h["Content-Type"]
	if !has {
		return nil // text/plain by MIME's default
	}
	if len(ct) != 1 {
		return newError(CodeInvalidContentType, "an attachment has two Content-Types")
	}
	mt, _, err := mime.ParseMediaType(ct[0])
	if err != nil {
		return newError(CodeInvalidContentType, "an attachment has no valid Content-Type")
	}
	if mt == "text/xml" || mt == "application/xml" || strings.HasSuffix(mt, "+xml") {
		return newError(CodeInvalidSOAP, "only the first part of the multipart message may be XML")
	}
	return nil
}

// delimiterLines counts the lines of body that start with delim.
func delimiterLines(body, delim []byte) int {
	n := 0
	for from := 0; ; {
		i := bytes.Index(body[from:], delim)
		if i < 0 {
			return n
		}
		at := from + i
		if at == 0 || body[at-1] == '\n' {
			n++
		}
		from = at + 1
	}
}

// checkPartType accepts a SOAP part of type text/xml, application/soap+xml or
// application/xop+xml, in UTF-8, without a transfer encoding.
func checkPartType(h textproto.MIMEHeader) *Error {
	mt, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		return newError(CodeInvalidContentType, "the SOAP part has no valid Content-Type")
	}
	switch mt {
	case "text/xml", "application/soap+xml", "application/xop+xml":
	default:
		return newError(CodeInvalidContentType, "the SOAP part is not XML")
	}
	if !utf8Charset(params["charset"]) {
		return newError(CodeInvalidContentType, "only the UTF-8 charset is accepted")
	}
	switch strings.ToLower(strings.TrimSpace(h.Get("Content-Transfer-Encoding"))) {
	case "", "8bit", "7bit", "binary":
	default:
		return newError(CodeInvalidContentType, "the SOAP part has an unsupported Content-Transfer-Encoding")
	}
	return nil
}

// utf8Charset accepts no charset, UTF-8 and its subset US-ASCII.
func utf8Charset(cs string) bool {
	switch strings.ToLower(strings.Trim(cs, `" `)) {
	case "", "utf-8", "utf8", "us-ascii":
		return true
	}
	return false
}

// trimContentID strips spaces and the angle brackets of a Content-ID.
func trimContentID(s string) string {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "<")
	return strings.TrimSuffix(s, ">")
}

// soapPartSpan finds the SOAP part of a multipart response — the part whose
// Content-ID is the start parameter, or the first — and returns the byte
// span of its content, so that everything around it can be kept byte for
// byte. Framing is read leniently, as registries write it: LF or CRLF line
// ends, transport padding after a delimiter, and a part's headers ending at
// the first blank or whitespace-only line.
func soapPartSpan(body []byte, params map[string]string) (int, int, *Error) {
	boundary := params["boundary"]
	if boundary == "" {
		return 0, 0, newError(CodeInvalidContentType, "multipart Content-Type without a boundary")
	}
	start := trimContentID(params["start"])
	delim := []byte("--" + boundary)

	_, after, closing, ok := nextDelimiter(body, delim, 0)
	for i := 0; ok && !closing; i++ {
		if i == maxParts {
			return 0, 0, newError(CodeInvalidSOAP, "too many parts in the multipart message")
		}
		partStart := after
		var at int
		at, after, closing, ok = nextDelimiter(body, delim, partStart)
		if !ok {
			return 0, 0, newError(CodeInvalidSOAP, "malformed multipart message: a part is not terminated")
		}
		partEnd := at
		if partEnd > partStart && body[partEnd-1] == '\n' {
			partEnd--
			if partEnd > partStart && body[partEnd-1] == '\r' {
				partEnd--
			}
		}
		header, contentStart, found := partHeader(body[partStart:partEnd])
		if !found {
			return 0, 0, newError(CodeInvalidSOAP, "malformed multipart message: a part has no header end")
		}
		if start == "" && i > 0 || start != "" && trimContentID(header.Get("Content-ID")) != start {
			continue
		}
		if perr := checkPartType(header); perr != nil {
			return 0, 0, perr
		}
		return partStart + contentStart, partEnd, nil
	}
	return 0, 0, newError(CodeInvalidSOAP, "the multipart message has no SOAP part")
}

// nextDelimiter finds the next delimiter line ("--boundary" at the start of a
// line, optionally "--" for the last one, then blanks and a line end) at or
// after from. It returns where the line starts, where the line after it
// starts, and whether it is the closing delimiter.
func nextDelimiter(body, delim []byte, from int) (at, after int, closing, ok bool) {
	for from <= len(body) {
		i := bytes.Index(body[from:], delim)
		if i < 0 {
			return 0, 0, false, false
		}
		at = from + i
		from = at + 1
		if at > 0 && body[at-1] != '\n' {
			continue
		}
		j := at + len(delim)
		closing = bytes.HasPrefix(body[j:], []byte("--"))
		if closing {
			j += 2
		}
		for j < len(body) && (body[j] == ' ' || body[j] == '\t') {
			j++
		}
		switch {
		case j == len(body):
			return at, j, closing, true
		case body[j] == '\n':
			return at, j + 1, closing, true
		case body[j] == '\r' && j+1 < len(body) && body[j+1] == '\n':
			return at, j + 2, closing, true
		}
	}
	return 0, 0, false, false
}

// partHeader reads a part's header lines up to the first blank or
// whitespace-only line and returns them with the offset of the content.
func partHeader(part []byte) (textproto.MIMEHeader, int, bool) {
	h := make(textproto.MIMEHeader)
	for pos := 0; pos < len(part); {
		eol := bytes.IndexByte(part[pos:], '\n')
		var line []byte
		next := len(part)
		if eol >= 0 {
			line, next = part[pos:pos+eol], pos+eol+1
		} else {
			line = part[pos:]
		}
		if len(bytes.TrimSpace(line)) == 0 {
			if eol < 0 {
				return h, len(part), true
			}
			return h, next, true
		}
		if k, v, ok := bytes.Cut(line, []byte(":")); ok {
			h.Add(textproto.CanonicalMIMEHeaderKey(string(bytes.TrimSpace(k))), string(bytes.TrimSpace(v)))
		}
		pos = next
	}
	return nil, 0, false
}
