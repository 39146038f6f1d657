// Package bench is the load harness of govbus: a closed-loop HTTP load
// generator, a driver for wrk, a bare reverse proxy to measure against,
// and the reporting that bench/run.sh (make bench) uses to compare calls
// made directly to a registry with the same calls made through a bare
// net/http/httputil.ReverseProxy and through govbus, with tracing off and
// with every exchange traced and exported to a running Jaeger, and with the
// message log on and off; and the same for SOAP: an X-Road SOAP envelope
// (soap-companies.xml, IDPlaceholder for the company code) POSTed to the
// simulated business registry and through govbus, and govbus's REST-to-SOAP
// mapping.
//
// The command cmd/benchload exposes it with seven subcommands:
//
//	benchload run    one measured round (after a warm-up) of one scenario,
//	                 with the built-in generator or with wrk; any method
//	                 (-method), headers (-H) and a body (-body-file, its
//	                 IDPlaceholder replaced per request); with
//	                 -server-pids, the CPU time those processes spent
//	                 over the measured phase, per request (ServerCPU,
//	                 from /proc); appends a Result as one JSON line to -out
//	benchload table  reads those lines and prints the comparison table:
//	                 every round, the median per scenario, the ratios of
//	                 req/s and, beside each, the servers' CPU per request
//	                 of the two scenarios; exits 1 when any request failed
//	benchload ports  fails, naming it, when an address cannot be listened on
//	benchload wait   polls URLs until each answers 2xx (readiness), with
//	                 the same -method, -H and -body-file (-id for its
//	                 placeholder)
//	benchload proxy  serves a bare reverse proxy (the path forwarded as
//	                 given, a connection pool sized like govbus's) until
//	                 SIGINT or SIGTERM, then stops gracefully
//	benchload spans  fails unless Jaeger's query API lists a service (the
//	                 traced scenario's spans arrived); reports the traced
//	                 govbus's exchanges and dropped spans from its metrics
//	benchload msglog reports the size on disk of a message log's SQLite
//	                 files and, with sqlite3, its records (per exchange,
//	                 from the process's metrics); fails when it has none
//
// Latency is recorded per request into a slice that is sorted at the end,
// so percentiles are exact (nearest rank) rather than bucketed.
package bench
