// Package exposure sees what a firewall lets through: a TCP connect scan of addresses × port
// sets through the scan's dialer, and identification of what speaks on each open port (TLS or
// plaintext; SSH, SMTP, HTTP, Redis, databases, admin APIs…) from banners and harmless probes.
// It records facts only (model.ServiceFacts); the exposure checks judge them.
package exposure

import (
	"context"
	"errors"
	"net/netip"
	"sort"
	"sync"
	"syscall"
	"time"

	"github.com/rampart-scan/rampart/model"
	"github.com/rampart-scan/rampart/scanner/netx"
)

// Options configure a Scanner.
type Options struct {
	// Workers bounds concurrent connection attempts (the dialer's per-address cap and rate
	// still apply to each). Zero: 64.
	Workers int
	// Identify runs service identification on every open port.
	Identify bool
	// Ident bounds identification.
	Ident IdentifyOptions
	// Names gives the DNS name an address was reached under, used as SNI, HTTP Host and XMPP
	// "to" when identifying its ports (overriding Ident.ServerName).
	Names map[netip.Addr]string
}

// Result is one (address, port) of a scan.
type Result struct {
	Addr    netip.AddrPort  `json:"addr"`
	State   model.PortState `json:"state"`
	Latency time.Duration   `json:"latency_ns,omitempty"` // connect time (open ports)
	Error   string          `json:"error,omitempty"`      // why the port is closed or filtered
	// Service holds what answers there (open ports, when Options.Identify is set).
	Service *model.ServiceFacts `json:"service,omitempty"`
}

// Scanner runs connect scans. It is safe for concurrent use.
type Scanner struct {
	d    Dialer
	opts Options
}

// New returns a Scanner that opens every connection through d (a *netx.Dialer).
func New(d Dialer, opts Options) *Scanner {
	if opts.Workers <= 0 {
		opts.Workers = 64
	}
	return &Scanner{d: d, opts: opts}
}

// Scan connects to every port of every host and calls emit (from several goroutines at once,
// serialised by Scan) with each result as it is known. Ports are interleaved across hosts so
// the per-address cap spreads the load. It returns ctx's error when cancelled: results not yet
// emitted are then unknown, never reported as closed.
func (s *Scanner) Scan(ctx context.Context, hosts []netip.Addr, ports []uint16, emit func(Result)) error {
	jobs := make(chan netip.AddrPort)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range min(s.opts.Workers, max(1, len(hosts)*len(ports))) {
		wg.Go(func() {
			for ap := range jobs {
				r, ok := s.scanOne(ctx, ap)
				if !ok {
					continue
				}
				mu.Lock()
				emit(r)
				mu.Unlock()
			}
		})
	}
feed:
	for _, p := range ports {
		for _, h := range hosts {
			select {
			case jobs <- netip.AddrPortFrom(h, p):
			case <-ctx.Done():
				break feed
			}
		}
	}
	close(jobs)
	wg.Wait()
	return ctx.Err()
}

// ScanAll is Scan collecting every result, sorted by address and port.
func (s *Scanner) ScanAll(ctx context.Context, hosts []netip.Addr, ports []uint16) ([]Result, error) {
	var out []Result
	err := s.Scan(ctx, hosts, ports, func(r Result) { out = append(out, r) })
	sort.Slice(out, func(i, j int) bool { return out[i].Addr.Compare(out[j].Addr) < 0 })
	return out, err
}

func (s *Scanner) scanOne(ctx context.Context, ap netip.AddrPort) (Result, bool) {
	if ctx.Err() != nil {
		return Result{}, false
	}
	start := time.Now()
	c, err := s.d.Dial(ctx, ap)
	if err != nil {
		if ended(ctx) {
			return Result{}, false
		}
		st := StateOf(err)
		return Result{Addr: ap, State: st, Error: reason(st, err)}, true
	}
	r := Result{Addr: ap, State: model.PortOpen, Latency: time.Since(start)}
	if !s.opts.Identify {
		_ = c.Close()
		return r, true
	}
	opts := s.opts.Ident
	if n, ok := s.opts.Names[ap.Addr()]; ok && n != "" {
		opts.ServerName = n
	}
	f := identify(ctx, s.d, ap, c, opts)
	_ = c.Close()
	f.Latency = r.Latency
	r.Service = &f
	return r, true
}

// ended reports whether ctx is done or its deadline has passed (a dial can fail on the
// scan's deadline a moment before ctx reports it): such a port's state is unknown.
func ended(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	d, ok := ctx.Deadline()
	return ok && !time.Now().Before(d)
}

// StateOf classifies a failed connect: a reset (connection refused) is closed; a timeout, an
// unreachable host or network, and anything else is filtered, as nmap's connect scan does.
func StateOf(err error) model.PortState {
	if errors.Is(err, syscall.ECONNREFUSED) {
		return model.PortClosed
	}
	return model.PortFiltered
}

// reason words a failed connect; the two common cases use fixed strings (a scan of many
// closed ports formats no error text).
func reason(st model.PortState, err error) string {
	switch {
	case st == model.PortClosed:
		return "connection refused"
	case netx.IsTimeout(err):
		return "timeout"
	}
	return err.Error()
}

// Observation turns an open port's result into an endpoint observation: the endpoint is host
// (its name, tags and origin, with the port's address), its Service the identified protocol.
func (r Result) Observation(host model.Endpoint, started time.Time) model.Observation {
	ep := host
	ep.Addr = r.Addr
	if r.Service != nil && r.Service.Service != "" {
		ep.Service = r.Service.Service
		if r.Service.TLS && ep.Service == model.SvcHTTP {
			ep.Service = "https"
		}
	} else {
		ep.Service = ""
	}
	obs := model.Observation{Endpoint: ep, Started: started, Status: model.StatusOK, Service: r.Service}
	switch r.State {
	case model.PortOpen:
		obs.Connect = &model.ConnectFacts{Reachable: true, Latency: r.Latency}
		if obs.Service == nil {
			obs.Service = &model.ServiceFacts{Port: r.Addr.Port(), State: r.State, Latency: r.Latency}
		}
	case model.PortClosed:
		obs.Status, obs.Error = model.StatusUnreachable, r.Error
		obs.Connect = &model.ConnectFacts{}
	default:
		obs.Status, obs.Error = model.StatusTimeout, r.Error
		obs.Connect = &model.ConnectFacts{}
	}
	return obs
}
