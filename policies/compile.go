package policies

import (
	"maps"
	"slices"
	"strings"
)

// Compile validates rules and groups and builds an Engine from them. It
// checks every rule and group and returns all problems together as a
// Problems error (unique non-empty ids, at least one client, known groups,
// well-formed service entries, methods and path globs, non-empty purposes
// and rights, conditions that compile to a bool within MaxConditionCost,
// and that each rule grants something). The engine keeps copies: later
// changes to rules or groups do not affect it.
func Compile(rules []Rule, groups Groups) (*Engine, error) {
	probs := checkGroups(groups)
	e := &Engine{clients: make(map[string]*clientIndex), rules: len(rules)}
	firstUse := make(map[string]int, len(rules))
	conds := make(conditionCache)
	for i := range rules {
		c := compileRule(i, &rules[i], groups, conds)
		if id := rules[i].ID; id != "" {
			if first, dup := firstUse[id]; dup {
				c.problems.add("id", -1, "duplicate rule id %q (first used by rules[%d])", id, first)
			} else {
				firstUse[id] = i
			}
		}
		if len(c.problems.list) > 0 {
			probs = append(probs, c.problems.list...)
			continue
		}
		e.index(c)
	}
	if len(probs) > 0 {
		return nil, probs
	}
	return e, nil
}

// compiled is a validated rule, ready to index.
type compiled struct {
	rule       *rule
	clients    []string // with groups expanded, without duplicates
	services   []string // exact service ids, without duplicates
	subsystems []string // subsystems of wildcard entries, without duplicates
	rights     []string
	problems   problemList
}

// index adds c to the engine's per-client maps. Rules are indexed in file
// order, so every list stays sorted by rule index.
func (e *Engine) index(c *compiled) {
	for _, client := range c.clients {
		ci := e.clients[client]
		if ci == nil {
			ci = &clientIndex{}
			e.clients[client] = ci
		}
		for _, s := range c.services {
			if ci.services == nil {
				ci.services = make(map[string][]*rule)
			}
			ci.services[s] = append(ci.services[s], c.rule)
		}
		for _, s := range c.subsystems {
			if ci.subsystems == nil {
				ci.subsystems = make(map[string][]*rule)
			}
			ci.subsystems[s] = append(ci.subsystems[s], c.rule)
		}
		for _, right := range c.rights {
			if ci.rights == nil {
				ci.rights = make(map[string][]*rule)
			}
			ci.rights[right] = append(ci.rights[right], c.rule)
		}
	}
}

// compileRule validates src, the rule at index i, and compiles it, sharing
// compiled conditions through conds.
func compileRule(i int, src *Rule, groups Groups, conds conditionCache) *compiled {
	c := &compiled{rule: &rule{id: src.ID, index: i}, problems: problemList{rule: i}}
	p := &c.problems
	if src.ID == "" {
		p.add("id", -1, "missing rule id")
	}
	if len(src.Clients) == 0 {
		p.add("clients", -1, "no clients")
	}
	seen := make(map[string]bool) // groups can be large: no quadratic dedup
	addClient := func(client string) {
		if !seen[client] {
			seen[client] = true
			c.clients = append(c.clients, client)
		}
	}
	for j, client := range src.Clients {
		switch name, isGroup := strings.CutPrefix(client, GroupPrefix); {
		case client == "":
			p.add("clients", j, "empty client id")
		case !isGroup:
			addClient(client)
		default:
			members, ok := groups[name]
			if !ok {
				p.add("clients", j, "unknown group %q", name)
			}
			for _, m := range members {
				addClient(m)
			}
		}
	}
	for j, s := range src.Services {
		sub, isWildcard, ok := splitWildcard(s)
		switch {
		case s == "":
			p.add("services", j, "empty service id")
		case isWildcard && !ok:
			p.add("services", j, "wildcard %q must be INSTANCE/CLASS/CODE/SUBSYSTEM/*", s)
		case isWildcard:
			c.subsystems = appendNew(c.subsystems, sub)
		case strings.Contains(s, "*"):
			p.add("services", j, "service %q: \"*\" may only replace a whole service code", s)
		default:
			if _, ok := subsystemOf(s); !ok {
				p.add("services", j, "service %q is not INSTANCE/CLASS/CODE/SUBSYSTEM/SERVICECODE", s)
			}
			c.services = appendNew(c.services, s)
		}
	}
	anyMethod := false
	for j, m := range src.Methods {
		switch {
		case m == "*":
			anyMethod = true
		case !validMethod(m):
			p.add("methods", j, "method %q is not an upper-case HTTP method", m)
		default:
			c.rule.methods = appendNew(c.rule.methods, m)
		}
	}
	if anyMethod {
		c.rule.methods = nil
	}
	for j, s := range src.Paths {
		g, err := compileGlob(s)
		if err != nil {
			p.add("paths", j, "%v", err)
			continue
		}
		c.rule.paths = append(c.rule.paths, g)
	}
	for j, purpose := range src.Purposes {
		if purpose == "" {
			p.add("purposes", j, "empty purpose")
			continue
		}
		c.rule.purposes = appendNew(c.rule.purposes, purpose)
	}
	for j, right := range src.Rights {
		if right == "" {
			p.add("rights", j, "empty right")
			continue
		}
		c.rights = appendNew(c.rights, right)
	}
	if src.Condition != "" {
		if strings.TrimSpace(src.Condition) == "" {
			p.add("condition", -1, "blank condition; leave it out for none")
		} else if cond, err := conds.compile(src.Condition); err != nil {
			p.add("condition", -1, "%v", err)
		} else {
			c.rule.cond = cond
		}
	}
	if len(src.Services) == 0 {
		if len(src.Rights) == 0 {
			p.add("", -1, "grants nothing: no services and no rights")
		}
		if len(src.Methods) > 0 {
			p.add("methods", -1, "methods without services")
		}
		if len(src.Paths) > 0 {
			p.add("paths", -1, "paths without services")
		}
		if len(src.Purposes) > 0 {
			p.add("purposes", -1, "purposes without services")
		}
	}
	return c
}

// checkGroups validates the groups, in name order.
func checkGroups(groups Groups) Problems {
	var probs Problems
	for _, name := range slices.Sorted(maps.Keys(groups)) {
		if name == "" {
			probs = append(probs, Problem{Rule: -1, Item: -1, Msg: "group with an empty name"})
		}
		for j, m := range groups[name] {
			switch {
			case m == "":
				probs = append(probs, Problem{Rule: -1, Group: name, Item: j, Msg: "empty client id"})
			case strings.HasPrefix(m, GroupPrefix):
				probs = append(probs, Problem{Rule: -1, Group: name, Item: j, Msg: "groups do not nest: " + m})
			}
		}
	}
	return probs
}

// appendNew appends s to list unless list already holds it.
func appendNew(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}
