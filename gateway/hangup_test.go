package gateway_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/govbus/govbus/authn"
	"github.com/govbus/govbus/gateway"
	"github.com/govbus/govbus/policies"
)

// gatedAdapter answers once released, whatever its caller's context says,
// and tells when it was called.
type gatedAdapter struct {
	called  chan struct{}
	release chan struct{}
}

func (a gatedAdapter) Exchange(ctx context.Context, out *gateway.Outbound) (*gateway.Response, error) {
	close(a.called)
	<-a.release
	if err := ctx.Err(); err != nil {
		return nil, err // what a real registry call does when its context ends
	}
	return &gateway.Response{Status: 201, Header: http.Header{}, Body: []byte(`{"id":"r-1"}`), Forwarded: out.Path}, nil
}

// recordingLog keeps what the chain logs.
type recordingLog struct {
	mu        sync.Mutex
	requests  int
	responses []int // statuses; -1 for an error
	done      chan struct{}
}

func (l *recordingLog) LogRequest(context.Context, *gateway.Request) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.requests++
	return nil
}

func (l *recordingLog) LogResponse(ctx context.Context, _ *gateway.Request, resp *gateway.Response, _ error) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err // a store cannot write under an ended context
	}
	if resp != nil {
		l.responses = append(l.responses, resp.Status)
	} else {
		l.responses = append(l.responses, -1)
	}
	close(l.done)
	return nil
}

// TestHungUpConsumerStillLogsTheAnswer: a consumer that hangs up after
// the request was forwarded leaves both records, the response record with
// the registry's answer.
func TestHungUpConsumerStillLogsTheAnswer(t *testing.T) {
	auth, err := authn.New([]authn.Client{{ID: "UA/GOV/00000003/eservice", KeyHashes: []string{authn.HashKey("k")}}})
	if err != nil {
		t.Fatal(err)
	}
	engine, err := policies.Compile([]policies.Rule{{ID: "r", Clients: []string{"UA/GOV/00000003/eservice"},
		Services: []string{"UA/GOV/00000001/civil-registry/registrations"}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	svc, _ := gateway.ParseServiceID("UA/GOV/00000001/civil-registry/registrations")
	adapter := gatedAdapter{called: make(chan struct{}), release: make(chan struct{})}
	ml := &recordingLog{done: make(chan struct{})}
	route := &gateway.Route{Service: svc, ServiceKey: svc.String(), Registry: "UA/GOV/00000001/civil-registry",
		Methods: []string{"POST"}, Timeout: time.Minute, MaxRequestBytes: 1 << 20, Adapter: adapter}
	snap := &gateway.Snapshot{Routes: map[string]*gateway.Route{route.ServiceKey: route},
		Authenticator: auth, Policy: engine, MessageLog: ml}
	h := gateway.NewHandler(gateway.Options{Holder: gateway.NewHolder(snap)})

	ctx, hangUp := context.WithCancel(context.Background())
	req := httptest.NewRequest("POST", "/r1/UA/GOV/00000001/civil-registry/registrations/registrations", nil).WithContext(ctx)
	req.Header.Set("X-Road-Client", "UA/GOV/00000003/eservice")
	req.Header.Set("Authorization", "Bearer k")
	served := make(chan struct{})
	go func() {
		defer close(served)
		h.ServeHTTP(httptest.NewRecorder(), req)
	}()
	<-adapter.called
	hangUp()
	close(adapter.release)
	<-served
	<-ml.done
	ml.mu.Lock()
	defer ml.mu.Unlock()
	if ml.requests != 1 || len(ml.responses) != 1 || ml.responses[0] != 201 {
		t.Errorf("records: %d requests, responses %v; want 1 and [201] (the registry's answer)", ml.requests, ml.responses)
	}
}
