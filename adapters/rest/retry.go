package rest

import (
	"context"
	"errors"
	"net"
	"net/http"

	"github.com/govbus/govbus/gateway"
)

type idempotentKey struct{}

// withIdempotency records in ctx whether the request may be re-sent.
func withIdempotency(ctx context.Context, out *gateway.Outbound) context.Context {
	return context.WithValue(ctx, idempotentKey{}, Idempotent(out.Method))
}

// Idempotent reports whether a method may be re-sent safely (RFC 9110 §9.2.2).
func Idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete:
		return true
	}
	return false
}

// checkRetry re-sends idempotent requests after a transport error or a
// 502/503/504 answer; any request whose connection was never established
// may be re-sent. It never retries once the deadline has passed or the
// consumer has gone.
func checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	idem, _ := ctx.Value(idempotentKey{}).(bool)
	if err != nil {
		return idem || neverConnected(err), nil
	}
	switch resp.StatusCode {
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return idem, nil
	}
	return false, nil
}

// neverConnected reports whether err happened while dialling, so the
// registry cannot have seen the request.
func neverConnected(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}
