// Package soap is the adapter for registries that speak SOAP: X-Road
// message protocol 4.0 providers over SOAP 1.1 (or SOAP 1.2). It carries
// two kinds of exchange through the registry's outbound stack (deadline,
// bulkhead, retries, breakers), chosen per call:
//
//   - Passthrough: an X-Road SOAP request from a SOAP consumer, which the
//     gateway has parsed and checked against the exchange (client,
//     service, user id; no DTD; limits) whatever route it came by, and
//     hands on in Outbound.SOAP (gateway.SOAPCarrier). Its body, checked
//     Content-Type and SOAPAction go to the registry unchanged, and the
//     registry's answer (status, Content-Type, body; a SOAP Fault with
//     HTTP 500 included) comes back unchanged, once the hardened reader
//     has found no DTD in it (soap.CheckAnswer). A SOAP body without a
//     checked envelope is never passed on: it is CodeBadRequest.
//   - REST-to-SOAP: any other call (GET /r1/.../companies/10000042) is
//     turned into the SOAP operation its ServiceMapping names, with an
//     X-Road header built from the exchange's X-Road-* headers, and the
//     registry's SOAP answer is turned into JSON (see ServiceMapping).
//
// Registry answers are parsed by encoding/xml in strict mode with a depth
// and element limit; a document type declaration is refused wherever it
// appears, so no entity of the registry's is ever expanded or fetched.
package soap

import (
	"context"
	"encoding/base64"
	"fmt"
	"maps"
	"mime"
	"net/http"
	"slices"
	"time"

	"github.com/govbus/govbus/adapters/rest"
	"github.com/govbus/govbus/gateway"
	"github.com/govbus/govbus/outbound"
	xsoap "github.com/govbus/govbus/soap"
)

// Config configures the adapter of one SOAP registry.
type Config struct {
	// Outbound is the registry's outbound stack (endpoints, pool, retry,
	// breaker, bulkhead). Endpoints are required; a REST-to-SOAP call is
	// POSTed to the endpoint URL itself.
	Outbound outbound.Config
	// Auth is how govbus authenticates to the registry, as for the REST
	// adapter. Default: none.
	Auth rest.Auth
	// MaxResponseBytes limits the registry's answer. Default 32 MiB.
	MaxResponseBytes int64
	// SOAP12 makes REST-to-SOAP calls SOAP 1.2 (Content-Type
	// application/soap+xml, envelope namespace
	// http://www.w3.org/2003/05/soap-envelope). Default false: SOAP 1.1
	// (text/xml with a SOAPAction header). Answers are read in either
	// version; passthrough requests are never changed.
	SOAP12 bool
	// Services maps REST calls onto SOAP operations, by service code (the
	// last part of the service id). A service without a mapping takes X-Road
	// SOAP requests only. Default: none.
	Services map[string]ServiceMapping
}

// ServiceMapping configures REST-to-SOAP for one service: how a REST call
// (/r1/{serviceId}/{path}) becomes a SOAP operation, and how the operation's
// answer becomes JSON.
//
// The request: Path is matched against the call's path; each {param}
// becomes a child element of the operation in Namespace, in the order of
// the template, e.g. Path "/companies/{code}", Operation "getCompany" and
// Namespace "http://business-registry.gov.ua/ws" give
//
//	<ns1:getCompany xmlns:ns1="http://business-registry.gov.ua/ws"><ns1:code>10000042</ns1:code></ns1:getCompany>
//
// Template, when set, renders the operation element instead. The call's
// body is not sent.
//
// The answer, by what the registry sent:
//   - a SOAP answer: the content of ResultElement (or of the Body's element)
//     as JSON, status 200, Content-Type application/json. Each child element
//     becomes a key (its local name): an element with children is an
//     object, one without is its text as a string (null with
//     xsi:nil="true"), a name repeated among siblings is an array. Attributes
//     and text between child elements are dropped.
//   - a SOAP Fault: {"faultcode": ..., "faultstring": ...} (with
//     "faultactor" and "detail" when present; SOAP 1.2's Code/Value and
//     Reason/Text fill the same keys), status 404 when NotFoundFault is set
//     and found in the faultstring, else 500: the registry's own error, in
//     the consumer's protocol.
//   - any other non-2xx answer (a proxy's 503, a plain 404) passes through
//     unchanged, as a REST registry's would.
//
// A 2xx answer that is not SOAP, or a malformed one, is CodeInternalError.
type ServiceMapping struct {
	// Operation is the local name of the operation element (the Body's
	// child). Required unless Template is set.
	Operation string
	// Namespace is the operation's namespace. Default: none.
	Namespace string
	// SOAPAction is sent as the SOAPAction header (SOAP 1.1) or the action
	// parameter of the Content-Type (SOAP 1.2). Default: "" (SOAP 1.1
	// sends SOAPAction: "").
	SOAPAction string
	// Path is the REST path template, e.g. "/companies/{code}": literal
	// segments must match exactly, each {param} matches one non-empty
	// segment (percent-decoded before use). Param names must be XML names.
	// Default "/" (the service's root).
	Path string
	// Template, when set, is a Go text/template that renders the operation
	// element, declaring its own namespaces, e.g.
	//
	//	<b:getCompany xmlns:b="http://business-registry.gov.ua/ws"><b:code>{{.code}}</b:code></b:getCompany>
	//
	// Its data maps each path param and then each query param not already
	// set (first value) to its value, XML-escaped already: use the values
	// as they are, never escape them again. A missing key renders as "".
	// Default: none (the elements of Path's params).
	Template string
	// ResultElement names the child of the Body's element whose content
	// becomes the JSON answer, e.g. "company". A SOAP answer without it is
	// CodeInternalError. Default: the content of the Body's element.
	ResultElement string
	// NotFoundFault is a substring of a Fault's faultstring that makes the
	// JSON answer a 404 instead of a 500, e.g. "not found". Default: none.
	NotFoundFault string
}

// Default limits.
const (
	defaultMaxResponseBytes = 32 << 20
	// wsdlTimeout bounds fetching the WSDL, unless the caller's context
	// ends sooner.
	wsdlTimeout = 10 * time.Second
)

// Adapter carries exchanges to one SOAP registry. Safe for concurrent use.
type Adapter struct {
	stack      *outbound.Stack
	authHeader string
	authValue  string
	maxResp    int64
	soap12     bool
	services   map[string]*mapping
}

var _ gateway.SOAPCarrier = (*Adapter)(nil)

// CarriesSOAP marks the adapter as one whose registry reads X-Road SOAP:
// the gateway checks every SOAP body bound for it (gateway.SOAPCarrier).
func (a *Adapter) CarriesSOAP() {}

// New builds the adapter of one registry, with its own outbound stack. It
// returns an error naming the first invalid setting: a service mapping
// without an operation, a path template or template that does not parse,
// no endpoints.
func New(cfg Config) (*Adapter, error) {
	a := &Adapter{maxResp: cfg.MaxResponseBytes, soap12: cfg.SOAP12, services: map[string]*mapping{}}
	if a.maxResp == 0 {
		a.maxResp = defaultMaxResponseBytes
	}
	for _, code := range slices.Sorted(maps.Keys(cfg.Services)) {
		m, err := compileMapping(cfg.Services[code], cfg.SOAP12)
		if err != nil {
			return nil, fmt.Errorf("service %s: %w", code, err)
		}
		a.services[code] = m
	}
	a.authHeader, a.authValue = credential(cfg.Auth)
	stack, err := outbound.New(cfg.Outbound)
	if err != nil {
		return nil, err
	}
	a.stack = stack
	return a, nil
}

// credential returns the header that carries auth, as the REST adapter
// sends it; "" when there is none.
func credential(auth rest.Auth) (name, value string) {
	switch auth.Type {
	case "bearer":
		return "Authorization", "Bearer " + auth.Value
	case "basic":
		return "Authorization", "Basic " + base64.StdEncoding.EncodeToString([]byte(auth.Username+":"+auth.Value))
	case "header":
		return http.CanonicalHeaderKey(auth.Header), auth.Value
	}
	return "", ""
}

// Close releases the adapter's idle connections.
func (a *Adapter) Close() { a.stack.Close() }

// Status reports the registry's endpoints, breakers and in-flight count.
func (a *Adapter) Status() any { return a.stack.Status() }

// Exchange sends out to the registry, as passthrough (a POST with out.SOAP
// set) or REST-to-SOAP (see the package documentation), and returns the answer.
// Without an answer the error is the outbound stack's *gateway.Error; a
// SOAP request without a checked envelope and a REST call that no
// ServiceMapping covers are CodeBadRequest, and an answer that cannot be
// turned into JSON is CodeInternalError.
func (a *Adapter) Exchange(ctx context.Context, out *gateway.Outbound) (*gateway.Response, error) {
	switch {
	case out.SOAP != nil && out.Method == http.MethodPost:
		return a.passthrough(ctx, out)
	case isSOAPRequest(out):
		return nil, gateway.Errorf(gateway.CodeBadRequest, "a SOAP message that govbus has not checked is never passed on")
	}
	return a.restToSOAP(ctx, out)
}

// isSOAPRequest reports whether out looks like an X-Road SOAP request, one
// that must come with its checked envelope.
func isSOAPRequest(out *gateway.Outbound) bool {
	if out.Method != http.MethodPost {
		return false
	}
	mt, _, err := mime.ParseMediaType(out.Header.Get("Content-Type"))
	return err == nil && (mt == "text/xml" || mt == "application/soap+xml" || mt == "multipart/related" || mt == "multipart/mixed")
}

// passthrough forwards a checked X-Road SOAP request — exactly the bytes
// and the one Content-Type the gateway checked — and returns the
// registry's answer as it is. A SOAP request is re-sent only for a service
// marked idempotent (or when it never reached the registry).
func (a *Adapter) passthrough(ctx context.Context, out *gateway.Outbound) (*gateway.Response, error) {
	h := out.Header
	h["Content-Type"] = []string{out.SOAP.ContentType}
	a.authenticate(h)
	resp, err := a.stack.Do(ctx, outbound.Call{
		Method: out.Method, Path: out.Path, RawQuery: out.RawQuery, Header: h, Body: out.SOAP.Raw,
		Timeout:          out.Route.Timeout,
		PathTemplate:     out.Route.PathTemplate(out.Path),
		Idempotent:       out.Route.Idempotent,
		MaxResponseBytes: a.maxResp,
		RegistryAnswer:   isFault,
	})
	if err != nil {
		return nil, err
	}
	// An XML answer with a DTD, or not well-formed, is never handed on:
	// the consumer's parser might expand what the registry declared.
	if err := xsoap.CheckAnswer(resp.Body, resp.Header.Get("Content-Type")); err != nil {
		release(resp)
		return nil, gateway.Wrap(gateway.CodeInternalError, err, "the registry's SOAP answer holds a DTD or is not well-formed XML")
	}
	return resp, nil
}

// isFault reports whether a 5xx answer is a SOAP Fault: the registry's own
// answer (SOAP 1.1 sends every Fault with 500), which must not count
// against its circuit breaker.
func isFault(resp *http.Response) bool {
	if resp.StatusCode != http.StatusInternalServerError {
		return false
	}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	return mt == "text/xml" || mt == "application/soap+xml" || mt == "application/xml"
}

// authenticate sets govbus's own credential toward the registry and keeps
// Go's default User-Agent out.
func (a *Adapter) authenticate(h http.Header) {
	if a.authValue != "" {
		h[a.authHeader] = []string{a.authValue}
	}
	h["User-Agent"] = nil
}

// WSDL fetches the registry's WSDL (GET ?wsdl on an endpoint the outbound
// stack picks, as for any call) and returns it once it is a well-formed
// WSDL 1.1 document without a DTD. Errors: the stack's *gateway.Error, or
// CodeInternalError for an answer other than 200 or not a WSDL.
func (a *Adapter) WSDL(ctx context.Context) ([]byte, error) {
	h := http.Header{"Accept": {"text/xml, application/xml"}}
	a.authenticate(h)
	resp, err := a.stack.Do(ctx, outbound.Call{
		Method: http.MethodGet, RawQuery: "wsdl", Header: h,
		Timeout: wsdlTimeout, PathTemplate: "/", Idempotent: true, MaxResponseBytes: a.maxResp,
	})
	if err != nil {
		return nil, err
	}
	defer release(resp)
	if resp.Status != http.StatusOK {
		return nil, gateway.Errorf(gateway.CodeInternalError, "the registry answered %d to ?wsdl", resp.Status)
	}
	if err := checkWSDL(resp.Body); err != nil {
		return nil, gateway.Wrap(gateway.CodeInternalError, err, "the registry's WSDL is not usable")
	}
	return append([]byte(nil), resp.Body...), nil
}

// release returns an answer's buffer to its pool.
func release(resp *gateway.Response) {
	if resp.Release != nil {
		resp.Release()
	}
}
