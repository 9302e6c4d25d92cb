package scanner

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"sync"
	"time"

	"github.com/zmap/zlint/v3/lint"

	"github.com/rampart-scan/rampart/model"
	"github.com/rampart-scan/rampart/scanner/avail"
	"github.com/rampart-scan/rampart/scanner/certs"
	"github.com/rampart-scan/rampart/scanner/exposure"
	"github.com/rampart-scan/rampart/scanner/handshake"
	"github.com/rampart-scan/rampart/scanner/hello"
	"github.com/rampart-scan/rampart/scanner/httpsec"
	"github.com/rampart-scan/rampart/scanner/netx"
	"github.com/rampart-scan/rampart/scanner/starttls"
	"github.com/rampart-scan/rampart/scanner/vuln"
	"github.com/rampart-scan/rampart/services"
)

// Depth says how much of the audit runs per endpoint.
type Depth int

// Audit depths.
const (
	// DepthQuick is one modern handshake (after any STARTTLS dialogue): negotiated version and
	// suite, the chain and its verification. One or two connections.
	DepthQuick Depth = iota
	// DepthFull adds the raw ClientHello enumeration of every protocol version, cipher suite
	// and group, and the handshake inspection (extensions, resumption, stapling, fallback
	// SCSV, every certificate the server can present).
	DepthFull
)

// AuditProbe audits one endpoint: TCP connect, the STARTTLS dialogue where the service has
// one, a modern client's handshake with certificate analysis, and at DepthFull the engine
// enumeration and handshake inspection. Ports that do not speak TLS are identified instead.
type AuditProbe struct {
	Dialer   *netx.Dialer
	Services *services.Registry
	// Roots are the trust anchors (system roots plus --ca-file); nil means system roots.
	Roots *x509.CertPool
	Depth Depth
	// NoVulns leaves the active vulnerability probes out of a full audit.
	NoVulns bool
	// Exhaustive probes what a full audit otherwise settles from other answers: every older
	// protocol version on its own (not inferred from a refused newer one or from TLS 1.3),
	// TLS 1.0 and 1.1 suite by suite, and TLS_FALLBACK_SCSV where no fallback is possible.
	Exhaustive bool
	// Attempts > 1 measures availability with that many extra connect+handshake attempts.
	Attempts int
	// Lint runs zlint on every certificate (on by default in the CLI). Chains that verify to
	// the system's public roots get every lint source; others (private PKI, self-signed)
	// only RFC 5280 and community lints, since CA/Browser Forum rules bind public CAs only.
	Lint bool
	Now  func() time.Time

	lintOnce     sync.Once
	publicRoots  *x509.CertPool
	privateLints lint.Registry
}

func (p *AuditProbe) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

// service resolves the endpoint's service: its hint, else the port's conventional one.
func (p *AuditProbe) service(ep model.Endpoint) (services.Service, bool) {
	if ep.Service != "" {
		return p.Services.ByName(ep.Service)
	}
	return p.Services.ByPort(ep.Addr.Port())
}

// Probe implements Prober.
func (p *AuditProbe) Probe(ctx context.Context, ep model.Endpoint) (obs model.Observation) {
	obs = model.Observation{Endpoint: ep, Started: p.now(), Status: model.StatusOK}
	defer func() { obs.Duration = p.now().Sub(obs.Started) }() // named result: the defer sets what is returned
	svc, known := p.service(ep)

	start := p.now()
	conn, err := p.Dialer.Dial(ctx, ep.Addr)
	if err != nil {
		obs.Connect = &model.ConnectFacts{Reachable: false}
		obs.Status, obs.Error = classify(ctx, err)
		p.availability(ctx, ep, svc, &obs)
		return obs
	}
	obs.Connect = &model.ConnectFacts{Reachable: true, Latency: p.now().Sub(start)}

	switch {
	case known && svc.Mode == services.None:
		conn.Close()
		p.identify(ctx, ep, &obs)
		p.availability(ctx, ep, svc, &obs)
		return obs
	case known && svc.Mode == services.StartTLS:
		facts, err := starttls.Negotiate(ctx, conn, svc.StartTLS, starttls.Options{Domain: domainOf(ep)})
		obs.StartTLS = facts
		if err != nil {
			conn.Close()
			if ctx.Err() != nil {
				obs.Status, obs.Error = model.StatusInterrupted, "scan interrupted"
			} else if !errors.Is(err, starttls.ErrNotOffered) {
				status, msg := classify(ctx, err)
				if status == model.StatusUnreachable {
					status = model.StatusError
				}
				obs.Status, obs.Error = status, "STARTTLS: "+msg
			}
			p.availability(ctx, ep, svc, &obs)
			return obs
		}
	}
	chain, modern := p.modernHandshake(ctx, conn, ep, svc, &obs)
	conn.Close()
	if obs.Status == model.StatusInterrupted {
		return obs
	}
	if obs.TLS != nil && !obs.TLS.Speaks && !known {
		p.identify(ctx, ep, &obs) // an unknown port that is not TLS: say what it is
	}
	if chain != nil {
		obs.Certificates = certs.Analyze(chain, p.certOptions(ep, svc, chain))
	}
	if p.Depth >= DepthFull && obs.TLS != nil && obs.TLS.Speaks {
		p.deep(ctx, ep, svc, &obs, chain, modern)
	}
	p.availability(ctx, ep, svc, &obs)
	if ctx.Err() != nil {
		obs.Status, obs.Error = model.StatusInterrupted, "scan interrupted"
	}
	return obs
}

func (p *AuditProbe) certOptions(ep model.Endpoint, svc services.Service, chain [][]byte) certs.Options {
	// An endpoint reached by address is checked against its IP SANs; whether a mismatch is a
	// finding is the checks' decision (cert/hostname-mismatch is raised for names only).
	name := ep.Name
	if name == "" {
		name = ep.Addr.Addr().String()
	}
	o := certs.Options{
		Name:       name,
		Service:    svc.Name,
		XMPPDomain: domainOf(ep),
		Roots:      p.Roots,
		Now:        p.now(),
		NoLint:     !p.Lint,
	}
	if p.Lint && !p.publiclyTrusted(chain) {
		o.LintRegistry = p.privateLints
	}
	return o
}

// publiclyTrusted reports whether chain leads to one of the system's roots (ignoring dates).
func (p *AuditProbe) publiclyTrusted(chain [][]byte) bool {
	p.lintOnce.Do(func() {
		p.publicRoots, _ = x509.SystemCertPool()
		if reg, err := certs.LintRegistry("RFC5280", "Community"); err == nil {
			p.privateLints = reg
		}
	})
	if p.publicRoots == nil || len(chain) == 0 {
		return false
	}
	leaf, err := x509.ParseCertificate(chain[0])
	if err != nil {
		return false
	}
	inter := x509.NewCertPool()
	for _, der := range chain[1:] {
		if c, err := x509.ParseCertificate(der); err == nil {
			inter.AddCert(c)
		}
	}
	at := leaf.NotBefore.Add(leaf.NotAfter.Sub(leaf.NotBefore) / 2)
	_, err = leaf.Verify(x509.VerifyOptions{Roots: p.publicRoots, Intermediates: inter, CurrentTime: at, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	return err == nil
}

// domainOf is the service domain for dialogues and identity checks: the endpoint's name.
func domainOf(ep model.Endpoint) string {
	if n := serverName(ep); n != "" {
		return n
	}
	return ep.Addr.Addr().String()
}

// modernHandshake runs crypto/tls on conn and records the result; it returns the chain sent
// and, at DepthFull, the handshake for the inspection to reuse as its modern probe.
func (p *AuditProbe) modernHandshake(ctx context.Context, conn net.Conn, ep model.Endpoint, svc services.Service, obs *model.Observation) ([][]byte, *handshake.Modern) {
	sni := serverName(ep)
	var cache *handshake.SessionCache
	if p.Depth >= DepthFull {
		cache = handshake.NewSessionCache()
	}
	cfg := &tls.Config{
		ServerName:         sni,
		InsecureSkipVerify: true, // verification is recorded as facts by certs.Analyze
		NextProtos:         svc.ALPN,
		MinVersion:         tls.VersionTLS10,
	}
	if cache != nil {
		cfg.ClientSessionCache = cache
	}
	tc := tls.Client(conn, cfg)
	hctx, cancel := context.WithTimeout(ctx, p.Dialer.Timeout())
	defer cancel()
	start := p.now()
	err := tc.HandshakeContext(hctx)
	lat := p.now().Sub(start)
	facts := &model.TLSFacts{}
	obs.TLS = facts
	if err != nil {
		var rhe tls.RecordHeaderError
		var alert tls.AlertError
		switch {
		case errors.As(err, &rhe):
			facts.HandshakeError = "the server did not answer with TLS: " + sanitize(err.Error(), 200)
		case errors.As(err, &alert):
			facts.Speaks = true
			facts.HandshakeError = err.Error()
		default:
			status, msg := classify(ctx, err)
			if status == model.StatusInterrupted {
				obs.Status, obs.Error = status, msg
				return nil, nil
			}
			facts.HandshakeError = msg
			if status == model.StatusTimeout {
				obs.Status, obs.Error = status, "TLS handshake: "+msg
			}
		}
		return nil, nil
	}
	var modern *handshake.Modern
	if cache != nil {
		if webService(svc) {
			// The HTTP layer is read over this very connection (its TLS 1.3 tickets arrive
			// before the response, so no separate wait for them): one connection fewer.
			obs.HTTP = httpsec.Probe(ctx, httpsec.DialFunc(p.dialFunc(ep, svc)), httpsec.Options{
				ServerName: sni, Timeout: 2 * p.Dialer.Timeout(), Conn: tc})
		} else {
			handshake.AwaitTickets(tc, conn, handshake.TicketWait(2*p.Dialer.Timeout()), cache)
		}
		modern = &handshake.Modern{State: tc.ConnectionState(), Cache: cache}
	}
	cs := tc.ConnectionState()
	facts.Speaks = true
	facts.Handshake = &model.Handshake{
		Version:     tls.VersionName(cs.Version),
		VersionID:   cs.Version,
		CipherSuite: tls.CipherSuiteName(cs.CipherSuite),
		SuiteID:     cs.CipherSuite,
		ALPN:        cs.NegotiatedProtocol,
		ServerName:  sni,
		Latency:     lat,
	}
	chain := make([][]byte, 0, len(cs.PeerCertificates))
	for _, c := range cs.PeerCertificates {
		chain = append(chain, c.Raw)
	}
	return chain, modern
}

// webService reports whether the service is HTTP over TLS, whose HTTP layer is probed.
func webService(svc services.Service) bool { return svc.Name == "https" || svc.Name == "matrix" }

// dialFunc opens a new connection ready for a ClientHello: TCP plus the STARTTLS dialogue.
func (p *AuditProbe) dialFunc(ep model.Endpoint, svc services.Service) func(ctx context.Context) (net.Conn, error) {
	return func(ctx context.Context) (net.Conn, error) {
		c, err := p.Dialer.Dial(ctx, ep.Addr)
		if err != nil || svc.Mode != services.StartTLS {
			return c, err
		}
		if _, err := starttls.Negotiate(ctx, c, svc.StartTLS, starttls.Options{Domain: domainOf(ep)}); err != nil {
			c.Close()
			return nil, err
		}
		return c, nil
	}
}

// deep runs the engine enumeration and the handshake inspection side by side; the dialer's
// per-address cap bounds their connections together. The inspection reuses the audit's
// modern handshake and, once the engine is done, leaves out the probes its facts settle.
func (p *AuditProbe) deep(ctx context.Context, ep model.Endpoint, svc services.Service, obs *model.Observation, chain [][]byte, modern *handshake.Modern) {
	dial := p.dialFunc(ep, svc)
	timeout := 2 * p.Dialer.Timeout()
	// A TLS ≤ 1.2 handshake the audit makes is one answer the engine need not ask for
	// again: the modern handshake's suite now (if it was not TLS 1.3), the inspection's as
	// they come.
	known := hello.NewKnown()
	if modern != nil && modern.State.Version <= tls.VersionTLS12 {
		known.AddSuite(modern.State.Version, modern.State.CipherSuite, uint16(modern.State.CurveID))
	}
	var wg sync.WaitGroup
	var engErr, inspErr error
	engDone := make(chan struct{})
	wg.Add(2)
	go func() {
		defer wg.Done()
		defer close(engDone)
		obs.TLS.Engine, engErr = hello.Scan(ctx, dial, hello.Options{ServerName: serverName(ep), ALPN: svc.ALPN, Timeout: timeout, Known: known, Exhaustive: p.Exhaustive})
	}()
	go func() {
		defer wg.Done()
		obs.TLS.Features, inspErr = handshake.Inspect(ctx, dial, handshake.Options{
			ServerName: serverName(ep), ALPN: svc.ALPN, Timeout: timeout, Certs: p.certOptions(ep, svc, chain),
			Modern:     modern,
			Learn:      known,
			Exhaustive: p.Exhaustive,
			Engine: func(ctx context.Context) *model.TLSEngineFacts {
				select {
				case <-engDone:
					return obs.TLS.Engine
				case <-ctx.Done():
					return nil
				}
			},
		})
	}()
	wg.Wait()
	// The vulnerability probes choose what to test from what the engine found (versions,
	// RSA key exchange, …), so they run after it.
	if !p.NoVulns && obs.TLS.Engine != nil && ctx.Err() == nil {
		vo := vuln.OptionsFromEngine(obs.TLS.Engine, serverName(ep))
		vo.Timeout = timeout
		obs.Vulns = vuln.Run(ctx, vuln.DialFunc(dial), vo)
	}
	// HTTP-level facts (HSTS, security headers, response compression) for web endpoints are
	// read over the modern handshake's connection; should that not have happened, on
	// connections of their own after the two above, so they stay within the per-address cap.
	if webService(svc) && obs.HTTP == nil {
		obs.HTTP = httpsec.Probe(ctx, httpsec.DialFunc(dial), httpsec.Options{ServerName: serverName(ep), Timeout: timeout})
	}
	// Both return facts alongside errors; an error without facts is worth saying.
	if obs.Error == "" {
		switch {
		case obs.TLS.Engine == nil && engErr != nil:
			obs.Error = "cipher enumeration: " + sanitize(engErr.Error(), 200)
		case obs.TLS.Features == nil && inspErr != nil:
			obs.Error = "handshake inspection: " + sanitize(inspErr.Error(), 200)
		}
	}
}

// identify records what speaks on a port that is not TLS (or whose service is plaintext).
func (p *AuditProbe) identify(ctx context.Context, ep model.Endpoint, obs *model.Observation) {
	sf := exposure.Identify(ctx, p.Dialer, ep.Addr, exposure.IdentifyOptions{
		ServerName: serverName(ep), BannerWait: p.Dialer.Timeout() / 2, ProbeWait: p.Dialer.Timeout() / 2, Budget: 4 * p.Dialer.Timeout(),
	})
	obs.Service = &sf
}

// availability repeats connect (+ STARTTLS and TLS handshake where the service has TLS).
func (p *AuditProbe) availability(ctx context.Context, ep model.Endpoint, svc services.Service, obs *model.Observation) {
	if p.Attempts <= 1 || ctx.Err() != nil {
		return
	}
	var hs avail.Handshake
	if svc.Mode != services.None && (obs.TLS == nil || obs.TLS.Speaks) && obs.Connect.Reachable {
		hs = func(ctx context.Context, c net.Conn) error {
			if svc.Mode == services.StartTLS {
				if _, err := starttls.Negotiate(ctx, c, svc.StartTLS, starttls.Options{Domain: domainOf(ep)}); err != nil {
					return err
				}
			}
			return tls.Client(c, &tls.Config{ServerName: serverName(ep), InsecureSkipVerify: true, NextProtos: svc.ALPN, MinVersion: tls.VersionTLS10}).HandshakeContext(ctx)
		}
	}
	f := avail.Measure(ctx, p.Dialer, ep.Addr, p.Attempts, hs)
	obs.Availability = &f
}
