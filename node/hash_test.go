package node_test

import "github.com/govbus/govbus/authn"

func mustHash(key string) string { return authn.HashKey(key) }
