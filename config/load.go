package config

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Problem is one thing wrong (or, with Warning, doubtful) in a file.
type Problem struct {
	// Path is the YAML path, e.g. registries[0].endpoints[1].
	Path string
	// Line is the line in the file (0 when unknown).
	Line    int
	Message string
	// Warning marks a problem that does not stop the file from loading.
	Warning bool
}

// String prints "line 12: registries[0].endpoints[1]: not an absolute URL".
func (p Problem) String() string {
	s := ""
	if p.Line > 0 {
		s = "line " + strconv.Itoa(p.Line) + ": "
	}
	if p.Path != "" {
		s += p.Path + ": "
	}
	if p.Warning {
		s += "warning: "
	}
	return s + p.Message
}

// Problems are every error found in a file; it is an error when it holds at
// least one non-warning problem.
type Problems []Problem

// Error lists the problems, one per line.
func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Errors returns only the problems that are not warnings.
func (ps Problems) Errors() Problems {
	var out Problems
	for _, p := range ps {
		if !p.Warning {
			out = append(out, p)
		}
	}
	return out
}

// Load reads, expands, defaults and validates the file at path. getenv
// resolves ${NAME} and ${NAME:-default} references (nil: os.Getenv).
// It returns the configuration and every problem found; when any problem
// is not a warning the configuration must not be used and err is a
// Problems value.
func Load(path string, getenv func(string) string) (*Config, Problems, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("reading configuration: %w", err)
	}
	dir, _ := filepath.Abs(filepath.Dir(path))
	return Parse(data, dir, getenv)
}

// Parse is Load on a file's contents; dir resolves relative file names.
func Parse(data []byte, dir string, getenv func(string) string) (*Config, Problems, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		ps := Problems{yamlProblem(err)}
		return nil, ps, ps
	}
	var ps Problems
	expandEnv(&root, "", getenv, &ps)
	lines := map[string]int{}
	indexLines(&root, "", lines)
	cfg := &Config{}
	if len(root.Content) > 0 {
		checkFields(root.Content[0], reflect.TypeOf(cfg).Elem(), "", &ps)
		if err := root.Decode(cfg); err != nil {
			ps = append(ps, decodeProblems(err, &root)...)
		}
		if len(ps.Errors()) > 0 {
			sortProblems(ps)
			return nil, ps, ps
		}
	}
	sum := sha256.Sum256(data)
	cfg.Version = hex.EncodeToString(sum[:6])
	cfg.Dir = dir
	setDefaults(cfg)
	v := &validator{cfg: cfg, lines: lines}
	v.validate()
	ps = append(ps, v.problems...)
	sortProblems(ps)
	if len(ps.Errors()) > 0 {
		return nil, ps, ps
	}
	return cfg, ps, nil
}

func sortProblems(ps Problems) {
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].Line < ps[j].Line })
}

var lineRE = regexp.MustCompile(`line (\d+): `)

// yamlProblem turns a YAML syntax error into a Problem.
func yamlProblem(err error) Problem {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	p := Problem{Message: msg}
	if m := lineRE.FindStringSubmatch(msg); m != nil {
		p.Line, _ = strconv.Atoi(m[1])
		p.Message = strings.Replace(msg, m[0], "", 1)
	}
	return p
}

// decodeProblems turns a decoding error (unknown fields, wrong types) into
// problems with lines and, where the line names a key, its path.
func decodeProblems(err error, root *yaml.Node) Problems {
	msgs := []string{err.Error()}
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	nodes := map[int][]located{}
	nodesByLine(root, "", nodes)
	var ps Problems
	for _, m := range msgs {
		p := yamlProblem(errors.New(m))
		p.Path = pathOf(nodes[p.Line], p.Message)
		ps = append(ps, p)
	}
	return ps
}

// located is a node of the document with its path.
type located struct {
	path string
	node *yaml.Node
}

// nodesByLine records, for each line, the nodes that start there (by their
// key or by themselves), outermost first.
func nodesByLine(n *yaml.Node, path string, out map[int][]located) {
	walk(n, path, func(c *yaml.Node, p string, line int) {
		out[line] = append(out[line], located{p, c})
		if c.Line != line {
			out[c.Line] = append(out[c.Line], located{p, c})
		}
		nodesByLine(c, p, out)
	})
}

// pathOf finds the path a decoding message about a line is about: the one
// scalar on the line whose value the message quotes, else the outermost
// node starting there. Several values may share a line in flow style
// ({max: lots, wait_min: 1 ms}), so the line alone is not enough.
func pathOf(cands []located, msg string) string {
	if len(cands) == 0 {
		return ""
	}
	if v, ok := quotedValue(msg); ok {
		var match []string
		for _, c := range cands {
			if c.node.Kind != yaml.ScalarNode {
				continue
			}
			if c.node.Value == v || (strings.HasSuffix(v, "...") && strings.HasPrefix(c.node.Value, strings.TrimSuffix(v, "..."))) {
				match = append(match, c.path)
			}
		}
		if len(match) == 1 {
			return match[0]
		}
	}
	return cands[0].path
}

// quotedValue returns the value a decoding message quotes: yaml.v3 puts it
// between backquotes (cut to 7 characters and "..." when longer than 10);
// this package's unmarshalers begin their messages with it as a Go string.
func quotedValue(msg string) (string, bool) {
	if q, err := strconv.QuotedPrefix(msg); err == nil {
		v, err := strconv.Unquote(q)
		return v, err == nil
	}
	if _, rest, ok := strings.Cut(msg, "`"); ok {
		v, _, ok := strings.Cut(rest, "`")
		return v, ok
	}
	return "", false
}

// checkFields reports every mapping key that names no field of t, with its
// line and path, walking the document alongside the Go types.
func checkFields(n *yaml.Node, t reflect.Type, path string, ps *Problems) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case n.Kind == yaml.SequenceNode && t.Kind() == reflect.Slice:
		walk(n, path, func(c *yaml.Node, p string, _ int) { checkFields(c, t.Elem(), p, ps) })
	case n.Kind == yaml.MappingNode && t.Kind() == reflect.Map:
		walk(n, path, func(c *yaml.Node, p string, _ int) { checkFields(c, t.Elem(), p, ps) })
	case n.Kind == yaml.MappingNode && t.Kind() == reflect.Struct:
		fields := map[string]reflect.Type{}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if name != "" && name != "-" {
				fields[name] = f.Type
			}
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			p := k.Value
			if path != "" {
				p = path + "." + p
			}
			ft, ok := fields[k.Value]
			if !ok {
				*ps = append(*ps, Problem{Path: p, Line: k.Line, Message: "unknown field " + strconv.Quote(k.Value)})
				continue
			}
			checkFields(n.Content[i+1], ft, p, ps)
		}
	}
}

// envRE matches ${NAME} and ${NAME:-default}.
var envRE = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}`)

// expandEnv replaces ${NAME} references in scalar values.
func expandEnv(n *yaml.Node, path string, getenv func(string) string, ps *Problems) {
	if n.Kind == yaml.ScalarNode && strings.Contains(n.Value, "${") {
		n.Value = envRE.ReplaceAllStringFunc(n.Value, func(ref string) string {
			m := envRE.FindStringSubmatch(ref)
			if v := getenv(m[1]); v != "" {
				return v
			}
			if m[2] != "" {
				return m[3]
			}
			*ps = append(*ps, Problem{Path: path, Line: n.Line, Message: "environment variable " + m[1] + " is not set"})
			return ""
		})
		if n.Style == 0 {
			// A plain scalar was typed as a string for its "${": type the
			// value it now has instead, so that "max: ${RETRIES}" is an int.
			n.Tag = ""
		}
		return
	}
	walk(n, path, func(c *yaml.Node, p string, _ int) { expandEnv(c, p, getenv, ps) })
}

// indexLines records the line of every path in the document: the line of
// its key for mapping entries, of the item for sequence entries.
func indexLines(n *yaml.Node, path string, lines map[string]int) {
	walk(n, path, func(c *yaml.Node, p string, line int) {
		lines[p] = line
		indexLines(c, p, lines)
	})
}

// walk calls f on each child of n with the child's path and line.
func walk(n *yaml.Node, path string, f func(c *yaml.Node, path string, line int)) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			f(c, path, c.Line)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			f(c, path+"["+strconv.Itoa(i)+"]", c.Line)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			p := n.Content[i].Value
			if path != "" {
				p = path + "." + p
			}
			f(n.Content[i+1], p, n.Content[i].Line)
		}
	}
}
