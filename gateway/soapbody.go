package gateway

import (
	"errors"
	"mime"
	"net/http"
	"strings"

	"github.com/govbus/govbus/soap"
)

// SOAPCarrier is implemented by the adapters of registries that read X-Road
// SOAP 4.0 messages (the SOAP adapter). Every SOAP body bound for such a
// registry — text/xml, application/soap+xml, multipart/related or
// multipart/mixed, by POST / or by a /r1 route — is read by the hardened
// parser (soap.ParseRequest) and checked against the exchange before the
// request is logged or forwarded (checkSOAPBody); Outbound.SOAP then holds
// the checked envelope. Such an adapter passes a body on as SOAP only when
// Outbound.SOAP is set, and never passes on another body.
type SOAPCarrier interface {
	Adapter
	// CarriesSOAP marks the adapter; it does nothing.
	CarriesSOAP()
}

// soapMediaType reports whether a Content-Type is one an X-Road SOAP
// message travels in.
func soapMediaType(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	switch mt {
	case "text/xml", "application/soap+xml", "multipart/related", "multipart/mixed":
		return true
	}
	return false
}

// soapError turns a parser error into the gateway's: its govbus type, the
// X-Road fault code for SOAP Faults.
func soapError(err error) error {
	var se *soap.Error
	if errors.As(err, &se) {
		return &Error{Code: Code(se.GovbusType()), Message: se.Message, FaultCode: string(se.Code), Err: err}
	}
	return Wrap(CodeBadRequest, err, "malformed SOAP message")
}

// checkSOAPBody runs, once the body is read and before the request record
// is written, for routes of SOAP registries:
//
//   - a /r1 request whose body is SOAP (by its one Content-Type; two are
//     refused) is parsed with the service's size limit and must be the
//     exchange it came with: xrd:client the authenticated client,
//     xrd:service the routed service (and so the Body element its code),
//     xrd:userId, xrd:issue and repr:representedParty what X-Road-UserId,
//     X-Road-Issue and X-Road-Represented-Party said, since the policy
//     decided on those (absent and empty are the same). Its message id
//     stays X-Road-Id's (xrd:id is covered by the body's digest).
//     Otherwise Client.BadRequest; the parser's own refusals (a DTD,
//     limits...) too, and a SOAP body with another method than POST
//     (the adapter would not send it, the log would take its subject). A body of another type is not SOAP: the adapter
//     maps the call and does not send it.
//   - a POST / request was parsed when it was decoded, and its identity
//     taken from the envelope.
//
// Then, for a service whose subject is "in: soap", Request.SOAPSubject is
// read from the envelope (soap.SubjectText, an ambiguous value is
// Client.BadRequest) or, for a REST call the adapter maps onto the
// operation, from the path parameter of the same name (or, when the path
// holds none, the query parameter, which a mapping's template may read).
func checkSOAPBody(req *Request) error {
	if _, ok := req.Route.Adapter.(SOAPCarrier); !ok {
		return nil
	}
	if req.SOAP == nil && len(req.BodyBytes) > 0 {
		cts := req.Header["Content-Type"]
		if len(cts) > 1 {
			return Errorf(CodeBadRequest, "header Content-Type sent more than once")
		}
		if len(cts) == 1 && soapMediaType(cts[0]) {
			if req.Method != http.MethodPost {
				// The adapter would map the call from its path and never
				// send this body, while the log took the body's subject.
				return Errorf(CodeBadRequest, "a SOAP message is sent with POST")
			}
			env, err := soap.ParseRequest(req.BodyBytes, cts[0], soap.Limits{MaxBytes: req.Route.MaxRequestBytes})
			if err != nil {
				return soapError(err)
			}
			if err := sameExchange(req, env); err != nil {
				return err
			}
			req.SOAP = env
		}
	}
	if req.SOAP != nil {
		if err := checkSOAPAction(req); err != nil {
			return err
		}
	}
	return soapSubject(req)
}

// checkSOAPAction refuses a checked SOAP request whose action — the
// SOAPAction header (one at most), or the action parameter of its
// Content-Type or of the start-info of a multipart — names another
// operation than the Body's: registries that dispatch on the action
// (Spring-WS @SoapAction, ASMX, WCF) would run an operation that the
// policy and the log never saw. An action is accepted when it is empty
// (X-Road's WSDLs say soapAction="") or is the operation's local name,
// alone or after a '/', '#' or ':' (urn:companies,
// http://ns/companies, http://ns#companies).
func checkSOAPAction(req *Request) error {
	bad := func(msg string) error {
		return &Error{Code: CodeBadRequest, Message: msg, FaultCode: string(soap.CodeInconsistentHeaders)}
	}
	op := req.SOAP.BodyName.Local
	actions := req.Header.Values(soapAction)
	if len(actions) > 1 {
		return bad("header SOAPAction sent more than once")
	}
	if _, params, err := mime.ParseMediaType(req.SOAP.ContentType); err == nil {
		if a, ok := params["action"]; ok {
			actions = append(actions, a)
		}
		if info, ok := params["start-info"]; ok {
			if _, ip, err := mime.ParseMediaType(info); err == nil {
				if a, ok := ip["action"]; ok {
					actions = append(actions, a)
				}
			}
		}
	}
	for _, a := range actions {
		if len(a) >= 2 && a[0] == '"' && a[len(a)-1] == '"' {
			a = a[1 : len(a)-1]
		}
		if a == "" || a == op {
			continue
		}
		if i := strings.LastIndexAny(a, "/#:"); i >= 0 && a[i+1:] == op {
			continue
		}
		return bad("the SOAP action names another operation than the Body's")
	}
	return nil
}

// sameExchange checks that a /r1 request's SOAP envelope says what the
// exchange says.
func sameExchange(req *Request, env *soap.Request) error {
	bad := func(msg string) error {
		return &Error{Code: CodeBadRequest, Message: msg, FaultCode: string(soap.CodeInconsistentHeaders)}
	}
	client, err := ParseClientID(env.Client.String())
	if err != nil || env.Client.ObjectType != soap.ObjectSubsystem || client.String() != req.ClientKey {
		return bad("xrd:client is not the client the credential proves")
	}
	svc, err := ParseServiceID(env.Service.String())
	if err != nil || env.Service.SubsystemCode == "" || svc.String() != req.ServiceKey {
		return bad("xrd:service is not the service of the request's path")
	}
	if env.UserID != req.UserID {
		return bad("xrd:userId is not X-Road-UserId")
	}
	if env.Issue != req.Issue {
		return bad("xrd:issue is not X-Road-Issue")
	}
	var class, code string
	if p := env.RepresentedParty; p != nil {
		class, code = p.MemberClass, p.MemberCode
	}
	if class != req.RepresentedPartyClass || code != req.RepresentedParty {
		return bad("repr:representedParty is not X-Road-Represented-Party")
	}
	return nil
}

// soapSubject sets Request.SOAPSubject for a service whose subject is
// "in: soap" (see checkSOAPBody).
func soapSubject(req *Request) error {
	s := req.Route.Subject
	if s == nil || s.In != "soap" {
		return nil
	}
	if req.SOAP != nil {
		v, _, err := soap.SubjectText(req.SOAP.Envelope, s.Name, soap.Limits{MaxBytes: req.Route.MaxRequestBytes})
		if err != nil {
			return soapError(err)
		}
		req.SOAPSubject = v
		return nil
	}
	// The adapter puts the path parameter into the operation element as
	// it decodes it; pathSubject decodes it the same way or refuses it.
	v, err := pathSubject(req.Route.Paths, req.Target.Path, s.Name)
	if err != nil {
		return err
	}
	if v == "" {
		// A mapping's template takes a param the path does not hold from
		// the query (its first value): querySubject reads it, and refuses
		// it repeated or written two ways.
		if v, err = querySubject(req.Target.RawQuery, s.Name); err != nil {
			return err
		}
	}
	req.SOAPSubject = v
	return nil
}
