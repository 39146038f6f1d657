package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/govbus/govbus/authn"
	"github.com/govbus/govbus/config"
	"github.com/govbus/govbus/node"
)

// check validates a configuration file: exit 0 and "OK" when it loads,
// else every problem with its YAML path and line and exit 1.
func check(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "configuration file")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *path == "" {
		fmt.Fprintln(stderr, "govbus check: -config FILE is required")
		return 2
	}
	cfg, problems, err := config.Load(*path, nil)
	for _, p := range problems {
		fmt.Fprintf(stderr, "%s: %s\n", *path, p)
	}
	if err != nil {
		var ps config.Problems
		if !errors.As(err, &ps) {
			fmt.Fprintf(stderr, "govbus check: %v\n", err)
		} else {
			fmt.Fprintf(stderr, "%s: %d problem(s)\n", *path, len(ps.Errors()))
		}
		return 1
	}
	if _, err := node.Build(cfg, node.Options{}); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", *path, err)
		return 1
	}
	fmt.Fprintf(stdout, "%s: OK (%d registries, %d clients, %d rules)\n", *path, len(cfg.Registries), len(cfg.Clients), len(cfg.Rules))
	return 0
}

// hashKey prints the configuration form of an API key.
func hashKey(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var key string
	if len(args) > 0 {
		key = args[0]
	} else {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && line == "" {
			fmt.Fprintln(stderr, "govbus hash-key: no key given")
			return 2
		}
		key = strings.TrimRight(line, "\r\n")
	}
	if key == "" {
		fmt.Fprintln(stderr, "govbus hash-key: empty key")
		return 2
	}
	fmt.Fprintln(stdout, authn.HashKey(key))
	return 0
}
