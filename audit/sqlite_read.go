package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// sqlitePage is how many rows Scan and Heads read per query: each page is a
// short read, closed before fn runs, so a long walk neither pins a WAL
// snapshot nor holds a connection while the caller works.
const sqlitePage = 256

// Last implements Store.
func (s *SQLiteStore) Last(ctx context.Context, node string) (Record, bool, error) {
	row := s.readers.QueryRowContext(ctx, `SELECT `+sqlRecordColumns+
		` FROM records WHERE node = $1 ORDER BY seq DESC LIMIT 1`, node)
	r, err := sqlScanRecord(row)
	if errors.Is(err, sql.ErrNoRows) {
		return Record{}, false, nil
	}
	if err != nil {
		return Record{}, false, fmt.Errorf("reading last record: %w", err)
	}
	return r, true, nil
}

// Scan implements Store, reading sqlitePage records per query.
func (s *SQLiteStore) Scan(ctx context.Context, node string, from int64, fn func(Record) error) error {
	const q = `SELECT ` + sqlRecordColumns + ` FROM records
		WHERE node = $1 AND seq >= $2 ORDER BY seq LIMIT $3`
	for {
		page, err := sqliteQueryAll(ctx, s.readers, sqlScanRecord, q, node, from, sqlitePage)
		if err != nil {
			return fmt.Errorf("scanning records: %w", err)
		}
		for _, r := range page {
			if err := fn(r); err != nil {
				return err
			}
		}
		if len(page) < sqlitePage {
			return nil
		}
		from = page[len(page)-1].Seq + 1
	}
}

// Heads implements Store, reading sqlitePage heads per query.
func (s *SQLiteStore) Heads(ctx context.Context, node string, from int64, fn func(SignedHead) error) error {
	const q = `SELECT ` + sqlHeadColumns + ` FROM heads
		WHERE node = $1 AND seq >= $2 ORDER BY seq LIMIT $3`
	for {
		page, err := sqliteQueryAll(ctx, s.readers, sqlScanHead, q, node, from, sqlitePage)
		if err != nil {
			return fmt.Errorf("scanning signed heads: %w", err)
		}
		for _, h := range page {
			if err := fn(h); err != nil {
				return err
			}
		}
		if len(page) < sqlitePage {
			return nil
		}
		from = page[len(page)-1].Seq + 1
	}
}

// LastHead implements Store.
func (s *SQLiteStore) LastHead(ctx context.Context, node string) (SignedHead, bool, error) {
	return s.oneHead(ctx, `SELECT `+sqlHeadColumns+
		` FROM heads WHERE node = $1 ORDER BY seq DESC LIMIT 1`, node)
}

// Anchor implements Store.
func (s *SQLiteStore) Anchor(ctx context.Context, node string) (SignedHead, bool, error) {
	return s.oneHead(ctx, `SELECT `+sqlHeadColumns+` FROM anchors WHERE node = $1`, node)
}

func (s *SQLiteStore) oneHead(ctx context.Context, q, node string) (SignedHead, bool, error) {
	h, err := sqlScanHead(s.readers.QueryRowContext(ctx, q, node))
	if errors.Is(err, sql.ErrNoRows) {
		return SignedHead{}, false, nil
	}
	if err != nil {
		return SignedHead{}, false, err
	}
	return h, true, nil
}

// ByTime implements Store, on the records_node_time index; over every
// node, one query per node.
func (s *SQLiteStore) ByTime(ctx context.Context, q TimeQuery) ([]Record, error) {
	recs, err := byTime(ctx, q, s.queryRecords, func(ctx context.Context) ([]string, error) {
		return sqliteQueryAll(ctx, s.readers, func(row sqlRow) (n string, err error) {
			return n, row.Scan(&n)
		}, sqlNodes)
	})
	if err != nil {
		return nil, fmt.Errorf("reading records by time: %w", err)
	}
	return recs, nil
}

func (s *SQLiteStore) queryRecords(ctx context.Context, q string, args ...any) ([]Record, error) {
	return sqliteQueryAll(ctx, s.readers, sqlScanRecord, q, args...)
}

// sqliteQueryAll runs q and reads every row with scan.
func sqliteQueryAll[T any](ctx context.Context, db *sql.DB, scan func(sqlRow) (T, error), q string, args ...any) ([]T, error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
