package outbound

import (
	"testing"
	"time"
)

func TestBudget(t *testing.T) {
	now := time.Unix(1000, 0)
	clock := func() time.Time { return now }
	b := newBudget(0.2, 1, 10*time.Second, clock) // floor: 10 retries per window

	for i := 0; i < 100; i++ {
		b.request()
	}
	allowed := 0
	for i := 0; i < 100; i++ {
		if b.withdraw() {
			allowed++
		}
	}
	if want := 30; allowed != want { // 0.2 × 100 + 10
		t.Errorf("retries allowed after 100 requests = %d, want %d", allowed, want)
	}
	// The window slides: 11 s later the old requests and retries are gone.
	now = now.Add(11 * time.Second)
	allowed = 0
	for i := 0; i < 100; i++ {
		if b.withdraw() {
			allowed++
		}
	}
	if want := 10; allowed != want {
		t.Errorf("retries allowed with no recent requests = %d, want the floor %d", allowed, want)
	}
}

func BenchmarkBudget(b *testing.B) {
	bu := newBudget(0.2, 5, 10*time.Second, time.Now)
	for b.Loop() {
		bu.request()
		bu.withdraw()
	}
}
