package gateway

import (
	"context"
	"regexp"
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
	// In is "path", "query", "header", "json" or "soap".
	In string
	// Name is the template parameter, query parameter, header, dotted
	// JSON field, or for "soap" the local name of the element inside the
	// Body's operation (read by the SOAP parser into
	// Request.SOAPSubject; a mapped REST call reads the path parameter of
	// that name).
	Name string
	// Pattern, when set, is the format every subject must have (anchored);
	// a subject outside it is refused.
	Pattern *regexp.Regexp
}

// responseLogTimeout bounds writing the response record of an exchange
// whose consumer may already be gone.
const responseLogTimeout = 30 * time.Second

// messageLog records the exchange around forwarding: the request record is
// durable before the registry is called, the response record before the
// consumer is answered.
func (c chain) messageLog(next endpoint.Endpoint) endpoint.Endpoint {
	return func(ctx context.Context, request any) (any, error) {
		req := request.(*Request)
		// The subject is read (and an ambiguous one refused) whether or
		// not a log records it: what is refused never depends on logging.
		subject, err := req.Route.SubjectOf(req)
		if err != nil {
			return nil, err
		}
		req.Subject = subject
		ml := req.Snapshot.MessageLog
		if ml == nil {
			return next(ctx, req)
		}
		_, sp := c.tracer.Start(ctx, "messagelog request")
		err = ml.LogRequest(ctx, req)
		if err != nil {
			err = Wrap(CodeLoggingFailed, err, "the message log cannot be written; nothing was forwarded")
		}
		endSpan(sp, err)
		if err != nil {
			return nil, err
		}
		// Once the request record is written the call goes through and is
		// recorded even when the consumer hangs up meanwhile: the registry
		// may act on it, so its answer belongs in the log. The outbound
		// stack's own deadline still bounds the call.
		detached := context.WithoutCancel(ctx)
		out, err := next(detached, req)
		resp, _ := out.(*Response)
		lctx, cancel := context.WithTimeout(detached, responseLogTimeout)
		defer cancel()
		_, sp = c.tracer.Start(lctx, "messagelog response")
		lerr := ml.LogResponse(lctx, req, resp, err)
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

// TrackerQuery asks the Data Tracker for one page of a subject's accesses.
type TrackerQuery struct {
	Subject string
	// From and To bound the accesses' time to [From, To); a zero bound is
	// open.
	From, To time.Time
	// Cursor is the NextCursor of the previous page; "" for the first.
	Cursor string
	// Limit is the most accesses of the page; 0 means the tracker's
	// default.
	Limit int
}

// AccessPage is one page of accesses, oldest first.
type AccessPage struct {
	Accesses []Access
	// NextCursor continues the walk after this page; "" when no access
	// is left.
	NextCursor string
}

// Tracker answers a citizen's question: who accessed my data, when, why.
type Tracker interface {
	// Accesses lists one page of the disclosed accesses to q.Subject in
	// [q.From, q.To), reading a bounded number of records. It returns a
	// CodeBadRequest *Error for a limit over the tracker's maximum and for
	// a cursor it did not give for this subject and time range (tampered,
	// truncated, or another query's).
	Accesses(ctx context.Context, q TrackerQuery) (AccessPage, error)
}
