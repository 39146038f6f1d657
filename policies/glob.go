package policies

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Path globs: the syntax is described in the package comment. Matching is
// the classic wildcard algorithm applied to segments instead of bytes.

// segKind is the kind of one glob segment.
type segKind uint8

const (
	segLiteral segKind = iota
	segStar            // * or {name}: one non-empty segment
	segAny             // **: zero or more segments
)

// segment is one compiled glob segment.
type segment struct {
	kind segKind
	lit  string // for segLiteral
	name string // for segStar written "{name}": the parameter's name
}

// glob is a compiled path glob.
type glob struct {
	src  string
	segs []segment
}

// compileGlob parses src, or reports why it is not a valid glob.
func compileGlob(src string) (glob, error) {
	if src == "" {
		return glob{}, errors.New("empty path glob")
	}
	if src[0] != '/' {
		return glob{}, fmt.Errorf("path glob %q must start with \"/\"", src)
	}
	parts := strings.Split(src[1:], "/")
	segs := make([]segment, 0, len(parts))
	for i, p := range parts {
		switch {
		case p == "**":
			if n := len(segs); n > 0 && segs[n-1].kind == segAny {
				continue // "**/**" is the same as "**"
			}
			segs = append(segs, segment{kind: segAny})
		case p == "*":
			segs = append(segs, segment{kind: segStar})
		case len(p) > 2 && p[0] == '{' && p[len(p)-1] == '}' && !strings.ContainsAny(p[1:len(p)-1], "{}*"):
			segs = append(segs, segment{kind: segStar, name: p[1 : len(p)-1]})
		case p == "" && i != len(parts)-1:
			return glob{}, fmt.Errorf("path glob %q has an empty segment", src)
		case strings.ContainsAny(p, "*{}"):
			return glob{}, fmt.Errorf("path glob %q: segment %q must be a literal, \"*\", \"**\" or \"{name}\"", src, p)
		default:
			segs = append(segs, segment{kind: segLiteral, lit: p})
		}
	}
	return glob{src: src, segs: segs}, nil
}

// nextSegment returns the path segment starting at offset pos of rest and
// the offset of the segment after it; past the last segment the offset is
// len(rest)+1.
func nextSegment(rest string, pos int) (seg string, next int) {
	if i := strings.IndexByte(rest[pos:], '/'); i >= 0 {
		return rest[pos : pos+i], pos + i + 1
	}
	return rest[pos:], len(rest) + 1
}

// match reports whether path matches the glob. It does not allocate.
//
// It is the classic wildcard algorithm applied to segments: on a mismatch
// it returns to the last "**" seen and lets it absorb one more segment.
func (g *glob) match(path string) bool {
	if path == "" {
		path = "/"
	}
	if path[0] != '/' {
		return false
	}
	rest := path[1:]
	end := len(rest) + 1 // offset meaning "no segments left"
	gi, pos := 0, 0
	backG, backPos := -1, 0
	for pos < end {
		if gi < len(g.segs) {
			s := &g.segs[gi]
			if s.kind == segAny {
				backG, backPos = gi, pos
				gi++
				continue
			}
			seg, next := nextSegment(rest, pos)
			if (s.kind == segStar && seg != "") || (s.kind == segLiteral && seg == s.lit) {
				gi, pos = gi+1, next
				continue
			}
		}
		if backG < 0 {
			return false
		}
		_, backPos = nextSegment(rest, backPos)
		gi, pos = backG+1, backPos
	}
	for gi < len(g.segs) && g.segs[gi].kind == segAny {
		gi++
	}
	return gi == len(g.segs)
}

// eachCapture calls fn with the name and the percent-decoded value of
// each "{name}" segment of the glob in path, which the glob must match.
// Segments before the first "**" and after the last one sit at a fixed
// place and are captured; a "{name}" between two "**" is not. A value that
// does not decode is left out, so that a condition reading it fails rather
// than compare raw text. It allocates only to decode a value.
func (g *glob) eachCapture(path string, fn func(name, value string)) {
	if path == "" {
		path = "/"
	}
	rest := path[1:]
	n := strings.Count(rest, "/") + 1 // path segments
	first, last := len(g.segs), -1    // first and last "**"
	for i := range g.segs {
		if g.segs[i].kind == segAny {
			first = min(first, i)
			last = i
		}
	}
	for i := range g.segs {
		s := &g.segs[i]
		if s.name == "" {
			continue
		}
		var k int
		switch {
		case i < first:
			k = i
		case i > last:
			k = n - (len(g.segs) - i)
		default:
			continue
		}
		if k < 0 || k >= n {
			continue
		}
		if v, err := url.PathUnescape(segmentAt(rest, k)); err == nil {
			fn(s.name, v)
		}
	}
}

// segmentAt returns segment k (from 0) of rest, a path without its leading
// "/"; rest must have more than k segments.
func segmentAt(rest string, k int) string {
	for ; k > 0; k-- {
		rest = rest[strings.IndexByte(rest, '/')+1:]
	}
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		return rest[:i]
	}
	return rest
}
