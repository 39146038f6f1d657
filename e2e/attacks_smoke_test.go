package e2e

import "testing"

func init() {
	registerAttack("harness/records-what-reaches-the-registry", func(t *testing.T) {
		w := sharedAttackWorld(t)
		w.clearReceived(t, "9101")
		before := w.trackerCount(t, "1000000777")
		a := w.do(t, "GET", civilPath+"/persons/1000000777", nil, eservice...)
		if a.Status != 200 || a.Type != "" {
			t.Fatalf("plain read: %v", a)
		}
		got := w.received(t, "9101")
		if len(got) != 1 || got[0].Target != "/persons/1000000777" || got[0].Header.Get("X-Road-Client") != "UA/GOV/00000003/eservice" {
			t.Fatalf("registry received %+v", got)
		}
		if after := w.trackerCount(t, "1000000777"); after != before+1 {
			t.Errorf("tracker lists %d accesses after one read, want %d", after, before+1)
		}
	})
}
