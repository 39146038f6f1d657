package storetest

import (
	"strconv"
	"testing"
	"time"

	"github.com/govbus/govbus/audit"
)

// tamperCase tampers with a chain of 30 records, signed at 10, 20 and 30,
// and checks what Verify says.
type tamperCase struct {
	name string
	run  func(t *testing.T, c *tampered)
}

// tampered is one tamper case's chain.
type tampered struct {
	*fixture
	node  string
	recs  []audit.Record // as appended: recs[i] has Seq i+1
	heads []audit.SignedHead
}

func testTamper(t *testing.T, f *fixture) {
	if f.tamper == nil {
		t.Skip("the store offers no storetest.Tamper (see WithTamper)")
	}
	cases := append(editCases(), moveCases()...)
	cases = append(cases, rewriteCases()...)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sub := *f
			sub.t = t
			c := &tampered{fixture: &sub, node: f.nodeName(tc.name)}
			c.recs = c.chain(c.node, 30, 5, 10)
			c.heads = c.fixture.heads(c.node, 0)
			wantOK(t, c.verifyNode(c.node, &c.heads[2]))
			tc.run(t, c)
		})
	}
}

// rec returns the record appended at seq.
func (c *tampered) rec(seq int) audit.Record { return c.recs[seq-1] }

func (c *tampered) verify(anchor *audit.SignedHead) audit.Report {
	c.t.Helper()
	return c.verifyNode(c.node, anchor)
}

// set runs "UPDATE records SET <assignments> WHERE node AND seq" with
// args for the assignments' $1.. placeholders.
func (c *tampered) set(seq int64, assignments string, args ...any) {
	c.t.Helper()
	n := len(args)
	c.exec(`UPDATE records SET `+assignments+` WHERE node = $`+strconv.Itoa(n+1)+` AND seq = $`+strconv.Itoa(n+2),
		append(args, c.node, seq)...)
}

// moveSeq gives the record at from the seq to.
func (c *tampered) moveSeq(from, to int64) {
	c.t.Helper()
	c.set(from, `seq = $1`, to)
}

// relink rewrites the chain from seq on as a forger without the key would:
// mutate changes the record at seq, and every record from there is
// relinked and rehashed.
func (c *tampered) relink(seq int, mutate func(*audit.Record)) []audit.Record {
	c.t.Helper()
	prev := c.rec(seq - 1).Hash
	var out []audit.Record
	for i := seq; i <= len(c.recs); i++ {
		r := c.rec(i)
		if i == seq {
			mutate(&r)
		}
		r.Link(int64(i), prev)
		prev = r.Hash
		c.set(r.Seq, `client = $1, prev_hash = $2, hash = $3`, r.Client, r.PrevHash, r.Hash)
		out = append(out, r)
	}
	return out
}

// insert stores r with plain SQL, in the shared schema's encoding.
func (c *tampered) insert(r audit.Record) {
	c.t.Helper()
	var body any
	if len(r.Body) > 0 {
		body = r.Body
	}
	micros := func(t time.Time) any {
		if t.IsZero() {
			return nil
		}
		return t.UnixMicro()
	}
	c.exec(`INSERT INTO records (node, seq, id, kind, time_us, message_id, request_id,
		client, service, method, path_template, user_id, issue, purpose, rule_id,
		status, error_type, size, body_sha256, body, subject_hash, disclose_after_us,
		trace_id, prev_hash, hash, sent_at_us, received_at_us, attempts,
		original_sha256) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,
		$13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27,
		$28, $29)`,
		r.Node, r.Seq, r.ID, string(r.Kind), r.Time.UnixMicro(), r.MessageID,
		r.RequestID, r.Client, r.Service, r.Method, r.PathTemplate, r.UserID,
		r.Issue, r.Purpose, r.RuleID, int64(r.Status), r.ErrorType, r.Size,
		r.BodySHA256, body, r.SubjectHash, micros(r.DiscloseAfter), r.TraceID,
		r.PrevHash, r.Hash, micros(r.SentAt), micros(r.ReceivedAt), int64(r.Attempts),
		r.OriginalSHA256)
}

// insertHead stores h in table (heads or anchors) with plain SQL.
func (c *tampered) insertHead(table string, h audit.SignedHead) {
	c.t.Helper()
	c.exec(`INSERT INTO `+table+` (node, seq, hash, time_us, key_id, signature)
		VALUES ($1, $2, $3, $4, $5, $6)`,
		h.Node, h.Seq, h.Hash, h.Time.UnixMicro(), h.KeyID, h.Signature)
}
