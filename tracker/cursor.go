package tracker

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"time"

	"github.com/govbus/govbus/audit"
)

// A cursor is the place of a page's last record, (time, node, seq), in
// base64url (no padding) of
//
//	version (1) | varint time in µs | varint seq | node | tag (16 bytes)
//
// where tag is HMAC-SHA256 under a key derived from the subject key, over
// the domain, the subject's hash, from, to and the bytes before the tag:
// a cursor is good only for the query it was given for, and one edited,
// cut or made up is refused.

const (
	cursorVersion = 1
	cursorTagLen  = 16
	// maxCursorLen bounds the text of a cursor before it is decoded.
	maxCursorLen = 512
	cursorDomain = "govbus-tracker-cursor/v1"
)

// cursorKey makes and checks cursors.
type cursorKey []byte

// cursors returns the tracker's cursor key, derived from its subject key
// so that the two are never the same.
func (t *Tracker) cursors() cursorKey {
	m := hmac.New(sha256.New, t.Key)
	m.Write([]byte(cursorDomain + " key"))
	return m.Sum(nil)
}

// tag is the authentication tag of payload for the query (subject, from,
// to).
func (k cursorKey) tag(payload []byte, subject string, from, to time.Time) []byte {
	m := hmac.New(sha256.New, k)
	m.Write([]byte(cursorDomain))
	for _, s := range []string{subject, timeKey(from), timeKey(to)} {
		m.Write([]byte{0})
		m.Write([]byte(s))
	}
	m.Write([]byte{0})
	m.Write(payload)
	return m.Sum(nil)[:cursorTagLen]
}

// timeKey is a query bound as the tag reads it: "" when open.
func timeKey(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// encode returns the cursor of c for the query (subject, from, to).
func (k cursorKey) encode(c audit.Cursor, subject string, from, to time.Time) string {
	b := []byte{cursorVersion}
	b = binary.AppendVarint(b, c.Time.UnixMicro())
	b = binary.AppendVarint(b, c.Seq)
	b = append(b, c.Node...)
	b = append(b, k.tag(b, subject, from, to)...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// decode returns the place a cursor names, and ok=false unless this key
// made it for the query (subject, from, to).
func (k cursorKey) decode(s string, subject string, from, to time.Time) (audit.Cursor, bool) {
	if len(s) > maxCursorLen {
		return audit.Cursor{}, false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil || len(b) < 1+cursorTagLen || b[0] != cursorVersion {
		return audit.Cursor{}, false
	}
	payload, tag := b[:len(b)-cursorTagLen], b[len(b)-cursorTagLen:]
	if !hmac.Equal(tag, k.tag(payload, subject, from, to)) {
		return audit.Cursor{}, false
	}
	rest := payload[1:]
	us, n := binary.Varint(rest)
	if n <= 0 {
		return audit.Cursor{}, false
	}
	rest = rest[n:]
	seq, n := binary.Varint(rest)
	if n <= 0 {
		return audit.Cursor{}, false
	}
	c := audit.Cursor{Time: time.UnixMicro(us).UTC(), Seq: seq, Node: string(rest[n:])}
	if c.IsZero() {
		return audit.Cursor{}, false
	}
	return c, true
}
