package gateway

import (
	"errors"
	"net"
	"strconv"
	"strings"
)

// errFolded is what a FoldGuard connection's Read returns once a request
// head holds an obs-folded line. Go's HTTP server answers any such read
// error with its plain "400 Bad Request" and closes the connection.
var errFolded = errors.New("obsolete line folding in a request head (RFC 9112 §5.2)")

// errFraming is what it returns once the framing of a request is one it
// cannot follow as Go's server does.
var errFraming = errors.New("request framing the fold guard cannot follow")

// FoldGuard wraps a plain-TCP listener so that a request head with an
// obs-folded header line (a line starting with a space or a tab, RFC 9112
// §5.2) gets 400 and a closed connection. Go's server would otherwise join
// the line to the one before and serve the request, while a proxy in front
// may have read it as a header of its own.
//
// It follows the HTTP/1.1 framing of the bytes read (Content-Length and
// chunked bodies, keep-alive requests one after another, Transfer-Encoding
// ignored in HTTP/1.0 requests as Go's server ignores it) to know which
// lines belong to a head; framing it does not follow (a framing line
// longer than it keeps, or framing Go's server refuses too) gets the same
// 400 and closed connection, since from there on it could not tell a head
// from a body. It must wrap the plaintext: do not use it under TLS, whose
// connections Go's server must see as *tls.Conn.
func FoldGuard(ln net.Listener) net.Listener { return foldListener{ln} }

type foldListener struct{ net.Listener }

func (l foldListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &foldConn{Conn: c}, nil
}

// foldConn scans what is read from its connection.
type foldConn struct {
	net.Conn
	s   headScanner
	err error // set once a folded line was found
}

func (c *foldConn) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.Conn.Read(p)
	if at := c.s.scan(p[:n]); at >= 0 {
		// Hand over what precedes the folded line (earlier requests
		// complete); the next read fails.
		c.err = errFolded
		if c.s.state == scanLost {
			c.err = errFraming
		}
		if at == 0 {
			return 0, c.err
		}
		return at, nil
	}
	return n, err
}

// CloseWrite half-closes when the connection can, as Go's server does
// before closing a connection whose client may still be sending.
func (c *foldConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// Scanner states.
const (
	scanHead      = iota // in a request head
	scanBody             // in a Content-Length body
	scanChunkSize        // in a chunk-size line
	scanChunkData        // in a chunk's data
	scanChunkEnd         // in the CRLF after a chunk's data
	scanTrailer          // in the trailer section after the last chunk
	scanLost             // lost the framing: the rest is refused
)

// maxScanLine is the longest line kept whole; longer head lines are still
// checked for folding, but a framing line (Content-Length,
// Transfer-Encoding, a chunk size without its extension) longer than it
// loses the framing.
const maxScanLine = 256

// headScanner follows the framing of an HTTP/1.1 request stream.
type headScanner struct {
	state     int
	line      []byte   // the current line, up to maxScanLine bytes
	lineLen   int      // its whole length so far
	lines     int      // lines of the current head, the request line included
	length    int64    // the head's Content-Length
	hasLength bool     // the head has a Content-Length
	chunked   bool     // the head's Transfer-Encoding is chunked
	remaining int64    // bytes left in a body or a chunk
	http10    bool     // the head's request line says HTTP/1.0
	end       [10]byte // the request line's last bytes so far
}

// scan consumes b and returns the offset in b where a folded head line
// begins or, once the framing is lost, where what follows the line that
// lost it begins; or -1.
func (s *headScanner) scan(b []byte) int {
	if s.state == scanLost {
		return 0
	}
	i := 0
	for i < len(b) {
		switch s.state {
		case scanBody, scanChunkData:
			n := int64(len(b) - i)
			if n > s.remaining {
				n = s.remaining
			}
			i += int(n)
			s.remaining -= n
			if s.remaining == 0 {
				if s.state == scanBody {
					s.startHead()
				} else {
					s.state = scanChunkEnd
				}
			}
			continue
		}
		c := b[i]
		if s.state == scanHead && s.lineLen == 0 && s.lines > 0 && (c == ' ' || c == '\t') {
			return i
		}
		i++
		if c != '\n' {
			if len(s.line) < maxScanLine {
				s.line = append(s.line, c)
			}
			if s.state == scanHead && s.lines == 0 {
				copy(s.end[:], s.end[1:])
				s.end[len(s.end)-1] = c
			}
			s.lineLen++
			continue
		}
		s.endLine()
		if s.state == scanLost {
			return i
		}
	}
	return -1
}

func (s *headScanner) startHead() {
	s.state, s.lines, s.length, s.hasLength, s.chunked, s.http10 = scanHead, 0, 0, false, false, false
}

// endLine handles a complete line (its LF just read).
func (s *headScanner) endLine() {
	line := strings.TrimSuffix(string(s.line), "\r")
	whole := s.lineLen <= maxScanLine
	s.line, s.lineLen = s.line[:0], 0
	switch s.state {
	case scanHead:
		if s.lines == 0 && line == "" {
			return // an empty line before the request line
		}
		s.lines++
		if s.lines == 1 {
			// The request line: Go's server reads Transfer-Encoding only
			// from HTTP/1.1 on.
			s.http10 = strings.HasSuffix(strings.TrimSuffix(string(s.end[:]), "\r"), " HTTP/1.0")
			s.end = [len(s.end)]byte{}
			return
		}
		if line == "" {
			s.endHead()
			return
		}
		name, value, _ := strings.Cut(line, ":")
		switch {
		case strings.EqualFold(name, "Content-Length"):
			n, err := strconv.ParseInt(strings.TrimSpace(value), 10, 64)
			if !whole || err != nil || n < 0 || s.hasLength && s.length != n {
				s.state = scanLost
				return
			}
			s.length, s.hasLength = n, true
		case strings.EqualFold(name, "Transfer-Encoding"):
			if s.http10 {
				return // ignored, as Go's server ignores it
			}
			if !whole || !strings.EqualFold(strings.TrimSpace(value), "chunked") {
				s.state = scanLost // Go's server serves only chunked
				return
			}
			s.chunked = true
		}
	case scanChunkSize:
		size, _, ext := strings.Cut(line, ";")
		n, err := strconv.ParseInt(strings.TrimSpace(size), 16, 64)
		if !whole && !ext || err != nil || n < 0 {
			s.state = scanLost
			return
		}
		if n == 0 {
			s.state = scanTrailer
			return
		}
		s.state, s.remaining = scanChunkData, n
	case scanChunkEnd:
		if line != "" {
			s.state = scanLost
			return
		}
		s.state = scanChunkSize
	case scanTrailer:
		if line == "" {
			s.startHead()
		}
	}
}

// endHead moves past a head's blank line to its body, if any.
func (s *headScanner) endHead() {
	switch {
	case s.chunked:
		s.state = scanChunkSize
	case s.length > 0:
		s.state, s.remaining = scanBody, s.length
	default:
		s.startHead()
	}
}
