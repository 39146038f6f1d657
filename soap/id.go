package soap

import "strings"

// X-Road identifier object types used in the SOAP header.
const (
	ObjectMember    = "MEMBER"
	ObjectSubsystem = "SUBSYSTEM"
	ObjectService   = "SERVICE"
)

// ID is an X-Road identifier from the header: ObjectType (MEMBER, SUBSYSTEM,
// SERVICE), XRoadInstance, MemberClass, MemberCode, SubsystemCode (may be
// ""), ServiceCode and ServiceVersion (services).
//
// A represented party (repr:representedParty) is an ID with an empty
// ObjectType and XRoadInstance: partyClass is MemberClass and partyCode is
// MemberCode.
//
// The values are the elements' text exactly as sent (no trimming, no
// charset check); the gateway validates them as identifiers.
type ID struct {
	ObjectType, XRoadInstance, MemberClass, MemberCode, SubsystemCode, ServiceCode, ServiceVersion string
}

// String gives our slash form: INSTANCE/CLASS/CODE[/SUBSYSTEM][/SERVICECODE].
// A '/' inside a part is written %2F and a '%' is written %25, so that the
// string decodes (one percent-decoding per part) back to the same parts.
// ServiceVersion is not part of the form.
func (id ID) String() string {
	var b strings.Builder
	b.Grow(len(id.XRoadInstance) + len(id.MemberClass) + len(id.MemberCode) + len(id.SubsystemCode) + len(id.ServiceCode) + 4)
	writePart(&b, id.XRoadInstance)
	b.WriteByte('/')
	writePart(&b, id.MemberClass)
	b.WriteByte('/')
	writePart(&b, id.MemberCode)
	if id.SubsystemCode != "" {
		b.WriteByte('/')
		writePart(&b, id.SubsystemCode)
	}
	if id.ServiceCode != "" {
		b.WriteByte('/')
		writePart(&b, id.ServiceCode)
	}
	return b.String()
}

// writePart writes p with '%' and '/' percent-encoded.
func writePart(b *strings.Builder, p string) {
	if !strings.ContainsAny(p, "%/") {
		b.WriteString(p)
		return
	}
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '%':
			b.WriteString("%25")
		case '/':
			b.WriteString("%2F")
		default:
			b.WriteByte(p[i])
		}
	}
}
