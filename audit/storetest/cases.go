package storetest

import (
	"testing"
	"time"

	"github.com/govbus/govbus/audit"
)

// editCases change one column of record 13 (odd: no subject, no body, no
// disclose time) without rehashing: Verify names record 13 as edited.
func editCases() []tamperCase {
	edits := []struct {
		name, set string
		value     any
	}{
		{"client", `client = $1`, "EE/GOV/66666/evil"},
		{"status", `status = $1`, int64(200)},
		{"time", `time_us = $1`, baseTime.UnixMicro()},
		{"body", `body = $1`, []byte("forged")},
		{"subject", `subject_hash = $1`, "0123456789abcdef"},
		{"disclose_after", `disclose_after_us = $1`, int64(0)},
		{"sent_at", `sent_at_us = $1`, baseTime.UnixMicro()},
		{"received_at", `received_at_us = $1`, baseTime.UnixMicro()},
		{"attempts", `attempts = $1`, int64(3)},
		{"original_sha256", `original_sha256 = $1`, "0123456789abcdef"},
		{"prev_hash", `prev_hash = $1`, "ab"},
		{"hash", `hash = $1`, "cd"},
	}
	var cases []tamperCase
	for _, e := range edits {
		cases = append(cases, tamperCase{"Edit_" + e.name, func(t *testing.T, c *tampered) {
			c.set(13, e.set, e.value)
			wantProblem(t, c.verify(nil), 13, c.rec(13).ID, audit.ProblemEdited)
		}})
	}
	cases = append(cases, tamperCase{"EditOperationalFieldsToZero", func(t *testing.T, c *tampered) {
		// Record 14 is an answer with every operational field set; zeroed,
		// it must not pass for a record hashed before they existed.
		if r := c.rec(14); r.Attempts == 0 || r.SentAt.IsZero() || r.ReceivedAt.IsZero() {
			t.Fatalf("record 14 lacks operational fields: %+v", r)
		}
		c.set(14, `sent_at_us = NULL, received_at_us = NULL, attempts = 0`)
		wantProblem(t, c.verify(nil), 14, c.rec(14).ID, audit.ProblemEdited)
	}})
	cases = append(cases, tamperCase{"EditOriginalDigestAway", func(t *testing.T, c *tampered) {
		// Record 14 is a minimised answer; without its original's digest
		// it must not pass for a record hashed before the digest existed.
		if c.rec(14).OriginalSHA256 == "" {
			t.Fatalf("record 14 lacks the original digest: %+v", c.rec(14))
		}
		c.set(14, `original_sha256 = ''`)
		wantProblem(t, c.verify(nil), 14, c.rec(14).ID, audit.ProblemEdited)
	}})
	return append(cases, tamperCase{"EditAndRehash", func(t *testing.T, c *tampered) {
		r := c.rec(13)
		r.Client = "EE/GOV/66666/evil"
		r.Hash = r.ComputeHash()
		c.set(13, `client = $1, hash = $2`, r.Client, r.Hash)
		wantProblem(t, c.verify(nil), 14, c.rec(14).ID, audit.ProblemLinkage)
	}})
}

// moveCases delete, insert and reorder records.
func moveCases() []tamperCase {
	return []tamperCase{
		{"DeleteMiddle", func(t *testing.T, c *tampered) {
			c.exec(`DELETE FROM records WHERE node = $1 AND seq = $2`, c.node, 15)
			wantProblem(t, c.verify(nil), 16, c.rec(16).ID, audit.ProblemDeleted)
		}},
		{"DeleteRange", func(t *testing.T, c *tampered) {
			c.exec(`DELETE FROM records WHERE node = $1 AND seq >= $2 AND seq <= $3`, c.node, 12, 14)
			wantProblem(t, c.verify(nil), 15, c.rec(15).ID, audit.ProblemDeleted)
		}},
		{"DeleteFirst", func(t *testing.T, c *tampered) {
			c.exec(`DELETE FROM records WHERE node = $1 AND seq = $2`, c.node, 1)
			wantProblem(t, c.verify(nil), 2, c.rec(2).ID, audit.ProblemDeleted)
		}},
		{"InsertForged", func(t *testing.T, c *tampered) {
			// Make room at 15, rehash the shifted records at their new
			// seqs, and insert a well-formed record linked to 14.
			c.exec(`UPDATE records SET seq = -seq WHERE node = $1 AND seq >= $2`, c.node, 15)
			c.exec(`UPDATE records SET seq = 1 - seq WHERE node = $1 AND seq < 0`, c.node)
			for i := 15; i <= 30; i++ {
				r := c.rec(i)
				r.Seq = int64(i + 1)
				c.set(r.Seq, `hash = $1`, r.ComputeHash())
			}
			forged := c.record(c.node, 15)
			forged.ID, forged.Client = "forged", "EE/GOV/66666/evil"
			forged.Link(15, c.rec(14).Hash)
			c.insert(forged)
			wantProblem(t, c.verify(nil), 15, "forged", audit.ProblemLinkage)
		}},
		{"Swap", func(t *testing.T, c *tampered) {
			c.moveSeq(12, -1)
			c.moveSeq(15, 12)
			c.moveSeq(-1, 15)
			for _, m := range []struct{ from, to int }{{15, 12}, {12, 15}} {
				r := c.rec(m.from)
				r.Seq = int64(m.to)
				c.set(r.Seq, `hash = $1`, r.ComputeHash())
			}
			wantProblem(t, c.verify(nil), 12, c.rec(15).ID, audit.ProblemLinkage)
		}},
		{"SwapWithoutRehash", func(t *testing.T, c *tampered) {
			c.moveSeq(12, -1)
			c.moveSeq(13, 12)
			c.moveSeq(-1, 13)
			wantProblem(t, c.verify(nil), 12, c.rec(13).ID, audit.ProblemEdited)
		}},
		{"CutTail", func(t *testing.T, c *tampered) {
			c.exec(`DELETE FROM records WHERE node = $1 AND seq > $2`, c.node, 25)
			c.exec(`DELETE FROM heads WHERE node = $1 AND seq > $2`, c.node, 25)
			rep := c.verify(nil)
			wantOK(t, rep) // invisible without an anchor: why heads are published
			if rep.To != 25 {
				t.Fatalf("Verify without anchor checked up to %d, want 25", rep.To)
			}
			rep = c.verify(&c.heads[2])
			wantProblem(t, rep, 26, "", audit.ProblemCutTail)
			if want := "node " + c.node + ": chain ends at seq 25, before the anchored head at 30 (cut tail)"; rep.String() != want {
				t.Fatalf("report: %q\nwant %q", rep, want)
			}
		}},
		{"CutTailKeepingHeads", func(t *testing.T, c *tampered) {
			c.exec(`DELETE FROM records WHERE node = $1 AND seq > $2`, c.node, 25)
			wantProblem(t, c.verify(nil), 26, "", audit.ProblemCutTail)
		}},
	}
}

// rewriteCases rewrite the chain from record 13 on, relinked and rehashed
// as a forger without the key would: the signed heads catch it.
func rewriteCases() []tamperCase {
	evil := func(r *audit.Record) { r.Client = "EE/GOV/66666/evil" }
	return []tamperCase{
		{"Rewrite", func(t *testing.T, c *tampered) {
			c.relink(13, evil)
			wantProblem(t, c.verify(nil), 20, c.rec(20).ID, audit.ProblemHeadMismatch)
		}},
		{"RewriteWithForgedHeads", func(t *testing.T, c *tampered) {
			recs := c.relink(13, evil)
			c.exec(`DELETE FROM heads WHERE node = $1 AND seq >= $2`, c.node, 13)
			forger := newSigner(t)
			for _, r := range []audit.Record{recs[20-13], recs[30-13]} {
				c.insertHead("heads", forger.Sign(c.node, r.Seq, r.Hash, time.Now()))
			}
			wantProblem(t, c.verify(nil), 20, c.rec(20).ID, audit.ProblemHeadSignature)
		}},
		{"RewriteWithHeadsRemoved", func(t *testing.T, c *tampered) {
			c.relink(13, evil)
			c.exec(`DELETE FROM heads WHERE node = $1 AND seq >= $2`, c.node, 13)
			wantOK(t, c.verify(nil))
			wantProblem(t, c.verify(&c.heads[1]), 20, c.rec(20).ID, audit.ProblemHeadMismatch)
		}},
		{"ForgedPruneAnchor", func(t *testing.T, c *tampered) {
			anchor := c.signer.Sign(c.node, 10, c.rec(10).Hash, time.Now())
			if err := c.store.Prune(c.ctx, c.node, 10, anchor); err != nil {
				t.Fatal(err)
			}
			wantOK(t, c.verify(nil))
			c.exec(`DELETE FROM records WHERE node = $1 AND seq <= $2`, c.node, 15)
			c.exec(`DELETE FROM anchors WHERE node = $1`, c.node)
			c.insertHead("anchors", newSigner(t).Sign(c.node, 15, c.rec(15).Hash, time.Now()))
			wantProblem(t, c.verify(nil), 15, "", audit.ProblemHeadSignature)
		}},
	}
}
