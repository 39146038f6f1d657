package audit

// The stores' drivers: SQLite in pure Go (the embedded default) and pgx for
// PostgreSQL.
import (
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"
)
