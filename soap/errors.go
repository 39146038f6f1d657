package soap

import (
	"strings"
	"unicode/utf8"
)

// Code is an X-Road fault code, written the way X-Road 7 writes them
// ("client.invalid_body"). Consumers of X-Road match on these strings, so
// they are part of the SOAP contract.
type Code string

// Fault codes for a consumer's request (client.*) and for a registry's
// response that cannot be echoed (server.*). The mapping to govbus error
// types is GovbusType's table.
const (
	// CodeInvalidContentType: the Content-Type is not text/xml,
	// application/soap+xml or multipart/related (or multipart/mixed), a
	// multipart's SOAP part is not XML, or the charset is not UTF-8.
	CodeInvalidContentType Code = "client.invalid_content_type"
	// CodeMessageTooLarge: the request is over Limits.MaxBytes.
	CodeMessageTooLarge Code = "client.message_too_large"
	// CodeInvalidSOAP: empty message, no SOAP part, or an XML document that
	// is not a SOAP 1.1 Envelope with (Header,) Body.
	CodeInvalidSOAP Code = "client.invalid_soap"
	// CodeInvalidXML: not well-formed or namespace-well-formed XML, a DTD,
	// an entity, a processing instruction, XInclude, a parsing limit
	// exceeded, or an X-Road header field whose structure is wrong (no or an
	// unknown objectType, a missing identifier part, markup inside a value).
	CodeInvalidXML Code = "client.invalid_xml"
	// CodeMissingHeader: the Envelope has no Header.
	CodeMissingHeader Code = "client.missing_header"
	// CodeMissingHeaderField: client, service, id or protocolVersion is
	// absent (or in another namespace than X-Road's).
	CodeMissingHeaderField Code = "client.missing_header_field"
	// CodeDuplicateHeaderField: a Header child element appears twice.
	CodeDuplicateHeaderField Code = "client.duplicate_header_field"
	// CodeInvalidProtocolVersion: protocolVersion is not "4.0".
	CodeInvalidProtocolVersion Code = "client.invalid_protocol_version"
	// CodeMissingBody: the Envelope has no Body.
	CodeMissingBody Code = "client.missing_body"
	// CodeInvalidBody: the Body does not hold exactly one element.
	CodeInvalidBody Code = "client.invalid_body"
	// CodeInconsistentHeaders: the Body element's local name is not the
	// service's serviceCode.
	CodeInconsistentHeaders Code = "client.inconsistent_headers"

	// CodeServerInvalidContentType: a registry's response has a Content-Type
	// that EchoResponse cannot rewrite.
	CodeServerInvalidContentType Code = "server.invalid_content_type"
	// CodeServerInvalidXML: a registry's response is not well-formed XML or
	// breaks a parsing limit.
	CodeServerInvalidXML Code = "server.invalid_xml"
	// CodeServerInvalidSOAP: a registry's response is not a SOAP 1.1 Envelope
	// with a Body, or its multipart has no SOAP part.
	CodeServerInvalidSOAP Code = "server.invalid_soap"
	// CodeServerMessageTooLarge: a registry's SOAP part is over MaxBytes.
	CodeServerMessageTooLarge Code = "server.message_too_large"
)

// govbus error types this package maps to (DESIGN.md §3). They are spelled
// out here rather than imported so that the gateway can depend on this
// package without a cycle.
const (
	govbusBadRequest      = "Client.BadRequest"
	govbusPayloadTooLarge = "Client.PayloadTooLarge"
	govbusInternalError   = "Server.InternalError"
)

// Error is a parse or validation failure with its X-Road fault code.
// Message says what is wrong without quoting personal data from the message.
type Error struct {
	Code    Code
	Message string
}

// Error implements error: "client.invalid_body: <message>".
func (e *Error) Error() string { return string(e.Code) + ": " + e.Message }

// GovbusType returns the govbus error type the code maps to:
// client.message_too_large is "Client.PayloadTooLarge", every other client.*
// code is "Client.BadRequest", and server.* codes (a registry response that
// cannot be echoed) are "Server.InternalError".
func (e *Error) GovbusType() string {
	switch {
	case e.Code == CodeMessageTooLarge:
		return govbusPayloadTooLarge
	case strings.HasPrefix(string(e.Code), "client."):
		return govbusBadRequest
	default:
		return govbusInternalError
	}
}

// maxMessageLen bounds an error message: parser messages may quote names
// taken from the input.
const maxMessageLen = 200

// newError returns an *Error whose message is valid UTF-8 and at most
// maxMessageLen bytes long.
func newError(code Code, msg string) *Error {
	msg = strings.ToValidUTF8(msg, "\uFFFD")
	if len(msg) > maxMessageLen {
		cut := maxMessageLen
		for cut > 0 && !utf8.RuneStart(msg[cut]) {
			cut--
		}
		msg = msg[:cut] + "..."
	}
	return &Error{Code: code, Message: msg}
}

// serverSide turns a client.* parse error into its server.* counterpart,
// for faults found in a registry's response.
func serverSide(err *Error) *Error {
	switch err.Code {
	case CodeInvalidContentType:
		return &Error{Code: CodeServerInvalidContentType, Message: err.Message}
	case CodeInvalidXML:
		return &Error{Code: CodeServerInvalidXML, Message: err.Message}
	case CodeMessageTooLarge:
		return &Error{Code: CodeServerMessageTooLarge, Message: err.Message}
	default:
		return &Error{Code: CodeServerInvalidSOAP, Message: err.Message}
	}
}
