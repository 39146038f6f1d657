package gateway

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/govbus/govbus/soap"
)

// maxSOAPBytes bounds a SOAP request read before its sender is known; the
// service's own limit applies once it is routed.
const maxSOAPBytes = 10 << 20

// decodeSOAP reads an X-Road SOAP 4.0 request (POST / or /soap) into a
// *Request. The identity comes from xrd:client and must still be proven by
// the credential, as for any call.
func (h *Handler) decodeSOAP(ctx context.Context, r *http.Request) (any, error) {
	if r.Method != http.MethodPost {
		return nil, &Error{Code: CodeMethodNotAllowed, Message: "X-Road SOAP requests are POST", Allow: []string{http.MethodPost}}
	}
	if r.ContentLength > maxSOAPBytes {
		return nil, &Error{Code: CodePayloadTooLarge, Message: "SOAP message over the limit", FaultCode: "client.message_too_large"}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxSOAPBytes+1))
	if err != nil {
		return nil, Wrap(CodeBadRequest, err, "reading the SOAP message failed")
	}
	if len(body) > maxSOAPBytes {
		return nil, &Error{Code: CodePayloadTooLarge, Message: "SOAP message over the limit", FaultCode: "client.message_too_large"}
	}
	env, err := soap.ParseRequest(body, r.Header.Get("Content-Type"), soap.Limits{MaxBytes: maxSOAPBytes})
	if err != nil {
		var se *soap.Error
		if errors.As(err, &se) {
			return nil, &Error{Code: Code(se.GovbusType()), Message: se.Message, FaultCode: string(se.Code), Err: err}
		}
		return nil, Wrap(CodeBadRequest, err, "malformed SOAP message")
	}
	in := ctx.Value(inboundKey{}).(*inbound)
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
		Snapshot: h.opts.Holder.Load(),
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
