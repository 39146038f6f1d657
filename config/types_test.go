package config

import (
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func TestParseByteSize(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr bool
	}{
		{in: "0", want: 0},
		{in: "65536", want: 65536},
		{in: "64KiB", want: 64 << 10},
		{in: "10MiB", want: 10 << 20},
		{in: "1GiB", want: 1 << 30},
		{in: "500kB", want: 500_000},
		{in: "500KB", want: 500_000},
		{in: "2MB", want: 2_000_000},
		{in: "3GB", want: 3_000_000_000},
		{in: "512B", want: 512},
		{in: " 10 MiB ", want: 10 << 20},
		{in: "4294967296GiB", want: 1 << 62},
		{in: "-1", wantErr: true},
		{in: "-1KiB", wantErr: true},
		{in: "x", wantErr: true},
		{in: "", wantErr: true},
		{in: "MiB", wantErr: true},
		{in: "1.5MiB", wantErr: true},
		{in: "10mib", wantErr: true},
		{in: "0x10", wantErr: true},
		{in: "9223372036854775807", wantErr: true},
		{in: "9223372036854775808", wantErr: true},
		{in: "4294967297GiB", wantErr: true},
		{in: "8589934592GiB", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseByteSize(tt.in)
		switch {
		case tt.wantErr && err == nil:
			t.Errorf("ParseByteSize(%q): got %d, want an error", tt.in, got)
		case tt.wantErr && !strings.Contains(err.Error(), "is not a size"):
			t.Errorf("ParseByteSize(%q): got error %q, want one saying it is not a size", tt.in, err)
		case !tt.wantErr && err != nil:
			t.Errorf("ParseByteSize(%q): got error %v, want %d", tt.in, err, tt.want)
		case !tt.wantErr && got != tt.want:
			t.Errorf("ParseByteSize(%q): got %d, want %d", tt.in, got, tt.want)
		}
	}
}

// TestSizeAndDurationYAML checks the YAML forms of ByteSize and Duration.
func TestSizeAndDurationYAML(t *testing.T) {
	tests := []struct {
		doc      string
		wantSize ByteSize
		wantDur  time.Duration
		wantErr  string
	}{
		{doc: "{size: 64KiB, dur: 5s}", wantSize: 64 << 10, wantDur: 5 * time.Second},
		{doc: "{size: 1024, dur: 250ms}", wantSize: 1024, wantDur: 250 * time.Millisecond},
		{doc: "{size: 2MB, dur: 1h30m}", wantSize: 2_000_000, wantDur: 90 * time.Minute},
		{doc: "{size: 0, dur: 0s}"},
		{doc: "{dur: 5}", wantErr: `line 1: "5" is not a duration`},
		{doc: "{dur: -5s}", wantErr: `line 1: "-5s" is not a duration`},
		{doc: "{size: 1e6}", wantErr: `line 1: "1e6" is not a size`},
	}
	for _, tt := range tests {
		var got struct {
			Size ByteSize `yaml:"size"`
			Dur  Duration `yaml:"dur"`
		}
		err := yaml.Unmarshal([]byte(tt.doc), &got)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: got error %v, want %q", tt.doc, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: got error %v, want none", tt.doc, err)
			continue
		}
		if got.Size != tt.wantSize || got.Dur.D() != tt.wantDur {
			t.Errorf("%s: got %d and %v, want %d and %v", tt.doc, got.Size, got.Dur.D(), tt.wantSize, tt.wantDur)
		}
	}
}

func TestProblemString(t *testing.T) {
	tests := []struct {
		p    Problem
		want string
	}{
		{Problem{Path: "registries[0].endpoints[1]", Line: 12, Message: "not an absolute URL"}, "line 12: registries[0].endpoints[1]: not an absolute URL"},
		{Problem{Line: 3, Message: "did not find expected key"}, "line 3: did not find expected key"},
		{Problem{Path: "clients[1].auth", Message: "no credential", Warning: true}, "clients[1].auth: warning: no credential"},
	}
	for _, tt := range tests {
		if got := tt.p.String(); got != tt.want {
			t.Errorf("String(): got %q, want %q", got, tt.want)
		}
	}
	ps := Problems{tests[0].p, tests[2].p}
	if got, want := ps.Error(), tests[0].want+"\n"+tests[2].want; got != want {
		t.Errorf("Problems.Error(): got %q, want %q", got, want)
	}
	if got := ps.Errors(); len(got) != 1 || got[0].Warning {
		t.Errorf("Errors(): got %v, want only the first problem", got)
	}
}
