// Package handshake inspects a TLS server's handshake features with a small, fixed series of
// connections: ALPN, secure renegotiation, extended master secret, encrypt-then-MAC,
// heartbeat, compression, session tickets and resumption, OCSP stapling, SCTs, the DHE group
// size, TLS_FALLBACK_SCSV, and every certificate chain the server presents (with and without
// SNI, RSA and ECDSA side by side). It records facts (model.HandshakeFacts), never verdicts.
//
// Four clients are used, each where it fits: a raw TLS ≤1.2 ClientHello whose plaintext
// answer is read up to ServerHelloDone (extensions no library offers any more, DHE, fallback,
// session-ID resumption), a minimal TLS 1.3 client that decrypts only as far as the
// Certificate message (the one way to restrict TLS 1.3 signature_algorithms, which steers
// certificate choice), zcrypto/tls with ForceSuites for TLS ≤1.2 handshakes restricted to one
// certificate type and for the no-SNI view (its log keeps the certificates even when it cannot
// finish), and crypto/tls for a modern client's view and ticket resumption. The caller supplies
// connections already past any STARTTLS dialogue; one connection is open at a time. A caller
// that has already made a modern handshake, or enumerated the server with the raw ClientHello
// engine (scanner/hello), passes them in (Options.Modern, Options.Engine) and the probes they
// settle are left out.
package handshake

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	ztls "github.com/zmap/zcrypto/tls"
	zx509 "github.com/zmap/zcrypto/x509"
	"golang.org/x/crypto/ocsp"

	"github.com/rampart-scan/rampart/model"
	"github.com/rampart-scan/rampart/scanner/certs"
	"github.com/rampart-scan/rampart/scanner/hello"
)

// DialFunc opens a new connection to the server, ready for a ClientHello (any STARTTLS
// dialogue already done). Each call is one TCP connection.
type DialFunc func(ctx context.Context) (net.Conn, error)

// Options configure an inspection.
type Options struct {
	// ServerName is sent as SNI and checked against the certificates; "" sends no SNI.
	ServerName string
	// ALPN lists the application protocols to offer (the service's, e.g. "xmpp-client").
	ALPN []string
	// Timeout bounds each connection's whole exchange; zero means 10s.
	Timeout time.Duration
	// Certs configures the analysis of each chain; its Name defaults to ServerName.
	Certs certs.Options
	// NoAnalysis skips the certificate analysis (Chains[].Analysis stays nil).
	NoAnalysis bool
	// Modern, when set, is the caller's own modern handshake with the server, used as the
	// "modern" probe instead of a connection of the inspection's own (see Modern).
	Modern *Modern
	// Engine, when set, returns the raw ClientHello engine's facts for the same server and
	// SNI (hello.Scan), waiting for them if they are not ready; nil means unknown. The
	// inspection leaves out the probes those facts settle: the ECDSA or RSA certificate probe
	// when no suite of that kind is accepted, and the DHE probe when every accepted DHE suite
	// showed the same prime size. It is called at most once, from Inspect's goroutine.
	Engine func(ctx context.Context) *model.TLSEngineFacts
	// Exhaustive runs the TLS_FALLBACK_SCSV probe even where the engine's facts show there is
	// no older version to fall back to (see Fallback in model.HandshakeFacts), and the
	// session-ID resumption test on servers that issue TLS 1.2 session tickets.
	Exhaustive bool
	// Learn, when set, is told the TLS ≤ 1.2 suites (with their ECDHE group) the
	// inspection's handshakes saw the server choose, so the cipher engine running beside it
	// need not ask again (hello.Known). The session probe then prefers suites not known yet,
	// which changes none of its facts.
	Learn Learner
}

// Learner takes what handshakes proved the server accepts; hello.Known is one.
type Learner interface {
	AddSuite(version, suite, group uint16)
	Suite(version, suite uint16) (group uint16, ok bool)
}

// Probe names, as recorded in HandshakeProbe.Name.
const (
	ProbeFeatures = "tls12-features"
	ProbeModern   = "modern"
	ProbeResume   = "resume"
	ProbeSession  = "session-id"
	ProbeResumeID = "resume-id"
	ProbeECDSA    = "ecdsa"
	ProbeRSA      = "rsa"
	ProbeNoSNI    = "no-sni"
	ProbeDHE      = "dhe"
	ProbeFallback = "fallback"
	ProbeALPN     = "alpn"
	// ProbeEngine marks a chain the cipher engine (Options.Engine) read in a TLS ≤ 1.2
	// flight; it is not a connection of the inspection's own.
	ProbeEngine = "engine"
)

// ECDSA- and RSA-authenticated TLS ≤1.2 suites, offered alone to find each certificate type.
var (
	ecdsaSuites = []uint16{0xc02b, 0xc02c, 0xcca9, 0xc009, 0xc00a, 0xc023, 0xc024, 0xc008, 0xc007}
	rsaSuites   = []uint16{0xc02f, 0xc030, 0xcca8, 0x009e, 0x009f, 0xccaa, 0xc013, 0xc014, 0xc027, 0xc028,
		0x0033, 0x0039, 0x0067, 0x006b, 0x009c, 0x009d, 0x002f, 0x0035, 0x003c, 0x003d, 0xc012, 0x0016, 0x000a}
)

type inspector struct {
	dial    DialFunc
	opts    Options
	timeout time.Duration
	f       *model.HandshakeFacts
	chains  map[string]*model.PresentedChain
	order   []string
	keys    map[string]bool // leaf key types seen with SNI
	alpn    map[string]bool
	maxVer  uint16
	anyTLS  bool

	modernCache *SessionCache
	modernOK    bool

	engineOnce sync.Once
	engine     *model.TLSEngineFacts
	// sessionID is the ID of a completed TLS ≤1.2 handshake made without the ticket
	// extension (zcrypto offers none), for the session-ID resumption test.
	sessionID      []byte
	sessionIDTried bool
}

// Conn opens a TCP connection to an address; scanner/netx.Dialer satisfies it.
type Conn interface {
	Dial(ctx context.Context, addr netip.AddrPort) (net.Conn, error)
}

// Direct returns a DialFunc for a server that speaks TLS right away (implicit TLS), dialled
// through d (normally the scan's netx.Dialer, so its limits hold for every probe).
func Direct(d Conn, addr netip.AddrPort) DialFunc {
	return func(ctx context.Context) (net.Conn, error) { return d.Dial(ctx, addr) }
}

// Inspect runs the handshake series against the server behind dial. Facts are always
// returned; the error is non-nil when ctx ended or no probe received a TLS answer at all.
func Inspect(ctx context.Context, dial DialFunc, opts Options) (*model.HandshakeFacts, error) {
	in := &inspector{
		dial: dial, opts: opts, timeout: opts.Timeout,
		f:      &model.HandshakeFacts{ALPNOffered: opts.ALPN},
		chains: map[string]*model.PresentedChain{},
		keys:   map[string]bool{},
		alpn:   map[string]bool{},
	}
	if in.timeout <= 0 {
		in.timeout = 10 * time.Second
	}
	steps := []func(context.Context){
		in.features, in.modern, in.resume, in.session, in.keyTypes, in.sessionResume, in.noSNI, in.dhe, in.fallback, in.alpnRounds,
	}
	for i, step := range steps {
		if ctx.Err() != nil {
			break
		}
		if i == 2 && !in.anyTLS {
			break // neither the raw nor the modern client got a TLS answer: not a TLS server
		}
		step(ctx)
	}
	in.finish()
	if err := ctx.Err(); err != nil {
		return in.f, fmt.Errorf("handshake inspection interrupted: %w", err)
	}
	if !in.anyTLS {
		msg := "no TLS answer"
		if len(in.f.Probes) > 0 {
			msg += ": " + in.f.Probes[0].Error
		}
		return in.f, errors.New(msg)
	}
	return in.f, nil
}

// connect dials one connection bounded by the timeout; the returned stop closes it.
func (in *inspector) connect(ctx context.Context) (net.Conn, context.Context, func(), error) {
	pctx, cancel := context.WithTimeout(ctx, in.timeout)
	in.f.Connections++
	c, err := in.dial(pctx)
	if err != nil {
		cancel()
		return nil, nil, nil, fmt.Errorf("connect: %w", err)
	}
	_ = c.SetDeadline(time.Now().Add(in.timeout))
	after := context.AfterFunc(pctx, func() { _ = c.Close() })
	return c, pctx, func() { after(); _ = c.Close(); cancel() }, nil
}

func (in *inspector) record(p model.HandshakeProbe, err error) {
	if err != nil {
		p.Error = clip(err.Error(), 300)
		var a errAlert
		if errors.As(err, &a) {
			p.Alert = alertName(a.desc)
		}
		if d, ok := remoteAlert(err); ok {
			p.Alert = alertName(d)
		}
	}
	in.f.Probes = append(in.f.Probes, p)
}

func (in *inspector) sni() string { return in.opts.ServerName }

func (in *inspector) noteVersion(v uint16) {
	if v > in.maxVer && v <= tls.VersionTLS13 {
		in.maxVer = v
	}
}

func (in *inspector) noteALPN(proto string) {
	if proto == "" || in.alpn[proto] {
		return
	}
	for _, a := range in.opts.ALPN {
		if a == proto {
			in.alpn[proto] = true
			in.f.ALPN = append(in.f.ALPN, proto)
			return
		}
	}
}

func (in *inspector) remainingALPN() []string {
	var out []string
	for _, a := range in.opts.ALPN {
		if !in.alpn[a] {
			out = append(out, a)
		}
	}
	return out
}

// addChain records a chain presented to probe; it returns the leaf fingerprint.
func (in *inspector) addChain(probe string, sni bool, ders [][]byte) string {
	if len(ders) == 0 {
		return ""
	}
	if len(ders) > certs.MaxChain {
		ders = ders[:certs.MaxChain]
	}
	sum := sha256.Sum256(ders[0])
	leaf := hex.EncodeToString(sum[:])
	pc, ok := in.chains[leaf]
	if !ok {
		pc = &model.PresentedChain{Leaf: leaf, KeyType: leafKeyType(ders[0])}
		for _, d := range ders {
			pc.DER = append(pc.DER, append([]byte(nil), d...))
		}
		in.chains[leaf] = pc
		in.order = append(in.order, leaf)
	}
	pc.Probes = append(pc.Probes, probe)
	if sni || in.sni() == "" {
		pc.SNI = true
		in.keys[pc.KeyType] = true
	}
	return leaf
}

// features sends the raw hello offering every extension and reads the first flight.
func (in *inspector) features(ctx context.Context) {
	p := model.HandshakeProbe{Name: ProbeFeatures, Client: "raw", SNI: in.sni()}
	// The engine's supported_groups, so the ECDHE group chosen is the one the engine would
	// record and the answer can be handed to it (Options.Learn).
	fl, err := in.rawFlight(ctx, helloParams{version: tls.VersionTLS12, serverName: in.sni(), suites: featureSuites,
		compression: true, alpn: in.opts.ALPN, extensions: true, groups: hello.TLS12Groups()})
	if fl != nil && fl.version != 0 {
		in.anyTLS = true
		p.Version, p.CipherSuite, p.ALPN = versionName(fl.version), suiteName(fl.suite), fl.alpn
	}
	if fl != nil && fl.alertPresent {
		in.anyTLS = true
	}
	if fl != nil && fl.version != 0 && !fl.tls13 {
		in.noteVersion(fl.version)
		in.noteALPN(fl.alpn)
		in.f.TLS12 = &model.TLS12Features{
			Version: versionName(fl.version), CipherSuite: suiteName(fl.suite), SuiteID: fl.suite,
			SecureRenegotiation:  fl.has(extRenegotiation),
			ExtendedMasterSecret: fl.has(extExtendedMaster),
			EncryptThenMAC:       fl.has(extEncryptThenMAC),
			Heartbeat:            fl.has(extHeartbeat),
			SessionTicket:        fl.has(extSessionTicket),
			OCSPStapling:         fl.has(extStatusRequest),
			SCTExtension:         fl.has(extSCT),
			Compression:          fl.compression,
			Extensions:           fl.extensions,
			DowngradeSentinel:    fl.sentinel,
		}
		p.Leaf = in.addChain(ProbeFeatures, true, fl.certs)
		if len(fl.ocsp) > 0 && in.f.OCSP == nil {
			in.f.OCSP = parseStaple(fl.ocsp)
		}
		if n := countSCTs(fl.sctExt); n > in.f.SCTsTLS {
			in.f.SCTsTLS = n
		}
		if isDHE(fl.suite) && fl.dheBits > 0 {
			in.f.DHEBits, in.f.DHETested = fl.dheBits, true
		}
		if fl.done {
			err = nil // the flight was read in full; not finishing is by design
			in.learnSuite(fl.version, fl.suite, fl.curve)
		}
	}
	in.record(p, err)
}

// learnSuite passes a TLS ≤ 1.2 suite the server chose (with the SNI) to Options.Learn.
func (in *inspector) learnSuite(version, suite, group uint16) {
	if in.opts.Learn != nil && version >= tls.VersionTLS10 && version <= tls.VersionTLS12 {
		in.opts.Learn.AddSuite(version, suite, group)
	}
}

func (in *inspector) rawFlight(ctx context.Context, hp helloParams) (*flight, error) {
	c, _, stop, err := in.connect(ctx)
	if err != nil {
		return nil, err
	}
	defer stop()
	hello, err := buildHello(hp)
	if err != nil {
		return nil, err
	}
	if _, err := c.Write(hello); err != nil {
		return nil, fmt.Errorf("send ClientHello: %w", err)
	}
	fl, err := readFlight(c)
	if err != nil {
		return fl, fmt.Errorf("read server flight: %w", err)
	}
	return fl, nil
}

// modern handshakes as a current crypto/tls client; it also primes the resumption test. A
// handshake the caller already made (Options.Modern) stands in for it.
func (in *inspector) modern(ctx context.Context) {
	if in.reuseModern() {
		return
	}
	cache := NewSessionCache()
	st, err := in.stdHandshake(ctx, &tls.Config{ServerName: in.sni(), InsecureSkipVerify: true, NextProtos: in.opts.ALPN,
		ClientSessionCache: cache, MinVersion: tls.VersionTLS12}, true)
	in.modernFrom(st, cache, err)
}

// modernFrom records the modern client's handshake (st nil when it failed with err).
func (in *inspector) modernFrom(st *tls.ConnectionState, cache *SessionCache, err error) {
	in.modernCache = cache
	p := model.HandshakeProbe{Name: ProbeModern, Client: "crypto/tls", SNI: in.sni()}
	if st != nil {
		in.anyTLS = true
		in.noteVersion(st.Version)
		in.noteALPN(st.NegotiatedProtocol)
		p.Version, p.CipherSuite, p.ALPN = versionName(st.Version), suiteName(st.CipherSuite), st.NegotiatedProtocol
		var ders [][]byte
		for _, c := range st.PeerCertificates {
			ders = append(ders, c.Raw)
		}
		p.Leaf = in.addChain(ProbeModern, true, ders)
		if len(st.OCSPResponse) > 0 {
			in.f.OCSP = parseStaple(st.OCSPResponse) // the modern client's view wins
		}
		if n := len(st.SignedCertificateTimestamps); n > in.f.SCTsTLS {
			in.f.SCTsTLS = n
		}
		in.f.TicketIssued = cache.Stored()
		in.modernOK = true
		if st.Version <= tls.VersionTLS12 {
			in.learnSuite(st.Version, st.CipherSuite, uint16(st.CurveID))
		}
		in.f.ResumptionVersion = versionName(st.Version)
	}
	in.record(p, err)
}

// stdHandshake runs one crypto/tls handshake; with waitTicket it reads briefly afterwards so
// TLS 1.3 NewSessionTicket messages are processed.
func (in *inspector) stdHandshake(ctx context.Context, cfg *tls.Config, waitTicket bool) (*tls.ConnectionState, error) {
	c, pctx, stop, err := in.connect(ctx)
	if err != nil {
		return nil, err
	}
	defer stop()
	tc := tls.Client(c, cfg)
	if err := tc.HandshakeContext(pctx); err != nil {
		return nil, fmt.Errorf("handshake: %w", err)
	}
	defer func() { _ = tc.Close() }() // close_notify before the socket closes
	st := tc.ConnectionState()
	if waitTicket {
		AwaitTickets(tc, c, ticketWait(in.timeout), nil) // so post-handshake tickets are processed
	}
	return &st, nil
}

// resume connects again with the modern client's session cache.
func (in *inspector) resume(ctx context.Context) {
	if !in.modernOK {
		return // no completed handshake: resumption cannot be judged
	}
	if in.modernCache == nil || !in.modernCache.Stored() {
		in.f.TicketResumption = "no-ticket" // a completed handshake issued none
		return
	}
	p := model.HandshakeProbe{Name: ProbeResume, Client: "crypto/tls", SNI: in.sni()}
	st, err := in.stdHandshake(ctx, &tls.Config{ServerName: in.sni(), InsecureSkipVerify: true, NextProtos: in.opts.ALPN,
		ClientSessionCache: in.modernCache, MinVersion: tls.VersionTLS12}, false)
	if st != nil {
		p.Version, p.CipherSuite = versionName(st.Version), suiteName(st.CipherSuite)
		if st.DidResume {
			in.f.TicketResumption = "resumed"
		} else {
			in.f.TicketResumption = "not-resumed"
		}
	}
	in.record(p, err)
}

// keyTypes asks for the certificate types not seen yet by offering only ECDSA or only RSA
// suites (TLS ≤1.2).
func (in *inspector) keyTypes(ctx context.Context) {
	tls13Only := in.f.TLS12 == nil && in.maxVer == tls.VersionTLS13
	if in.f.TLS12 == nil && !tls13Only {
		return // no handshake succeeded at all
	}
	if e := in.engineFacts(ctx); e != nil && !tls13Only {
		// The engine read the certificates of every (EC)DHE suite it enumerated: each chain
		// it saw needs no probe of its own.
		for _, chain := range e.Chains {
			in.addChain(ProbeEngine, true, chain)
		}
	}
	for _, k := range []struct {
		name, key string
		suites    []uint16
		schemes   []uint16
	}{{ProbeECDSA, "ECDSA", ecdsaSuites, ecdsaSchemes}, {ProbeRSA, "RSA", rsaSuites, rsaSchemes}} {
		if in.keys[k.key] || ctx.Err() != nil {
			continue
		}
		if !tls13Only && in.engineRefuses(ctx, k.suites) {
			continue // the engine saw no such suite accepted: the probe would find no chain
		}
		if tls13Only {
			// TLS 1.3 picks the certificate by signature_algorithms, which only our own
			// minimal client can restrict.
			in.tls13Certs(ctx, k.name, k.schemes)
			continue
		}
		in.zHandshake(ctx, k.name, in.sni(), k.suites, ztls.VersionTLS12)
	}
}

// tls13Certs reads the certificates a TLS 1.3 server presents to a client that offers only
// schemes as signature algorithms.
func (in *inspector) tls13Certs(ctx context.Context, name string, schemes []uint16) {
	p := model.HandshakeProbe{Name: name, Client: "raw-tls13", SNI: in.sni()}
	c, _, stop, err := in.connect(ctx)
	if err != nil {
		in.record(p, err)
		return
	}
	defer stop()
	h, err := buildTLS13Hello(in.sni(), schemes, nil)
	if err != nil {
		in.record(p, err)
		return
	}
	if _, err := c.Write(h.record()); err != nil {
		in.record(p, fmt.Errorf("send ClientHello: %w", err))
		return
	}
	res, err := readTLS13Certificates(c, h)
	if res != nil && res.suite != 0 {
		p.Version, p.CipherSuite = "TLS 1.3", suiteName(res.suite)
	}
	if res != nil && len(res.certs) > 0 {
		p.Leaf = in.addChain(name, true, res.certs)
		if len(res.ocsp) > 0 && in.f.OCSP == nil {
			in.f.OCSP = parseStaple(res.ocsp)
		}
	}
	if err != nil {
		err = fmt.Errorf("TLS 1.3 certificate probe: %w", err)
	}
	in.record(p, err)
}

// zHandshake runs a zcrypto handshake with exactly suites offered and keeps what its log saw.
func (in *inspector) zHandshake(ctx context.Context, name, sni string, suites []uint16, maxVersion uint16) {
	p := model.HandshakeProbe{Name: name, Client: "zcrypto", SNI: sni}
	c, pctx, stop, err := in.connect(ctx)
	if err != nil {
		in.record(p, err)
		return
	}
	defer stop()
	cfg := &ztls.Config{ServerName: sni, InsecureSkipVerify: true, MinVersion: ztls.VersionTLS10, MaxVersion: maxVersion}
	if suites != nil {
		cfg.CipherSuites, cfg.ForceSuites = suites, true
	}
	learn := in.opts.Learn != nil && sni == in.sni() && maxVersion <= ztls.VersionTLS12
	if learn {
		// The engine's groups in its order (those zcrypto implements), so the ECDHE group
		// chosen is the one the engine would record.
		for _, g := range hello.TLS12Groups() {
			if c := ztls.CurveID(g); c == ztls.CurveP256 || c == ztls.CurveP384 || c == ztls.CurveP521 || c == ztls.X25519 {
				cfg.CurvePreferences = append(cfg.CurvePreferences, c)
			}
		}
	}
	zc := ztls.Client(c, cfg)
	herr := safeZHandshake(pctx, zc)
	if herr == nil {
		// close_notify: OpenSSL drops sessions of connections that end without it.
		defer func() { _ = zc.Close() }()
	}
	if log := zc.GetHandshakeLog(); log != nil {
		if sh := log.ServerHello; sh != nil {
			in.anyTLS = true
			v := uint16(sh.Version)
			if sh.SupportedVersions != nil {
				v = uint16(sh.SupportedVersions.SelectedVersion)
			}
			p.Version, p.CipherSuite = versionName(v), suiteName(uint16(sh.CipherSuite))
			if learn {
				var group uint16
				if kx := log.ServerKeyExchange; kx != nil && kx.ECDHParams != nil {
					group = uint16(kx.ECDHParams.TLSCurveID)
				}
				if log.ServerKeyExchange != nil || herr == nil {
					in.learnSuite(v, uint16(sh.CipherSuite), group)
				}
			}
		}
		if sc := log.ServerCertificates; sc != nil {
			ders := [][]byte{sc.Certificate.Raw}
			for _, ch := range sc.Chain {
				ders = append(ders, ch.Raw)
			}
			p.Leaf = in.addChain(name, sni != "", ders)
		}
	}
	if herr == nil && sni == in.sni() && maxVersion <= ztls.VersionTLS12 && !in.sessionIDTried {
		if log := zc.GetHandshakeLog(); log != nil && log.ServerHello != nil {
			in.sessionIDTried = true
			in.sessionID = append([]byte(nil), log.ServerHello.SessionID...)
		}
	}
	if herr != nil {
		herr = fmt.Errorf("handshake: %w", herr)
	}
	in.record(p, herr)
}

// session completes a TLS ≤ 1.2 handshake (zcrypto, which offers no ticket extension, so the
// server keeps a session ID) for the session-ID resumption test. It runs early, beside the
// cipher engine: its suites put the ones no handshake has shown accepted first (the known
// ones last, so a server that takes only those still completes one) and its groups are the
// engine's, so the suite it gets is one more the engine need not ask for (Options.Learn).
func (in *inspector) session(ctx context.Context) {
	if in.f.TLS12 == nil || in.sessionIDTried || in.opts.Learn == nil || in.ticketsOnly() {
		return // without Learn it waits for keyTypes, whose handshakes can serve as well
	}
	var suites []uint16
	if in.opts.Learn != nil {
		var seen []uint16
		for _, s := range featureSuites {
			if !zcryptoCompletes[s] {
				continue // a suite zcrypto cannot finish would leave no session to resume
			}
			if _, ok := in.opts.Learn.Suite(tls.VersionTLS12, s); ok {
				seen = append(seen, s)
			} else {
				suites = append(suites, s)
			}
		}
		suites = append(suites, seen...)
	}
	in.zHandshake(ctx, ProbeSession, in.sni(), suites, ztls.VersionTLS12)
}

// zcryptoCompletes lists the TLS ≤ 1.2 suites zcrypto implements (it can finish a handshake
// with them).
var zcryptoCompletes = func() map[uint16]bool {
	m := map[uint16]bool{}
	for _, cs := range append(ztls.CipherSuites(), ztls.InsecureCipherSuites()...) {
		m[cs.ID] = true
	}
	return m
}()

// ticketsOnly reports whether the session-ID resumption test is left out: the server
// acknowledged the TLS 1.2 session ticket extension, so every client that supports tickets
// resumes with one, and the server must not look its session ID up then (RFC 5077 §3.4);
// the session-ID cache serves only ticket-less clients. Options.Exhaustive tests it anyway.
func (in *inspector) ticketsOnly() bool {
	return !in.opts.Exhaustive && in.f.TLS12 != nil && in.f.TLS12.SessionTicket
}

// sessionResume offers the session ID of a completed TLS 1.2 handshake on a new connection;
// an echoed ID followed by ChangeCipherSpec means the server resumed.
func (in *inspector) sessionResume(ctx context.Context) {
	if in.f.TLS12 == nil {
		return
	}
	if in.ticketsOnly() {
		in.f.SessionIDResumption = "skipped"
		return
	}
	if !in.sessionIDTried {
		in.zHandshake(ctx, ProbeSession, in.sni(), nil, ztls.VersionTLS12)
	}
	if !in.sessionIDTried || ctx.Err() != nil {
		return // no completed TLS 1.2 handshake to resume
	}
	if len(in.sessionID) == 0 || len(in.sessionID) > 32 {
		in.f.SessionIDResumption = "no-session-id"
		return
	}
	p := model.HandshakeProbe{Name: ProbeResumeID, Client: "raw", SNI: in.sni()}
	fl, err := in.rawFlight(ctx, helloParams{version: tls.VersionTLS12, serverName: in.sni(), suites: featureSuites, sessionID: in.sessionID})
	if fl != nil && fl.version != 0 {
		p.Version, p.CipherSuite = versionName(fl.version), suiteName(fl.suite)
		if bytes.Equal(fl.sessionID, in.sessionID) && fl.ccs {
			in.f.SessionIDResumption = "resumed"
			err = nil // the abbreviated handshake was seen; finishing it is not needed
		} else {
			in.f.SessionIDResumption = "not-resumed"
			if fl.done {
				err = nil
			}
		}
	}
	in.record(p, err)
}

func safeZHandshake(ctx context.Context, zc *ztls.Conn) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("zcrypto handshake panic: %v", r)
		}
	}()
	return zc.HandshakeContext(ctx)
}

// noSNI fetches the chain presented to a client that sends no SNI.
func (in *inspector) noSNI(ctx context.Context) {
	if in.sni() == "" {
		return
	}
	in.zHandshake(ctx, ProbeNoSNI, "", nil, ztls.VersionTLS13)
}

// dhe offers only DHE suites to learn the DH group size.
func (in *inspector) dhe(ctx context.Context) {
	if in.f.TLS12 == nil || in.f.DHETested {
		return
	}
	in.f.DHETested = true
	if bits, ok := in.engineDHE(ctx); ok {
		in.f.DHEBits = bits // the engine read every accepted DHE suite's prime
		return
	}
	p := model.HandshakeProbe{Name: ProbeDHE, Client: "raw", SNI: in.sni()}
	fl, err := in.rawFlight(ctx, helloParams{version: tls.VersionTLS12, serverName: in.sni(), suites: dheSuites})
	if fl != nil && fl.version != 0 {
		p.Version, p.CipherSuite = versionName(fl.version), suiteName(fl.suite)
		if isDHE(fl.suite) {
			in.f.DHEBits = fl.dheBits
		}
		if fl.done {
			err = nil
		}
	}
	in.record(p, err)
}

// fallback offers the version below the highest with TLS_FALLBACK_SCSV (RFC 7507), unless
// the engine's facts show there is no version to fall back to (noFallback).
func (in *inspector) fallback(ctx context.Context) {
	if in.maxVer <= tls.VersionTLS10 {
		return
	}
	if !in.opts.Exhaustive {
		if why, ok := in.noFallback(ctx); ok {
			in.f.Fallback, in.f.FallbackDetail = "not-needed", why
			return
		}
	}
	lower := in.maxVer - 1
	p := model.HandshakeProbe{Name: ProbeFallback, Client: "raw", SNI: in.sni()}
	suites := append(append([]uint16(nil), featureSuites...), 0x5600)
	fl, err := in.rawFlight(ctx, helloParams{version: lower, serverName: in.sni(), suites: suites})
	switch {
	case fl != nil && fl.alertPresent && fl.alert == 86:
		in.f.Fallback = "rejected"
		in.f.FallbackDetail = fmt.Sprintf("%s with TLS_FALLBACK_SCSV answered inappropriate_fallback", versionName(lower))
	case fl != nil && fl.version == lower:
		in.f.Fallback = "accepted"
		in.f.FallbackDetail = fmt.Sprintf("%s negotiated although TLS_FALLBACK_SCSV was sent and %s is supported", versionName(lower), versionName(in.maxVer))
		p.Version, p.CipherSuite = versionName(fl.version), suiteName(fl.suite)
		err = nil
	default:
		in.f.Fallback = "inconclusive"
		detail := "no answer"
		if err != nil {
			detail = err.Error()
		}
		in.f.FallbackDetail = clip(fmt.Sprintf("%s with TLS_FALLBACK_SCSV: %s (the lower version may not be supported)", versionName(lower), detail), 300)
	}
	in.record(p, err)
}

// alpnRounds offers the protocols not yet selected until the server selects none.
func (in *inspector) alpnRounds(ctx context.Context) {
	for i := 0; i < len(in.opts.ALPN) && ctx.Err() == nil; i++ {
		rest := in.remainingALPN()
		if len(rest) == 0 || len(in.f.ALPN) == 0 {
			return // nothing left, or the server selects no protocol at all
		}
		p := model.HandshakeProbe{Name: ProbeALPN, Client: "crypto/tls", SNI: in.sni()}
		st, err := in.stdHandshake(ctx, &tls.Config{ServerName: in.sni(), InsecureSkipVerify: true, NextProtos: rest, MinVersion: tls.VersionTLS10}, false)
		if st != nil {
			p.Version, p.CipherSuite, p.ALPN = versionName(st.Version), suiteName(st.CipherSuite), st.NegotiatedProtocol
		}
		in.record(p, err)
		if st == nil || st.NegotiatedProtocol == "" || in.alpn[st.NegotiatedProtocol] {
			return
		}
		in.noteALPN(st.NegotiatedProtocol)
	}
}

func (in *inspector) finish() {
	if in.maxVer != 0 {
		in.f.MaxVersion = versionName(in.maxVer)
	}
	copts := in.opts.Certs
	if copts.Name == "" {
		copts.Name = in.opts.ServerName
	}
	for _, leaf := range in.order {
		pc := in.chains[leaf]
		if !in.opts.NoAnalysis {
			pc.Analysis = certs.Analyze(pc.DER, copts)
		}
		in.f.Chains = append(in.f.Chains, *pc)
	}
}

// parseStaple reads a stapled OCSP response (its signature is not verified here).
func parseStaple(b []byte) *model.OCSPStaple {
	st := &model.OCSPStaple{Size: len(b)}
	r, err := ocsp.ParseResponse(b, nil)
	if err != nil {
		st.Status, st.Error = "unparsable", clip(err.Error(), 200)
		return st
	}
	switch r.Status {
	case ocsp.Good:
		st.Status = "good"
	case ocsp.Revoked:
		st.Status = "revoked"
	default:
		st.Status = "unknown"
	}
	if !r.ProducedAt.IsZero() {
		st.ProducedAt = r.ProducedAt.UTC().Format(time.RFC3339)
	}
	if !r.NextUpdate.IsZero() {
		st.NextUpdate = r.NextUpdate.UTC().Format(time.RFC3339)
	}
	return st
}

func leafKeyType(der []byte) string {
	if c, err := x509.ParseCertificate(der); err == nil {
		switch c.PublicKeyAlgorithm {
		case x509.RSA:
			return "RSA"
		case x509.ECDSA:
			return "ECDSA"
		case x509.Ed25519:
			return "Ed25519"
		case x509.DSA:
			return "DSA"
		}
	}
	if c, err := safeZParse(der); err == nil {
		switch c.PublicKeyAlgorithm {
		case zx509.RSA:
			return "RSA"
		case zx509.ECDSA:
			return "ECDSA"
		case zx509.Ed25519:
			return "Ed25519"
		case zx509.DSA:
			return "DSA"
		}
	}
	return "unknown"
}

func safeZParse(der []byte) (c *zx509.Certificate, err error) {
	defer func() {
		if r := recover(); r != nil {
			c, err = nil, fmt.Errorf("parser panic: %v", r)
		}
	}()
	return zx509.ParseCertificate(der)
}

func versionName(v uint16) string {
	switch v {
	case 0x0300:
		return "SSL 3.0"
	case tls.VersionTLS10:
		return "TLS 1.0"
	case tls.VersionTLS11:
		return "TLS 1.1"
	case tls.VersionTLS12:
		return "TLS 1.2"
	case tls.VersionTLS13:
		return "TLS 1.3"
	}
	return fmt.Sprintf("0x%04x", v)
}

func suiteName(id uint16) string {
	if n := ztls.CipherSuiteID(id).String(); n != "" && !strings.HasPrefix(n, "unknown") {
		return n
	}
	return tls.CipherSuiteName(id)
}

func alertName(d uint8) string {
	n := strings.TrimPrefix(ztls.Alert(d).String(), "tls: ")
	return fmt.Sprintf("%s(%d)", strings.ReplaceAll(n, " ", "_"), d)
}

// remoteAlert finds an alert the server sent inside a crypto/tls or zcrypto error.
func remoteAlert(err error) (uint8, bool) {
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "remote error" {
		return 0, false
	}
	var sa tls.AlertError
	if errors.As(op.Err, &sa) {
		return uint8(sa), true
	}
	var za ztls.Alert
	if errors.As(op.Err, &za) {
		return uint8(za), true
	}
	return 0, false
}

func clip(s string, n int) string {
	if len(s) > n {
		s = s[:n]
		for len(s) > 0 && !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
	}
	return strings.ToValidUTF8(s, "?")
}

// noFallback settles the fallback probe from the engine's facts when there is nothing for
// TLS_FALLBACK_SCSV to guard: SSL 2.0 through TLS 1.1 all refused (none ended in an error),
// so a client retrying below its best version can only land on TLS 1.2, and a server that
// also speaks TLS 1.3 marks its TLS 1.2 answers with RFC 8446's downgrade sentinel, which
// TLS 1.3 clients check. This is testssl.sh's rule too ("No fallback possible, no protocol
// below TLS 1.2 offered"), with the sentinel verified rather than assumed. Otherwise (an
// older version spoken, a fact missing, no sentinel) the probe runs.
func (in *inspector) noFallback(ctx context.Context) (string, bool) {
	e := in.engineFacts(ctx)
	if e == nil {
		return "", false
	}
	older, tls12 := 0, false
	for _, v := range e.Versions {
		if v.Error != "" {
			return "", false
		}
		switch {
		case v.VersionID == tls.VersionTLS12:
			tls12 = v.Supported
		case v.VersionID < tls.VersionTLS12:
			if v.Supported {
				return "", false
			}
			older++
		}
	}
	if older != 4 { // SSL 2.0, SSL 3.0, TLS 1.0, TLS 1.1: one missing from the facts settles nothing
		return "", false
	}
	switch {
	case in.maxVer == tls.VersionTLS12:
		return "no version below TLS 1.2 is spoken: there is nothing to fall back to", true
	case in.maxVer == tls.VersionTLS13 && !tls12:
		return "TLS 1.3 is the only version spoken: there is nothing to fall back to", true
	case in.maxVer == tls.VersionTLS13 && in.f.TLS12 != nil && in.f.TLS12.DowngradeSentinel == model.SentinelTLS12:
		return "no version below TLS 1.2 is spoken, and TLS 1.2 answers carry TLS 1.3's downgrade sentinel (RFC 8446 §4.1.3)", true
	}
	return "", false
}
