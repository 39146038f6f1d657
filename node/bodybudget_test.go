package node_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/govbus/govbus/gateway"
	"github.com/govbus/govbus/node"
)

// TestKeptBodiesHaveADailyBudget: a service's kept bodies stop at its
// daily budget (its calls then fail to log), other services go on, and
// the next UTC day starts afresh.
func TestKeptBodiesHaveADailyBudget(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 12, 8, 23, 0, 0, 0, time.UTC)}
	ml := &failingLog{}
	m := &node.MessageLog{Log: ml, Now: clock.Now, Bodies: node.NewBodyBudget(clock.Now),
		BodyLimits: map[string]int64{"UA/GOV/1/reg/a": 10, "UA/GOV/1/reg/b": 10}}
	call := func(service string, body string) error {
		req := &gateway.Request{ClientKey: "UA/GOV/3/c", BodyBytes: []byte(body),
			Route: &gateway.Route{ServiceKey: service, KeepBodies: true}}
		return m.LogRequest(context.Background(), req)
	}
	if err := call("UA/GOV/1/reg/a", "123456"); err != nil {
		t.Fatalf("first body within the budget: %v", err)
	}
	before := len(ml.records)
	if err := call("UA/GOV/1/reg/a", "123456"); !errors.Is(err, node.ErrBodyBudgetSpent) {
		t.Fatalf("body past the budget: %v, want ErrBodyBudgetSpent", err)
	}
	if len(ml.records) != before {
		t.Errorf("a refused request left a record")
	}
	if err := call("UA/GOV/1/reg/b", "123456"); err != nil {
		t.Errorf("another service: %v", err)
	}
	// A response is always recorded, and counted: the request record
	// exists already.
	req := &gateway.Request{Route: &gateway.Route{ServiceKey: "UA/GOV/1/reg/a", KeepBodies: true}}
	if err := m.LogResponse(context.Background(), req, &gateway.Response{Status: 200, Body: []byte("1234")}, nil); err != nil {
		t.Errorf("response record: %v", err)
	}
	if err := call("UA/GOV/1/reg/a", ""); !errors.Is(err, node.ErrBodyBudgetSpent) {
		t.Errorf("empty body once the budget is spent: %v, want ErrBodyBudgetSpent", err)
	}
	clock.Advance(time.Hour) // the next UTC day
	if err := call("UA/GOV/1/reg/a", "123456"); err != nil {
		t.Errorf("next day: %v", err)
	}
}
