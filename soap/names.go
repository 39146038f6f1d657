package soap

import "unicode"

// IsNCName reports whether s can name an unprefixed element: an XML name
// without a colon, here restricted to letters, digits, '.', '-' and '_'
// (a letter or '_' first).
func IsNCName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_' || unicode.IsLetter(r):
		case i > 0 && (r == '-' || r == '.' || unicode.IsDigit(r)):
		default:
			return false
		}
	}
	return true
}
