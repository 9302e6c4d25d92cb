// Package discover finds the messaging estate behind the user's targets through DNS: service
// profiles lead from a domain through SRV, MX, CNAME and A/AAAA records to endpoints (name,
// address, port, service) that remember how they were found, inside the scope the user
// allows; brute force finds further names; and DNS hygiene facts (DNSSEC, CAA, MTA-STS,
// TLS-RPT, DANE/TLSA, aliases, resolver agreement) are recorded per domain. It only asks DNS
// (and fetches two HTTPS documents through an injected client): it never probes endpoints.
package discover

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"sync"

	"github.com/miekg/dns"

	"github.com/rampart-scan/rampart/model"
)

// MaxCIDRBits is the largest CIDR target expanded: 16 host bits (65,536 addresses).
const MaxCIDRBits = 16

// Result is what discovery found.
type Result struct {
	Endpoints []model.Endpoint          `json:"endpoints"`
	Notes     []model.DiscoveryNote     `json:"notes,omitempty"`
	Domains   []model.DomainObservation `json:"domains,omitempty"`
	// Hosts are names found by brute force (with their addresses), which carry no service.
	Hosts []Host `json:"hosts,omitempty"`
	// Queries is the number of DNS packets sent.
	Queries int64 `json:"dns_queries"`
}

// Host is a name with addresses found without a service (brute force).
type Host struct {
	Name   string       `json:"name"`
	Addrs  []netip.Addr `json:"addrs"`
	Origin []string     `json:"origin"`
	Source string       `json:"source,omitempty"`
}

// Discoverer runs discovery with fixed options. Create it with New; it is safe for
// concurrent use, and answers are cached for its lifetime.
type Discoverer struct {
	opts    Options
	servers []server
	res     *resolver
	base    *Scope
	http    HTTPDoer
	cache   nameCache
}

// New checks opts and prepares the resolvers.
func New(opts Options) (*Discoverer, error) {
	opts.withDefaults()
	var servers []server
	for _, s := range opts.Resolvers {
		srv, err := parseResolver(s)
		if err != nil {
			return nil, err
		}
		servers = append(servers, srv)
	}
	if len(servers) == 0 {
		sys, err := systemResolvers(opts.ResolvConf)
		if err != nil {
			return nil, err
		}
		servers = sys
	}
	base, err := ParseScope(opts.Scope)
	if err != nil {
		return nil, err
	}
	res, err := newResolver(servers, &opts)
	if err != nil {
		return nil, err
	}
	d := &Discoverer{opts: opts, servers: servers, res: res, base: base, http: opts.HTTP}
	if d.http == nil && opts.Dial != nil {
		d.http = d.newHTTPClient()
	}
	return d, nil
}

// Resolvers lists the servers asked, as "udp:IP:port".
func (d *Discoverer) Resolvers() []string {
	out := make([]string, len(d.servers))
	for i, s := range d.servers {
		out[i] = s.String()
	}
	return out
}

// Discover resolves every target. Targets are independent: a failing one leaves notes, not an
// error. The error is non-nil only when ctx ended (the partial result is returned with it).
func (d *Discoverer) Discover(ctx context.Context, targets []model.Target) (*Result, error) {
	scope := &Scope{domains: append([]string(nil), d.base.domains...), prefixes: append([]netip.Prefix(nil), d.base.prefixes...)}
	for _, t := range targets {
		switch t.Kind {
		case model.TargetDomain, model.TargetHost:
			if validHostname(canonical(t.Host)) {
				scope.domains = append(scope.domains, canonical(t.Host))
			}
		case model.TargetIP:
			scope.prefixes = append(scope.prefixes, netip.PrefixFrom(t.Addr.Unmap(), t.Addr.Unmap().BitLen()))
		case model.TargetCIDR:
			scope.prefixes = append(scope.prefixes, t.Prefix.Masked())
		}
	}
	runs := make([]*run, len(targets))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i, t := range targets {
		runs[i] = &run{d: d, t: t, scope: scope}
		wg.Add(1)
		go func(r *run) {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			defer func() { <-sem }()
			r.do(ctx)
		}(runs[i])
	}
	wg.Wait()
	out := &Result{}
	seen := map[string]bool{}
	for _, r := range runs {
		sortEndpoints(r.endpoints)
		for _, e := range r.endpoints {
			if seen[e.ID()] {
				continue
			}
			seen[e.ID()] = true
			out.Endpoints = append(out.Endpoints, e)
		}
		out.Notes = append(out.Notes, r.notes...)
		if r.obs != nil {
			out.Domains = append(out.Domains, *r.obs)
		}
		out.Hosts = append(out.Hosts, r.hosts...)
	}
	out.Queries = d.res.Packets()
	if err := ctx.Err(); err != nil {
		return out, fmt.Errorf("discovery interrupted: %w", err)
	}
	return out, nil
}

func sortEndpoints(es []model.Endpoint) {
	sort.SliceStable(es, func(i, j int) bool {
		a, b := es[i], es[j]
		if a.Service != b.Service {
			return a.Service < b.Service
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.Addr.Addr().Less(b.Addr.Addr()) || a.Addr.Addr() == b.Addr.Addr() && a.Addr.Port() < b.Addr.Port()
	})
}

// run is the discovery of one target.
type run struct {
	d     *Discoverer
	t     model.Target
	scope *Scope

	mu        sync.Mutex
	endpoints []model.Endpoint
	notes     []model.DiscoveryNote
	hosts     []Host
	obs       *model.DomainObservation
	// facts gathered by the profiles for the hygiene pass
	srv        []model.SRVRecord
	naptrs     []model.NAPTRRecord
	mx         []model.MXRecord
	names      map[string]*nameResult
	wildcards  []model.WildcardFact
	subdomains []string
}

func (r *run) note(kind, target, format string, a ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.notes = append(r.notes, model.DiscoveryNote{Target: target, Source: r.t.Source, Kind: kind, Detail: fmt.Sprintf(format, a...)})
}

func (r *run) targetOrigin() string {
	s := "target " + r.t.Raw
	if r.t.Source != "" {
		s += " (" + r.t.Source + ")"
	}
	return s
}

func (r *run) addEndpoint(e model.Endpoint) {
	e.Source = r.t.Source
	r.mu.Lock()
	r.endpoints = append(r.endpoints, e)
	r.mu.Unlock()
}

func (r *run) do(ctx context.Context) {
	switch r.t.Kind {
	case model.TargetDomain:
		r.domain(ctx)
	case model.TargetHost:
		r.host(ctx)
	case model.TargetIP:
		r.ip()
	case model.TargetCIDR:
		r.cidr()
	default:
		r.note("error", r.t.Raw, "unknown target kind %q", r.t.Kind)
	}
}

// servicePort is the port of a target: its own, or its service's default.
func (r *run) servicePort() (string, uint16, bool) {
	svc := r.t.Service
	port := r.t.Port
	if svc == "" && port != 0 {
		if s, ok := r.d.opts.Services.ByPort(port); ok {
			svc = s.Name
		}
	}
	if port == 0 && svc != "" {
		if s, ok := r.d.opts.Services.ByName(svc); ok {
			port = s.Port
		}
	}
	if port == 0 && svc == "" {
		return "https", 443, true
	}
	return svc, port, port != 0
}

func (r *run) host(ctx context.Context) {
	svc, port, ok := r.servicePort()
	if !ok {
		r.note("error", r.t.Raw, "service %q has no default port; give one", svc)
		return
	}
	r.emit(ctx, emitReq{host: r.t.Host, port: port, service: svc, origin: []string{r.targetOrigin()}})
}

func (r *run) ip() {
	svc, port, ok := r.servicePort()
	if !ok {
		r.note("error", r.t.Raw, "service %q has no default port; give one", svc)
		return
	}
	r.addEndpoint(model.Endpoint{Addr: netip.AddrPortFrom(r.t.Addr.Unmap(), port), Service: svc, Origin: []string{r.targetOrigin()}})
}

func (r *run) cidr() {
	p := r.t.Prefix.Masked()
	if p.Addr().BitLen()-p.Bits() > MaxCIDRBits {
		r.note("error", r.t.Raw, "CIDR %s is larger than /%d (%d host bits at most)", p, p.Addr().BitLen()-MaxCIDRBits, MaxCIDRBits)
		return
	}
	svc, port, ok := r.servicePort()
	if !ok {
		r.note("error", r.t.Raw, "service %q has no default port; give one", svc)
		return
	}
	origin := []string{r.targetOrigin()}
	for a := p.Addr(); p.Contains(a); a = a.Next() {
		r.addEndpoint(model.Endpoint{Addr: netip.AddrPortFrom(a, port), Service: svc, Origin: origin})
		if !a.Next().IsValid() {
			break
		}
	}
}

// emitReq asks for the endpoints of host:port.
type emitReq struct {
	host    string // DNS name to resolve
	port    uint16
	service string
	tlsName string // name the endpoint is reached under (SNI); default host
	origin  []string
	tags    []string
	quiet   bool // a fallback: no note when the name has no addresses
}

// emit resolves host and adds one endpoint per address, or notes why it cannot.
func (r *run) emit(ctx context.Context, q emitReq) {
	host := canonical(q.host)
	if a, err := netip.ParseAddr(host); err == nil {
		if !r.scope.HasAddr(a) {
			r.note("skipped", host, "%s is outside the scope (%s); widen --scope to include it", a, strings.Join(r.scope.Strings(), ", "))
			return
		}
		r.addEndpoint(model.Endpoint{Addr: netip.AddrPortFrom(a.Unmap(), q.port), Service: q.service, Origin: q.origin, Tags: q.tags})
		return
	}
	if !validHostname(host) {
		r.note("error", host, "%q is not a valid host name (from %s)", host, last(q.origin))
		return
	}
	if q.port == 0 {
		r.note("error", host, "port 0 is not a usable port (from %s)", last(q.origin))
		return
	}
	nameIn := r.scope.HasName(host)
	if !nameIn && !r.scope.hasPrefixes() {
		r.note("skipped", host, "%s is outside the scope (%s); not resolved or probed (from %s); widen --scope to include it", host, strings.Join(r.scope.Strings(), ", "), last(q.origin))
		return
	}
	nr := r.d.resolveName(ctx, host)
	r.remember(nr)
	if nr.Err != nil {
		r.note("error", host, "%v", nr.Err)
		return
	}
	for _, h := range nr.Hops {
		if !r.scope.HasName(h.To) {
			nameIn = false
			if !r.scope.hasPrefixes() {
				r.note("skipped", host, "CNAME %s → %s leads outside the scope (%s); widen --scope to include it", h.From, h.To, strings.Join(r.scope.Strings(), ", "))
				return
			}
		}
	}
	if nr.Partial != nil {
		r.note("error", host, "%v", nr.Partial)
	}
	if len(nr.Addrs) == 0 {
		switch {
		case nr.Dangling:
			r.note("error", host, "CNAME chain %s dangles: %s does not exist (NXDOMAIN)", chainString(nr), nr.Final)
		case !q.quiet:
			r.note("empty", host, "%s has no A/AAAA records (%s)", host, nr.Rcode)
		}
		return
	}
	if nr.Dropped > 0 {
		r.note("error", host, "%s has %d more addresses than the cap of %d; they were dropped", host, nr.Dropped, r.d.opts.MaxAddrsPerName)
	}
	name := q.tlsName
	if name == "" {
		name = host
	}
	tags := append([]string(nil), q.tags...)
	if name != host {
		tags = append(tags, "dns-host="+host)
	}
	for _, a := range nr.Addrs {
		if !nameIn && !r.scope.HasAddr(a) {
			r.note("skipped", host, "address %s of %s is outside the scope (%s)", a, host, strings.Join(r.scope.Strings(), ", "))
			continue
		}
		origin := append(append([]string(nil), q.origin...), nr.origin(a)...)
		r.addEndpoint(model.Endpoint{Name: name, Addr: netip.AddrPortFrom(a, q.port), Service: q.service, Origin: origin, Tags: tags})
	}
}

func (r *run) remember(nr *nameResult) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.names == nil {
		r.names = map[string]*nameResult{}
	}
	r.names[nr.Name] = nr
}

func chainString(nr *nameResult) string {
	parts := []string{nr.Name}
	for _, h := range nr.Hops {
		parts = append(parts, h.To)
	}
	return strings.Join(parts, " → ")
}

func last(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[len(s)-1]
}

// srvAnswer is the outcome of one SRV lookup.
type srvAnswer struct {
	owner   string
	records []*dns.SRV
	absent  bool // a single record with target "."
	err     error
}

// lookupSRV asks for SRV records and keeps those owned by the question (or its aliases).
func (r *run) lookupSRV(ctx context.Context, owner string) srvAnswer {
	ans := srvAnswer{owner: owner}
	m, err := r.d.res.query(ctx, owner, dns.TypeSRV, false)
	if err != nil {
		ans.err = err
		return ans
	}
	if m.Rcode != dns.RcodeSuccess {
		return ans
	}
	owners := answerOwners(m, owner)
	for _, rr := range m.Answer {
		s, ok := rr.(*dns.SRV)
		if !ok || !owners[canonical(s.Hdr.Name)] {
			continue
		}
		if len(ans.records) >= maxRecords {
			ans.err = fmt.Errorf("SRV %s: more than %d records; the rest were ignored", owner, maxRecords)
			break
		}
		ans.records = append(ans.records, s)
	}
	if len(ans.records) == 1 && canonical(ans.records[0].Target) == "" {
		ans.absent = true
		ans.records = nil
	}
	sort.SliceStable(ans.records, func(i, j int) bool {
		a, b := ans.records[i], ans.records[j]
		if a.Priority != b.Priority {
			return a.Priority < b.Priority
		}
		return a.Weight > b.Weight
	})
	return ans
}

// answerOwners is the question name and every alias the answer's CNAMEs lead it to.
func answerOwners(m *dns.Msg, qname string) map[string]bool {
	owners := map[string]bool{canonical(qname): true}
	for i := 0; i < 16; i++ {
		grew := false
		for _, rr := range m.Answer {
			if c, ok := rr.(*dns.CNAME); ok && owners[canonical(c.Hdr.Name)] && !owners[canonical(c.Target)] {
				owners[canonical(c.Target)] = true
				grew = true
			}
		}
		if !grew {
			break
		}
	}
	return owners
}

func srvOrigin(owner string, s *dns.SRV) string {
	return fmt.Sprintf("SRV %s → %s:%d (prio %d weight %d)", owner, canonical(s.Target), s.Port, s.Priority, s.Weight)
}

// addSRVFacts records SRV records for the hygiene pass.
func (r *run) addSRVFacts(owner, service string, ans srvAnswer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if ans.absent {
		r.srv = append(r.srv, model.SRVRecord{Owner: owner, Service: service, Target: "."})
		return
	}
	for _, s := range ans.records {
		r.srv = append(r.srv, model.SRVRecord{Owner: owner, Service: service, Priority: s.Priority, Weight: s.Weight, Port: s.Port, Target: canonical(s.Target)})
	}
}

// errNoHTTP says a document was not fetched because no HTTP client was configured.
var errNoHTTP = errors.New("no HTTP client configured")
