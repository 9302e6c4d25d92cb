// Package pipeline runs one scan end to end: discover endpoints from targets, probe them,
// evaluate the observations under a policy and hand each finished endpoint to the sinks
// (stream output, store, progress) as it completes. It owns the scan's lifecycle state; the
// stages themselves live in their own packages.
package pipeline

import (
	"context"
	"errors"
	"net/netip"
	"sort"
	"time"

	"github.com/rampart-scan/rampart/checks"
	"github.com/rampart-scan/rampart/model"
	"github.com/rampart-scan/rampart/policies"
	"github.com/rampart-scan/rampart/scanner"
)

// Discovery is what discovery produced for the targets.
type Discovery struct {
	Endpoints []model.Endpoint
	Notes     []model.DiscoveryNote
	Domains   []model.DomainObservation
	// Hosts are addresses found without a service (brute-forced names), keyed by address,
	// for the exposure scan.
	Hosts map[netip.Addr]model.Endpoint
}

// PortScanner is the exposure scan: it returns observations of open ports to report as they
// are, and new endpoints (TLS ports) to audit like discovered ones.
type PortScanner interface {
	Scan(ctx context.Context, disc *Discovery) ([]model.Observation, []model.Endpoint, error)
}

// Discoverer expands targets into endpoints (and domain facts).
type Discoverer interface {
	Discover(ctx context.Context, targets []model.Target) (*Discovery, error)
}

// Sink receives results as they finish. Calls come from one goroutine at a time.
type Sink interface {
	Start(total int)
	Endpoint(er *model.EndpointResult)
	Domain(dr *model.DomainResult)
	Nodes(nr *model.NodeGroupResult)
	// Revised is called for an endpoint given earlier whose findings or grade changed once
	// every endpoint was known (a key shared with an SSLv2 server, grade caps across
	// endpoints). It carries the whole result again.
	Revised(er *model.EndpointResult)
}

// Config is one scan.
type Config struct {
	Targets    []model.Target
	Discoverer Discoverer
	// Ports, when set, runs the exposure scan after discovery.
	Ports     PortScanner
	Prober    scanner.Prober
	Workers   int
	Catalogue *checks.Catalogue
	Policy    *policies.Policy
	Sinks     []Sink
	Now       func() time.Time
	Version   string
	// ID is the scan's identifier (the store's, when the scan is recorded).
	ID string
	// AfterProbe, if set, runs once all endpoints are probed and before domains are evaluated,
	// e.g. to match DANE records against the chains endpoints served.
	AfterProbe func(domains []model.DomainObservation, eps []model.EndpointResult)
}

// ErrDiscovery marks a scan that failed because discovery did.
var ErrDiscovery = errors.New("discovery failed")

// Run performs the scan. It always returns a result, with Status complete, interrupted (ctx
// cancelled: what finished is kept) or failed (Error says why); the error is non-nil for the
// latter two.
func Run(ctx context.Context, cfg Config) (*model.ScanResult, error) {
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	res := &model.ScanResult{
		SchemaVersion: model.SchemaVersion,
		Tool:          model.ToolInfo{Name: "rampart", Version: cfg.Version},
		ID:            cfg.ID,
		Status:        model.ScanRunning,
		Started:       now().UTC(),
		Policy:        cfg.Policy.Identity(),
		Targets:       cfg.Targets,
		Endpoints:     []model.EndpointResult{},
	}
	finish := func(status model.ScanStatus, err error) (*model.ScanResult, error) {
		res.Status = status
		if err != nil {
			res.Error = err.Error()
		}
		res.Finished = now().UTC()
		sort.SliceStable(res.Endpoints, func(i, j int) bool {
			return res.Endpoints[i].Observation.Endpoint.ID() < res.Endpoints[j].Observation.Endpoint.ID()
		})
		return res, err
	}

	disc, err := cfg.Discoverer.Discover(ctx, cfg.Targets)
	if err != nil {
		if ctx.Err() != nil {
			return finish(model.ScanInterrupted, ctx.Err())
		}
		return finish(model.ScanFailed, errors.Join(ErrDiscovery, err))
	}
	res.Discovery = disc.Notes
	var exposed []model.Observation
	if cfg.Ports != nil {
		direct, more, err := cfg.Ports.Scan(ctx, disc)
		if err != nil && ctx.Err() == nil {
			res.Discovery = append(res.Discovery, model.DiscoveryNote{Target: "exposure scan", Kind: "error", Detail: err.Error()})
		}
		exposed = direct
		disc.Endpoints = append(disc.Endpoints, more...)
	}
	for _, s := range cfg.Sinks {
		s.Start(len(disc.Endpoints) + len(exposed))
	}
	evalTime := res.Started
	emit := func(obs model.Observation) {
		er := model.EndpointResult{Observation: obs, Findings: []model.Finding{}}
		if obs.Status != model.StatusInterrupted {
			if fs := cfg.Catalogue.Evaluate(&obs, cfg.Policy, evalTime); len(fs) > 0 {
				er.Findings = fs
			}
			er.Grade = checks.Grade(&obs, cfg.Policy.For(obs.Endpoint), evalTime)
		}
		res.Endpoints = append(res.Endpoints, er)
		for _, s := range cfg.Sinks {
			s.Endpoint(&res.Endpoints[len(res.Endpoints)-1])
		}
	}
	for _, obs := range exposed {
		emit(obs)
	}
	orch := &scanner.Orchestrator{Prober: cfg.Prober, Workers: cfg.Workers, Now: now}
	runErr := orch.Run(ctx, disc.Endpoints, emit)
	if cfg.AfterProbe != nil {
		cfg.AfterProbe(disc.Domains, res.Endpoints)
	}
	if runErr == nil {
		// Comparing nodes needs every node: an interrupted scan compares nothing.
		obs := make([]model.Observation, len(res.Endpoints))
		for i, er := range res.Endpoints {
			obs[i] = er.Observation
		}
		for _, g := range scanner.CompareNodes(obs) {
			nr := model.NodeGroupResult{Group: g, Findings: []model.Finding{}}
			if fs := cfg.Catalogue.EvaluateGroup(&g, cfg.Policy, evalTime); len(fs) > 0 {
				nr.Findings = fs
			}
			res.Nodes = append(res.Nodes, nr)
			for _, s := range cfg.Sinks {
				s.Nodes(&res.Nodes[len(res.Nodes)-1])
			}
		}
	}
	for _, d := range disc.Domains {
		dr := model.DomainResult{Observation: d, Findings: []model.Finding{}}
		if fs := cfg.Catalogue.EvaluateDomain(&d, cfg.Policy, evalTime); len(fs) > 0 {
			dr.Findings = fs
		}
		res.Domains = append(res.Domains, dr)
		for _, s := range cfg.Sinks {
			s.Domain(&res.Domains[len(res.Domains)-1])
		}
	}
	reviseAcrossEndpoints(cfg, res, evalTime)
	if runErr != nil {
		return finish(model.ScanInterrupted, runErr)
	}
	return finish(model.ScanComplete, nil)
}

// reviseAcrossEndpoints applies what only the whole scan shows — an RSA key shared with an
// SSLv2 server elsewhere (DROWN), grade caps and DANE lifts across endpoints — and hands every
// endpoint whose findings or grade changed to the sinks again.
func reviseAcrossEndpoints(cfg Config, res *model.ScanResult, at time.Time) {
	type snap struct {
		findings int
		grade    string
	}
	before := make([]snap, len(res.Endpoints))
	for i, er := range res.Endpoints {
		before[i] = snap{len(er.Findings), gradeLetter(er.Grade)}
	}
	changed := map[int]bool{}
	for _, i := range cfg.Catalogue.DerivedAcrossEndpoints(res.Endpoints, cfg.Policy, at) {
		changed[i] = true
	}
	checks.GradeAcrossEndpoints(res.Endpoints, res.Domains)
	for i := range res.Endpoints {
		er := &res.Endpoints[i]
		if changed[i] || before[i] != (snap{len(er.Findings), gradeLetter(er.Grade)}) {
			for _, s := range cfg.Sinks {
				s.Revised(er)
			}
		}
	}
}

func gradeLetter(g *model.Grade) string {
	if g == nil {
		return ""
	}
	return g.Letter
}
