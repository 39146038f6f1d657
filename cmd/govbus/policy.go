package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"slices"
	"strings"
	"time"

	"golang.org/x/net/http/httpguts"

	"github.com/govbus/govbus/config"
	"github.com/govbus/govbus/gateway"
	"github.com/govbus/govbus/policies"
)

// policyUsage is the synopsis of govbus policy explain.
const policyUsage = "usage: govbus policy explain -config FILE --client ID --service ID [--method GET] [--path /x] [--purpose P]\n" +
	"       [--header 'Name: value']... [--user-id U] [--issue I] [--represented-party CLASS/CODE] [--time RFC3339]"

// maxHeaderValue is the longest X-Road-UserId or X-Road-Issue govbus
// accepts on a call.
const maxHeaderValue = 1024

// policyCmd runs govbus policy explain: the decision the running rules
// would make for one call, and why — the tool an official uses before
// signing an agreement. Besides the call itself it takes what rule
// conditions read (headers, user id, issue, represented party, time), and
// the service's path templates come from the configuration, as for a live
// call, so that conditions over params work.
func policyCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "explain" {
		fmt.Fprintln(stderr, policyUsage)
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
	var headers []string
	fs.Func("header", "a request header 'Name: value' that conditions see (repeatable)", func(s string) error {
		headers = append(headers, s)
		return nil
	})
	userID := fs.String("user-id", "", "X-Road-UserId")
	issue := fs.String("issue", "", "X-Road-Issue")
	party := fs.String("represented-party", "", "X-Road-Represented-Party, CLASS/CODE (or CODE)")
	at := fs.String("time", "", "when the call is made, RFC 3339 (default: now)")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if *path == "" || *client == "" || *service == "" {
		fmt.Fprintln(stderr, "govbus policy explain: -config, --client and --service are required")
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "govbus policy explain: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	svc, err := gateway.ParseServiceID(*service)
	if err != nil {
		fmt.Fprintf(stderr, "govbus policy explain: --service: %v\n", err)
		return 2
	}
	q := policies.Query{Client: *client, Service: svc.String(), Method: strings.ToUpper(*method), Path: *callPath,
		Purpose: *purpose, UserID: *userID, Issue: *issue, Now: time.Now()}
	if q.Header, err = parseHeaders(headers); err != nil {
		fmt.Fprintf(stderr, "govbus policy explain: --header %v\n", err)
		return 2
	}
	for _, f := range []struct{ flag, value string }{{"--user-id", *userID}, {"--issue", *issue}} {
		if len(f.value) > maxHeaderValue {
			fmt.Fprintf(stderr, "govbus policy explain: %s is longer than %d bytes; govbus refuses such a call\n", f.flag, maxHeaderValue)
			return 2
		}
	}
	if q.RepresentedPartyClass, q.RepresentedParty, err = parseParty(*party); err != nil {
		fmt.Fprintf(stderr, "govbus policy explain: --represented-party %q: %v\n", *party, err)
		return 2
	}
	if *at != "" {
		if q.Now, err = time.Parse(time.RFC3339, *at); err != nil {
			fmt.Fprintf(stderr, "govbus policy explain: --time %q: want RFC 3339, such as 2026-03-04T10:00:00+02:00\n", *at)
			return 2
		}
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
	declared := declaredService(cfg, q.Service)
	if declared != nil {
		q.PathTemplates = declared.Paths // what a live call's route carries
		if err := forwardedHeaders(q.Header, declared); err != nil {
			fmt.Fprintf(stderr, "govbus policy explain: --header %v\n", err)
			return 2
		}
	}

	d := engine.Decide(q)
	ex := explainer{w: stdout, engine: engine, q: q}
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
	grants := engine.Allows(q.Client, q.Service)
	conditional := slices.ContainsFunc(grants, func(g policies.Grant) bool { return g.Condition != "" })
	if conditional {
		ex.inputs()
	}
	switch d.Effect {
	case policies.Allow:
		r := byID[d.RuleID]
		fmt.Fprintf(stdout, "rule: %s allows it\n", d.RuleID)
		ex.condition(d.RuleID, r.Condition, "  ")
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
		ex.condition(d.RuleID, byID[d.RuleID].Condition, "  ")
	default:
		switch d.Reason {
		case policies.ReasonConditionNotMet:
			fmt.Fprintf(stdout, "why: rule %s would allow it, but its condition is false\n", d.RuleID)
		case policies.ReasonConditionError:
			fmt.Fprintf(stdout, "why: rule %s's condition could not be evaluated, and that denies the call\n", d.RuleID)
		default:
			fmt.Fprintf(stdout, "why: %s\n", d.Reason)
		}
		if d.RuleID != "" {
			ex.condition(d.RuleID, byID[d.RuleID].Condition, "  ")
		}
	}
	ex.candidates(grants, d.RuleID)
	switch {
	case declared == nil:
		fmt.Fprintln(stdout, "note: no registry in this configuration declares the service; govbus would answer Client.UnknownService, and params are empty")
	case !slices.Contains(declared.Methods, q.Method):
		fmt.Fprintf(stdout, "note: the service declares only %s; govbus would answer Client.MethodNotAllowed before asking the rules\n",
			strings.Join(declared.Methods, ", "))
	}
	if !conditional && (len(q.Header) > 0 || q.UserID != "" || q.Issue != "" || q.RepresentedParty != "" || *at != "") {
		fmt.Fprintln(stdout, "note: no rule naming this client and service has a condition, so --header, --user-id, --issue, --represented-party and --time change nothing")
	}
	return 0
}

// explainer prints the parts of an explanation that evaluate conditions.
type explainer struct {
	w      io.Writer
	engine *policies.Engine
	q      policies.Query
}

// inputs prints what the conditions were evaluated with.
func (ex explainer) inputs() {
	parts := []string{"time " + ex.q.Now.Format(time.RFC3339)}
	if ex.q.UserID != "" {
		parts = append(parts, fmt.Sprintf("user id %q", ex.q.UserID))
	}
	if ex.q.Issue != "" {
		parts = append(parts, fmt.Sprintf("issue %q", ex.q.Issue))
	}
	if ex.q.RepresentedParty != "" {
		parts = append(parts, fmt.Sprintf("represented party %q", strings.TrimPrefix(ex.q.RepresentedPartyClass+"/"+ex.q.RepresentedParty, "/")))
	}
	if len(ex.q.PathTemplates) > 0 {
		parts = append(parts, "path templates "+strings.Join(ex.q.PathTemplates, ", "))
	}
	names := make([]string, 0, len(ex.q.Header))
	for name := range ex.q.Header {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		parts = append(parts, fmt.Sprintf("header %s: %s", name, strings.Join(ex.q.Header[name], ", ")))
	}
	fmt.Fprintf(ex.w, "conditions see: %s\n", strings.Join(parts, "; "))
}

// check evaluates the condition of rule id for the query and says how it
// came out: "true", "false" or "error: ...".
func (ex explainer) check(id string) (holds bool, failed bool, result string) {
	holds, err := ex.engine.CheckCondition(ex.q, id)
	switch {
	case err != nil:
		return false, true, "error: " + err.Error()
	case holds:
		return true, false, "true"
	}
	return false, false, "false"
}

// condition prints, when rule id has one, whether its condition held and
// its text, indented by indent.
func (ex explainer) condition(id, src, indent string) {
	if src == "" {
		return
	}
	_, _, result := ex.check(id)
	fmt.Fprintf(ex.w, "%scondition: %s\n", indent, result)
	for line := range strings.Lines(strings.TrimRight(src, "\n")) {
		fmt.Fprintf(ex.w, "%s    %s\n", indent, strings.TrimRight(line, "\n"))
	}
}

// candidates lists the other rules that name this client and service, and
// what each lacks for this call.
func (ex explainer) candidates(grants []policies.Grant, decided string) {
	q := ex.q
	if len(grants) == 0 {
		fmt.Fprintf(ex.w, "no rule names this client (or a group of it) together with this service\n")
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
		if g.Condition != "" {
			switch holds, failed, _ := ex.check(g.RuleID); {
			case failed:
				lacks = append(lacks, "its condition to evaluate without error")
			case !holds:
				lacks = append(lacks, "its condition to hold")
			}
		}
		if len(lacks) == 0 {
			fmt.Fprintf(ex.w, "also: rule %s names this client and service\n", g.RuleID)
		} else {
			fmt.Fprintf(ex.w, "also: rule %s needs %s\n", g.RuleID, strings.Join(lacks, "; "))
		}
		ex.condition(g.RuleID, g.Condition, "  ")
	}
}

// declaredService returns the configuration's declaration of service (a
// canonical service id), or nil when no registry declares it.
func declaredService(cfg *config.Config, service string) *config.Service {
	for i := range cfg.Registries {
		r := &cfg.Registries[i]
		for j := range r.Services {
			id, err := gateway.ParseServiceID(r.ID + "/" + r.Services[j].Code)
			if err == nil && id.String() == service {
				return &r.Services[j]
			}
		}
	}
	return nil
}

// parseHeaders turns 'Name: value' strings into the headers a condition
// sees on a live call. Headers that govbus never passes on (and so never
// shows to conditions) are refused rather than silently kept.
func parseHeaders(raw []string) (http.Header, error) {
	h := http.Header{}
	for _, s := range raw {
		name, value, ok := strings.Cut(s, ":")
		if !ok {
			return nil, fmt.Errorf("%q: want 'Name: value'", s)
		}
		if !httpguts.ValidHeaderFieldName(name) {
			return nil, fmt.Errorf("%q: %q is not a header name (letters, digits and !#$%%&'*+-.^_`|~, no spaces)", s, name)
		}
		value = strings.Trim(value, " \t")
		if strings.ContainsAny(value, "\r\n\x00") {
			return nil, fmt.Errorf("%q: the value may not contain CR, LF or NUL", s)
		}
		name = textproto.CanonicalMIMEHeaderKey(name)
		if err := conditionHeader(name); err != nil {
			return nil, fmt.Errorf("%q: %v", s, err)
		}
		h[name] = append(h[name], value)
	}
	return h, nil
}

// forwardedHeaders refuses the headers that the service's allowlist drops
// before a condition sees them (the defaults and its pass_headers).
func forwardedHeaders(h http.Header, svc *config.Service) error {
	route := &gateway.Route{PassHeaders: svc.PassHeaders}
	if svc.SOAP != nil {
		route.ServiceType = "WSDL"
	}
	if sub := svc.Subject; sub != nil {
		route.Subject = &gateway.SubjectSpec{In: sub.In, Name: sub.Name}
	}
	for name := range h {
		if !route.ForwardsHeader(name) {
			return fmt.Errorf("%s: this service does not forward it (add it to its pass_headers), so conditions never see it", name)
		}
	}
	return nil
}

// conditionHeader refuses the headers that govbus removes before a
// condition sees them (gateway.IsReservedHeader), and names with '_', for
// which govbus refuses the whole call.
func conditionHeader(name string) error {
	switch {
	case strings.IndexByte(name, '_') >= 0:
		return errors.New("govbus refuses a call with a header name holding '_'")
	case strings.HasPrefix(name, "X-Road-"):
		return errors.New("X-Road-* headers do not reach conditions as headers; use --purpose, --user-id, --issue or --represented-party")
	case strings.HasPrefix(name, "X-Forwarded-"):
		return errors.New("X-Forwarded-* headers are set by govbus, never taken from the consumer")
	case gateway.IsReservedHeader(name):
		return errors.New("govbus does not pass this header on, so conditions never see it")
	}
	return nil
}

// parseParty splits CLASS/CODE (or a bare CODE) as a live call's
// X-Road-Represented-Party is split; "" is no party.
func parseParty(s string) (class, code string, err error) {
	if s == "" {
		return "", "", nil
	}
	class, code, ok := strings.Cut(s, "/")
	if !ok {
		class, code = "", s
	}
	// Each part follows the X-Road identifier rules; a client id made of
	// them checks that with gateway's own parser.
	checkClass := class
	if checkClass == "" {
		checkClass = "C"
	}
	if _, err := gateway.ParseClientID("I/" + checkClass + "/" + code + "/S"); err != nil {
		return "", "", errors.New("want CLASS/CODE (or CODE), each 1-255 characters of A-Z a-z 0-9 ' ( ) + , - . = ?")
	}
	return class, code, nil
}
