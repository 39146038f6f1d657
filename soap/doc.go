// Package soap is the consumer side of the X-Road SOAP message protocol 4.0
// in govbus: ParseRequest reads and validates a consumer's SOAP 1.1 request
// (plain, or SOAP with attachments), Fault writes a SOAP 1.1 Fault, and
// EchoResponse puts the request's X-Road header and its RequestHash into a
// registry's response. The package has no state and no dependencies outside
// the standard library.
//
// # Hardened XML
//
// Every envelope, request or response, is read by one front end around
// encoding/xml (strict mode, no entity map, no charset reader) that refuses
// <!DOCTYPE> and every other <! directive the moment it appears, so no entity
// is ever declared, expanded or fetched; refuses processing instructions
// other than the XML declaration, XInclude, undeclared prefixes, duplicate
// attributes and anything but whitespace and comments around the root; and
// counts depth, elements, attributes, name and text lengths as tokens stream
// by (Limits). The work done for any input is linear in its size, and the
// size is bounded by Limits.MaxBytes before parsing starts.
//
// # Fault codes
//
// Codes are X-Road 7's ("client.<code>"; older X-Road wrote
// "Client.<CamelCase>"). Each maps to one govbus error type (DESIGN.md §3),
// which the gateway puts in the Fault's detail and in X-Road-Error:
//
//	client.invalid_content_type      Client.BadRequest
//	client.message_too_large         Client.PayloadTooLarge (our addition, over Limits.MaxBytes)
//	client.invalid_soap              Client.BadRequest
//	client.invalid_xml               Client.BadRequest
//	client.missing_header            Client.BadRequest
//	client.missing_header_field      Client.BadRequest
//	client.duplicate_header_field    Client.BadRequest
//	client.invalid_protocol_version  Client.BadRequest
//	client.missing_body              Client.BadRequest
//	client.invalid_body              Client.BadRequest
//	client.inconsistent_headers      Client.BadRequest
//	server.invalid_content_type, server.invalid_xml, server.invalid_soap,
//	server.message_too_large         Server.InternalError (a registry response EchoResponse cannot rewrite)
//
// Errors govbus raises itself (access denied, timeouts...) are not X-Road
// parse errors: the gateway writes them with Fault and the govbus type as
// the faultcode ("Server.RegistryTimeout").
//
// # Decisions where X-Road or the corpora leave room
//
//   - The X-Road test corpus (shared/corpora/soap/messages/invalid) gets
//     X-Road's own codes. xroad-proxy-faulty-header.query.xml, which X-Road
//     uses as a faulty provider response, lacks xrd:id and xrd:service and is
//     client.missing_header_field as a request. xroad-proxy-no-soap.query.xml
//     (multipart/mixed whose first part is empty) is client.invalid_soap:
//     X-Road's server proxy answers server...invalid_soap because there the
//     peer is another security server; here the consumer sent it.
//     inconsistent-headers and wrong-version, used in X-Road's parser unit
//     test, are client.inconsistent_headers and
//     client.invalid_protocol_version.
//   - protocolVersion must be exactly "4.0" (X-Road accepts any "4.x"), and the
//     Body element's local name must equal serviceCode (X-Road accepts a name
//     that starts with it, because it uses one check for requests and
//     responses).
//   - SOAP 1.2 envelopes are client.invalid_soap: X-Road 4.0 is SOAP 1.1,
//     and a 1.2 request would need 1.2 faults. Request.SOAP12 is therefore
//     always false; application/soap+xml is accepted as a Content-Type for a
//     1.1 envelope.
//   - Header values (the identifier parts, id, userId, issue,
//     protocolVersion, representedParty parts) are the element's text. A
//     value that is one CDATA section is legitimate XML text and is read as
//     its content (<![CDATA[456]]> is "456"). A value split into several
//     nodes — by a comment, or text around a CDATA section — is refused with
//     client.invalid_xml rather than concatenated: a DOM reader that takes
//     the first text child would see "12" where XPath sees "123", and the
//     registry reads the same bytes we forward. Comments elsewhere (between
//     header fields, in the Body) are kept and harmless.
//   - Header fields in another namespace than X-Road's are not X-Road fields:
//     a header whose xrd prefix points elsewhere has no client
//     (client.missing_header_field).
//   - Every Header child element may appear once, compared by qualified name
//     whatever its namespace, as X-Road's parser checks it; an X-Road
//     field's local name (client, service, id, userId, issue,
//     protocolVersion, requestHash, representedParty) counts as that field
//     in any namespace, for readers that match local names or prefixes.
//   - An X-Road header field nested in another header or in the Body is
//     client.invalid_soap: readers that take the first in document order
//     would read it rather than the Header's own.
//   - A second Body, a second Header, a Header after the Body, text in the
//     Envelope and any element after the Body are client.invalid_soap.
//   - Identifier values are not checked against the identifier charset here
//     (FI_TEST is a real X-Road instance code); the gateway validates them
//     when it routes, and ID.String percent-encodes '/' and '%' so that the
//     slash form cannot be confused.
//   - A multipart request's SOAP part must be its first part (start=, when
//     given, must name it), Content-IDs are unique, no other part has an
//     XML type, and no delimiter-like line hides inside a part or after the
//     end (client.invalid_soap): a registry that reads the first part, or
//     frames parts more leniently, then sees the envelope we checked.
//   - The XML declaration is read as XML 1.0 writes it (white space around
//     '=' included): only version 1.0 and the UTF-8 encoding are accepted,
//     in that order, and nothing else (client.invalid_xml).
//   - A request's Content-Type, and its SOAP part's, may hold no backslash
//     and no RFC 2231 parameter (name*=), and a multipart boundary must be
//     RFC 2046's (client.invalid_content_type): readers decode those
//     differently, and would frame the body by another boundary.
//   - SubjectText reads a service's data subject element from the Body's
//     operation and refuses (client.invalid_body) a repeated element, a
//     value split into several nodes or holding markup, and a value padded
//     with white space: each could be read two ways.
//   - A SOAP Fault response without a Header passes through EchoResponse
//     unchanged; one with a Header gets the fields echoed.
package soap
