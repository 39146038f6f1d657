package gateway

import (
	"errors"
	"fmt"
	"time"
)

// Code is a stable machine-readable error type. The values are part of the
// public contract (DESIGN.md §3): clients match on them.
type Code string

// Error codes returned by govbus itself.
const (
	CodeBadRequest          Code = "Client.BadRequest"
	CodeUnauthenticated     Code = "Client.Unauthenticated"
	CodeAccessDenied        Code = "Client.AccessDenied"
	CodePurposeRequired     Code = "Client.PurposeRequired"
	CodeUnknownService      Code = "Client.UnknownService"
	CodeMethodNotAllowed    Code = "Client.MethodNotAllowed"
	CodePayloadTooLarge     Code = "Client.PayloadTooLarge"
	CodeRateLimited         Code = "Client.RateLimited"
	CodeURITooLong          Code = "Client.URITooLong"
	CodeCircuitOpen         Code = "Server.CircuitOpen"
	CodeRegistryBusy        Code = "Server.RegistryBusy"
	CodeRegistryUnavailable Code = "Server.RegistryUnavailable"
	CodeRegistryTimeout     Code = "Server.RegistryTimeout"
	CodeLoggingFailed       Code = "Server.LoggingFailed"
	CodeInternalError       Code = "Server.InternalError"
)

// Codes lists every code, in the order of the contract's table. Metrics use
// it to create their series up front.
var Codes = []Code{
	CodeBadRequest, CodeUnauthenticated, CodeAccessDenied, CodePurposeRequired,
	CodeUnknownService, CodeMethodNotAllowed, CodePayloadTooLarge, CodeRateLimited,
	CodeURITooLong, CodeCircuitOpen, CodeRegistryBusy, CodeRegistryUnavailable,
	CodeRegistryTimeout, CodeLoggingFailed, CodeInternalError,
}

// Error is the one error type of govbus. Message is safe to show to the
// consumer (no personal data, no internals); Err is the cause, kept for the
// log only.
type Error struct {
	Code    Code
	Message string
	// RetryAfter, when positive, is sent as a Retry-After header (rounded up
	// to whole seconds, at least 1).
	RetryAfter time.Duration
	// Allow, for CodeMethodNotAllowed, lists the methods the service accepts.
	Allow []string
	// FaultCode, for SOAP consumers, is the X-Road fault code when it says
	// more than Code (e.g. "client.invalid_body" for a CodeBadRequest).
	FaultCode string
	Err       error
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an *Error with code and message that keeps err as its cause.
func Wrap(code Code, err error, message string) *Error {
	return &Error{Code: code, Message: message, Err: err}
}

// Error implements error.
func (e *Error) Error() string {
	if e.Err != nil {
		return string(e.Code) + ": " + e.Message + ": " + e.Err.Error()
	}
	return string(e.Code) + ": " + e.Message
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// CodeOf returns the code of the first *Error in err's chain, or
// CodeInternalError when there is none; it returns "" for a nil error.
func CodeOf(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternalError
}

// AsError returns err as an *Error, wrapping anything uncoded as
// CodeInternalError with a generic message (details stay in the log).
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return Wrap(CodeInternalError, err, "internal error")
}
