package e2e

import (
	"bufio"
	"encoding/json"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/govbus/govbus/audit"
)

// subjectServices adds to the demo's civil registry a service whose data
// subject is a query parameter and one whose subject is a JSON body field,
// both open to eservice.
func subjectServices(cfg string) string {
	cfg = strings.Replace(cfg, "        subject: {in: path, name: id}   # the person is the data subject (Data Tracker)\n",
		`        subject: {in: path, name: id}   # the person is the data subject (Data Tracker)
      - code: lookup
        methods: [GET]
        paths: ["/persons"]
        subject: {in: query, name: id}
      - code: search
        methods: [POST]
        paths: ["/search"]
        subject: {in: json, name: person.id}
`, 1)
	return strings.Replace(cfg, "\nrules:\n", `
rules:
  - id: eservice-subject-services
    clients: [UA/GOV/00000003/eservice]
    services: [UA/GOV/00000001/civil-registry/lookup, UA/GOV/00000001/civil-registry/search]
    purposes: [service-delivery]
`, 1)
}

func init() {
	// Item 3: N reads of one person, however written, leave N tracker
	// entries; a way of writing that a registry could read as another
	// person (or as none) is refused and reaches no registry.
	registerAttack("subject/path-variants", func(t *testing.T) {
		w := sharedAttackWorld(t)
		const id = "1000000142"
		before := w.trackerCount(t, id)
		for _, variant := range []string{id + ";x", id + "%3Bx", id + "%3bx", "%20" + id, id + "%20", "100000014%32", id + "%2532", id + "%00"} {
			w.clearReceived(t, "9101")
			a := w.do(t, "GET", civilPath+"/persons/"+variant, nil, eservice...)
			if a.Status != 400 || a.Type != "Client.BadRequest" {
				t.Errorf("%s: %v, want 400 Client.BadRequest", variant, a)
			}
			w.wantNothingReceived(t, "9101")
		}
		for i := 0; i < 3; i++ {
			if a := w.do(t, "GET", civilPath+"/persons/"+id, nil, eservice...); a.Status != 200 {
				t.Fatalf("plain read: %v", a)
			}
		}
		if got := w.trackerCount(t, id) - before; got != 3 {
			t.Errorf("3 reads (and 8 refused variants) left %d tracker entries, want 3", got)
		}
	})

	registerAttack("subject/query-and-json", func(t *testing.T) {
		w := newAttackWorld(t, subjectServices)
		const id = "1000000143"
		lookup := "/r1/UA/GOV/00000001/civil-registry/lookup/persons"
		search := "/r1/UA/GOV/00000001/civil-registry/search/search"
		json := with(eservice, "Content-Type: application/json")
		for _, c := range []struct {
			name, method, target, body string
			headers                    []string
		}{
			{"repeated id", "GET", lookup + "?id=" + id + "&id=1000000144", "", eservice},
			{"encoded key", "GET", lookup + "?id=" + id + "&i%64=1000000144", "", eservice},
			{"semicolon", "GET", lookup + "?x=1;id=" + id, "", eservice},
			{"plus", "GET", lookup + "?id=" + id + "+", "", eservice},
			{"upper-case key", "POST", search, `{"person": {"ID": "` + id + `"}}`, json},
			{"title-case key beside", "POST", search, `{"person": {"id": "1000000144", "Id": "` + id + `"}}`, json},
			{"duplicate key", "POST", search, `{"person": {"id": "1000000144", "id": "` + id + `"}}`, json},
			{"BOM", "POST", search, "\xef\xbb\xbf{\"person\": {\"id\": \"" + id + "\"}}", json},
			{"past 2^53", "POST", search, `{"person": {"id": 10000000000000001}}`, json},
		} {
			w.clearReceived(t, "9101")
			var body []byte
			if c.body != "" {
				body = []byte(c.body)
			}
			a := w.do(t, c.method, c.target, body, c.headers...)
			if a.Status != 400 || a.Type != "Client.BadRequest" {
				t.Errorf("%s: %v, want 400 Client.BadRequest", c.name, a)
			}
			w.wantNothingReceived(t, "9101")
		}
		if got := w.trackerCount(t, id); got != 0 {
			t.Errorf("refused calls left %d tracker entries, want 0", got)
		}
		// Accepted forms are recorded under the subject the registry reads.
		w.do(t, "GET", lookup+"?id="+id, nil, eservice...)
		w.do(t, "POST", search, []byte(`{"person": {"id": "`+id+`"}, "other": {"ID": 1}}`), json...)
		w.do(t, "POST", search, []byte(`{"person": {"id": `+id+`}}`), json...)
		if got := w.trackerCount(t, id); got != 3 {
			t.Errorf("3 accepted calls left %d tracker entries, want 3", got)
		}
	})

	// Item 12: a consumer that hangs up after its call was forwarded still
	// leaves the registry's answer in the message log.
	registerAttack("subject/consumer-hangs-up", func(t *testing.T) {
		w := newAttackWorld(t, nil)
		simControl(t, w, "POST", "/_sim/faults", `{"status": 0, "delay_ms": 400}`)
		w.clearReceived(t, "9101")
		conn, err := net.Dial("tcp", "127.0.0.1:"+w.ports["8080"])
		if err != nil {
			t.Fatal(err)
		}
		_, err = conn.Write([]byte("GET " + civilPath + "/persons/1000000145 HTTP/1.1\r\nHost: x\r\nX-Road-Id: hangup-1\r\n" +
			strings.Join(eservice, "\r\n") + "\r\n\r\n"))
		if err != nil {
			t.Fatal(err)
		}
		if !waitFor(10*time.Second, func() bool { return len(w.received(t, "9101")) == 1 }) {
			t.Fatal("the registry was never called")
		}
		conn.Close() // hang up while the registry is still answering
		var recs []audit.Record
		if !waitFor(15*time.Second, func() bool {
			recs = worldRecords(t, w, "hangup-1")
			return len(recs) == 2
		}) {
			t.Fatalf("records of the hung-up exchange: %+v, want a request and a response record", recs)
		}
		if r := recs[1]; r.Kind != audit.KindResponse || r.Status != 200 || r.Attempts != 1 {
			t.Errorf("response record = %+v, want the registry's 200", r)
		}
	})
}

// simControl sends a control order to the civil registry of w.
func simControl(t *testing.T, w *attackWorld, method, path, body string) {
	t.Helper()
	a := w.doOn(t, "9101", method, path, []byte(body), "Content-Type: application/json")
	if a.Status != 200 {
		t.Fatalf("%s %s: %v", method, path, a)
	}
}

// worldRecords exports w's message log and returns the records of one
// message id, in chain order.
func worldRecords(t *testing.T, w *attackWorld, messageID string) []audit.Record {
	t.Helper()
	cmd := exec.Command(w.govbusBin, "audit", "export", "-config", w.config)
	cmd.Dir = w.dir // the log's path is relative to govbus's working directory
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("govbus audit export: %v", err)
	}
	var recs []audit.Record
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		var r audit.Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("export line %q: %v", sc.Text(), err)
		}
		if r.MessageID == messageID {
			recs = append(recs, r)
		}
	}
	return recs
}
