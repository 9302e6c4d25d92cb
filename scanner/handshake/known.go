package handshake

import (
	"context"
	"crypto/tls"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/rampart-scan/rampart/model"
)

// SessionCache is a tls.ClientSessionCache that remembers whether the server issued a
// ticket. A caller that makes its own modern handshake with one can hand it to Inspect
// (Options.Modern), which then tests ticket resumption with it instead of handshaking again.
type SessionCache struct {
	mu     sync.Mutex
	m      map[string]*tls.ClientSessionState
	put    bool
	stored chan struct{} // closed at the first session stored
}

// NewSessionCache returns an empty SessionCache.
func NewSessionCache() *SessionCache {
	return &SessionCache{m: map[string]*tls.ClientSessionState{}, stored: make(chan struct{})}
}

// Get implements tls.ClientSessionCache.
func (c *SessionCache) Get(k string) (*tls.ClientSessionState, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.m[k]
	return s, ok
}

// Put implements tls.ClientSessionCache.
func (c *SessionCache) Put(k string, s *tls.ClientSessionState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s == nil {
		delete(c.m, k)
		return
	}
	c.m[k] = s
	if !c.put && c.stored != nil {
		close(c.stored)
	}
	c.put = true
}

// Stored reports whether the server issued a session (ticket) into the cache.
func (c *SessionCache) Stored() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.put
}

// AwaitTickets reads briefly after a completed TLS 1.3 handshake so that the server's
// NewSessionTicket messages reach tc's session cache; raw is the connection under tc. Closing
// raw (rather than a read deadline) ends the wait, because a connection may reset its
// deadline on every Read, so raw is closed afterwards. It does nothing for older versions,
// whose tickets arrive inside the handshake.
//
// With cache (the SessionCache of tc's configuration) the wait ends as soon as the first
// ticket is stored, instead of lasting the whole wait: servers that never speak first
// (SMTP, IMAP, XMPP after STARTTLS, HTTP) would otherwise always cost the full wait.
func AwaitTickets(tc *tls.Conn, raw net.Conn, wait time.Duration, cache *SessionCache) {
	if tc.ConnectionState().Version != tls.VersionTLS13 {
		return
	}
	var stored <-chan struct{}
	if cache != nil {
		stored = cache.stored
	}
	done := make(chan struct{})
	defer close(done)
	go func() {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-stored:
		case <-t.C:
		case <-done:
			return
		}
		_ = raw.Close()
	}()
	var buf [1]byte
	_, _ = tc.Read(buf[:])
}

// ticketWait is how long a modern handshake waits for TLS 1.3 tickets.
func ticketWait(timeout time.Duration) time.Duration {
	return min(300*time.Millisecond, timeout/4)
}

// TicketWait is how long Inspect's modern probe waits for TLS 1.3 tickets after its
// handshake with a per-connection timeout; a caller supplying Options.Modern waits as long.
func TicketWait(timeout time.Duration) time.Duration {
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	return ticketWait(timeout)
}

// Modern is a completed handshake of a current crypto/tls client (SNI and ALPN as in
// Options, MinVersion TLS 1.0 or 1.2, the default suites and groups) that the caller already
// made to the same server, with Cache as its ClientSessionCache and AwaitTickets run after it.
// Inspect uses it as its "modern" probe instead of opening a connection of its own. Its
// modern client accepts TLS 1.2 and 1.3 only: a handshake that negotiated an older version
// stands for a modern probe that failed, and no ticket resumption is tested.
type Modern struct {
	State tls.ConnectionState
	Cache *SessionCache
}

// reuseModern records the caller's modern handshake as the modern probe; it returns false
// when there is none to reuse.
func (in *inspector) reuseModern() bool {
	m := in.opts.Modern
	if m == nil || m.Cache == nil || len(m.State.PeerCertificates) == 0 {
		return false
	}
	if m.State.Version < tls.VersionTLS12 {
		// The inspection's modern client (TLS 1.2 and 1.3 only) would have failed on this
		// server; nothing is recorded, as before for a failed modern probe, beyond the fact
		// that a TLS answer came.
		in.anyTLS = true
		return true
	}
	in.modernFrom(&m.State, m.Cache, nil)
	return true
}

// versionSSL30 is SSL 3.0's protocol version.
const versionSSL30 = 0x0300

// engineFacts returns the engine's facts when the caller supplied them, waiting for them
// if needed; nil when unknown.
func (in *inspector) engineFacts(ctx context.Context) *model.TLSEngineFacts {
	if in.opts.Engine == nil {
		return nil
	}
	in.engineOnce.Do(func() { in.engine = in.opts.Engine(ctx) })
	return in.engine
}

// legacyVersion is the version a TLS ≤ 1.2 client offering lowest through TLS 1.2
// negotiates by the engine's facts: the newest of those the server speaks (Supported false
// when none). ok is false when the facts do not settle it (a version in that range ended in
// an error, or the engine did not probe it).
func legacyVersion(e *model.TLSEngineFacts, lowest uint16) (model.EngineVersion, bool) {
	var best model.EngineVersion
	seen := 0
	for _, v := range e.Versions {
		if v.VersionID < lowest || v.VersionID > tls.VersionTLS12 {
			continue
		}
		if v.Error != "" {
			return model.EngineVersion{}, false
		}
		seen++
		if v.Supported && v.VersionID > best.VersionID {
			best = v
		}
	}
	return best, seen == int(tls.VersionTLS12-lowest)+1
}

// acceptsAny reports whether v accepts one of suites.
func acceptsAny(v model.EngineVersion, suites []uint16) bool {
	for _, s := range v.Suites {
		if slices.Contains(suites, s.ID) {
			return true
		}
	}
	return false
}

// engineRefuses reports whether the engine's facts show that a TLS 1.0–1.2 handshake
// offering only suites fails for want of a common suite: at the version such a hello
// negotiates, none of them is accepted (or no such version is spoken at all).
func (in *inspector) engineRefuses(ctx context.Context, suites []uint16) bool {
	e := in.engineFacts(ctx)
	if e == nil {
		return false
	}
	v, ok := legacyVersion(e, tls.VersionTLS10) // the zcrypto client offers TLS 1.0 to 1.2
	if !ok {
		return false
	}
	return !v.Supported || !acceptsAny(v, suites)
}

// engineDHE settles the DHE probe from the engine's facts: the DHE suites of dheSuites that
// the negotiated version accepts, each with the prime size seen. It returns the prime size
// the probe would have read (0: no DHE suite of the offer is accepted) and whether the facts
// settle it: they do not when the sizes differ between suites or one is unknown.
func (in *inspector) engineDHE(ctx context.Context) (bits int, ok bool) {
	e := in.engineFacts(ctx)
	if e == nil {
		return 0, false
	}
	v, ok := legacyVersion(e, versionSSL30) // the raw hello (TLS 1.2) is answered down to SSL 3.0
	if !ok || v.Inferred || v.KeyExchangeError != "" {
		return 0, false
	}
	for _, s := range v.Suites {
		if !slices.Contains(dheSuites, s.ID) {
			continue
		}
		if s.DHBits == 0 || (bits != 0 && s.DHBits != bits) {
			return 0, false
		}
		bits = s.DHBits
	}
	return bits, true
}
