package opmon

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Handler serves src over HTTP, for GET /admin/opmon on the admin
// listener:
//
//	GET /admin/opmon?from=&to=&client=&service=&node=&cursor=&limit=
//
// from and to are RFC 3339 times (a '+' in the offset sent as %2B) or Unix
// milliseconds; client, service and node select exact ids; cursor is the
// next_cursor of the previous page; limit is 1 to MaxLimit (DefaultLimit
// when absent). Every parameter is optional. The answer is a Page as JSON:
//
//	{"records": [...], "next_cursor": "...", "truncated": false}
//
// A malformed, repeated or unknown parameter is a 400 with
// {"error": "..."}; so is a query the source refuses (ErrBadQuery). Other
// failures of the source are a 500. The handler does not look at the
// request path, only its method (GET or HEAD).
func Handler(src Source) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeJSON(w, http.StatusMethodNotAllowed, errorBody{"method not allowed"})
			return
		}
		q, err := parseQuery(r)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, errorBody{err.Error()})
			return
		}
		page, err := src.Query(r.Context(), q)
		switch {
		case errors.Is(err, ErrBadQuery):
			writeJSON(w, http.StatusBadRequest, errorBody{err.Error()})
			return
		case err != nil:
			writeJSON(w, http.StatusInternalServerError,
				errorBody{"operational monitoring records cannot be read"})
			return
		}
		if page.Records == nil {
			page.Records = []Record{}
		}
		writeJSON(w, http.StatusOK, page)
	})
}

type errorBody struct {
	Error string `json:"error"`
}

// params are the query parameters Handler accepts.
var params = map[string]bool{
	"from": true, "to": true, "client": true, "service": true, "node": true, "cursor": true, "limit": true,
}

// parseQuery reads a Query from r's URL query, refusing anything it does
// not understand rather than guessing.
func parseQuery(r *http.Request) (Query, error) {
	vals, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return Query{}, errors.New("the query string is malformed")
	}
	for name, vs := range vals {
		if !params[name] {
			return Query{}, fmt.Errorf("unknown parameter %q", name)
		}
		if len(vs) > 1 {
			return Query{}, fmt.Errorf("parameter %q is given more than once", name)
		}
	}
	q := Query{Client: vals.Get("client"), Service: vals.Get("service"), Node: vals.Get("node"), Cursor: vals.Get("cursor")}
	if q.From, err = parseTime("from", vals.Get("from")); err != nil {
		return Query{}, err
	}
	if q.To, err = parseTime("to", vals.Get("to")); err != nil {
		return Query{}, err
	}
	if !q.From.IsZero() && !q.To.IsZero() && q.To.Before(q.From) {
		return Query{}, errors.New("to is before from")
	}
	if s := vals.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxLimit {
			return Query{}, fmt.Errorf("limit must be a whole number from 1 to %d", MaxLimit)
		}
		q.Limit = n
	}
	return q, nil
}

// parseTime reads an RFC 3339 time or Unix milliseconds; "" is the zero
// time (an open end).
func parseTime(name, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if isDigits(s) {
		ms, err := strconv.ParseInt(s, 10, 64)
		if err == nil && ms <= maxMillis {
			return time.UnixMilli(ms).UTC(), nil
		}
	} else if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%s must be an RFC 3339 time (with '+' sent as %%2B) or Unix milliseconds", name)
}

// maxMillis keeps Unix milliseconds within the years time.Time formats.
const maxMillis = 253402300799999 // 9999-12-31T23:59:59.999Z

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
