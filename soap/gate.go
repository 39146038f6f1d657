package soap

import "io"

// gate is the scanner's input. It hands encoding/xml the bytes one at a time
// and follows the markup with a small lexer, so that it can refuse — before
// the decoder has buffered a single byte of them — the constructs that would
// make the decoder allocate many times the input's size or look at a DTD:
//
//   - "<!" that does not open a comment or a CDATA section (<!DOCTYPE,
//     <!ENTITY...): refused outright, so an entity declaration is never read;
//   - names, attribute values, text runs, comments, CDATA sections and
//     processing instructions longer than their limits (text is measured as
//     written, so "&amp;" counts five bytes);
//   - start tags with more attributes than Limits.MaxAttrs (the decoder would
//     otherwise build all of them before the scanner could count them).
//
// The gate only ever refuses; it never changes a byte. On input that is not
// well-formed its idea of where markup starts can drift, but then the
// decoder refuses the input anyway.
type gate struct {
	data []byte
	pos  int
	lim  Limits

	state gateState
	n     int  // length of the current run
	attrs int  // attributes in the current start tag
	quote byte // the quote that closes the current attribute value
	tail  [3]byte
	err   error
}

type gateState uint8

const (
	gText     gateState = iota // character data
	gOpen                      // just after '<'
	gBang                      // after "<!"
	gBangDash                  // after "<!-"
	gCDATA                     // inside "<![CDATA[" being matched
	gInCDATA                   // inside a CDATA section
	gComment                   // inside a comment
	gPI                        // inside a processing instruction
	gEndTag                    // inside an end tag
	gName                      // an element name in a start tag
	gTag                       // between attributes of a start tag
	gAttrName                  // an attribute name
	gValue                     // an attribute value
)

const cdataOpen = "[CDATA["

func newGate(data []byte, lim Limits) *gate { return &gate{data: data, lim: lim} }

// ReadByte implements io.ByteReader, which encoding/xml uses directly.
func (g *gate) ReadByte() (byte, error) {
	if g.err != nil {
		return 0, g.err
	}
	if g.pos >= len(g.data) {
		return 0, io.EOF
	}
	c := g.data[g.pos]
	g.pos++
	if e := g.step(c); e != nil {
		g.err = e
		return 0, e
	}
	return c, nil
}

// Read implements io.Reader; encoding/xml does not call it.
func (g *gate) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c, err := g.ReadByte()
		if err != nil {
			if n > 0 && err == io.EOF {
				return n, nil
			}
			return n, err
		}
		p[n] = c
		n++
	}
	return n, nil
}

// run counts one more byte of the current run against max.
func (g *gate) run(max int, what string) *Error {
	g.n++
	if g.n > max {
		return xmlError("%s longer than %d bytes", what, max)
	}
	return nil
}

// ends records c and reports whether the last bytes are end.
func (g *gate) ends(c byte, end string) bool {
	g.tail[0], g.tail[1], g.tail[2] = g.tail[1], g.tail[2], c
	return string(g.tail[3-len(end):]) == end
}

func (g *gate) enter(s gateState) {
	g.state, g.n, g.tail = s, 0, [3]byte{}
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// step advances the lexer over c.
func (g *gate) step(c byte) *Error {
	switch g.state {
	case gText:
		if c == '<' {
			g.enter(gOpen)
			return nil
		}
		return g.run(g.lim.MaxTextLen, "a text node is")
	case gOpen:
		switch c {
		case '!':
			g.enter(gBang)
		case '?':
			g.enter(gPI)
		case '/':
			g.enter(gEndTag)
		default:
			g.enter(gName)
			g.attrs = 0
			return g.run(g.lim.MaxNameLen, "a name is")
		}
	case gBang:
		switch c {
		case '-':
			g.state = gBangDash
		case '[':
			g.enter(gCDATA)
			g.n = 1
		default:
			return xmlError("DTDs, entity declarations and other <! directives are not accepted")
		}
	case gBangDash:
		if c != '-' {
			return xmlError("DTDs, entity declarations and other <! directives are not accepted")
		}
		g.enter(gComment)
	case gCDATA:
		if c != cdataOpen[g.n] {
			return xmlError("DTDs, entity declarations and other <! directives are not accepted")
		}
		g.n++
		if g.n == len(cdataOpen) {
			g.enter(gInCDATA)
		}
	case gInCDATA:
		if g.ends(c, "]]>") {
			g.enter(gText)
			return nil
		}
		return g.run(g.lim.MaxTextLen, "a CDATA section is")
	case gComment:
		if g.ends(c, "-->") {
			g.enter(gText)
			return nil
		}
		return g.run(g.lim.MaxTextLen, "a comment is")
	case gPI:
		if g.ends(c, "?>") {
			g.enter(gText)
			return nil
		}
		return g.run(g.lim.MaxTextLen, "a processing instruction is")
	case gEndTag:
		switch {
		case c == '>':
			g.enter(gText)
		case !isBlank(c):
			return g.run(g.lim.MaxNameLen, "a name is")
		}
	case gName, gAttrName:
		switch {
		case c == '>':
			g.enter(gText)
		case c == '=':
			return g.attr()
		case isBlank(c) || c == '/':
			g.state = gTag
		case c == '"' || c == '\'':
			g.enter(gValue)
			g.quote = c
		default:
			return g.run(g.lim.MaxNameLen, "a name is")
		}
	case gTag:
		switch {
		case c == '>':
			g.enter(gText)
		case c == '=':
			return g.attr()
		case c == '"' || c == '\'':
			g.enter(gValue)
			g.quote = c
		case isBlank(c) || c == '/':
		default:
			g.enter(gAttrName)
			return g.run(g.lim.MaxNameLen, "a name is")
		}
	case gValue:
		if c == g.quote {
			g.enter(gTag)
			return nil
		}
		return g.run(g.lim.MaxTextLen, "an attribute value is")
	}
	return nil
}

// attr counts an '=' in a start tag: one more attribute.
func (g *gate) attr() *Error {
	g.attrs++
	g.state = gTag
	if g.attrs > g.lim.MaxAttrs {
		return xmlError("an element has more than %d attributes", g.lim.MaxAttrs)
	}
	return nil
}
