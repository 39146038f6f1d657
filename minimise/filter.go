package minimise

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// MaxDepth is the deepest nesting of arrays and objects a document may
// have (as in encoding/json).
const MaxDepth = 10000

// ErrInvalidJSON is wrapped by the errors of documents that are not JSON
// (RFC 8259, UTF-8 only).
var ErrInvalidJSON = errors.New("invalid JSON")

// SyntaxError locates the first problem of a document that is not JSON.
type SyntaxError struct {
	Offset int // byte offset of the problem
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("invalid JSON at byte %d: %s", e.Offset, e.Msg)
}

// Unwrap makes errors.Is(err, ErrInvalidJSON) hold.
func (e *SyntaxError) Unwrap() error { return ErrInvalidJSON }

// Apply returns the JSON document body with only the Filter's fields, as
// compact JSON with the kept members in their original order; it fails when
// body is not JSON. The result never shares memory with body.
//
// An object keeps the members the paths name; a named member whose value
// has not the shape its path expects (an object where the path goes on
// with ".name", an array where it has "[]") is removed. A top-level array
// has the paths applied to each of its elements (a list of records); a
// top-level scalar has no fields and becomes null. Members named twice
// (duplicate keys) are filtered alike and both kept.
func (f *Filter) Apply(body []byte) ([]byte, error) {
	s := scanner{in: body, out: make([]byte, 0, outCap(len(body)))}
	if err := s.document(f.root); err != nil {
		return nil, err
	}
	return s.out, nil
}

// outCap guesses the size of the result: never more than the input, plus
// room for "null".
func outCap(n int) int {
	if n < 8 {
		return 8
	}
	return n
}

// scanner filters one document in a single pass: every byte is validated,
// the kept values are copied without insignificant white space.
type scanner struct {
	in    []byte
	pos   int
	out   []byte
	depth int
	key   []byte // decoding buffer for member names with escapes
}

func (s *scanner) fail(msg string) error {
	return &SyntaxError{Offset: s.pos, Msg: msg}
}

func (s *scanner) failUnexpected(what string) error {
	if s.pos >= len(s.in) {
		return s.fail("unexpected end of input, expecting " + what)
	}
	return s.fail(fmt.Sprintf("unexpected %q, expecting %s", s.in[s.pos], what))
}

func (s *scanner) skipSpace() {
	for s.pos < len(s.in) {
		switch s.in[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// peek returns the next non-space byte, 0 at the end (or a NUL byte).
func (s *scanner) peek() byte {
	s.skipSpace()
	if s.pos < len(s.in) {
		return s.in[s.pos]
	}
	return 0
}

// document filters the whole input by root.
func (s *scanner) document(root *node) error {
	var err error
	switch s.peek() {
	case '{':
		err = s.object(root)
	case '[':
		err = s.array(root, topLevel)
	default:
		if err = s.value(false); err == nil {
			s.out = append(s.out, "null"...)
		}
	}
	if err != nil {
		return err
	}
	if s.skipSpace(); s.pos != len(s.in) {
		return s.fail("data after the top-level value")
	}
	return nil
}

// enter and leave count nesting.
func (s *scanner) enter() error {
	s.depth++
	if s.depth > MaxDepth {
		return s.fail("nested too deep")
	}
	return nil
}

func (s *scanner) leave() { s.depth-- }

// topLevel is the arrays count array is given for a top-level array (a
// list of records): its objects are filtered by the root node, its arrays
// likewise element by element, and its scalars removed. A member's array
// always has a count of 1 or more.
const topLevel = 0

// array filters the array at s.pos by c. For a member's value, arrays is
// the number of "[]" its path has left before c applies; for a top-level
// array it is topLevel. Elements without the expected shape are removed.
func (s *scanner) array(c *node, arrays int) error {
	if err := s.enter(); err != nil {
		return err
	}
	s.pos++ // '['
	s.out = append(s.out, '[')
	if s.peek() == ']' {
		s.pos++
		s.out = append(s.out, ']')
		s.leave()
		return nil
	}
	first := true
	for {
		mark := len(s.out)
		if !first {
			s.out = append(s.out, ',')
		}
		kept, err := s.element(c, arrays)
		if kept {
			first = false
		} else {
			s.out = s.out[:mark] // the comma written for it
		}
		if err != nil {
			return err
		}
		if done, err := s.arrayNext(); err != nil || done {
			s.out = append(s.out, ']')
			s.leave()
			return err
		}
	}
}

// element filters one element of an array that array(c, arrays) filters
// and reports whether it is kept. An element that is not kept is validated
// all the same, and nothing of it is written.
func (s *scanner) element(c *node, arrays int) (kept bool, err error) {
	next := s.peek()
	switch {
	case arrays == topLevel:
		switch next {
		case '{':
			return true, s.object(c)
		case '[':
			return true, s.array(c, topLevel)
		}
	case arrays > 1:
		if next == '[' {
			return true, s.array(c, arrays-1)
		}
	case c.whole:
		return true, s.value(true)
	case next == '{':
		return true, s.object(c)
	}
	return false, s.value(false)
}

// arrayNext consumes the ',' or ']' after an element; done at ']'.
func (s *scanner) arrayNext() (done bool, err error) {
	switch s.peek() {
	case ',':
		s.pos++
		return false, nil
	case ']':
		s.pos++
		return true, nil
	}
	return false, s.failUnexpected("',' or ']' in an array")
}

// object filters an object by n, which is not whole: only the members n
// names are kept.
func (s *scanner) object(n *node) error {
	if err := s.enter(); err != nil {
		return err
	}
	s.pos++ // '{'
	s.out = append(s.out, '{')
	if s.peek() == '}' {
		s.pos++
		s.out = append(s.out, '}')
		s.leave()
		return nil
	}
	kept := false
	for {
		if s.peek() != '"' {
			return s.failUnexpected("a member name")
		}
		start := s.pos
		escaped, err := s.string()
		if err != nil {
			return err
		}
		raw := s.in[start:s.pos]
		if s.peek() != ':' {
			return s.failUnexpected("':' after a member name")
		}
		s.pos++
		c := n.child(raw, escaped, &s.key)
		if c == nil {
			err = s.value(false)
		} else {
			mark := len(s.out)
			if kept {
				s.out = append(s.out, ',')
			}
			s.out = append(s.out, raw...)
			s.out = append(s.out, ':')
			var ok bool
			ok, err = s.member(c)
			if ok {
				kept = true
			} else {
				s.out = s.out[:mark]
			}
		}
		if err != nil {
			return err
		}
		switch s.peek() {
		case ',':
			s.pos++
		case '}':
			s.pos++
			s.out = append(s.out, '}')
			s.leave()
			return nil
		default:
			return s.failUnexpected("',' or '}' in an object")
		}
	}
}

// child returns the node of the member named by the JSON string raw
// (quotes included), or nil.
func (n *node) child(raw []byte, escaped bool, buf *[]byte) *node {
	name := raw[1 : len(raw)-1]
	if escaped {
		*buf = unescape((*buf)[:0], name)
		name = *buf
	}
	return n.children[string(name)]
}

// member filters the value of a kept member by c. It reports whether the
// value has the shape c expects (and so is kept); the value is validated
// either way.
func (s *scanner) member(c *node) (bool, error) {
	if c.arrays > 0 {
		if s.peek() != '[' {
			return false, s.value(false)
		}
		return true, s.array(c, c.arrays)
	}
	if c.whole {
		return true, s.value(true)
	}
	if s.peek() != '{' {
		return false, s.value(false)
	}
	return true, s.object(c)
}

// value validates the next value and, when keep is set, appends it
// compacted to the output.
func (s *scanner) value(keep bool) error {
	c := s.peek()
	start := s.pos
	switch c {
	case '"':
		if _, err := s.string(); err != nil {
			return err
		}
	case '{':
		return s.anyObject(keep)
	case '[':
		return s.anyArray(keep)
	case 't':
		return s.literal("true", keep)
	case 'f':
		return s.literal("false", keep)
	case 'n':
		return s.literal("null", keep)
	default:
		if err := s.number(); err != nil {
			return err
		}
	}
	if keep {
		s.out = append(s.out, s.in[start:s.pos]...)
	}
	return nil
}

func (s *scanner) literal(lit string, keep bool) error {
	if len(s.in)-s.pos < len(lit) || string(s.in[s.pos:s.pos+len(lit)]) != lit {
		return s.fail("invalid literal, expecting " + lit)
	}
	s.pos += len(lit)
	if keep {
		s.out = append(s.out, lit...)
	}
	return nil
}

// anyObject validates an object and, when keep is set, copies it whole.
func (s *scanner) anyObject(keep bool) error {
	if err := s.enter(); err != nil {
		return err
	}
	s.pos++ // '{'
	if keep {
		s.out = append(s.out, '{')
	}
	if s.peek() == '}' {
		s.pos++
		if keep {
			s.out = append(s.out, '}')
		}
		s.leave()
		return nil
	}
	for {
		if s.peek() != '"' {
			return s.failUnexpected("a member name")
		}
		start := s.pos
		if _, err := s.string(); err != nil {
			return err
		}
		end := s.pos
		if s.peek() != ':' {
			return s.failUnexpected("':' after a member name")
		}
		s.pos++
		if keep {
			s.out = append(s.out, s.in[start:end]...)
			s.out = append(s.out, ':')
		}
		if err := s.value(keep); err != nil {
			return err
		}
		switch s.peek() {
		case ',':
			s.pos++
			if keep {
				s.out = append(s.out, ',')
			}
		case '}':
			s.pos++
			if keep {
				s.out = append(s.out, '}')
			}
			s.leave()
			return nil
		default:
			return s.failUnexpected("',' or '}' in an object")
		}
	}
}

// anyArray validates an array and, when keep is set, copies it whole.
func (s *scanner) anyArray(keep bool) error {
	if err := s.enter(); err != nil {
		return err
	}
	s.pos++ // '['
	if keep {
		s.out = append(s.out, '[')
	}
	if s.peek() == ']' {
		s.pos++
		if keep {
			s.out = append(s.out, ']')
		}
		s.leave()
		return nil
	}
	for {
		if err := s.value(keep); err != nil {
			return err
		}
		done, err := s.arrayNext()
		if err != nil {
			return err
		}
		if keep {
			if done {
				s.out = append(s.out, ']')
			} else {
				s.out = append(s.out, ',')
			}
		}
		if done {
			s.leave()
			return nil
		}
	}
}

// string validates the string at s.pos (its opening quote) and moves past
// it; escaped reports whether it holds escapes.
func (s *scanner) string() (escaped bool, err error) {
	s.pos++ // '"'
	in := s.in
	for i := s.pos; i < len(in); {
		c := in[i]
		switch {
		case c == '"':
			s.pos = i + 1
			return escaped, nil
		case c == '\\':
			escaped = true
			if i+1 >= len(in) {
				s.pos = i
				return false, s.fail("unterminated string")
			}
			switch in[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(in) || !isHex(in[i+2]) || !isHex(in[i+3]) || !isHex(in[i+4]) || !isHex(in[i+5]) {
					s.pos = i
					return false, s.fail(`invalid \u escape`)
				}
				i += 6
			default:
				s.pos = i
				return false, s.fail("invalid escape in a string")
			}
		case c < 0x20:
			s.pos = i
			return false, s.fail("control character in a string")
		case c < utf8.RuneSelf:
			i++
		default:
			r, size := utf8.DecodeRune(in[i:])
			if r == utf8.RuneError && size == 1 {
				s.pos = i
				return false, s.fail("invalid UTF-8 in a string")
			}
			i += size
		}
	}
	s.pos = len(in)
	return false, s.fail("unterminated string")
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// number validates the number at s.pos and moves past it:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *scanner) number() error {
	in, i := s.in, s.pos
	if i < len(in) && in[i] == '-' {
		i++
	}
	switch {
	case i < len(in) && in[i] == '0':
		i++
	case i < len(in) && '1' <= in[i] && in[i] <= '9':
		for i++; i < len(in) && isDigit(in[i]); i++ {
		}
	default:
		return s.failUnexpected("a value")
	}
	if i < len(in) && in[i] == '.' {
		i++
		if i >= len(in) || !isDigit(in[i]) {
			s.pos = i
			return s.fail("invalid number: a digit must follow '.'")
		}
		for ; i < len(in) && isDigit(in[i]); i++ {
		}
	}
	if i < len(in) && (in[i] == 'e' || in[i] == 'E') {
		i++
		if i < len(in) && (in[i] == '+' || in[i] == '-') {
			i++
		}
		if i >= len(in) || !isDigit(in[i]) {
			s.pos = i
			return s.fail("invalid number: a digit must follow the exponent")
		}
		for ; i < len(in) && isDigit(in[i]); i++ {
		}
	}
	s.pos = i
	return nil
}

// unescape appends the decoded content of a validated JSON string (without
// its quotes) to dst. Lone surrogates become U+FFFD, as in encoding/json.
func unescape(dst, b []byte) []byte {
	for i := 0; i < len(b); {
		c := b[i]
		if c != '\\' {
			dst = append(dst, c)
			i++
			continue
		}
		switch b[i+1] {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r := hex4(b[i+2 : i+6])
			i += 6
			if 0xD800 <= r && r < 0xDC00 && i+6 <= len(b) && b[i] == '\\' && b[i+1] == 'u' {
				if r2 := hex4(b[i+2 : i+6]); 0xDC00 <= r2 && r2 < 0xE000 {
					r = (r-0xD800)<<10 | (r2 - 0xDC00) + 0x10000
					i += 6
				}
			}
			if 0xD800 <= r && r < 0xE000 {
				r = utf8.RuneError
			}
			dst = utf8.AppendRune(dst, r)
			continue
		default: // '"', '\\', '/'
			dst = append(dst, b[i+1])
		}
		i += 2
	}
	return dst
}

func hex4(b []byte) rune {
	var r rune
	for _, c := range b[:4] {
		switch {
		case c <= '9':
			r = r<<4 | rune(c-'0')
		case c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			r = r<<4 | rune(c-'a'+10)
		}
	}
	return r
}
