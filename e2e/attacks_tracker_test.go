package e2e

import (
	"bufio"
	"encoding/json"
	"net/url"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/govbus/govbus/audit"
)

// trackerWorldTweak gives the portal's tracker right a condition that a
// call without the Kyiv office's header fails, and the Data Tracker a
// budget of trackerBudget calls that does not refill while the test runs
// (one call per 1000 s).
func trackerWorldTweak(cfg string) string {
	rule := "  - id: portal-tracker\n    clients: [UA/GOV/00000005/citizen-portal]\n    rights: [tracker]\n"
	if !strings.Contains(cfg, rule) {
		panic("the demo configuration has no portal-tracker rule as expected")
	}
	cfg = strings.Replace(cfg, rule, rule+`    condition: 'headers["x-office"] == "kyiv"'`+"\n", 1)
	return cfg + "\ntracker: {rate: {per_second: 0.001, burst: " + strconv.Itoa(trackerBudget) + "}, max_limit: 50}\n"
}

// trackerBudget is the tracker calls the portal may make in the tracker
// world; every case but the last spends fewer than it together.
const trackerBudget = 20

// asOfficial is the portal, asking for the official with the Kyiv
// office's header.
var asOfficial = with(portal, "X-Road-UserId: UA-OFFICIAL-4711", "X-Office: kyiv")

// trackerExport returns w's message log records of the Data Tracker.
func trackerExport(t *testing.T, w *attackWorld) []audit.Record {
	t.Helper()
	cmd := exec.Command(w.govbusBin, "audit", "export", "-config", w.config, "-service", "tracker")
	cmd.Dir = w.dir
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
		recs = append(recs, r)
	}
	return recs
}

// trackerPage is one answer of the Data Tracker.
type trackerPage struct {
	Accesses []struct {
		Service   string `json:"service"`
		Subsystem string `json:"subsystem"`
		Outcome   string `json:"outcome"`
	} `json:"accesses"`
	NextCursor string `json:"next_cursor"`
}

func init() {
	// Item 8: the tracker right obeys its rule's condition; tracker calls
	// need X-Road-UserId, are paged with a cursor that cannot be forged,
	// are logged with the user id, and are rate limited per client. One
	// world of its own (the condition and a fixed budget of calls), its
	// cases in order: the budget is spent last.
	registerAttack("tracker", func(t *testing.T) {
		w := newAttackWorld(t, trackerWorldTweak)
		spent := 0 // tracker calls past the right check (each takes a token)
		ask := func(t *testing.T, query string, headers ...string) attackAnswer {
			t.Helper()
			a := w.do(t, "GET", "/tracker/v1/accesses?"+query, nil, headers...)
			if a.Status != 403 {
				spent++
			}
			return a
		}

		t.Run("condition", func(t *testing.T) {
			// Before: the rule's condition was ignored and the portal read
			// the tracker from anywhere.
			a := ask(t, "subject=1000009801", with(portal, "X-Road-UserId: UA-OFFICIAL-4711")...)
			if a.Status != 403 || a.Type != "Client.AccessDenied" {
				t.Errorf("without X-Office: %v, want 403 Client.AccessDenied", a)
			}
			a = ask(t, "subject=1000009801", with(portal, "X-Road-UserId: UA-OFFICIAL-4711", "X-Office: lviv")...)
			if a.Status != 403 || a.Type != "Client.AccessDenied" {
				t.Errorf("X-Office: lviv: %v, want 403 Client.AccessDenied", a)
			}
			if a = ask(t, "subject=1000009801", asOfficial...); a.Status != 200 {
				t.Errorf("X-Office: kyiv: %v, want 200", a)
			}
		})

		t.Run("user-id", func(t *testing.T) {
			// Before: anyone holding the right could ask anonymously.
			a := ask(t, "subject=1000009802", with(portal, "X-Office: kyiv")...)
			if a.Status != 400 || a.Type != "Client.BadRequest" {
				t.Errorf("without X-Road-UserId: %v, want 400 Client.BadRequest", a)
			}
		})

		t.Run("paging", func(t *testing.T) {
			// Five reads of one person, listed two a page: exactly five
			// accesses over three pages, the cursor leading from one to
			// the next; before, there was no limit nor cursor, and every
			// record of the person was read at once.
			const id = "1000009803"
			w.clearReceived(t, "9101")
			for range 5 {
				if a := w.do(t, "GET", civilPath+"/persons/"+id, nil, eservice...); a.Status != 200 {
					t.Fatalf("read: %v", a)
				}
			}
			if got := len(w.received(t, "9101")); got != 5 {
				t.Fatalf("the registry received %d reads, want 5", got)
			}
			n, pages, cursor, first := 0, 0, "", ""
			for ; pages < 10; pages++ {
				q := "subject=" + id + "&limit=2"
				if cursor != "" {
					q += "&cursor=" + url.QueryEscape(cursor)
				}
				a := ask(t, q, asOfficial...)
				if a.Status != 200 {
					t.Fatalf("page %d: %v", pages+1, a)
				}
				var p trackerPage
				if err := json.Unmarshal(a.Body, &p); err != nil {
					t.Fatalf("page %d: %v: %s", pages+1, err, a.Body)
				}
				if len(p.Accesses) > 2 {
					t.Fatalf("page %d holds %d accesses, over limit=2", pages+1, len(p.Accesses))
				}
				for _, acc := range p.Accesses {
					if acc.Subsystem != "eservice" || acc.Outcome != "ok" {
						t.Errorf("access %+v, want eservice's read, ok", acc)
					}
				}
				n += len(p.Accesses)
				if first == "" {
					first = p.NextCursor
				}
				if p.NextCursor == "" {
					pages++
					break
				}
				cursor = p.NextCursor
			}
			if n != 5 || pages != 3 {
				t.Errorf("walked %d accesses in %d pages, want 5 in 3", n, pages)
			}
			// A cursor edited, or used for another person, is refused.
			tampered := []byte(first)
			tampered[len(tampered)/2] ^= 1
			for name, q := range map[string]string{
				"tampered cursor":        "subject=" + id + "&limit=2&cursor=" + url.QueryEscape(string(tampered)),
				"another person's":       "subject=1000009804&limit=2&cursor=" + url.QueryEscape(first),
				"limit over max_limit":   "subject=" + id + "&limit=51",
				"subject twice":          "subject=" + id + "&subject=1000009804",
				"limit twice":            "subject=" + id + "&limit=2&limit=3",
				"unknown parameter":      "subject=" + id + "&page=2",
				"semicolon in the query": "subject=" + id + ";limit=2",
			} {
				if a := ask(t, q, asOfficial...); a.Status != 400 || a.Type != "Client.BadRequest" {
					t.Errorf("%s: %v, want 400 Client.BadRequest", name, a)
				}
			}
			// The look-ups are in the message log, with who asked; the
			// tracker's own look-ups are not among the accesses it lists.
			found := 0
			for _, r := range trackerExport(t, w) {
				if r.Kind == audit.KindRequest && r.Client == "UA/GOV/00000005/citizen-portal" && r.UserID == "UA-OFFICIAL-4711" && r.SubjectHash != "" {
					found++
				}
			}
			if found < 4 { // the condition's look-up and the three pages
				t.Errorf("%d tracker look-ups logged with the user id, want at least 4", found)
			}
		})

		t.Run("rate-limit", func(t *testing.T) {
			// Before: the tracker answered as fast as it was asked. Now
			// the portal's budget ends: the call after it is 429 with
			// Retry-After, and the tracker is not read.
			left := trackerBudget - spent
			if left < 1 {
				t.Fatalf("the cases before spent %d calls, the whole budget of %d", spent, trackerBudget)
			}
			for i := range left {
				if a := ask(t, "subject=1000009805", asOfficial...); a.Status != 200 {
					t.Fatalf("call %d of the %d left: %v, want 200", i+1, left, a)
				}
			}
			a := ask(t, "subject=1000009805", asOfficial...)
			if a.Status != 429 || a.Type != "Client.RateLimited" {
				t.Fatalf("the call past the budget: %v, want 429 Client.RateLimited", a)
			}
			if ra, err := strconv.Atoi(a.Header.Get("Retry-After")); err != nil || ra < 1 {
				t.Errorf("Retry-After %q, want whole seconds ≥ 1", a.Header.Get("Retry-After"))
			}
			// Another client's calls are its own: eservice has no right,
			// and still gets 403, not 429.
			if a := w.do(t, "GET", "/tracker/v1/accesses?subject=1000009805", nil, with(eservice, "X-Road-UserId: x")...); a.Status != 403 {
				t.Errorf("eservice: %v, want 403", a)
			}
		})
	})
}
