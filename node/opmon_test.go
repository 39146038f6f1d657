package node_test

import (
	"context"
	"testing"

	"github.com/govbus/govbus/opmon"
)

func TestOperationalMonitoringRecords(t *testing.T) {
	w := newWorld(t)
	h := eservice()
	h.Set("X-Road-Id", "opmon-1")
	h.Set("X-Road-UserId", "EE38001085718")
	if resp, _ := w.call(t, "GET", personsSvc+"/persons/1000000042", h, ""); resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	denied := as("UA/GOV/00000005/citizen-portal", portalKey, "")
	denied.Set("X-Road-Id", "opmon-2")
	if resp, _ := w.call(t, "GET", personsSvc+"/persons/1000000042", denied, ""); resp.StatusCode != 403 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	page, err := w.records.Query(context.Background(), opmon.Query{})
	if err != nil || len(page.Records) != 2 {
		t.Fatalf("records = %+v, %v; want 2", page.Records, err)
	}
	ok, refused := page.Records[0], page.Records[1]
	if ok.MessageID != "opmon-1" || ok.Client != "UA/GOV/00000003/eservice" || ok.Service != "UA/GOV/00000001/civil-registry/persons" ||
		ok.Status != 200 || !ok.Succeeded || ok.Attempts != 1 || ok.ResponseSize == 0 || ok.RuleID != "eservice-persons" || ok.Node != "test" {
		t.Errorf("success record = %+v", ok)
	}
	if !(ok.RequestInTs <= ok.RequestOutTs && ok.RequestOutTs <= ok.ResponseInTs && ok.ResponseInTs <= ok.ResponseOutTs) || ok.RequestOutTs == 0 {
		t.Errorf("timestamps out of order: %+v", ok)
	}
	if refused.MessageID != "opmon-2" || refused.Succeeded || refused.FaultCode != "Client.AccessDenied" ||
		refused.Status != 403 || refused.RequestOutTs != 0 || refused.FaultString == "" {
		t.Errorf("refusal record = %+v", refused)
	}
}
