// Package gateway is the exchange at the centre of govbus: identifiers,
// the request and response of one exchange, the coded error type, the
// go-kit endpoint chain (authenticate → route → decide policy → adapter)
// and the HTTP transport that decodes X-Road r1 requests and encodes
// answers and errors.
//
// Everything that talks to the outside world — adapters to registries,
// the policy engine, the message log — plugs in through small interfaces
// declared here; the package itself holds no global state.
package gateway
