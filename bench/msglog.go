package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// The message log's footprint after a run: the SQLite files a govbus with
// the message log on wrote during the bench, how many records they hold
// (counted with the sqlite3 command when it is installed) and how that
// compares with the exchanges the process counted (two records each, the
// request and the answer, for the exchanges the log saw).

// ErrNoRecords is wrapped by CheckMsglog when the message log that should
// have recorded the bench's exchanges is missing or holds no record.
var ErrNoRecords = errors.New("no message log records")

// MsglogCheck is what CheckMsglog looks at.
type MsglogCheck struct {
	// Name labels the process in the report, e.g. govbus.
	Name string
	// DB is the SQLite file of its message log; its -wal and -shm files
	// count towards the size on disk.
	DB string
	// SQLite3 is the sqlite3 binary counting the records; "" means
	// "sqlite3" on PATH. When it cannot be found the records are not
	// counted and the report gives the size alone.
	SQLite3 string
	// Metrics, when set, is the Prometheus endpoint of the process, read
	// for govbus_exchanges_total.
	Metrics string
}

// DBFile is one file of a SQLite database and its size in bytes.
type DBFile struct {
	Suffix string // "" for the database itself, "-wal", "-shm"
	Size   int64
}

// MsglogReport is what CheckMsglog found.
type MsglogReport struct {
	Files []DBFile // those that exist, the database first
	Total int64    // their sizes added up
	// Records is the number of rows of the records table, valid when
	// Counted; NotCounted says why it is not.
	Counted    bool
	Records    int64
	NotCounted string
	// Exchanges is the process's govbus_exchanges_total, valid when
	// HaveExchanges; NoExchanges says why it is not.
	HaveExchanges bool
	Exchanges     float64
	NoExchanges   string
}

// dbSuffixes are the files SQLite keeps for a database in WAL mode.
var dbSuffixes = []string{"", "-wal", "-shm"}

// DBFiles returns the files of the SQLite database at path that exist
// (path itself, path-wal, path-shm) and their total size. It fails when
// path itself does not exist.
func DBFiles(path string) ([]DBFile, int64, error) {
	var files []DBFile
	var total int64
	for _, s := range dbSuffixes {
		fi, err := os.Stat(path + s)
		if err != nil {
			if s == "" || !errors.Is(err, os.ErrNotExist) {
				return nil, 0, err
			}
			continue
		}
		files = append(files, DBFile{Suffix: s, Size: fi.Size()})
		total += fi.Size()
	}
	return files, total, nil
}

// CountRecords counts the rows of the records table of the message log at
// path with the sqlite3 binary, read-only, waiting up to 10 s for a lock
// (the log's process may still have it open).
func CountRecords(ctx context.Context, sqlite3, path string) (int64, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, sqlite3, "-readonly", "-cmd", ".timeout 10000", path, "SELECT count(*) FROM records;")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return 0, fmt.Errorf("%s %s: %s", sqlite3, path, msg)
	}
	n, err := strconv.ParseInt(strings.TrimSpace(stdout.String()), 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%s %s: want a count of records, got %q", sqlite3, path, strings.TrimSpace(stdout.String()))
	}
	return n, nil
}

// CheckMsglog measures the message log of c.DB. It fails, wrapping
// ErrNoRecords, when the database does not exist or holds no record (the
// log was not on), and when sqlite3 is there but cannot count the records.
// An unreadable c.Metrics is noted in the report, not an error.
func CheckMsglog(ctx context.Context, c MsglogCheck) (MsglogReport, error) {
	var rep MsglogReport
	var err error
	rep.Files, rep.Total, err = DBFiles(c.DB)
	if errors.Is(err, os.ErrNotExist) {
		return rep, fmt.Errorf("%w: %s does not exist", ErrNoRecords, c.DB)
	}
	if err != nil {
		return rep, err
	}
	bin := c.SQLite3
	if bin == "" {
		bin = "sqlite3"
	}
	if path, lerr := exec.LookPath(bin); lerr != nil {
		rep.NotCounted = bin + " not installed"
	} else {
		if rep.Records, err = CountRecords(ctx, path, c.DB); err != nil {
			return rep, err
		}
		rep.Counted = true
		if rep.Records == 0 {
			return rep, fmt.Errorf("%w: %s holds none", ErrNoRecords, c.DB)
		}
	}
	if c.Metrics != "" {
		client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
		if v, merr := ScrapeCounters(ctx, client, c.Metrics, "govbus_exchanges_total"); merr != nil {
			rep.NoExchanges = merr.Error()
		} else {
			rep.HaveExchanges, rep.Exchanges = true, v[0]
		}
	}
	return rep, nil
}

// Line describes the report in one line for a person reading the bench
// output, e.g. "message log of govbus: var/bench/messagelog.db, 212.4 MiB
// on disk (db 208.0 MiB, -wal 4.4 MiB, -shm 32.0 KiB); 612340 records,
// 2.00 per exchange (306170 exchanges)".
func (r MsglogReport) Line(c MsglogCheck) string {
	parts := make([]string, len(r.Files))
	for i, f := range r.Files {
		name := "db"
		if f.Suffix != "" {
			name = f.Suffix
		}
		parts[i] = name + " " + FormatBytes(f.Size)
	}
	line := fmt.Sprintf("message log of %s: %s, %s on disk (%s); ", c.Name, c.DB, FormatBytes(r.Total), strings.Join(parts, ", "))
	if !r.Counted {
		line += "records not counted (" + r.NotCounted + ")"
	} else {
		line += fmt.Sprintf("%d records", r.Records)
		if r.HaveExchanges && r.Exchanges > 0 {
			line += fmt.Sprintf(", %.2f per exchange (%.0f exchanges)", float64(r.Records)/r.Exchanges, r.Exchanges)
		}
	}
	if !r.HaveExchanges && r.NoExchanges != "" {
		line += "; exchanges unknown: " + r.NoExchanges
	}
	return line
}

// FormatBytes writes a size in binary units, e.g. "512 B", "4.0 KiB",
// "212.4 MiB".
func FormatBytes(n int64) string {
	if n < 1024 {
		return strconv.FormatInt(n, 10) + " B"
	}
	units := []string{"KiB", "MiB", "GiB"}
	v, i := float64(n)/1024, 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	return fmt.Sprintf("%.1f %s", v, units[i])
}
