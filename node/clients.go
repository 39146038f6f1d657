package node

import (
	"fmt"
	"net/netip"
	"os"
	"time"

	"github.com/govbus/govbus/authn"
	"github.com/govbus/govbus/config"
	"github.com/govbus/govbus/gateway"
)

// authenticator builds the clients' Authenticator: their key hashes,
// certificate identities with their own CAs and revocation lists (read
// from the files now, so a reload picks up a renewed list), and auth none
// networks; failures are throttled on opts.AuthThrottle.
func authenticator(cfg *config.Config, opts Options) (*authn.Authenticator, error) {
	clients := make([]authn.Client, 0, len(cfg.Clients))
	for _, c := range cfg.Clients {
		ac := authn.Client{ID: c.ID, None: c.Auth.None, NoneFrom: c.Auth.NonePrefixes(), KeyHashes: c.Auth.APIKeys}
		for _, ci := range c.Auth.Certificates {
			ac.Certificates = append(ac.Certificates, authn.CertIdentity{SHA256: ci.SHA256, Subject: ci.Subject})
		}
		if f := c.Auth.CAFile; f != "" {
			data, err := os.ReadFile(cfg.File(f))
			if err != nil {
				return nil, fmt.Errorf("client %s: reading ca_file: %w", c.ID, err)
			}
			if ac.CAs, err = authn.ParseCertificates(data); err != nil {
				return nil, fmt.Errorf("client %s: ca_file %s: %w", c.ID, f, err)
			}
		}
		if f := c.Auth.CRLFile; f != "" {
			data, err := os.ReadFile(cfg.File(f))
			if err != nil {
				return nil, fmt.Errorf("client %s: reading crl_file: %w", c.ID, err)
			}
			if ac.CRLs, err = authn.ParseCRLs(data); err != nil {
				return nil, fmt.Errorf("client %s: crl_file %s: %w", c.ID, f, err)
			}
		}
		clients = append(clients, ac)
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	th := opts.AuthThrottle
	if th == nil {
		th = authn.NewThrottle(now)
	}
	t := cfg.AuthThrottle
	return authn.NewWithOptions(clients, authn.Options{
		Throttle: th, Limits: authn.ThrottleLimits{Burst: t.Burst, PerSecond: t.PerSecond, MaxAddresses: t.MaxAddresses},
		Observer: opts.AuthObserver, Now: now,
	})
}

// hideNoneClients limits, in the listClients directory, each auth none
// client to the networks it may call from, so that no one elsewhere
// learns of a client that needs no credential. A subsystem that is also a
// registry stays public.
func hideNoneClients(members []gateway.Member, cfg *config.Config) {
	registries := map[string]bool{}
	for _, r := range cfg.Registries {
		registries[r.ID] = true
	}
	for _, c := range cfg.Clients {
		if !c.Auth.None || registries[c.ID] {
			continue
		}
		id, err := gateway.ParseClientID(c.ID)
		if err != nil {
			continue
		}
		for i := range members {
			if members[i].ID != id.Member() {
				continue
			}
			if members[i].Networks == nil {
				members[i].Networks = map[string][]netip.Prefix{}
			}
			members[i].Networks[id.Subsystem] = authn.Client{NoneFrom: c.Auth.NonePrefixes()}.Networks()
		}
	}
}
