package cli

import (
	"context"
	"net/netip"
	"sort"
	"time"

	"github.com/rampart-scan/rampart/model"
	"github.com/rampart-scan/rampart/pipeline"
	"github.com/rampart-scan/rampart/scanner/exposure"
	"github.com/rampart-scan/rampart/scanner/netx"
	"github.com/rampart-scan/rampart/services"
)

// portStage is the exposure scan: a TCP connect scan of every in-scope address over the
// --ports set, with service identification on each open port.
type portStage struct {
	scanner  *exposure.Scanner
	ports    []uint16
	services *services.Registry
}

func newPortStage(spec string, d *netx.Dialer, reg *services.Registry, timeout time.Duration) (*portStage, error) {
	if spec == "" {
		return nil, nil
	}
	ports, err := exposure.ParsePorts(spec)
	if err != nil {
		return nil, err
	}
	return &portStage{
		scanner: exposure.New(d, exposure.Options{Identify: true, Ident: exposure.IdentifyOptions{
			BannerWait: timeout / 2, ProbeWait: timeout / 2, Budget: 4 * timeout,
		}}),
		ports:    ports,
		services: reg,
	}, nil
}

// Scan implements pipeline.PortScanner. Open ports that discovery already knows are left to
// the audit; a new open port that speaks TLS becomes an endpoint to audit; any other open port
// is reported as it was identified.
func (s *portStage) Scan(ctx context.Context, disc *pipeline.Discovery) ([]model.Observation, []model.Endpoint, error) {
	known := map[netip.AddrPort]bool{}
	hosts := map[netip.Addr]model.Endpoint{}
	for _, e := range disc.Endpoints {
		known[e.Addr] = true
		if _, ok := hosts[e.Addr.Addr()]; !ok {
			h := e
			h.Service, h.Tags = "", append([]string(nil), e.Tags...)
			h.Origin = append(append([]string(nil), e.Origin...), "exposure scan of "+e.Addr.Addr().String())
			hosts[e.Addr.Addr()] = h
		}
	}
	for a, h := range disc.Hosts {
		if _, ok := hosts[a]; !ok {
			hosts[a] = h
		}
	}
	addrs := make([]netip.Addr, 0, len(hosts))
	names := map[netip.Addr]string{}
	for a, h := range hosts {
		addrs = append(addrs, a)
		names[a] = h.Name
	}
	sort.Slice(addrs, func(i, j int) bool { return addrs[i].Less(addrs[j]) })
	started := time.Now()
	results, err := s.scanner.ScanAll(ctx, addrs, s.ports)
	var direct []model.Observation
	var audit []model.Endpoint
	for _, r := range results {
		if r.State != model.PortOpen || known[r.Addr] {
			continue
		}
		obs := r.Observation(hosts[r.Addr.Addr()], started)
		if r.Service != nil && r.Service.TLS {
			ep := obs.Endpoint
			if ep.Service != "https" {
				ep.Service = "tls"
				if svc, ok := s.services.ByPort(r.Addr.Port()); ok && svc.Mode == services.Implicit {
					ep.Service = svc.Name
				}
			}
			audit = append(audit, ep)
			continue
		}
		direct = append(direct, obs)
	}
	return direct, audit, err
}
