package soap

import (
	"bytes"
	"mime"
	"strings"
)

// CheckAnswer reads a registry's answer that says it is XML — text/xml,
// application/soap+xml, application/xml or another +xml type, or the SOAP
// part of a multipart/related or multipart/mixed answer — with the
// hardened reader, and returns a server.invalid_xml *Error when it holds a
// DTD (or another <! directive), a processing instruction other than the
// XML declaration, or is not well-formed: such an answer, whose entities a
// consumer's parser might expand, is never handed on unchanged. The
// reader's limits are as wide as the answer, which the adapter has already
// bounded. Answers of other types, multiparts without a SOAP part to find,
// and well-formed XML that is not SOAP are nil: EchoResponse decides what
// to do with those.
func CheckAnswer(resp []byte, contentType string) error {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return nil
	}
	data := resp
	switch {
	case mt == "multipart/related" || mt == "multipart/mixed":
		cs, ce, perr := soapPartSpan(resp, params)
		if perr != nil {
			return nil
		}
		data = resp[cs:ce]
	case mt == "text/xml" || mt == "application/soap+xml" || mt == "application/xml" || strings.HasSuffix(mt, "+xml"):
	default:
		return nil
	}
	data = bytes.TrimPrefix(data, utf8BOM)
	wide := len(data) + 1
	s := newScanner(data, Limits{MaxBytes: int64(wide), MaxDepth: wide, MaxElements: wide, MaxAttrs: wide, MaxNameLen: wide, MaxTextLen: wide})
	if err := s.drain(); err != nil {
		if e := asError(err); e.Code == CodeInvalidXML {
			return serverSide(e)
		}
	}
	return nil
}
