package authn

import (
	"errors"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/govbus/govbus/gateway"
)

// TestNoneNetworks checks that an auth none client is accepted only from
// its networks: loopback by default, else the ones named.
func TestNoneNetworks(t *testing.T) {
	a := newAuthenticator(t, []Client{
		{ID: isolated, None: true},
		{ID: portal, None: true, NoneFrom: []netip.Prefix{netip.MustParsePrefix("10.20.0.0/16"), netip.MustParsePrefix("fd00:20::/32")}},
	})
	tests := []struct {
		client, addr string // addr "" for none known
		wantOK       bool
	}{
		{isolated, "127.0.0.1", true},
		{isolated, "127.8.9.10", true},
		{isolated, "::1", true},
		{isolated, "::ffff:127.0.0.1", true},
		{isolated, "10.20.0.5", false},
		{isolated, "192.0.2.1", false},
		{isolated, "::2", false},
		{isolated, "", false},
		{portal, "10.20.3.4", true},
		{portal, "::ffff:10.20.3.4", true},
		{portal, "fd00:20::9", true},
		{portal, "fe80::1%eth0", false},
		{portal, "10.21.0.1", false},
		{portal, "127.0.0.1", false},
		{portal, "", false},
	}
	for _, tt := range tests {
		var cred gateway.Credential
		if tt.addr != "" {
			cred.RemoteAddr = netip.MustParseAddr(tt.addr)
		}
		err := a.Authenticate(tt.client, cred)
		if tt.wantOK {
			if err != nil {
				t.Errorf("%s from %q: got %v, want nil", tt.client, tt.addr, err)
			}
			continue
		}
		checkUnauthenticated(t, err)
	}
}

// fakeClock is a clock that moves only when told.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// countingObserver counts failures by reason.
type countingObserver struct {
	mu sync.Mutex
	n  map[string]int
}

func (o *countingObserver) AuthFailed(reason string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.n[reason]++
}

func (o *countingObserver) get(reason string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.n[reason]
}

// throttled builds the world's authenticator with a throttle of burst 3,
// refilling 1 per second, on a fake clock.
func throttled(t *testing.T, th *Throttle, obs Observer) *Authenticator {
	t.Helper()
	a, err := NewWithOptions(newWorld(t).clients, Options{Throttle: th, Limits: ThrottleLimits{Burst: 3, PerSecond: 1}, Observer: obs})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// checkRateLimited fails unless err is a CodeRateLimited *gateway.Error
// asking to wait want.
func checkRateLimited(t *testing.T, err error, want time.Duration) {
	t.Helper()
	var ge *gateway.Error
	if !errors.As(err, &ge) || ge.Code != gateway.CodeRateLimited {
		t.Fatalf("Authenticate: got %v, want %s", err, gateway.CodeRateLimited)
	}
	if ge.RetryAfter != want {
		t.Errorf("RetryAfter: got %v, want %v", ge.RetryAfter, want)
	}
}

func TestThrottle(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1_800_000_000, 0)}
	th := NewThrottle(clock.Now)
	obs := &countingObserver{n: map[string]int{}}
	a := throttled(t, th, obs)
	attacker, other := netip.MustParseAddr("192.0.2.7"), netip.MustParseAddr("192.0.2.8")
	wrong := gateway.Credential{APIKey: "guessed-key", RemoteAddr: attacker}
	right := gateway.Credential{APIKey: "demo-eservice-key", RemoteAddr: attacker}

	for i := range 3 {
		checkUnauthenticated(t, a.Authenticate(eservice, wrong))
		// A success in between gives nothing back.
		if i == 1 {
			if err := a.Authenticate(eservice, right); err != nil {
				t.Fatalf("own key within the burst: got %v, want nil", err)
			}
		}
	}
	// The burst is spent: refused before the key is looked at, even the
	// right one.
	checkRateLimited(t, a.Authenticate(eservice, wrong), time.Second)
	checkRateLimited(t, a.Authenticate(eservice, right), time.Second)
	if got := obs.get(ReasonUnknownKey); got != 3 {
		t.Errorf("unknown_key failures: got %d, want 3", got)
	}
	if got := obs.get(ReasonThrottled); got != 2 {
		t.Errorf("throttled failures: got %d, want 2", got)
	}

	// Another address is not affected, and its success frees no one.
	if err := a.Authenticate(eservice, gateway.Credential{APIKey: "demo-eservice-key", RemoteAddr: other}); err != nil {
		t.Errorf("another address: got %v, want nil", err)
	}
	checkRateLimited(t, a.Authenticate(eservice, right), time.Second)

	// Half a second later, half a second to wait.
	clock.Advance(500 * time.Millisecond)
	checkRateLimited(t, a.Authenticate(eservice, right), 500*time.Millisecond)
	// A second regains one attempt, and a failure spends it again.
	clock.Advance(500 * time.Millisecond)
	checkUnauthenticated(t, a.Authenticate(eservice, wrong))
	checkRateLimited(t, a.Authenticate(eservice, right), time.Second)

	// A reload builds a new Authenticator over the same Throttle: the
	// address stays throttled.
	reloaded := throttled(t, th, obs)
	checkRateLimited(t, reloaded.Authenticate(eservice, right), time.Second)

	// Once whole again, the address is forgotten.
	clock.Advance(3 * time.Second)
	if err := reloaded.Authenticate(eservice, right); err != nil {
		t.Errorf("after the refill: got %v, want nil", err)
	}
	if got := th.Len(); got != 0 {
		t.Errorf("addresses remembered after the refill: got %d, want 0", got)
	}
}

// TestThrottleEveryFailure checks that every kind of failure counts,
// with its reason, and that a client's failures are counted under the
// address, whatever client is claimed.
func TestThrottleEveryFailure(t *testing.T) {
	w := newWorld(t)
	clock := &fakeClock{now: time.Unix(1_800_000_000, 0)}
	obs := &countingObserver{n: map[string]int{}}
	a, err := NewWithOptions(w.clients, Options{Throttle: NewThrottle(clock.Now), Limits: ThrottleLimits{Burst: 7, PerSecond: 1}, Observer: obs})
	if err != nil {
		t.Fatal(err)
	}
	addr := netip.MustParseAddr("198.51.100.1")
	for _, c := range []struct {
		client string
		cred   gateway.Credential
		reason string
	}{
		{nobody, gateway.Credential{APIKey: "demo-eservice-key"}, ReasonUnknownClient},
		{eservice, gateway.Credential{}, ReasonNoCredential},
		{eservice, gateway.Credential{APIKey: "nope"}, ReasonUnknownKey},
		{benefits, gateway.Credential{APIKey: "demo-eservice-key"}, ReasonOtherClient},
		{eservice, gateway.Credential{Certificate: w.strangerCert}, ReasonUnknownCertificate},
		{benefits, gateway.Credential{Certificate: newCA(t, "rogue").issue(t, benefitsSubject).Leaf}, ReasonUntrustedCertificate},
		{isolated, gateway.Credential{}, ReasonNetwork},
	} {
		c.cred.RemoteAddr = addr
		checkUnauthenticated(t, a.Authenticate(c.client, c.cred))
		if got := obs.get(c.reason); got == 0 {
			t.Errorf("%s: reason %s not counted", c.client, c.reason)
		}
	}
	// The seven failures spent the burst, whichever clients they claimed.
	checkRateLimited(t, a.Authenticate(eservice, gateway.Credential{APIKey: "demo-eservice-key", RemoteAddr: addr}), time.Second)
}

// TestThrottleKeys checks that IPv4-mapped addresses count as IPv4 and an
// IPv6 /64 as one address.
func TestThrottleKeys(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1_800_000_000, 0)}
	th := NewThrottle(clock.Now)
	l := ThrottleLimits{Burst: 1, PerSecond: 1, MaxAddresses: 10}
	th.fail(netip.MustParseAddr("2001:db8:1:2::1"), l)
	if th.wait(netip.MustParseAddr("2001:db8:1:2:ffff::9"), l) == 0 {
		t.Errorf("another address of the same /64: not throttled")
	}
	if th.wait(netip.MustParseAddr("2001:db8:1:3::1"), l) != 0 {
		t.Errorf("an address of another /64: throttled")
	}
	th.fail(netip.MustParseAddr("::ffff:192.0.2.1"), l)
	if th.wait(netip.MustParseAddr("192.0.2.1"), l) == 0 {
		t.Errorf("an IPv4 address failing as IPv4-mapped: not throttled")
	}
}

// TestThrottleBounded checks that the table never holds more than
// MaxAddresses, forgetting the address that failed least recently.
func TestThrottleBounded(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1_800_000_000, 0)}
	th := NewThrottle(clock.Now)
	l := ThrottleLimits{Burst: 1, PerSecond: 0.001, MaxAddresses: 100}
	addr := func(i int) netip.Addr { return netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}) }
	for i := range 1000 {
		th.fail(addr(i), l)
	}
	if got := th.Len(); got != 100 {
		t.Errorf("addresses remembered: got %d, want 100", got)
	}
	if th.wait(addr(999), l) == 0 {
		t.Errorf("the latest address: forgotten")
	}
	if th.wait(addr(0), l) != 0 {
		t.Errorf("the oldest address: still remembered")
	}
}

// TestAuthenticateAny checks the check made before the claimed client is
// known: any client's own credential passes, and one bad attempt counts
// one failure, however many clients there are.
func TestAuthenticateAny(t *testing.T) {
	w := newWorld(t)
	clock := &fakeClock{now: time.Unix(1_800_000_000, 0)}
	obs := &countingObserver{n: map[string]int{}}
	a, err := NewWithOptions(w.clients, Options{Throttle: NewThrottle(clock.Now), Limits: ThrottleLimits{Burst: 3, PerSecond: 1}, Observer: obs})
	if err != nil {
		t.Fatal(err)
	}
	addr := netip.MustParseAddr("198.51.100.9")
	loopback := netip.MustParseAddr("127.0.0.1")
	for _, c := range []struct {
		name   string
		cred   gateway.Credential
		wantOK bool
	}{
		{"a client's key", gateway.Credential{APIKey: "demo-benefits-key", RemoteAddr: addr}, true},
		{"a client's certificate", gateway.Credential{Certificate: w.benefitsCert, RemoteAddr: addr}, true},
		{"key and certificate of one client", gateway.Credential{APIKey: "demo-eservice-key", Certificate: w.eserviceCert, RemoteAddr: addr}, true},
		{"nothing, from a none client's network", gateway.Credential{RemoteAddr: loopback}, true},
	} {
		if err := a.AuthenticateAny(c.cred); err != nil {
			t.Errorf("%s: got %v, want nil", c.name, err)
		}
	}
	if n := len(obs.n); n != 0 {
		t.Errorf("failures counted for good credentials: %v", obs.n)
	}
	for _, c := range []struct {
		name, reason string
		cred         gateway.Credential
	}{
		{"an unknown key", ReasonUnknownKey, gateway.Credential{APIKey: "nope", RemoteAddr: addr}},
		{"keys and certificates of two clients", ReasonOtherClient, gateway.Credential{APIKey: "demo-eservice-key", Certificate: w.benefitsCert, RemoteAddr: addr}},
		{"nothing, from elsewhere", ReasonNoCredential, gateway.Credential{RemoteAddr: addr}},
	} {
		checkUnauthenticated(t, a.AuthenticateAny(c.cred))
		if got := obs.get(c.reason); got != 1 {
			t.Errorf("%s: %s counted %d times, want once", c.name, c.reason, got)
		}
	}
	checkRateLimited(t, a.AuthenticateAny(gateway.Credential{APIKey: "demo-eservice-key", RemoteAddr: addr}), time.Second)
}
