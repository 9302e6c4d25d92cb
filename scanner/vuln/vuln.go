// Package vuln runs the active TLS vulnerability probes (Heartbleed, CCS injection,
// Ticketbleed, ROBOT, renegotiation, compression, 0-RTT) against one endpoint and records
// each probe's verdict as facts. Every probe is a minimal exchange that a healthy server
// shrugs off; none of them tries to exploit what it finds.
package vuln

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/rampart-scan/rampart/model"
	"github.com/rampart-scan/rampart/scanner/hello"
)

// DialFunc opens a connection ready for a ClientHello (TCP plus any STARTTLS dialogue).
type DialFunc = hello.DialFunc

// Probe names, for Options.Only.
const (
	ProbeHeartbleed   = "heartbleed"
	ProbeCCSInjection = "ccs-injection"
	ProbeTicketbleed  = "ticketbleed"
	ProbeROBOT        = "robot"
	ProbeRenegotiate  = "renegotiation"        // secure (RFC 5746) renegotiation and compression: one connection
	ProbeClientReneg  = "client-renegotiation" // client-initiated renegotiation
	ProbeEarlyData    = "early-data"
)

// Options configure Run.
type Options struct {
	// ServerName is sent as SNI when it is a host name.
	ServerName string
	// Versions are the protocol versions the server supports (from the engine facts); a
	// probe runs only in the versions it applies to. Empty means "unknown": the probes then
	// assume TLS 1.2 only.
	Versions []uint16
	// Suites are the cipher suites the server accepted in any version ≤ TLS 1.2 (from the
	// engine facts); hellos offer these so the server can answer. Empty means every suite of
	// the registry.
	Suites []uint16
	// Timeout bounds each connection's whole exchange (dial excluded). Default 10 s.
	Timeout time.Duration
	// Wait bounds how long a probe waits for an answer that a server may legitimately never
	// send (ROBOT without ChangeCipherSpec). Default 2 s, at most Timeout.
	Wait time.Duration
	// Only, when non-empty, runs just the named probes (Probe* constants).
	Only []string
}

func (o *Options) fill() {
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.Wait <= 0 {
		o.Wait = 2 * time.Second
	}
	o.Wait = min(o.Wait, o.Timeout)
	if len(o.Versions) == 0 {
		o.Versions = []uint16{hello.VersionTLS12}
	}
}

func (o *Options) wants(name string) bool {
	return len(o.Only) == 0 || slices.Contains(o.Only, name)
}

// legacyVersions returns the supported versions from SSL 3.0 to TLS 1.2, newest first.
func (o *Options) legacyVersions() []uint16 {
	var out []uint16
	for _, v := range o.Versions {
		if v >= hello.VersionSSL30 && v <= hello.VersionTLS12 {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	slices.Reverse(out)
	return slices.Compact(out)
}

// highestLegacy is the newest supported version ≤ TLS 1.2, or 0.
func (o *Options) highestLegacy() uint16 {
	if vs := o.legacyVersions(); len(vs) > 0 {
		return vs[0]
	}
	return 0
}

// OptionsFromEngine derives Versions and Suites from the engine's facts.
func OptionsFromEngine(eng *model.TLSEngineFacts, serverName string) Options {
	o := Options{ServerName: serverName}
	if eng == nil {
		return o
	}
	for _, v := range eng.Versions {
		if !v.Supported || v.VersionID == hello.VersionSSL20 {
			continue
		}
		o.Versions = append(o.Versions, v.VersionID)
		if v.VersionID == hello.VersionTLS13 {
			continue
		}
		for _, s := range v.Suites {
			if s.ID != 0 && !slices.Contains(o.Suites, s.ID) {
				o.Suites = append(o.Suites, s.ID)
			}
		}
	}
	return o
}

// Run runs the probes Options select and returns their verdicts. It never returns nil.
// Probes run side by side; the dialer behind dial bounds their connections together.
func Run(ctx context.Context, dial DialFunc, opts Options) *model.VulnFacts {
	opts.fill()
	start := time.Now()
	facts := &model.VulnFacts{}
	p := &prober{dial: dial, opts: opts}
	var wg sync.WaitGroup
	run := func(name string, f func()) {
		if !opts.wants(name) {
			return
		}
		wg.Add(1)
		go func() { defer wg.Done(); f() }()
	}
	timed := func(f func(context.Context) *model.ProbeVerdict) *model.ProbeVerdict {
		t0 := time.Now()
		v := f(ctx)
		v.Duration = time.Since(t0)
		return v
	}
	run(ProbeHeartbleed, func() { facts.Heartbleed = timed(p.heartbleed) })
	run(ProbeCCSInjection, func() { facts.CCSInjection = timed(p.ccsInjection) })
	run(ProbeTicketbleed, func() { facts.Ticketbleed = timed(p.ticketbleed) })
	run(ProbeROBOT, func() { facts.ROBOT = timed(p.robot) })
	run(ProbeRenegotiate, func() {
		t0 := time.Now()
		facts.SecureRenegotiation, facts.Compression = p.renegotiationAndCompression(ctx)
		facts.SecureRenegotiation.Duration, facts.Compression.Duration = time.Since(t0), time.Since(t0)
	})
	run(ProbeClientReneg, func() { facts.ClientRenegotiation = timed(p.clientRenegotiation) })
	run(ProbeEarlyData, func() { facts.EarlyData = timed(p.earlyData) })
	wg.Wait()
	facts.Connections = int(p.conns.Load())
	facts.Duration = time.Since(start)
	return facts
}

// verdict builds a ProbeVerdict.
func verdict(v, reason string, conns int, detail map[string]string) *model.ProbeVerdict {
	if len(detail) == 0 {
		detail = nil
	}
	return &model.ProbeVerdict{Verdict: v, Reason: reason, Connections: conns, Detail: detail}
}
