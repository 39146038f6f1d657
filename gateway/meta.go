package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/go-kit/kit/endpoint"

	"github.com/govbus/govbus/policies"
)

// The JSON shapes of the GovStack IM directory services API
// (specs/GovStack_IM_Directory_Services_API.yaml).
type (
	clientList struct {
		Member []clientDetails `json:"member"`
	}
	clientDetails struct {
		Name string   `json:"name"`
		ID   objectID `json:"id"`
	}
	objectID struct {
		ObjectType      string `json:"objectType"`
		InstanceID      string `json:"instanceId"`
		MemberClass     string `json:"memberClass"`
		MemberCode      string `json:"memberCode"`
		ApplicationCode string `json:"applicationCode,omitempty"`
	}
	serviceList struct {
		Member []serviceDetails `json:"member"`
	}
	serviceDetails struct {
		ObjectType      string       `json:"objectType"`
		ServiceType     string       `json:"serviceType"`
		InstanceID      string       `json:"instanceId"`
		MemberClass     string       `json:"memberClass"`
		MemberCode      string       `json:"memberCode"`
		ApplicationCode string       `json:"applicationCode"`
		ServiceCode     string       `json:"serviceCode"`
		EndpointList    endpointList `json:"endpointList"`
	}
	endpointList struct {
		Member []endpointDetails `json:"member"`
	}
	endpointDetails struct {
		Method string `json:"method"`
		Path   string `json:"path"`
	}
)

// jsonResponse returns a 200 JSON answer.
func jsonResponse(v any) (*Response, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, Wrap(CodeInternalError, err, "encoding the answer failed")
	}
	return &Response{Status: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}}, Body: b}, nil
}

// listClients serves the directory of members and subsystems; it needs no
// identity. ?instanceId=X limits it to one instance.
func (h *Handler) listClients(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	SummaryFrom(ctx).Service = "listClients"
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.encodeError(ctx, &Error{Code: CodeMethodNotAllowed, Message: "listClients is GET only", Allow: []string{http.MethodGet}}, w)
		return
	}
	q, err := url.ParseQuery(ctx.Value(inboundKey{}).(*inbound).target.RawQuery)
	if err != nil {
		h.encodeError(ctx, Wrap(CodeBadRequest, err, "malformed query"), w)
		return
	}
	instance := q.Get("instanceId")
	caller := peerAddr(r)
	list := clientList{Member: []clientDetails{}}
	for _, m := range h.opts.Holder.Load().Members {
		parts := strings.SplitN(m.ID, "/", 3)
		if len(parts) != 3 || instance != "" && parts[0] != instance {
			continue
		}
		id := objectID{ObjectType: "MEMBER", InstanceID: parts[0], MemberClass: parts[1], MemberCode: parts[2]}
		list.Member = append(list.Member, clientDetails{Name: m.Name, ID: id})
		for _, sub := range m.Subsystems {
			if nets, ok := m.Networks[sub]; ok && !slices.ContainsFunc(nets, func(p netip.Prefix) bool { return p.Contains(caller) }) {
				continue // an auth none client, named only where it may call from
			}
			id.ObjectType, id.ApplicationCode = "APPLICATION", sub
			list.Member = append(list.Member, clientDetails{Name: m.Name, ID: id})
		}
	}
	resp, err := jsonResponse(list)
	if err != nil {
		h.encodeError(ctx, err, w)
		return
	}
	_ = h.encodeResponse(ctx, w, resp)
}

// listMethods serves listMethods (allowed=false) or allowedMethods
// (allowed=true: only what the caller's policy allows).
func listMethods(allowed bool) endpoint.Endpoint {
	return func(ctx context.Context, request any) (any, error) {
		req := request.(*Request)
		q, err := url.ParseQuery(req.Target.RawQuery)
		if err != nil {
			return nil, Wrap(CodeBadRequest, err, "malformed query")
		}
		only := q.Get("serviceId")
		sub := req.Target.Service.ClientID
		list := serviceList{Member: []serviceDetails{}}
		for _, r := range req.Snapshot.Subsystems[sub.String()] {
			if only != "" && only != r.Service.Code && only != r.ServiceKey {
				continue
			}
			var eps []endpointDetails
			if allowed {
				eps = allowedEndpoints(req, r)
				if len(eps) == 0 {
					continue
				}
			} else {
				eps = declaredEndpoints(r)
			}
			st := r.ServiceType
			if st == "" {
				st = "REST"
			}
			list.Member = append(list.Member, serviceDetails{
				ObjectType: "SERVICE", ServiceType: st,
				InstanceID: sub.Instance, MemberClass: sub.MemberClass, MemberCode: sub.MemberCode,
				ApplicationCode: sub.Subsystem, ServiceCode: r.Service.Code,
				EndpointList: endpointList{Member: eps},
			})
		}
		return jsonResponse(list)
	}
}

// declaredEndpoints lists every method × path template a service declares.
func declaredEndpoints(r *Route) []endpointDetails {
	eps := []endpointDetails{}
	paths := r.Paths
	if len(paths) == 0 {
		paths = []string{"/**"}
	}
	for _, m := range r.Methods {
		for _, p := range paths {
			eps = append(eps, endpointDetails{Method: m, Path: p})
		}
	}
	return eps
}

// allowedEndpoints lists the method × path pairs that the caller's grants
// open on a service.
//
// A rule with a condition counts as the listing request finds it: its
// condition is evaluated with what the listing request says of the caller
// — its time of arrival (now), its end-to-end headers, client, X-Road-UserId
// and X-Road-Represented-Party — while what only the future call will say
// (method, path, params, purpose, issue) stays unknown. A rule whose
// condition is false or fails on that (outside its office hours, without a
// header it requires) opens nothing; a rule whose condition depends on the
// call (params.id == represented_party) is listed, since some calls may
// pass it. So a consumer should ask with the headers its calls will carry.
// The listing is a guide; each call is still decided on its own.
func allowedEndpoints(req *Request, r *Route) []endpointDetails {
	grants := req.Snapshot.Policy.MayAllow(policies.Query{
		Client: req.ClientKey, Service: r.ServiceKey,
		UserID: req.UserID, Header: req.Header, Now: req.Received,
		RepresentedParty: req.RepresentedParty, RepresentedPartyClass: req.RepresentedPartyClass,
		PathTemplates: r.Paths,
	})
	var eps []endpointDetails
	for _, g := range grants {
		methods := r.Methods
		if len(g.Methods) > 0 {
			methods = g.Methods
		}
		paths := g.Paths
		if len(paths) == 0 {
			paths = r.Paths
		}
		if len(paths) == 0 {
			paths = []string{"/**"}
		}
		for _, m := range methods {
			if !r.AllowsMethod(m) {
				continue
			}
			for _, path := range paths {
				e := endpointDetails{Method: m, Path: path}
				if !slices.Contains(eps, e) {
					eps = append(eps, e)
				}
			}
		}
	}
	return eps
}

// getOpenAPI serves the OpenAPI description of ?serviceCode=X.
func getOpenAPI(ctx context.Context, request any) (any, error) {
	req := request.(*Request)
	q, err := url.ParseQuery(req.Target.RawQuery)
	if err != nil {
		return nil, Wrap(CodeBadRequest, err, "malformed query")
	}
	code := q.Get("serviceCode")
	if code == "" {
		return nil, Errorf(CodeBadRequest, "query parameter serviceCode is required")
	}
	svc := ServiceID{ClientID: req.Target.Service.ClientID, Code: code}
	if !validCode(code) {
		return nil, Errorf(CodeBadRequest, "malformed service code")
	}
	r, ok := req.Snapshot.Routes[svc.String()]
	if !ok {
		return nil, Errorf(CodeUnknownService, "no such service is registered")
	}
	if len(r.OpenAPI) == 0 {
		return nil, Errorf(CodeUnknownService, "the service has no OpenAPI description")
	}
	ct := "text/yaml"
	if bytes.HasPrefix(bytes.TrimSpace(r.OpenAPI), []byte("{")) {
		ct = "application/json"
	}
	return &Response{Status: http.StatusOK, Header: http.Header{"Content-Type": {ct}}, Body: r.OpenAPI}, nil
}

// WSDLSource is implemented by adapters that can fetch their registry's
// WSDL (the SOAP adapter).
type WSDLSource interface {
	WSDL(ctx context.Context) ([]byte, error)
}

// soapAddress matches the location of a WSDL's soap:address (1.1 or 1.2).
var soapAddress = regexp.MustCompile(`(<(?:[A-Za-z0-9_]+:)?address\b[^>]*\blocation=")[^"]*(")`)

// getWsdl serves the WSDL of a SOAP service (?serviceCode=X), fetched from
// the registry through its outbound stack, with its soap:address pointing
// at the node's configured public URL (Snapshot.PublicURL; never the Host
// the consumer sent). It is authorised and logged like a call: a rule must
// grant the caller the service (as allowedMethods judges it, the rule's
// condition evaluated with what the request says of the caller), else
// Client.AccessDenied and the registry is not asked; an allowed one writes
// the request record before the registry is asked and the response record
// before the answer (Server.LoggingFailed, failing closed, when it cannot).
func getWsdl(ctx context.Context, request any) (any, error) {
	req := request.(*Request)
	q, err := url.ParseQuery(req.Target.RawQuery)
	if err != nil {
		return nil, Wrap(CodeBadRequest, err, "malformed query")
	}
	code := q.Get("serviceCode")
	if code == "" || !validCode(code) {
		return nil, Errorf(CodeBadRequest, "query parameter serviceCode is required")
	}
	r, ok := req.Snapshot.Routes[ServiceID{ClientID: req.Target.Service.ClientID, Code: code}.String()]
	if !ok {
		return nil, Errorf(CodeUnknownService, "no such service is registered")
	}
	src, ok := r.Adapter.(WSDLSource)
	if !ok {
		return nil, Errorf(CodeUnknownService, "the service is not a SOAP service; see getOpenAPI")
	}
	grants := req.Snapshot.Policy.MayAllow(policies.Query{
		Client: req.ClientKey, Service: r.ServiceKey,
		UserID: req.UserID, Header: req.Header, Now: req.Received,
		RepresentedParty: req.RepresentedParty, RepresentedPartyClass: req.RepresentedPartyClass,
		PathTemplates: r.Paths,
	})
	if len(grants) == 0 {
		return nil, Errorf(CodeAccessDenied, "no policy rule allows this client to call the service")
	}
	base := strings.TrimSuffix(req.Snapshot.PublicURL, "/")
	if base == "" {
		return nil, Errorf(CodeInternalError, "the node has no public URL to point the WSDL at")
	}
	req.Route, req.ServiceKey = r, r.ServiceKey
	req.Decision = policies.Decision{Effect: policies.Allow, RuleID: grants[0].RuleID}
	SummaryFrom(ctx).RuleID = req.Decision.RuleID
	ml := req.Snapshot.MessageLog
	if ml != nil {
		if err := ml.LogRequest(ctx, req); err != nil {
			return nil, Wrap(CodeLoggingFailed, err, "the message log cannot be written; nothing was fetched")
		}
	}
	resp, err := fetchWSDL(ctx, r, src, base)
	if ml != nil {
		if lerr := ml.LogResponse(context.WithoutCancel(ctx), req, resp, err); lerr != nil {
			return nil, Wrap(CodeLoggingFailed, lerr, "the message log cannot be written; the answer is withheld")
		}
	}
	return resp, err
}

// attrEscaper escapes a value for a double-quoted XML attribute.
var attrEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", `"`, "&quot;")

// fetchWSDL asks the registry for its WSDL and points its addresses at base.
func fetchWSDL(ctx context.Context, r *Route, src WSDLSource, base string) (*Response, error) {
	ctx, cancel := context.WithTimeout(ctx, r.Timeout)
	defer cancel()
	wsdl, err := src.WSDL(ctx)
	if err != nil {
		return nil, err
	}
	location := []byte(attrEscaper.Replace(base + "/"))
	wsdl = soapAddress.ReplaceAllFunc(wsdl, func(m []byte) []byte {
		sub := soapAddress.FindSubmatch(m)
		out := append(append([]byte(nil), sub[1]...), location...)
		return append(out, sub[2]...)
	})
	return &Response{Status: http.StatusOK, Header: http.Header{"Content-Type": {"text/xml; charset=utf-8"}}, Body: wsdl}, nil
}
