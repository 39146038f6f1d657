package gateway

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/govbus/govbus/soap"
)

// maxSOAPBytes bounds a SOAP request read before its sender is known; the
// service's own limit applies once it is routed.
const maxSOAPBytes = 10 << 20

// decodeSOAP reads an X-Road SOAP 4.0 request (POST / or /soap) into a
// *Request. The identity comes from xrd:client, which the envelope only
// names once the body is read; so that an anonymous sender cannot make
// govbus read and parse megabytes, the credential is checked first
// (preauthenticate), the body is read within the node's body budget and
// read deadline (bodyguard.go), and the chain's authenticate step then
// proves xrd:client with the same credential, as for any call.
func (h *Handler) decodeSOAP(ctx context.Context, r *http.Request) (any, error) {
	if r.Method != http.MethodPost {
		return nil, &Error{Code: CodeMethodNotAllowed, Message: "X-Road SOAP requests are POST", Allow: []string{http.MethodPost}}
	}
	snap := h.opts.Holder.Load()
	var cred Request
	h.credentials(r, &cred)
	if err := preauthenticate(snap, r.Header, cred.Credential); err != nil {
		return nil, err
	}
	if r.ContentLength > maxSOAPBytes {
		return nil, &Error{Code: CodePayloadTooLarge, Message: "SOAP message over the limit", FaultCode: "client.message_too_large"}
	}
	in := ctx.Value(inboundKey{}).(*inbound)
	buf := new(bytes.Buffer) // kept until the answer is written: in.soap shares it
	n, err := in.body.read(r.Body, r.ContentLength, maxSOAPBytes, buf)
	if err != nil {
		if e := AsError(err); e.Code == CodePayloadTooLarge {
			e.FaultCode = "client.message_too_large"
		}
		return nil, err
	}
	if n > maxSOAPBytes {
		return nil, &Error{Code: CodePayloadTooLarge, Message: "SOAP message over the limit", FaultCode: "client.message_too_large"}
	}
	body := buf.Bytes()
	env, err := soap.ParseRequest(body, r.Header.Get("Content-Type"), soap.Limits{MaxBytes: maxSOAPBytes})
	if err != nil {
		return nil, soapError(err)
	}
	in.soap = env
	client, err := ParseClientID(env.Client.String())
	if err != nil || env.Client.SubsystemCode == "" {
		return nil, &Error{Code: CodeBadRequest, Message: "xrd:client must be a SUBSYSTEM with a valid identifier", FaultCode: "client.invalid_client_identifier"}
	}
	svc, err := ParseServiceID(env.Service.String())
	if err != nil || env.Service.SubsystemCode == "" {
		return nil, &Error{Code: CodeBadRequest, Message: "xrd:service must name a subsystem's service with a valid identifier", FaultCode: "client.invalid_service_identifier"}
	}
	if claimed, err := claimedClient(r.Header); err == nil && claimed != client.String() {
		return nil, Errorf(CodeBadRequest, "the X-Road-Client header and xrd:client disagree")
	}
	in.target = Target{Kind: TargetSOAP, Service: svc, Path: "/"}
	req := &Request{
		Received: h.opts.Now(), RequestID: h.opts.NewID(), Client: client, ClientKey: client.String(),
		Target: in.target, ServiceKey: svc.String(), Method: http.MethodPost,
		BodyBytes: env.Raw, ContentLength: int64(len(env.Raw)),
		MessageID: oneLine(env.MessageID), UserID: oneLine(env.UserID), Issue: oneLine(env.Issue),
		Snapshot: snap, SOAP: env,
	}
	for _, v := range []string{req.MessageID, req.UserID, req.Issue} {
		if len(v) > 1024 {
			return nil, &Error{Code: CodeBadRequest, Message: "an X-Road header field is longer than 1024 characters", FaultCode: "client.invalid_xml"}
		}
	}
	if req.MessageID == "" {
		req.MessageID = h.opts.NewID()
	}
	if p := env.RepresentedParty; p != nil {
		req.RepresentedParty, req.RepresentedPartyClass = oneLine(p.MemberCode), oneLine(p.MemberClass)
	}
	if req.Purpose, err = single(r.Header, HeaderPurpose); err != nil {
		return nil, err
	}
	sum := SummaryFrom(ctx)
	sum.MessageID, sum.RequestID = req.MessageID, req.RequestID
	h.credentials(r, req)
	req.Header = endToEnd(r.Header, 10)
	return req, nil
}

// preauthenticate checks, before a SOAP body is read, that the request's
// credential proves some client: the one X-Road-Client names when it is
// sent, else any known client (an API key or certificate of one, or none
// at all for a client that needs none). It says nothing yet of xrd:client,
// which the chain's authenticate step proves with the same credential once
// the envelope is read. Errors: the Authenticator's CodeUnauthenticated,
// CodeBadRequest for a malformed X-Road-Client.
func preauthenticate(snap *Snapshot, header http.Header, cred Credential) error {
	for _, name := range clientHeaders {
		if _, sent := header[name]; !sent {
			continue
		}
		claimed, err := claimedClient(header)
		if err != nil {
			return err
		}
		return snap.Authenticator.Authenticate(claimed, cred)
	}
	// One check, not one per client: each failed Authenticate counts
	// against the caller's allowance of failures (authn's throttle).
	if any, ok := snap.Authenticator.(interface{ AuthenticateAny(Credential) error }); ok {
		return any.AuthenticateAny(cred)
	}
	for client := range snap.KnownClients {
		if snap.Authenticator.Authenticate(client, cred) == nil {
			return nil
		}
	}
	return Errorf(CodeUnauthenticated, "a credential of a known client is required before the SOAP message is read: Authorization: Bearer <key> or a TLS client certificate")
}

// encodeSOAPResponse writes a registry's SOAP answer with the request's
// X-Road header echoed and xrd:requestHash added.
func (h *Handler) encodeSOAPResponse(ctx context.Context, w http.ResponseWriter, response any) error {
	resp := response.(*Response)
	if resp.Release != nil {
		defer resp.Release()
	}
	in := ctx.Value(inboundKey{}).(*inbound)
	body, ct := resp.Body, resp.Header.Get("Content-Type")
	if in.soap != nil {
		b, nct, err := soap.EchoResponse(resp.Body, ct, in.soap, soap.RequestHash(in.soap.Envelope))
		if err == nil {
			body, ct = b, nct
		}
	}
	wh := w.Header()
	responseHeader(wh, resp.Header)
	if ct != "" {
		wh.Set("Content-Type", ct)
	}
	if req := resp.Request; req != nil {
		wh.Set(HeaderID, req.MessageID)
		wh.Set(HeaderRequestID, req.RequestID)
		wh.Set(HeaderClient, req.ClientKey)
		wh.Set(HeaderService, req.ServiceKey)
	}
	wh.Set("Content-Length", strconv.Itoa(len(body)))
	sum := SummaryFrom(ctx)
	sum.Status, sum.ResponseSize = resp.Status, int64(len(body))
	w.WriteHeader(resp.Status)
	_, err := w.Write(body)
	return err
}

// oneLine folds the white space of an X-Road header field (XML text may
// span lines; the HTTP headers sent on may not) and drops other control
// characters.
func oneLine(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r < 0x20 || r == 0x7f
	}), " ")
}

// isSOAP reports whether a request to / or /soap carries SOAP.
func isSOAP(r *http.Request) bool {
	ct := strings.ToLower(r.Header.Get("Content-Type"))
	return strings.HasPrefix(ct, "text/xml") || strings.HasPrefix(ct, "application/soap+xml") || strings.HasPrefix(ct, "multipart/related")
}
