package soap

// Limits bound parsing. Zero fields take defaults: MaxBytes 10 MiB, MaxDepth
// 64, MaxElements 100000, MaxAttrs per element 64, MaxNameLen 256,
// MaxTextLen (per text node) 1 MiB.
type Limits struct {
	// MaxBytes is the largest message accepted (the whole request body, and
	// for responses the SOAP part); larger ones are client.message_too_large.
	MaxBytes int64
	// MaxDepth is the deepest element nesting; the Envelope is depth 1.
	MaxDepth int
	// MaxElements is the most elements in one envelope.
	MaxElements int
	// MaxAttrs is the most attributes (namespace declarations included) on
	// one element.
	MaxAttrs int
	// MaxNameLen is the longest element or attribute name, prefix included.
	MaxNameLen int
	// MaxTextLen is the longest text node, CDATA section, comment or
	// attribute value.
	MaxTextLen int
}

// Default limits, used for every zero field of Limits.
const (
	DefaultMaxBytes    = 10 << 20
	DefaultMaxDepth    = 64
	DefaultMaxElements = 100000
	DefaultMaxAttrs    = 64
	DefaultMaxNameLen  = 256
	DefaultMaxTextLen  = 1 << 20
)

// withDefaults returns l with every zero (or negative) field set to its
// default.
func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	if l.MaxElements <= 0 {
		l.MaxElements = DefaultMaxElements
	}
	if l.MaxAttrs <= 0 {
		l.MaxAttrs = DefaultMaxAttrs
	}
	if l.MaxNameLen <= 0 {
		l.MaxNameLen = DefaultMaxNameLen
	}
	if l.MaxTextLen <= 0 {
		l.MaxTextLen = DefaultMaxTextLen
	}
	return l
}
