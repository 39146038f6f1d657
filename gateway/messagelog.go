package gateway

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"time"

	"github.com/go-kit/kit/endpoint"
)

// MessageLog writes the two records of an exchange (DESIGN.md §6). Both
// methods return only once the record is durable; an error makes govbus
// answer Server.LoggingFailed and forward nothing (fail closed).
type MessageLog interface {
	// LogRequest records the request; it runs before it is forwarded.
	LogRequest(ctx context.Context, req *Request) error
	// LogResponse records the answer before the consumer receives it:
	// resp is the registry's answer, or nil when govbus answers with err.
	LogResponse(ctx context.Context, req *Request, resp *Response, err error) error
}

// SubjectSpec locates the data subject of a call.
type SubjectSpec struct {
	// In is "path", "query", "header" or "json".
	In string
	// Name is the template parameter, query parameter, header or dotted
	// JSON field.
	Name string
}

// SubjectOf returns the data subject of req according to the route's
// SubjectSpec, or "" when the route names none or the call carries none.
func (r *Route) SubjectOf(req *Request) string {
	s := r.Subject
	if s == nil {
		return ""
	}
	switch s.In {
	case "path":
		for _, t := range r.Paths {
			if v, ok := templateParam(t, req.Target.Path, s.Name); ok {
				return v
			}
		}
	case "query":
		q, err := url.ParseQuery(req.Target.RawQuery)
		if err == nil {
			return q.Get(s.Name)
		}
	case "header":
		return req.Header.Get(s.Name)
	case "json":
		return jsonField(req.BodyBytes, s.Name)
	}
	return ""
}

// templateParam returns the value of {name} when path fits template t.
func templateParam(t, path, name string) (string, bool) {
	if !templateMatches(t, path) {
		return "", false
	}
	ts, ps := strings.Split(t, "/"), strings.Split(path, "/")
	for i, seg := range ts {
		if seg == "{"+name+"}" {
			v, err := url.PathUnescape(ps[i])
			return v, err == nil
		}
	}
	return "", false
}

// jsonField reads a dotted field of a JSON object body as a string.
func jsonField(body []byte, field string) string {
	if len(body) == 0 {
		return ""
	}
	var v any
	if json.Unmarshal(body, &v) != nil {
		return ""
	}
	for _, part := range strings.Split(field, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = m[part]
	}
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case float64:
		b, _ := json.Marshal(x)
		return string(b)
	}
	return ""
}

// messageLog records the exchange around forwarding: the request record is
// durable before the registry is called, the response record before the
// consumer is answered.
func (c chain) messageLog(next endpoint.Endpoint) endpoint.Endpoint {
	return func(ctx context.Context, request any) (any, error) {
		req := request.(*Request)
		ml := req.Snapshot.MessageLog
		if ml == nil {
			return next(ctx, req)
		}
		_, sp := c.tracer.Start(ctx, "messagelog request")
		err := ml.LogRequest(ctx, req)
		if err != nil {
			err = Wrap(CodeLoggingFailed, err, "the message log cannot be written; nothing was forwarded")
		}
		endSpan(sp, err)
		if err != nil {
			return nil, err
		}
		out, err := next(ctx, req)
		resp, _ := out.(*Response)
		_, sp = c.tracer.Start(ctx, "messagelog response")
		lerr := ml.LogResponse(ctx, req, resp, err)
		if lerr != nil {
			lerr = Wrap(CodeLoggingFailed, lerr, "the message log cannot be written; the answer is withheld")
		}
		endSpan(sp, lerr)
		if lerr != nil {
			if resp != nil && resp.Release != nil {
				resp.Release()
			}
			return nil, lerr
		}
		return out, err
	}
}

// Access is one access to a data subject's data, as the Data Tracker shows
// it to the citizen.
type Access struct {
	Time time.Time `json:"time"`
	// Member is the accessing organisation's name and MemberID its id.
	Member    string `json:"member"`
	MemberID  string `json:"member_id"`
	Subsystem string `json:"subsystem"`
	Service   string `json:"service"`
	Purpose   string `json:"purpose,omitempty"`
	Issue     string `json:"issue,omitempty"`
	// Outcome is "ok" when the registry answered below 400, else the
	// status or error type.
	Outcome string `json:"outcome"`
}

// Tracker answers a citizen's question: who accessed my data, when, why.
type Tracker interface {
	// Accesses lists the disclosed accesses to subject in [from, to).
	Accesses(ctx context.Context, subject string, from, to time.Time) ([]Access, error)
}
