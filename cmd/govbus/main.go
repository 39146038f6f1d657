// Command govbus is the data-exchange bus: `govbus serve` runs a node,
// `govbus check` validates a configuration file, `govbus hash-key` prints
// the hash of an API key for the configuration, `govbus version` prints
// the build.
package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `usage: govbus <command> [flags]

commands:
  serve    -config FILE   run a node
  check    -config FILE   validate a configuration file
  hash-key [KEY]          print the sha256: hash of an API key (read from stdin without KEY)
  keygen   -out FILE      write a new Ed25519 key for signing the message log
  audit verify -config FILE [-anchor HEAD]                    check the message log's chain and signatures
  audit export -config FILE [-from T] [-to T] [-client ID] [-service ID] [-out FILE]
                                                              write records as JSON lines
  audit prune  -config FILE -before T -exported-up-to SEQ     remove verified, exported records
  audit reindex -config FILE                                  rebuild the data subject index (SQLite) from the records
  policy explain -config FILE --client ID --service ID [--method M] [--path P] [--purpose P]
                 [--header 'Name: value']... [--user-id U] [--issue I] [--represented-party CLASS/CODE] [--time T]
                                                              the decision for one call, and why
  version                 print the version
`

// run dispatches a command line and returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return serve(args[1:], stderr)
	case "check":
		return check(args[1:], stdout, stderr)
	case "keygen":
		return keygen(args[1:], stdout, stderr)
	case "audit":
		return auditCmd(args[1:], stdout, stderr)
	case "policy":
		return policyCmd(args[1:], stdout, stderr)
	case "hash-key":
		return hashKey(args[1:], os.Stdin, stdout, stderr)
	case "version", "-version", "--version":
		fmt.Fprintf(stdout, "govbus %s (%s)\n", version, runtime.Version())
		return 0
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "govbus: unknown command %q\n%s", args[0], usage)
	return 2
}
