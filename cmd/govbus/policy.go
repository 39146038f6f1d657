package main

import (
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/govbus/govbus/config"
	"github.com/govbus/govbus/gateway"
	"github.com/govbus/govbus/policies"
)

// policyCmd runs govbus policy explain: the decision the running rules
// would make for one call, and why — the tool an official uses before
// signing an agreement.
func policyCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "explain" {
		fmt.Fprintln(stderr, "usage: govbus policy explain -config FILE --client ID --service ID [--method GET] [--path /x] [--purpose P]")
		return 2
	}
	fs := flag.NewFlagSet("policy explain", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "configuration file")
	client := fs.String("client", "", "calling subsystem, INSTANCE/CLASS/CODE/SUBSYSTEM")
	service := fs.String("service", "", "service, INSTANCE/CLASS/CODE/SUBSYSTEM/SERVICECODE")
	method := fs.String("method", "GET", "HTTP method")
	callPath := fs.String("path", "/", "path after the service code")
	purpose := fs.String("purpose", "", "X-Road-Purpose")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if *path == "" || *client == "" || *service == "" {
		fmt.Fprintln(stderr, "govbus policy explain: -config, --client and --service are required")
		return 2
	}
	cfg, _, err := config.Load(*path, nil)
	if err != nil {
		fmt.Fprintf(stderr, "govbus policy explain: %s: %v\n", *path, err)
		return 1
	}
	rules := make([]policies.Rule, len(cfg.Rules))
	byID := map[string]config.Rule{}
	for i, r := range cfg.Rules {
		rules[i] = config.PolicyRule(r)
		byID[r.ID] = r
	}
	engine, err := policies.Compile(rules, cfg.Groups)
	if err != nil {
		fmt.Fprintf(stderr, "govbus policy explain: %v\n", err)
		return 1
	}
	svc, err := gateway.ParseServiceID(*service)
	if err != nil {
		fmt.Fprintf(stderr, "govbus policy explain: --service: %v\n", err)
		return 2
	}
	q := policies.Query{Client: *client, Service: svc.String(), Method: strings.ToUpper(*method), Path: *callPath, Purpose: *purpose}
	d := engine.Decide(q)
	verdict := "deny"
	if d.Effect == policies.Allow {
		verdict = "allow"
	}
	fmt.Fprintf(stdout, "decision: %s\n", verdict)
	fmt.Fprintf(stdout, "call: %s %s%s by %s", q.Method, q.Service, q.Path, q.Client)
	if q.Purpose != "" {
		fmt.Fprintf(stdout, " for purpose %q", q.Purpose)
	}
	fmt.Fprintln(stdout)
	switch d.Effect {
	case policies.Allow:
		r := byID[d.RuleID]
		fmt.Fprintf(stdout, "rule: %s allows it\n", d.RuleID)
		if len(r.Fields) > 0 {
			fmt.Fprintf(stdout, "  the client receives only the fields: %s\n", strings.Join(r.Fields, ", "))
		}
		if r.Rate != nil {
			fmt.Fprintf(stdout, "  rate: %g/s, burst %d\n", r.Rate.PerSecond, r.Rate.Burst)
		}
		if r.Quota != nil {
			fmt.Fprintf(stdout, "  quota: %d per day\n", r.Quota.PerDay)
		}
		if r.DiscloseAfter > 0 {
			fmt.Fprintf(stdout, "  covert: hidden from the Data Tracker for %s\n", r.DiscloseAfter.D())
		}
	case policies.PurposeRequired:
		fmt.Fprintf(stdout, "why: rule %s would allow it, but %s (it allows: %s)\n", d.RuleID, d.Reason,
			strings.Join(byID[d.RuleID].Purposes, ", "))
	default:
		fmt.Fprintf(stdout, "why: %s\n", d.Reason)
	}
	explainCandidates(stdout, engine, q, d.RuleID)
	return 0
}

// explainCandidates lists the other rules that name this client and
// service, and what each lacks for this call.
func explainCandidates(w io.Writer, engine *policies.Engine, q policies.Query, decided string) {
	grants := engine.Allows(q.Client, q.Service)
	if len(grants) == 0 {
		fmt.Fprintf(w, "no rule names this client (or a group of it) together with this service\n")
		return
	}
	for _, g := range grants {
		if g.RuleID == decided {
			continue
		}
		var lacks []string
		if len(g.Methods) > 0 && !slices.Contains(g.Methods, q.Method) && !slices.Contains(g.Methods, "*") {
			lacks = append(lacks, "method "+q.Method+" (it allows "+strings.Join(g.Methods, ", ")+")")
		}
		if len(g.Purposes) > 0 && !slices.Contains(g.Purposes, q.Purpose) {
			lacks = append(lacks, "purpose among "+strings.Join(g.Purposes, ", "))
		}
		if len(lacks) == 0 {
			fmt.Fprintf(w, "also: rule %s names this client and service\n", g.RuleID)
			continue
		}
		fmt.Fprintf(w, "also: rule %s needs %s\n", g.RuleID, strings.Join(lacks, "; "))
	}
}
