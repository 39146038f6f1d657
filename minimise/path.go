package minimise

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// PathError reports a field path that cannot be used: bad syntax, or a
// shape that contradicts another path of the same list.
type PathError struct {
	// Index is the position of the path in the list given to Compile (0
	// for ParsePath).
	Index int
	// Path is the path as written.
	Path string
	// Reason says what is wrong.
	Reason string
	// Conflict, when set, is the earlier path of the list that Path
	// contradicts.
	Conflict string
}

func (e *PathError) Error() string {
	if e.Conflict != "" {
		return fmt.Sprintf("%q contradicts %q (%s)", e.Path, e.Conflict, e.Reason)
	}
	return fmt.Sprintf("%q is not a field path (%s)", e.Path, e.Reason)
}

// Segment is one step of a field path: a member name, followed by Arrays
// "[]" markers (each: every element of an array).
type Segment struct {
	Key    string
	Arrays int
}

// ParsePath parses one field path: member names separated by dots, each
// optionally followed by "[]" ("each element of this array"), such as
// "id", "address.city" or "children[].id". A name is any non-empty run of
// characters other than '.', '[', ']', white space and control
// characters.
func ParsePath(p string) ([]Segment, error) {
	bad := func(reason string) ([]Segment, error) {
		return nil, &PathError{Path: p, Reason: reason}
	}
	if p == "" {
		return bad("empty")
	}
	if !utf8.ValidString(p) {
		return bad("not UTF-8")
	}
	segs := make([]Segment, 0, strings.Count(p, ".")+1)
	i := 0
	for {
		start := i
		for i < len(p) && p[i] != '.' && p[i] != '[' && p[i] != ']' {
			r, size := utf8.DecodeRuneInString(p[i:])
			if unicode.IsSpace(r) || unicode.IsControl(r) {
				return bad("white space or a control character in a name")
			}
			i += size
		}
		if i == start {
			switch {
			case i < len(p) && p[i] == '[':
				return bad("\"[]\" must follow a name")
			case i < len(p) && p[i] == ']':
				return bad("\"]\" without \"[\"")
			case start == 0:
				return bad("starts with a dot")
			case i == len(p):
				return bad("ends with a dot")
			default:
				return bad("empty name between dots")
			}
		}
		seg := Segment{Key: p[start:i]}
		for i < len(p) && p[i] == '[' {
			if i+1 >= len(p) || p[i+1] != ']' {
				return bad("only \"[]\" may follow a name: array indexes are not supported")
			}
			seg.Arrays++
			i += 2
		}
		segs = append(segs, seg)
		if i == len(p) {
			return segs, nil
		}
		switch p[i] {
		case '.':
			i++
			if i == len(p) {
				return bad("ends with a dot")
			}
		case ']':
			return bad("\"]\" without \"[\"")
		default:
			return bad("\"[]\" must be followed by a dot, another \"[]\" or the end")
		}
	}
}

// node is one member name of a compiled path list.
type node struct {
	// arrays is the number of "[]" after the name: the value must be an
	// array nested that deep, and what follows applies to its innermost
	// elements.
	arrays int
	// whole: a path ends here, so the value is kept entire.
	whole bool
	// children are the kept members inside the value (an object) when not
	// whole.
	children map[string]*node
	// src is the first path through this node, for conflict messages.
	src string
}

// Filter is a compiled list of field paths: it keeps those fields of a JSON
// document and removes everything else. It is safe for concurrent use.
type Filter struct {
	root *node
}

// Compile builds the Filter of a list of field paths. A path naming an
// object keeps it whole, so "address" together with "address.city" keeps
// all of address. Paths contradict each other when one has "[]" after a
// name where the other has not ("children[].id" and "children.name").
// Compile needs at least one path.
func Compile(paths []string) (*Filter, error) {
	if len(paths) == 0 {
		return nil, &PathError{Reason: "no field path given"}
	}
	root := &node{children: map[string]*node{}}
	for i, p := range paths {
		segs, err := ParsePath(p)
		if err != nil {
			pe := err.(*PathError)
			pe.Index = i
			return nil, pe
		}
		n := root
		for k, s := range segs {
			last := k == len(segs)-1
			c := n.children[s.Key]
			switch {
			case c == nil:
				c = &node{arrays: s.Arrays, src: p}
				if n.children == nil {
					n.children = map[string]*node{}
				}
				n.children[s.Key] = c
			case c.whole && c.arrays == 0:
				// A broader path already keeps the value, whatever it is.
			case last && s.Arrays == 0:
				c.arrays = 0 // this path keeps the value, whatever it is
			case c.arrays != s.Arrays:
				return nil, &PathError{Index: i, Path: p, Conflict: c.src,
					Reason: fmt.Sprintf("%s%s against %s%s", s.Key, strings.Repeat("[]", s.Arrays), s.Key, strings.Repeat("[]", c.arrays))}
			}
			if c.whole {
				break // a broader path already keeps it all
			}
			if last {
				c.whole, c.children = true, nil
			}
			n = c
		}
	}
	return &Filter{root: root}, nil
}
