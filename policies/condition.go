package policies

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/operators"
	"cel.dev/cel-go/common/overloads"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"
	"cel.dev/cel-go/ext"
	"cel.dev/cel-go/interpreter"
)

// Names of the variables a condition may use; the package comment says
// what each holds.
const (
	varMethod                = "method"
	varPath                  = "path"
	varParams                = "params"
	varHeaders               = "headers"
	varPurpose               = "purpose"
	varUserID                = "user_id"
	varIssue                 = "issue"
	varClient                = "client"
	varService               = "service"
	varNow                   = "now"
	varRepresentedParty      = "represented_party"
	varRepresentedPartyClass = "represented_party_class"
)

// condition is a compiled Rule.Condition. Its program is immutable and safe
// for concurrent evaluation.
type condition struct {
	src string
	// prg evaluates the condition without counting its cost, and limited
	// stops it once it has spent MaxConditionCost: a query within the
	// sizes the cost estimate assumes (withinEstimate) cannot make it
	// spend more than its estimate, which Compile kept under the limit, so
	// only other queries pay for the counting.
	prg, limited cel.Program
	// partial is the same condition planned for partial evaluation, built
	// on first use: only listings (Engine.MayAllow) need it.
	partial func() (partialProgram, error)
}

// partialProgram is a condition planned for partial evaluation with its
// evaluation state tracked, and the expression ids of its conjuncts: the
// operands of its top-level && chain (the whole expression when it is no
// conjunction).
type partialProgram struct {
	prg       cel.Program
	conjuncts []int64
}

// perCallUnknowns are the attribute patterns of the variables that belong
// to one call, which a listing does not know: method, path, params,
// purpose and issue.
func perCallUnknowns() []*cel.AttributePatternType {
	return []*cel.AttributePatternType{cel.AttributePattern(varMethod), cel.AttributePattern(varPath),
		cel.AttributePattern(varParams), cel.AttributePattern(varPurpose), cel.AttributePattern(varIssue)}
}

// conditionEnv is the one CEL environment of every condition, built on
// first use: an engine without conditions never pays for it.
var conditionEnv = sync.OnceValues(func() (*cel.Env, error) {
	opts := []cel.EnvOption{
		cel.Variable(varMethod, cel.StringType),
		cel.Variable(varPath, cel.StringType),
		cel.Variable(varParams, cel.MapType(cel.StringType, cel.StringType)),
		cel.Variable(varHeaders, cel.MapType(cel.StringType, cel.StringType)),
		cel.Variable(varPurpose, cel.StringType),
		cel.Variable(varUserID, cel.StringType),
		cel.Variable(varIssue, cel.StringType),
		cel.Variable(varClient, cel.StringType),
		cel.Variable(varService, cel.StringType),
		cel.Variable(varNow, cel.TimestampType),
		cel.Variable(varRepresentedParty, cel.StringType),
		cel.Variable(varRepresentedPartyClass, cel.StringType),
		cel.OptionalTypes(),
		ext.Strings(),
		cel.ExtendedValidations(),
		cel.ASTValidators(timeZoneValidator{}),
	}
	opts = append(opts, timeZoneFunctions()...)
	return cel.NewEnv(opts...)
})

// conditionCache shares the programs of identical conditions within one
// Compile: ten thousand rules often repeat a handful of conditions.
type conditionCache map[string]*condition

// compile type-checks src and plans its program, or returns what is wrong
// with it.
func (cc conditionCache) compile(src string) (*condition, error) {
	if c, ok := cc[src]; ok {
		return c, nil
	}
	env, err := conditionEnv()
	if err != nil {
		return nil, fmt.Errorf("condition environment: %v", err)
	}
	checked, iss := env.Compile(src)
	if iss != nil && iss.Err() != nil {
		return nil, issuesError(src, iss)
	}
	if t := checked.OutputType(); !t.IsExactType(cel.BoolType) {
		return nil, fmt.Errorf("condition must be a bool expression, not %s", cel.FormatCELType(t))
	}
	est, err := env.EstimateCost(checked, costModel{})
	if err != nil {
		return nil, fmt.Errorf("estimating the condition's cost: %v", err)
	}
	if est.Max > MaxConditionCost {
		return nil, fmt.Errorf("condition may cost up to %d to evaluate, over the limit of %d "+
			"(comprehensions over headers or params nested in one another cost the most)", est.Max, MaxConditionCost)
	}
	prg, err := env.Program(checked, cel.EvalOptions(cel.OptOptimize))
	if err != nil {
		return nil, fmt.Errorf("condition: %v", err)
	}
	limited, err := env.Program(checked, cel.EvalOptions(cel.OptOptimize), cel.CostLimit(MaxConditionCost))
	if err != nil {
		return nil, fmt.Errorf("condition: %v", err)
	}
	c := &condition{src: src, prg: prg, limited: limited}
	c.partial = sync.OnceValues(func() (partialProgram, error) {
		prg, err := env.Program(checked, cel.EvalOptions(cel.OptOptimize, cel.OptPartialEval, cel.OptTrackState),
			cel.CostLimit(MaxConditionCost))
		if err != nil {
			return partialProgram{}, err
		}
		return partialProgram{prg: prg, conjuncts: conjuncts(checked.NativeRep().Expr(), nil)}, nil
	})
	cc[src] = c
	return c, nil
}

// issuesError joins CEL's issues into one message, each with its place in
// the expression ("column 7", or "line 2, column 7" for one of several
// lines).
func issuesError(src string, iss *cel.Issues) error {
	multiline := strings.Contains(strings.TrimRight(src, "\n"), "\n")
	var msgs []string
	for _, e := range iss.Errors() {
		var at string
		switch col := e.Location.Column() + 1; {
		case e.Location.Line() <= 0:
			at = ""
		case multiline:
			at = "line " + strconv.Itoa(e.Location.Line()) + ", column " + strconv.Itoa(col) + ": "
		default:
			at = "column " + strconv.Itoa(col) + ": "
		}
		msgs = append(msgs, at+e.Message)
	}
	return errors.New(strings.Join(msgs, "; "))
}

// eval reports whether the condition holds for the evaluation's query and
// rule. An error, or a result that is not a bool, is an error.
func (c *condition) eval(ev *evaluation) (bool, error) {
	prg := c.prg
	if !withinEstimate(&ev.q) {
		prg = c.limited
	}
	out, _, err := prg.Eval(ev)
	if err != nil {
		return false, err
	}
	b, ok := out.(types.Bool)
	if !ok {
		return false, fmt.Errorf("condition gave %v, not a bool", out.Type())
	}
	return bool(b), nil
}

// conjuncts appends to ids the ids of the operands of e's && chain, or
// e's own id when e is no conjunction.
func conjuncts(e ast.Expr, ids []int64) []int64 {
	if e.Kind() == ast.CallKind && e.AsCall().FunctionName() == operators.LogicalAnd {
		for _, arg := range e.AsCall().Args() {
			ids = conjuncts(arg, ids)
		}
		return ids
	}
	return append(ids, e.ID())
}

// mayHold reports whether the condition can still hold for some call, given
// only what ev's query says of the caller (client, service, headers, user
// id, represented party, time). The variables that belong to one call —
// method, path, params, purpose, issue — are left unknown to CEL's partial
// evaluation. The condition may hold when the result is true or depends on
// an unknown variable, and cannot when it is false, an error, or not a
// bool.
//
// One refinement: where an error and an unknown meet in an &&, CEL keeps
// the unknown, though no call can make such a conjunction true (the failing
// operand stays failed whatever the call brings). So when the result is
// unknown, an operand of the top-level && chain that evaluated to an error
// still means the condition cannot hold: `headers["x-tenant"] == "kyiv" &&
// params.id == represented_party` without the header cannot.
func (c *condition) mayHold(ev *evaluation) bool {
	pp, err := c.partial()
	if err != nil {
		return false
	}
	act, err := cel.PartialVars(ev, perCallUnknowns()...)
	if err != nil {
		return false
	}
	out, det, err := pp.prg.Eval(act)
	if err != nil {
		return false
	}
	switch v := out.(type) {
	case types.Bool:
		return bool(v)
	case *types.Unknown:
		state := det.State()
		for _, id := range pp.conjuncts {
			if v, ok := state.Value(id); ok && types.IsError(v) {
				return false
			}
		}
		return true
	}
	return false
}

// evaluation is the activation of the conditions of one decision: it
// resolves the variables straight from the query, lazily, so that a
// condition pays only for the variables it reads, and params and headers
// are views that look a key up without building a map. Decide takes one
// from a pool, at most once, and only when it evaluates a condition.
type evaluation struct {
	q    Query
	rule *rule // whose condition is being evaluated (for params)

	now ref.Val // the timestamp, once resolved
}

// evaluations recycles evaluations: one is as large as a Query.
var evaluations = sync.Pool{New: func() any { return new(evaluation) }}

// newEvaluation returns an evaluation of q from the pool.
func newEvaluation(q *Query) *evaluation {
	ev := evaluations.Get().(*evaluation)
	ev.q = *q
	return ev
}

// release returns ev to the pool, keeping nothing of its query. Nothing
// else holds it: a condition's result is a bool. It is not inlined, to
// keep Decide's frame as small as without conditions.
//
//go:noinline
func (ev *evaluation) release() {
	*ev = evaluation{}
	evaluations.Put(ev)
}

var _ interpreter.Activation = (*evaluation)(nil)

// ResolveName implements interpreter.Activation.
func (ev *evaluation) ResolveName(name string) (any, bool) {
	switch name {
	case varMethod:
		return types.String(ev.q.Method), true
	case varPath:
		if ev.q.Path == "" {
			return types.String("/"), true
		}
		return types.String(ev.q.Path), true
	case varParams:
		return stringMap[paramSource]{paramSource{ev}}, true
	case varHeaders:
		return stringMap[headerSource]{headerSource{ev.q.Header}}, true
	case varPurpose:
		return types.String(ev.q.Purpose), true
	case varUserID:
		return types.String(ev.q.UserID), true
	case varIssue:
		return types.String(ev.q.Issue), true
	case varClient:
		return types.String(ev.q.Client), true
	case varService:
		return types.String(ev.q.Service), true
	case varNow:
		if ev.now == nil { // one instant for every condition of the decision
			t := ev.q.Now
			if t.IsZero() {
				t = time.Now()
			}
			ev.now = types.Timestamp{Time: t}
		}
		return ev.now, true
	case varRepresentedParty:
		return types.String(ev.q.RepresentedParty), true
	case varRepresentedPartyClass:
		return types.String(ev.q.RepresentedPartyClass), true
	}
	return nil, false
}

// Parent implements interpreter.Activation.
func (ev *evaluation) Parent() interpreter.Activation { return nil }

// paramSource is the params variable: the "{name}" segments of the first
// of the query's path templates that fits its path, overridden by those of
// the current rule's first matching glob; values percent-decoded.
type paramSource struct{ ev *evaluation }

func (p paramSource) find(name string) (string, bool) {
	q := &p.ev.q
	var v string
	found := false
	if g := p.ev.rule.matchingGlob(q.Path); g != nil {
		g.eachCapture(q.Path, func(n, value string) {
			if n == name {
				v, found = value, true
			}
		})
		if found {
			return v, true
		}
	}
	if t, ok := fittingTemplate(q.PathTemplates, q.Path); ok {
		eachTemplateParam(t, q.Path, func(n, value string) {
			if n == name {
				v, found = value, true
			}
		})
	}
	return v, found
}

func (p paramSource) all() map[string]string {
	q := &p.ev.q
	m := make(map[string]string)
	if t, ok := fittingTemplate(q.PathTemplates, q.Path); ok {
		eachTemplateParam(t, q.Path, func(n, v string) { m[n] = v })
	}
	if g := p.ev.rule.matchingGlob(q.Path); g != nil {
		g.eachCapture(q.Path, func(n, v string) { m[n] = v })
	}
	return m
}

// fittingTemplate returns the first template that fits path segment by
// segment: "{name}" fits one non-empty segment, anything else the same
// segment exactly.
func fittingTemplate(templates []string, path string) (string, bool) {
	if path == "" {
		path = "/"
	}
	for _, t := range templates {
		fits := true
		eachTemplatePair(t, path, func(ts, ps string) bool {
			if _, isVar := templateVar(ts); isVar && ps == "" || !isVar && ts != ps {
				fits = false
			}
			return fits
		})
		if fits && t != "" && t[0] == '/' && path[0] == '/' && strings.Count(t, "/") == strings.Count(path, "/") {
			return t, true
		}
	}
	return "", false
}

// eachTemplateParam calls fn with each "{name}" of template t, which fits
// path, and its percent-decoded value (a value that does not decode is
// left out).
func eachTemplateParam(t, path string, fn func(name, value string)) {
	if path == "" {
		path = "/"
	}
	eachTemplatePair(t, path, func(ts, ps string) bool {
		if name, ok := templateVar(ts); ok {
			if v, err := url.PathUnescape(ps); err == nil {
				fn(name, v)
			}
		}
		return true
	})
}

// eachTemplatePair calls fn with the segments of t and path side by side,
// while both have one and fn returns true.
func eachTemplatePair(t, path string, fn func(ts, ps string) bool) {
	if t == "" || path == "" || t[0] != '/' || path[0] != '/' {
		return
	}
	t, path = t[1:], path[1:]
	for {
		ts, tRest, tMore := strings.Cut(t, "/")
		ps, pRest, pMore := strings.Cut(path, "/")
		if !fn(ts, ps) || !tMore || !pMore {
			return
		}
		t, path = tRest, pRest
	}
}

// templateVar returns NAME for a template segment "{NAME}".
func templateVar(s string) (string, bool) {
	if len(s) > 2 && s[0] == '{' && s[len(s)-1] == '}' {
		return s[1 : len(s)-1], true
	}
	return "", false
}

// headerSource is the headers variable: names in lower case (a lookup
// ignores case), and the values of a header sent more than once joined
// with ", ".
type headerSource struct{ h http.Header }

func (hs headerSource) find(name string) (string, bool) {
	for k, vals := range hs.h {
		if len(k) == len(name) && strings.EqualFold(k, name) {
			if len(vals) == 1 {
				return vals[0], true
			}
			return strings.Join(vals, ", "), true
		}
	}
	return "", false
}

func (hs headerSource) all() map[string]string {
	m := make(map[string]string, len(hs.h))
	for k, vals := range hs.h {
		m[strings.ToLower(k)] = strings.Join(vals, ", ")
	}
	return m
}

// stringSource is what a stringMap views.
type stringSource interface {
	find(key string) (string, bool)
	all() map[string]string
}

// stringMap is a CEL map(string, string) over a stringSource: a lookup
// asks the source directly; iteration, size, comparison and conversion
// build the Go map.
type stringMap[S stringSource] struct{ s S }

var (
	_ traits.Mapper = stringMap[paramSource]{}
	_ traits.Mapper = stringMap[headerSource]{}
)

func (m stringMap[S]) built() traits.Mapper {
	return types.NewStringStringMap(types.DefaultTypeAdapter, m.s.all())
}

// Find implements traits.Mapper.
func (m stringMap[S]) Find(key ref.Val) (ref.Val, bool) {
	k, ok := key.(types.String)
	if !ok {
		return nil, false
	}
	if v, found := m.s.find(string(k)); found {
		return types.String(v), true
	}
	return nil, false
}

// Get implements traits.Indexer.
func (m stringMap[S]) Get(key ref.Val) ref.Val {
	if v, found := m.Find(key); found {
		return v
	}
	return types.NewErr("no such key: %v", key)
}

// Contains implements traits.Container.
func (m stringMap[S]) Contains(key ref.Val) ref.Val {
	_, found := m.Find(key)
	return types.Bool(found)
}

// Size implements traits.Sizer.
func (m stringMap[S]) Size() ref.Val { return m.built().Size() }

// Iterator implements traits.Iterable.
func (m stringMap[S]) Iterator() traits.Iterator { return m.built().Iterator() }

// ConvertToNative implements ref.Val.
func (m stringMap[S]) ConvertToNative(t reflect.Type) (any, error) {
	return m.built().ConvertToNative(t)
}

// ConvertToType implements ref.Val.
func (m stringMap[S]) ConvertToType(t ref.Type) ref.Val {
	switch t {
	case types.MapType:
		return m
	case types.TypeType:
		return types.MapType
	}
	return types.NewErr("type conversion error from map to '%s'", t)
}

// Equal implements ref.Val.
func (m stringMap[S]) Equal(other ref.Val) ref.Val { return m.built().Equal(other) }

// Type implements ref.Val.
func (m stringMap[S]) Type() ref.Type { return types.MapType }

// Value implements ref.Val.
func (m stringMap[S]) Value() any { return m.s.all() }

// Time zones. CEL's timestamp accessors take an IANA name ("Europe/Kyiv")
// or a UTC offset ("+02:00"). The standard implementation loads the zone
// from the system's database on every call, which costs more than the rest
// of a decision; these bindings, with the same signatures, keep each zone
// once loaded. Names that fail to load are not kept, so a zone taken from
// a header cannot grow the cache.

// zones caches the *time.Location of each IANA name loaded.
var zones sync.Map

// location returns the zone named tz: an IANA name or ±HH:MM.
func location(tz string) (*time.Location, error) {
	if strings.IndexByte(tz, ':') >= 0 {
		return offsetZone(tz)
	}
	if loc, ok := zones.Load(tz); ok {
		return loc.(*time.Location), nil
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, err
	}
	zones.Store(tz, loc)
	return loc, nil
}

// offsetZone parses a UTC offset such as "+02:00" or "-05:30".
func offsetZone(tz string) (*time.Location, error) {
	h, m, _ := strings.Cut(tz, ":")
	hr, err1 := strconv.Atoi(h)
	mn, err2 := strconv.Atoi(m)
	switch {
	case err1 != nil || err2 != nil:
		return nil, fmt.Errorf("time zone %q is neither an IANA name nor ±HH:MM", tz)
	case hr < -23 || hr > 23:
		return nil, fmt.Errorf("timezone offset hours out of range [-23, 23]: %s", tz)
	case mn < 0 || mn > 59:
		return nil, fmt.Errorf("timezone offset minutes out of range [0, 59]: %s", tz)
	}
	off := hr*3600 + mn*60
	if strings.HasPrefix(h, "-") {
		off = hr*3600 - mn*60
	}
	return time.FixedZone(tz, off), nil
}

// zonedAccessors are the timestamp accessors that take a time zone: the
// function, the overload id, and the part of the time they return.
var zonedAccessors = []struct {
	fn, id string
	get    func(time.Time) int
}{
	{overloads.TimeGetFullYear, overloads.TimestampToYearWithTz, func(t time.Time) int { return t.Year() }},
	{overloads.TimeGetMonth, overloads.TimestampToMonthWithTz, func(t time.Time) int { return int(t.Month()) - 1 }},
	{overloads.TimeGetDayOfYear, overloads.TimestampToDayOfYearWithTz, func(t time.Time) int { return t.YearDay() - 1 }},
	{overloads.TimeGetDayOfMonth, overloads.TimestampToDayOfMonthZeroBasedWithTz, func(t time.Time) int { return t.Day() - 1 }},
	{overloads.TimeGetDate, overloads.TimestampToDayOfMonthOneBasedWithTz, func(t time.Time) int { return t.Day() }},
	{overloads.TimeGetDayOfWeek, overloads.TimestampToDayOfWeekWithTz, func(t time.Time) int { return int(t.Weekday()) }},
	{overloads.TimeGetHours, overloads.TimestampToHoursWithTz, func(t time.Time) int { return t.Hour() }},
	{overloads.TimeGetMinutes, overloads.TimestampToMinutesWithTz, func(t time.Time) int { return t.Minute() }},
	{overloads.TimeGetSeconds, overloads.TimestampToSecondsWithTz, func(t time.Time) int { return t.Second() }},
	{overloads.TimeGetMilliseconds, overloads.TimestampToMillisecondsWithTz, func(t time.Time) int { return t.Nanosecond() / 1e6 }},
}

// timeZoneFunctions rebinds the zoned accessors to the cached zones.
func timeZoneFunctions() []cel.EnvOption {
	opts := make([]cel.EnvOption, 0, len(zonedAccessors))
	for _, a := range zonedAccessors {
		get := a.get
		opts = append(opts, cel.Function(a.fn,
			cel.MemberOverload(a.id, []*cel.Type{cel.TimestampType, cel.StringType}, cel.IntType,
				cel.BinaryBinding(func(ts, tz ref.Val) ref.Val {
					t, ok := ts.(types.Timestamp)
					if !ok {
						return types.MaybeNoSuchOverloadErr(ts)
					}
					name, ok := tz.(types.String)
					if !ok {
						return types.MaybeNoSuchOverloadErr(tz)
					}
					loc, err := location(string(name))
					if err != nil {
						return types.WrapErr(err)
					}
					return types.Int(get(t.In(loc)))
				}))))
	}
	return opts
}

// timeZoneValidator reports, when the condition is compiled, a time zone
// given as a literal that does not load, so that `govbus check` finds it
// rather than every request being denied.
type timeZoneValidator struct{}

// Name implements cel.ASTValidator.
func (timeZoneValidator) Name() string { return "govbus.time_zones" }

// Validate implements cel.ASTValidator.
func (timeZoneValidator) Validate(_ *cel.Env, _ cel.ValidatorConfig, a *ast.AST, iss *cel.Issues) {
	zoned := make(map[string]bool, len(zonedAccessors))
	for _, z := range zonedAccessors {
		zoned[z.fn] = true
	}
	ast.PreOrderVisit(a.Expr(), ast.NewExprVisitor(func(e ast.Expr) {
		if e.Kind() != ast.CallKind {
			return
		}
		call := e.AsCall()
		if !call.IsMemberFunction() || len(call.Args()) != 1 || !zoned[call.FunctionName()] {
			return
		}
		arg := call.Args()[0]
		if arg.Kind() != ast.LiteralKind {
			return
		}
		if tz, ok := arg.AsLiteral().(types.String); ok {
			if _, err := location(string(tz)); err != nil {
				iss.ReportErrorAtID(arg.ID(), "%v", err)
			}
		}
	}))
}
