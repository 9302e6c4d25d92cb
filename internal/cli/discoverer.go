package cli

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/netip"

	"github.com/rampart-scan/rampart/discover"
	"github.com/rampart-scan/rampart/model"
	"github.com/rampart-scan/rampart/pipeline"
	"github.com/rampart-scan/rampart/scanner/netx"
	"github.com/rampart-scan/rampart/services"
)

// dnsDiscoverer adapts discover.Discoverer to the pipeline.
type dnsDiscoverer struct{ d *discover.Discoverer }

func newDiscoverer(o *scanOptions, reg *services.Registry, dialer *netx.Dialer, roots *x509.CertPool) (*dnsDiscoverer, error) {
	d, err := discover.New(discover.Options{
		Resolvers: o.resolvers,
		Scope:     o.scope,
		Wordlist:  o.wordlistWords,
		Timeout:   o.dnsTimeout,
		QueryRate: o.dnsRate,
		Services:  reg,
		Dial:      dialer.Dial,
		TLSConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
	})
	if err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	return &dnsDiscoverer{d: d}, nil
}

// Discover implements pipeline.Discoverer. Discovery that produced nothing but errors (for
// example, no resolver answers) fails the scan: there is nothing honest to report.
func (a *dnsDiscoverer) Discover(ctx context.Context, ts []model.Target) (*pipeline.Discovery, error) {
	res, err := a.d.Discover(ctx, ts)
	if res == nil {
		return nil, err
	}
	out := &pipeline.Discovery{Endpoints: res.Endpoints, Notes: res.Notes, Domains: res.Domains, Hosts: map[netip.Addr]model.Endpoint{}}
	for _, h := range res.Hosts {
		for _, a := range h.Addrs {
			out.Hosts[a] = model.Endpoint{Name: h.Name, Addr: netip.AddrPortFrom(a, 0), Origin: h.Origin, Source: h.Source}
		}
	}
	if err != nil {
		return out, err
	}
	if len(res.Endpoints) == 0 && len(res.Notes) > 0 {
		allErrors := true
		for _, n := range res.Notes {
			if n.Kind != "error" {
				allErrors = false
			}
		}
		if allErrors {
			return out, errors.New(res.Notes[0].Target + ": " + res.Notes[0].Detail)
		}
	}
	return out, nil
}
