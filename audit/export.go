package audit

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// ExportFilter selects the records Export writes. Zero fields select all.
type ExportFilter struct {
	// From and To bound Time to [From, To); a zero bound is open.
	From, To time.Time
	// Client and Service, when set, must equal the record's.
	Client, Service string
}

// ExportResult tells what Export wrote.
type ExportResult struct {
	// Records is the number of records written.
	Records int
	// LastSeq is the Seq of the last record written (0 when none). An
	// export filtered by time only covers every record up to it: pass it
	// to Prune as exportedUpTo.
	LastSeq int64
}

func (f ExportFilter) match(r *Record) bool {
	return (f.From.IsZero() || !r.Time.Before(f.From)) &&
		(f.To.IsZero() || r.Time.Before(f.To)) &&
		(f.Client == "" || r.Client == f.Client) &&
		(f.Service == "" || r.Service == f.Service)
}

// Export writes node's records that match filter to w as JSON lines, one
// Record per line in Seq order, with every field including Hash and
// PrevHash (Body in base64), so an archive can be checked on its own. The
// error is the store's or w's; ExportResult counts what was written.
func Export(ctx context.Context, store Store, node string, w io.Writer, filter ExportFilter) (ExportResult, error) {
	var res ExportResult
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	err := store.Scan(ctx, node, 0, func(r Record) error {
		if !filter.match(&r) {
			return nil
		}
		if err := enc.Encode(&r); err != nil {
			return fmt.Errorf("writing record %d: %w", r.Seq, err)
		}
		res.Records++
		res.LastSeq = r.Seq
		return nil
	})
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		return res, fmt.Errorf("exporting node %s: %w", node, err)
	}
	return res, nil
}
