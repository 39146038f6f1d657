package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Duration is a time.Duration written as "5s", "250ms", "1h".
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// typeError reports a bad value at n as a *yaml.TypeError, the one error
// type with which yaml.v3 goes on decoding the rest of the document (any
// other error stops it, and every later problem would go unreported).
func typeError(n *yaml.Node, format string, args ...any) error {
	return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: ", n.Line) + fmt.Sprintf(format, args...)}}
}

// UnmarshalYAML parses a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil || v < 0 {
		return typeError(n, "%q is not a duration (e.g. 5s, 250ms)", n.Value)
	}
	*d = Duration(v)
	return nil
}

// ByteSize is a size in bytes, written as a number or with a unit:
// "64KiB", "10MiB", "1GiB", "500kB", "2MB".
type ByteSize int64

// UnmarshalYAML parses a size.
func (b *ByteSize) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseByteSize(n.Value)
	if err != nil {
		return typeError(n, "%v", err)
	}
	*b = ByteSize(v)
	return nil
}

// ParseByteSize parses "123", "64KiB", "10MiB", "1GiB", "500kB", "2MB".
func ParseByteSize(s string) (int64, error) {
	units := []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"kB", 1000}, {"KB", 1000}, {"MB", 1000 * 1000}, {"GB", 1000 * 1000 * 1000}, {"B", 1}}
	in := s
	s = strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 || v > (1<<62)/mult {
		return 0, fmt.Errorf("%q is not a size (e.g. 65536, 64KiB, 10MiB)", in)
	}
	return v * mult, nil
}

// UnmarshalYAML accepts the scalar "none" or a mapping; a mapping with a
// "none" key (auth: {none: {from: [...]}}) is auth none too.
func (a *ClientAuth) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode && n.Value == "none" {
		*a = ClientAuth{None: true}
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return typeError(n, "auth must be \"none\" or a mapping with api_keys and/or certificates, or none: {from: [...]}")
	}
	type plain ClientAuth
	var p plain
	if err := n.Decode(&p); err != nil {
		return err
	}
	*a = ClientAuth(p)
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "none" {
			a.None = true
			if a.NoneNetworks == nil { // "none:" with no value: loopback only
				a.NoneNetworks = &NoneNetworks{}
			}
		}
	}
	return nil
}
