// Command benchload is the load generator and reporter of govbus's load
// harness (bench/run.sh, make bench). See package bench for its commands.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/govbus/govbus/bench"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := bench.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
