package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/govbus/govbus/audit"
	"github.com/govbus/govbus/config"
)

// openStore opens the configured message log store.
func openStore(ctx context.Context, ml config.MessageLog) (audit.Store, error) {
	switch ml.Store {
	case "postgres":
		return audit.OpenPostgres(ctx, ml.DSN)
	default:
		if err := os.MkdirAll(filepath.Dir(ml.Path), 0o750); err != nil {
			return nil, err
		}
		// The log holds user ids: create it readable by its owner only
		// (SQLite gives its -wal and -shm files the same mode).
		f, err := os.OpenFile(ml.Path, os.O_CREATE|os.O_RDONLY, 0o600)
		if err != nil {
			return nil, err
		}
		f.Close()
		return audit.OpenSQLite(ml.Path)
	}
}

// loadSigner loads the node's signing key, writing a new one at first start.
func loadSigner(path string, logger *slog.Logger) (*audit.Signer, error) {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			return nil, err
		}
		if err := audit.GenerateKey(path); err != nil {
			return nil, err
		}
		logger.Warn("message log: no signing key; wrote a new one", slog.String("path", path))
	}
	return audit.LoadSigner(path)
}

// openMessageLog opens the store and the log that appends to it.
func openMessageLog(ctx context.Context, cfg *config.Config, logger *slog.Logger) (*audit.Log, audit.Store, error) {
	ml := cfg.MessageLog
	store, err := openStore(ctx, ml)
	if err != nil {
		return nil, nil, fmt.Errorf("opening the message log store: %w", err)
	}
	signer, err := loadSigner(ml.SigningKey, logger)
	if err != nil {
		store.Close()
		return nil, nil, fmt.Errorf("loading the message log signing key: %w", err)
	}
	log, err := audit.Open(ctx, store, audit.Options{
		Node: cfg.Node, Signer: signer, SignEvery: ml.SignEvery, SignInterval: ml.SignInterval.D(), Logger: logger,
	})
	if err != nil {
		store.Close()
		return nil, nil, fmt.Errorf("opening the message log: %w", err)
	}
	return log, store, nil
}

// keygen writes a new Ed25519 signing key.
func keygen(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("keygen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "file to write the private key to (refuses to overwrite)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *out == "" {
		fmt.Fprintln(stderr, "govbus keygen: -out FILE is required")
		return 2
	}
	if err := audit.GenerateKey(*out); err != nil {
		fmt.Fprintf(stderr, "govbus keygen: %v\n", err)
		return 1
	}
	s, err := audit.LoadSigner(*out)
	if err != nil {
		fmt.Fprintf(stderr, "govbus keygen: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "wrote %s (key id %s)\n", *out, s.KeyID())
	return 0
}

// auditCmd runs govbus audit verify|export|prune|reindex.
func auditCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, "usage: govbus audit verify|export|prune|reindex -config FILE [flags]\n")
		return 2
	}
	fs := flag.NewFlagSet("audit "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "configuration file")
	node := fs.String("node", "", "node whose chain to read (default: the configuration's node)")
	anchor := fs.String("anchor", "", "verify: a signed head published earlier (JSON, or a file holding it): also detects a cut tail")
	from := fs.String("from", "", "export: records at or after this RFC 3339 time")
	to := fs.String("to", "", "export: records before this RFC 3339 time")
	client := fs.String("client", "", "export: only this client")
	service := fs.String("service", "", "export: only this service")
	out := fs.String("out", "", "export: write to this file instead of standard output")
	before := fs.String("before", "", "prune: remove records before this RFC 3339 time")
	exported := fs.Int64("exported-up-to", 0, "prune: the last seq a verified export covered (govbus audit export prints it)")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if *path == "" {
		fmt.Fprintf(stderr, "govbus audit %s: -config FILE is required\n", args[0])
		return 2
	}
	cfg, _, err := config.Load(*path, nil)
	if err != nil {
		fmt.Fprintf(stderr, "govbus audit: %s: %v\n", *path, err)
		return 1
	}
	if *node == "" {
		*node = cfg.Node
	}
	ctx := context.Background()
	store, err := openStore(ctx, cfg.MessageLog)
	if err != nil {
		fmt.Fprintf(stderr, "govbus audit: opening the store: %v\n", err)
		return 1
	}
	defer store.Close()
	signer, err := audit.LoadSigner(cfg.MessageLog.SigningKey)
	if err != nil {
		fmt.Fprintf(stderr, "govbus audit: loading the signing key: %v\n", err)
		return 1
	}
	switch args[0] {
	case "verify":
		var head *audit.SignedHead
		if *anchor != "" {
			if head, err = readAnchor(*anchor); err != nil {
				fmt.Fprintf(stderr, "govbus audit verify: -anchor: %v\n", err)
				return 2
			}
		}
		rep, err := audit.Verify(ctx, store, *node, signer.Public(), head)
		if err != nil {
			fmt.Fprintf(stderr, "govbus audit verify: %v\n", err)
			return 1
		}
		fmt.Fprintln(stdout, rep.String())
		if !rep.OK {
			return 1
		}
		return 0
	case "export":
		var f audit.ExportFilter
		if f.From, err = optTime(*from); err == nil {
			f.To, err = optTime(*to)
		}
		if err != nil {
			fmt.Fprintf(stderr, "govbus audit export: %v\n", err)
			return 2
		}
		f.Client, f.Service = *client, *service
		w := stdout
		if *out != "" {
			file, err := os.OpenFile(*out, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
			if err != nil {
				fmt.Fprintf(stderr, "govbus audit export: %v\n", err)
				return 1
			}
			defer file.Close()
			w = file
		}
		res, err := audit.Export(ctx, store, *node, w, f)
		if err != nil {
			fmt.Fprintf(stderr, "govbus audit export: %v\n", err)
			return 1
		}
		fmt.Fprintf(stderr, "exported %d records; last seq %d\n", res.Records, res.LastSeq)
		return 0
	case "prune":
		t, err := optTime(*before)
		if err != nil || t.IsZero() {
			fmt.Fprintln(stderr, "govbus audit prune: -before TIME (RFC 3339) is required")
			return 2
		}
		if cfg.MessageLog.Retention > 0 && time.Since(t) < cfg.MessageLog.Retention.D() {
			fmt.Fprintf(stderr, "govbus audit prune: %s is within the retention period (%s)\n", *before, cfg.MessageLog.Retention.D())
			return 1
		}
		res, err := audit.Prune(ctx, store, *node, t, *exported, signer)
		if err != nil {
			fmt.Fprintf(stderr, "govbus audit prune: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "pruned %d records up to seq %d; anchor %s\n", res.Pruned, res.UpTo, mustJSON(res.Anchor))
		return 0
	case "reindex":
		r, ok := store.(interface{ RebuildSubjectIndex(context.Context) error })
		if !ok {
			fmt.Fprintln(stdout, "nothing to rebuild: this store's data subject index is kept by the database itself")
			return 0
		}
		if err := r.RebuildSubjectIndex(ctx); err != nil {
			fmt.Fprintf(stderr, "govbus audit reindex: %v\n", err)
			return 1
		}
		fmt.Fprintln(stdout, "rebuilt the data subject index from the records")
		return 0
	}
	fmt.Fprintf(stderr, "govbus audit: unknown command %q (verify, export, prune, reindex)\n", args[0])
	return 2
}

// readAnchor reads a signed head given as JSON or as a file holding it.
func readAnchor(v string) (*audit.SignedHead, error) {
	data := []byte(v)
	if !strings.HasPrefix(strings.TrimSpace(v), "{") {
		var err error
		if data, err = os.ReadFile(v); err != nil {
			return nil, err
		}
	}
	var h audit.SignedHead
	if err := json.Unmarshal(data, &h); err != nil {
		return nil, fmt.Errorf("not a signed head: %w", err)
	}
	return &h, nil
}

func optTime(v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not an RFC 3339 time", v)
	}
	return t, nil
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
