package audit

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// pgSchema returns the schema of sqliteSchema in PostgreSQL's spelling
// (BLOB is BYTEA), one statement each: the same tables, columns, types and
// keys, written once, so the conformance suite tampers with both stores
// through the same SQL. The probe table, rewritten by Ping, is
// PostgreSQL's only addition. migrate also adds the columns of
// sqlAddedColumns to a table made before them, and creates sqlIndexes
// (replacing a stale one).
func pgSchema() []string {
	var stmts []string
	for _, stmt := range strings.Split(sqliteSchema, ";") {
		if stmt = strings.TrimSpace(stmt); stmt != "" {
			stmts = append(stmts, strings.ReplaceAll(stmt, " BLOB", " BYTEA"))
		}
	}
	return append(stmts, `CREATE TABLE IF NOT EXISTS probe (id INTEGER PRIMARY KEY, time_us BIGINT NOT NULL)`)
}

// pgProbe is Ping's write.
const pgProbe = `INSERT INTO probe (id, time_us)
	VALUES (1, (extract(epoch FROM clock_timestamp()) * 1000000)::bigint)
	ON CONFLICT (id) DO UPDATE SET time_us = excluded.time_us`

// pgSchemaLock is the advisory lock that serialises schema creation among
// nodes starting at once (concurrent CREATE TABLE IF NOT EXISTS can fail).
const pgSchemaLock int64 = 0x676f76627573 // "govbus"

// Time limits of the PostgreSQL store's calls, on top of the caller's
// context: a server that is down or unreachable makes a call fail within
// them instead of hanging, so the node fails closed (Server.LoggingFailed).
const (
	// pgConnectTimeout bounds each connection attempt, unless the DSN sets
	// connect_timeout.
	pgConnectTimeout = 2 * time.Second
	// pgCallTimeout bounds Append, Last, LastHead and Anchor: long enough
	// for a durable commit on a busy server, short enough to fail a
	// request rather than hold it.
	pgCallTimeout = 5 * time.Second
	// pgPingTimeout bounds Ping, which readiness probes call.
	pgPingTimeout = 2 * time.Second
	// pgPruneTimeout bounds Prune, which may delete many rows.
	pgPruneTimeout = 5 * time.Minute
	// pgReadTimeout bounds ByTime, which serves an operator's page.
	pgReadTimeout = 30 * time.Second
	// pgPage is how many rows Scan and Heads read per query.
	pgPage = 1000
)

// PostgresStore is the Store of a cluster: the nodes write their own chains
// into one PostgreSQL database. Every call is about one node except
// BySubject, and ByTime without a node, which read every node's records.
type PostgresStore struct {
	pool *pgxpool.Pool
}

var _ Store = (*PostgresStore)(nil)

// OpenPostgres connects to the database at dsn (a pgx connection string;
// its pool_* parameters size the connection pool) and creates the schema
// when it is missing. Sessions run with synchronous_commit on, so an Append
// that returned nil is durable on the server.
func OpenPostgres(ctx context.Context, dsn string) (*PostgresStore, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("parsing the message log's PostgreSQL DSN: %w", err)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = pgConnectTimeout
	}
	cfg.ConnConfig.RuntimeParams["synchronous_commit"] = "on"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("opening the message log in PostgreSQL: %w", err)
	}
	s := &PostgresStore{pool: pool}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// migrate creates the tables, columns and indexes that are missing, and
// replaces an index made before its definition changed (sqlIndex.stale).
func (s *PostgresStore) migrate(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, pgSchemaLock); err != nil {
			return err
		}
		for _, stmt := range pgSchema() {
			if _, err := tx.Exec(ctx, stmt); err != nil {
				return err
			}
		}
		// Look before altering: ALTER TABLE locks the table out even when
		// there is nothing to add.
		rows, err := tx.Query(ctx, `SELECT column_name FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name = 'records'`)
		if err != nil {
			return err
		}
		have, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		for _, c := range sqlAddedColumns {
			if !slices.Contains(have, c.name) {
				if _, err := tx.Exec(ctx, `ALTER TABLE records ADD COLUMN `+c.name+` `+c.def); err != nil {
					return err
				}
			}
		}
		for _, ix := range sqlIndexes {
			var def string
			err := tx.QueryRow(ctx, `SELECT indexdef FROM pg_indexes
				WHERE schemaname = current_schema() AND indexname = $1`, ix.name).Scan(&def)
			switch {
			case errors.Is(err, pgx.ErrNoRows):
			case err != nil:
				return err
			case ix.stale(def):
				if _, err := tx.Exec(ctx, `DROP INDEX `+ix.name); err != nil {
					return err
				}
			}
			if _, err := tx.Exec(ctx, ix.create()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("creating the message log schema in PostgreSQL: %w", err)
	}
	return nil
}

// Append implements Store: one transaction whose inserts go to the server
// in one round trip; it fails on a (node, seq) conflict, leaving nothing
// written.
func (s *PostgresStore) Append(ctx context.Context, records []Record, head *SignedHead) error {
	if len(records) == 0 && head == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, pgCallTimeout)
	defer cancel()
	var batch pgx.Batch
	for i := range records {
		batch.Queue(sqlInsertRecord, sqlRecordArgs(&records[i])...)
	}
	if head != nil {
		batch.Queue(sqlInsertHead("heads"), sqlHeadArgs(head)...)
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		return tx.SendBatch(ctx, &batch).Close()
	})
	if err != nil {
		return fmt.Errorf("appending to the message log in PostgreSQL: %w", err)
	}
	return nil
}

// Last implements Store.
func (s *PostgresStore) Last(ctx context.Context, node string) (Record, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, pgCallTimeout)
	defer cancel()
	recs, err := pgQuery(ctx, s.pool, sqlScanRecord, `SELECT `+sqlRecordColumns+
		` FROM records WHERE node = $1 ORDER BY seq DESC LIMIT 1`, node)
	if err != nil || len(recs) == 0 {
		return Record{}, false, pgWrap("reading the last record", err)
	}
	return recs[0], true, nil
}

// Scan implements Store, reading pgPage records per query; fn runs with no
// query open, so Scan and Heads can run at once even on a single connection.
func (s *PostgresStore) Scan(ctx context.Context, node string, from int64, fn func(Record) error) error {
	const q = `SELECT ` + sqlRecordColumns + ` FROM records
		WHERE node = $1 AND seq >= $2 ORDER BY seq LIMIT $3`
	return pgWalk(ctx, s.pool, sqlScanRecord, q, node, from, func(r Record) int64 { return r.Seq }, fn)
}

// Heads implements Store, reading pgPage heads per query.
func (s *PostgresStore) Heads(ctx context.Context, node string, from int64, fn func(SignedHead) error) error {
	const q = `SELECT ` + sqlHeadColumns + ` FROM heads
		WHERE node = $1 AND seq >= $2 ORDER BY seq LIMIT $3`
	return pgWalk(ctx, s.pool, sqlScanHead, q, node, from, func(h SignedHead) int64 { return h.Seq }, fn)
}

// LastHead implements Store.
func (s *PostgresStore) LastHead(ctx context.Context, node string) (SignedHead, bool, error) {
	return s.oneHead(ctx, "reading the last signed head", `SELECT `+sqlHeadColumns+
		` FROM heads WHERE node = $1 ORDER BY seq DESC LIMIT 1`, node)
}

// Anchor implements Store.
func (s *PostgresStore) Anchor(ctx context.Context, node string) (SignedHead, bool, error) {
	return s.oneHead(ctx, "reading the prune anchor", `SELECT `+sqlHeadColumns+
		` FROM anchors WHERE node = $1`, node)
}

func (s *PostgresStore) oneHead(ctx context.Context, what, query string, args ...any) (SignedHead, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, pgCallTimeout)
	defer cancel()
	heads, err := pgQuery(ctx, s.pool, sqlScanHead, query, args...)
	if err != nil || len(heads) == 0 {
		return SignedHead{}, false, pgWrap(what, err)
	}
	return heads[0], true, nil
}

// BySubject implements Store, over every node's records, on the
// records_subject_time index.
func (s *PostgresStore) BySubject(ctx context.Context, q SubjectQuery) ([]Record, error) {
	if none, err := q.check(); none {
		return nil, pgWrap("reading records by subject", err)
	}
	ctx, cancel := context.WithTimeout(ctx, pgReadTimeout)
	defer cancel()
	query, args := sqlBySubject(&q)
	recs, err := pgQuery(ctx, s.pool, sqlScanRecord, query, args...)
	if err != nil {
		return nil, pgWrap("reading records by subject", err)
	}
	return recs, nil
}

// ByTime implements Store, on the records_node_time index; over every
// node, one query per node.
func (s *PostgresStore) ByTime(ctx context.Context, q TimeQuery) ([]Record, error) {
	ctx, cancel := context.WithTimeout(ctx, pgReadTimeout)
	defer cancel()
	recs, err := byTime(ctx, q, s.queryRecords, func(ctx context.Context) ([]string, error) {
		return pgQuery(ctx, s.pool, func(row sqlRow) (n string, err error) { return n, row.Scan(&n) }, sqlNodes)
	})
	if err != nil {
		return nil, pgWrap("reading records by time", err)
	}
	return recs, nil
}

func (s *PostgresStore) queryRecords(ctx context.Context, q string, args ...any) ([]Record, error) {
	return pgQuery(ctx, s.pool, sqlScanRecord, q, args...)
}

// Prune implements Store: the deletions and the new anchor in one
// transaction. It refuses an anchor that is not node's head at upTo, or
// that would move node's anchor back.
func (s *PostgresStore) Prune(ctx context.Context, node string, upTo int64, anchor SignedHead) error {
	if anchor.Node != node || anchor.Seq != upTo {
		return fmt.Errorf("pruning %s up to %d: the anchor is %s at %d", node, upTo, anchor.Node, anchor.Seq)
	}
	ctx, cancel := context.WithTimeout(ctx, pgPruneTimeout)
	defer cancel()
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, sqlInsertHead("anchors")+` ON CONFLICT (node) DO UPDATE
			SET seq = excluded.seq, hash = excluded.hash, time_us = excluded.time_us,
				key_id = excluded.key_id, signature = excluded.signature
			WHERE anchors.seq <= excluded.seq`, sqlHeadArgs(&anchor)...)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return errors.New("the anchor would move back")
		}
		for _, q := range []string{
			`DELETE FROM records WHERE node = $1 AND seq <= $2`,
			`DELETE FROM heads WHERE node = $1 AND seq <= $2`,
		} {
			if _, err := tx.Exec(ctx, q, node, upTo); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("pruning %s up to %d in PostgreSQL: %w", node, upTo, err)
	}
	return nil
}

// Ping implements Store with a durable write, a one-row upsert into the
// probe table: it fails when the server is down or unreachable, read-only
// (a standby, default_transaction_read_only) or cannot write its WAL.
func (s *PostgresStore) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, pgPingTimeout)
	defer cancel()
	if _, err := s.pool.Exec(ctx, pgProbe); err != nil {
		return fmt.Errorf("writing to the message log in PostgreSQL: %w", err)
	}
	return nil
}

// Close implements Store: it closes the pool's connections.
func (s *PostgresStore) Close() error {
	s.pool.Close()
	return nil
}

// pgQuery runs query and reads every row with scan.
func pgQuery[T any](ctx context.Context, pool *pgxpool.Pool, scan func(sqlRow) (T, error), query string, args ...any) ([]T, error) {
	rows, err := pool.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (T, error) { return scan(row) })
}

// pgWalk calls fn with the rows of query (whose parameters are node, the
// first seq and the page size) page by page, each page read and closed
// before fn sees it.
func pgWalk[T any](ctx context.Context, pool *pgxpool.Pool, scan func(sqlRow) (T, error), query, node string, from int64, seq func(T) int64, fn func(T) error) error {
	for {
		page, err := pgQuery(ctx, pool, scan, query, node, from, pgPage)
		if err != nil {
			return pgWrap("scanning", err)
		}
		for _, v := range page {
			if err := fn(v); err != nil {
				return err
			}
		}
		if len(page) < pgPage {
			return nil
		}
		from = seq(page[len(page)-1]) + 1
	}
}

// pgWrap prefixes a PostgreSQL error with what was being done; nil stays
// nil.
func pgWrap(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s in PostgreSQL: %w", what, err)
}
