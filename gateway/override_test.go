package gateway

import (
	"net/http"
	"testing"
)

func TestCheckOverride(t *testing.T) {
	form := func(q, ct, body string) *Request {
		return &Request{Target: Target{RawQuery: q}, Header: http.Header{"Content-Type": {ct}}, BodyBytes: []byte(body)}
	}
	const urlenc = "application/x-www-form-urlencoded"
	for _, tc := range []struct {
		name    string
		req     *Request
		refused bool
	}{
		{"query", form("_method=DELETE", "", ""), true},
		{"query among others", form("a=1&_method=PUT", "", ""), true},
		{"query upper case", form("_METHOD=DELETE", "", ""), true},
		{"query encoded", form("%5Fmethod=DELETE", "", ""), true},
		{"query after ';'", form("a=1;_method=DELETE", "", ""), true},
		{"query PHP dot", form(".method=DELETE", "", ""), true},
		{"query PHP leading space", form("+_method=DELETE", "", ""), true},
		{"query PHP bracket", form("[method=DELETE", "", ""), true},
		{"form body", form("", urlenc, "x=1&_method=DELETE"), true},
		{"form body with charset", form("", urlenc+"; charset=utf-8", "_method=PATCH"), true},
		{"multipart body", form("", "multipart/form-data; boundary=B",
			"--B\r\nContent-Disposition: form-data; name=\"_method\"\r\n\r\nDELETE\r\n--B--\r\n"), true},

		{"other query", form("method=DELETE&x_method=1", "", ""), false},
		{"value only", form("q=_method", "", ""), false},
		{"JSON body", form("", "application/json", `{"_method": "DELETE"}`), false},
		{"multipart without it", form("", "multipart/form-data; boundary=B",
			"--B\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n1\r\n--B--\r\n"), false},
		{"nothing", &Request{}, false},
	} {
		err := checkOverride(tc.req)
		if tc.refused != (err != nil) || err != nil && CodeOf(err) != CodeBadRequest {
			t.Errorf("%s: checkOverride = %v, want refused %v", tc.name, err, tc.refused)
		}
	}
}
