package main

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestWatchFileCallsOnChange(t *testing.T) {
	path := filepath.Join(t.TempDir(), "govbus.yaml")
	if err := os.WriteFile(path, []byte("node: a\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	changed := make(chan struct{}, 4)
	stop := watchFile(path, func() { changed <- struct{}{} }, slog.New(slog.DiscardHandler))
	defer stop()
	select {
	case <-changed:
		t.Fatal("called before any change")
	case <-time.After(1500 * time.Millisecond):
	}
	if err := os.WriteFile(path, []byte("node: bb\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	select {
	case <-changed:
	case <-time.After(5 * time.Second):
		t.Fatal("no call within 5s of a change")
	}
}
