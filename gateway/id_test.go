package gateway

import (
	"errors"
	"strings"
	"testing"
)

func TestParseClientID(t *testing.T) {
	long := strings.Repeat("a", 255)
	tests := []struct {
		in   string
		want ClientID
		ok   bool
	}{
		{"UA/GOV/00000003/eservice", ClientID{"UA", "GOV", "00000003", "eservice"}, true},
		{"EE/COM/12345678/sub-system.v2", ClientID{"EE", "COM", "12345678", "sub-system.v2"}, true},
		{"A/B/C/'()+,-.=?", ClientID{"A", "B", "C", "'()+,-.=?"}, true},
		{"A/B/C/" + long, ClientID{"A", "B", "C", long}, true},
		{"A/B/C/" + long + "a", ClientID{}, false},
		{"UA/GOV/00000003", ClientID{}, false},
		{"UA/GOV/00000003/eservice/x", ClientID{}, false},
		{"UA//00000003/eservice", ClientID{}, false},
		{"UA/GOV/00000003/", ClientID{}, false},
		{"", ClientID{}, false},
		{"UA/GOV/0000 0003/eservice", ClientID{}, false},
		{"UA/GOV/00000003/e_service", ClientID{}, false},
		{"UA/GOV/00000003/esérvice", ClientID{}, false},
		{"UA/GOV/00000003/e%41", ClientID{}, false},
		{"UA/GOV/00000003/e:s", ClientID{}, false},
		{"UA/GOV/00000003/e\x00", ClientID{}, false},
	}
	for _, tt := range tests {
		got, err := ParseClientID(tt.in)
		if (err == nil) != tt.ok {
			t.Errorf("ParseClientID(%q) error = %v, want ok=%v", tt.in, err, tt.ok)
			continue
		}
		if err != nil {
			if CodeOf(err) != CodeBadRequest {
				t.Errorf("ParseClientID(%q) code = %s, want %s", tt.in, CodeOf(err), CodeBadRequest)
			}
			continue
		}
		if got != tt.want {
			t.Errorf("ParseClientID(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
		if got.String() != tt.in {
			t.Errorf("ParseClientID(%q).String() = %q", tt.in, got.String())
		}
	}
}

func TestParseServiceID(t *testing.T) {
	tests := []struct {
		in       string
		wantCode string
		wantStr  string
		ok       bool
	}{
		{"UA/GOV/00000001/civil-registry/persons", "persons", "UA/GOV/00000001/civil-registry/persons", true},
		{"INSTANCE/CLASS/MEMBER/SUBSYSTEM/BAR%2FSERVICE", "BAR/SERVICE", "INSTANCE/CLASS/MEMBER/SUBSYSTEM/BAR%2FSERVICE", true},
		{"INSTANCE/CLASS/MEMBER/SUBSYSTEM/BAR%2fSERVICE", "BAR/SERVICE", "INSTANCE/CLASS/MEMBER/SUBSYSTEM/BAR%2FSERVICE", true},
		{"INSTANCE/CLASS/MEMBER/SUB%53YSTEM/X", "X", "INSTANCE/CLASS/MEMBER/SUBSYSTEM/X", true},
		{"INSTANCE%2FCLASS%2FMEMBER%2FSUBSYSTEM%2FBARSERVICE", "", "", false},
		// In a configuration file the service code is written as X-Road
		// names it, with a plain '/'.
		{"INSTANCE/CLASS/MEMBER/SUBSYSTEM/BAR/SERVICE", "BAR/SERVICE", "INSTANCE/CLASS/MEMBER/SUBSYSTEM/BAR%2FSERVICE", true},
		{"INSTANCE/CLASS/MEMBER/SUBSYSTEM/A/B%2FC", "A/B/C", "INSTANCE/CLASS/MEMBER/SUBSYSTEM/A%2FB%2FC", true},
		{"INSTANCE/CLASS/MEMBER/SUBSYSTEM/BAR//SERVICE", "", "", false},
		{"INSTANCE/CLASS/MEMBER/SUBSYSTEM/BAR/", "", "", false},
		{"INSTANCE/CLASS/MEMBER/SUBSYSTEM//BAR", "", "", false},
		{"INSTANCE/CLASS/MEMBER/SUBSYSTEM/BAR/%zz", "", "", false},
		{"INSTANCE/CLASS/MEMBER/SUBSYSTEM/BAR/B%2541", "", "", false}, // decoded once: "B%41" is no code
		{"INSTANCE/CLASS/MEMBER/SUBSYSTEM/BAR%2F", "", "", false},
		{"INSTANCE/CLASS/MEMBER/SUBSYSTEM/%2FBAR", "", "", false},
		{"INSTANCE/CLASS/MEMBER/SUBSYSTEM/BAR%2", "", "", false},
		{"INSTANCE/CLASS/MEMBER/SUBSYSTEM/BAR%zz", "", "", false},
		{"INSTANCE/CLASS/MEMBER/SUBSYSTEM/BAR%20X", "", "", false},
		{"INSTANCE/CLASS/MEMBER/SUBSYSTEM/" + strings.Repeat("s", 256), "", "", false},
		{"INSTANCE/CLASS/MEMBER/SUBSYSTEM/", "", "", false},
	}
	for _, tt := range tests {
		got, err := ParseServiceID(tt.in)
		if (err == nil) != tt.ok {
			t.Errorf("ParseServiceID(%q) error = %v, want ok=%v", tt.in, err, tt.ok)
			continue
		}
		if err != nil {
			continue
		}
		if got.Code != tt.wantCode || got.String() != tt.wantStr {
			t.Errorf("ParseServiceID(%q) = code %q string %q, want %q %q", tt.in, got.Code, got.String(), tt.wantCode, tt.wantStr)
		}
	}
}

func TestCodeOf(t *testing.T) {
	if got := CodeOf(nil); got != "" {
		t.Errorf("CodeOf(nil) = %q, want empty", got)
	}
	if got := CodeOf(errors.New("x")); got != CodeInternalError {
		t.Errorf("CodeOf(plain) = %q, want %q", got, CodeInternalError)
	}
	wrapped := Errorf(CodeRegistryTimeout, "slow")
	if got := CodeOf(errors.Join(errors.New("ctx"), wrapped)); got != CodeRegistryTimeout {
		t.Errorf("CodeOf(joined) = %q, want %q", got, CodeRegistryTimeout)
	}
}

func TestStatusOfEveryCode(t *testing.T) {
	want := map[Code]int{
		CodeBadRequest: 400, CodeUnauthenticated: 401, CodeAccessDenied: 403, CodePurposeRequired: 403,
		CodeUnknownService: 404, CodeMethodNotAllowed: 405, CodePayloadTooLarge: 413, CodeURITooLong: 414,
		CodeRateLimited: 429, CodeCircuitOpen: 503, CodeRegistryBusy: 503, CodeRegistryUnavailable: 502,
		CodeRegistryTimeout: 504, CodeLoggingFailed: 503, CodeInternalError: 500,
	}
	if len(want) != len(Codes) {
		t.Fatalf("test covers %d codes, Codes has %d", len(want), len(Codes))
	}
	for _, c := range Codes {
		if got := StatusOf(c); got != want[c] {
			t.Errorf("StatusOf(%s) = %d, want %d", c, got, want[c])
		}
	}
	if got := StatusOf("Client.Nonsense"); got != 500 {
		t.Errorf("StatusOf(unknown) = %d, want 500", got)
	}
}

func BenchmarkParseServiceID(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseServiceID("UA/GOV/00000001/civil-registry/persons"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseTarget(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseTarget("/r1/UA/GOV/00000001/civil-registry/persons/persons/1000000042?x=1"); err != nil {
			b.Fatal(err)
		}
	}
}
