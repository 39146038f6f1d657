package registrysim

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
)

// CivilOpenAPI is the OpenAPI 3.0 description (YAML) of the civil registry,
// served at GET /openapi.yaml. Callers must not modify it.
//
//go:embed civil-openapi.yaml
var CivilOpenAPI []byte

// personsPrefix is the path prefix of the person resource.
const personsPrefix = "/persons/"

// Content types of the simulated registries' answers.
const (
	contentTypeJSON = "application/json"
	contentTypeYAML = "application/yaml"
)

// Civil is the simulated civil registry, a REST service:
//
//	GET /persons/{id}   the Person as JSON; 404 {"error":"not found"} for
//	                    any id outside FirstPersonID … LastPersonID
//	GET /openapi.yaml   CivilOpenAPI
//
// A person's answer carries an ETag (a digest of the body) and
// "Content-Disposition: inline; filename=\"{id}.json\"". With the query
// parameter leak=1 it also carries what a careless registry sends besides
// the body: X-Person-Name (given and family name), a Set-Cookie and a
// Content-Disposition whose file name holds the name and birth date (for
// tests of what govbus lets through).
//
// Any other method on those paths is a 405 with an Allow header; any other
// path is a 404. Civil has no /_sim/ endpoints: wrap it with New, or use
// NewCivil, for fault injection and statistics.
//
// Every answer is encoded when the registry is built, so serving a person
// is a slice lookup and a write. A Civil is safe for concurrent use.
type Civil struct {
	persons []encodedBody // by personIndex
	openAPI encodedBody
}

// encodedBody is a ready answer: the body and its Content-Length value;
// for a person also its ETag and Content-Disposition values.
type encodedBody struct {
	body                   []byte
	length                 string
	etag, disposition      string
	name, leakyDisposition string // X-Person-Name and the leaky file name, with leak=1
}

func newEncodedBody(b []byte) encodedBody {
	return encodedBody{body: b, length: strconv.Itoa(len(b))}
}

// NewCivil returns the civil registry wrapped in a Sim: the handler that
// cmd/registrysim serves and that tests start with httptest.NewServer.
func NewCivil() *Sim {
	return New(NewCivilRegistry())
}

// NewCivilRegistry returns the bare civil registry, without /_sim/. It
// encodes all PersonCount persons up front (a few megabytes, tens of
// milliseconds).
func NewCivilRegistry() *Civil {
	c := &Civil{
		persons: make([]encodedBody, PersonCount),
		openAPI: newEncodedBody(CivilOpenAPI),
	}
	for i := range c.persons {
		b, err := json.Marshal(generatePerson(i))
		if err != nil {
			// A Person holds only strings and slices of them.
			panic("registrysim: encoding person " + personID(i) + ": " + err.Error())
		}
		e := newEncodedBody(append(b, '\n'))
		sum := sha256.Sum256(e.body)
		p := generatePerson(i)
		e.etag = `"` + hex.EncodeToString(sum[:8]) + `"`
		e.disposition = `inline; filename="` + personID(i) + `.json"`
		e.name = p.GivenName + " " + p.FamilyName
		e.leakyDisposition = `attachment; filename="` + p.FamilyName + "-" + p.GivenName + "-" + p.BirthDate + `.json"`
		c.persons[i] = e
	}
	return c
}

// PersonJSON returns the exact body GET /persons/{id} answers for a known
// id, and false for any other id. The caller must not modify the bytes.
func (c *Civil) PersonJSON(id string) ([]byte, bool) {
	i, ok := personIndex(id)
	if !ok {
		return nil, false
	}
	return c.persons[i].body, true
}

// ServeHTTP answers one request; see Civil.
func (c *Civil) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	switch {
	case strings.HasPrefix(path, personsPrefix):
		if r.Method != http.MethodGet {
			writeMethodNotAllowed(w, http.MethodGet)
			return
		}
		i, ok := personIndex(path[len(personsPrefix):])
		if !ok {
			writeError(w, http.StatusNotFound, "not found")
			return
		}
		p := &c.persons[i]
		h := w.Header()
		h.Set("Etag", p.etag)
		if r.URL.RawQuery != "" && r.URL.Query().Get("leak") == "1" {
			h.Set("X-Person-Name", p.name)
			h.Set("Set-Cookie", "JSESSIONID=sim-"+personID(i)+"; Path=/; HttpOnly")
			h.Set("Content-Disposition", p.leakyDisposition)
		} else {
			h.Set("Content-Disposition", p.disposition)
		}
		writeBody(w, http.StatusOK, contentTypeJSON, *p)
	case path == "/openapi.yaml":
		if r.Method != http.MethodGet {
			writeMethodNotAllowed(w, http.MethodGet)
			return
		}
		writeBody(w, http.StatusOK, contentTypeYAML, c.openAPI)
	default:
		writeError(w, http.StatusNotFound, "not found")
	}
}

// writeBody sends a ready answer.
func writeBody(w http.ResponseWriter, status int, contentType string, b encodedBody) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", b.length)
	w.WriteHeader(status)
	_, _ = w.Write(b.body) // the client has gone; nothing to do
}

// writeJSON sends v encoded as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "encoding answer")
		return
	}
	writeBody(w, status, contentTypeJSON, newEncodedBody(append(b, '\n')))
}

// writeError sends {"error": msg}.
func writeError(w http.ResponseWriter, status int, msg string) {
	b, _ := json.Marshal(struct {
		Error string `json:"error"`
	}{msg}) // a struct of one string always encodes
	writeBody(w, status, contentTypeJSON, newEncodedBody(append(b, '\n')))
}

// writeMethodNotAllowed sends 405 with the methods the resource allows.
func writeMethodNotAllowed(w http.ResponseWriter, allow ...string) {
	w.Header().Set("Allow", strings.Join(allow, ", "))
	writeError(w, http.StatusMethodNotAllowed, "method not allowed")
}
