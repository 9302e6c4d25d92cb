package vuln

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"fmt"
	"net"
	"sync"

	"github.com/rampart-scan/rampart/model"
	"github.com/rampart-scan/rampart/scanner/hello"
)

// ticketbleedSessionID is the length of the session ID sent with the ticket. RFC 5077 lets
// the server echo it to accept the ticket; an F5 stack with CVE-2016-9244 echoes 32 bytes
// whatever the length, the last 16 being uninitialised memory.
const ticketbleedSessionID = 16

// ticketCache keeps the last session crypto/tls stored: the ticket the server issued.
type ticketCache struct {
	mu sync.Mutex
	cs *tls.ClientSessionState
}

func (c *ticketCache) Get(string) (*tls.ClientSessionState, bool) { return nil, false }
func (c *ticketCache) Put(_ string, cs *tls.ClientSessionState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cs != nil {
		c.cs = cs
	}
}

// ticketbleed runs a full TLS 1.2 (or older) handshake with crypto/tls to obtain a session
// ticket (one connection), then offers that ticket in a raw hello with a 16-byte session ID
// (one connection) and compares the session ID the server echoes with the one sent.
func (p *prober) ticketbleed(ctx context.Context) *model.ProbeVerdict {
	v := p.opts.highestLegacy()
	if v < hello.VersionTLS10 {
		return verdict(model.VerdictNotApplicable, "the server speaks no version from TLS 1.0 to TLS 1.2, where session tickets of RFC 5077 live", 0, nil)
	}
	detail := map[string]string{"version": hello.VersionName(v)}
	ticket, suite, conns, err := p.fetchTicket(ctx, v)
	if err != nil {
		return verdict(model.VerdictInconclusive, "obtaining a session ticket failed: "+err.Error(), conns, detail)
	}
	if len(ticket) == 0 {
		return verdict(model.VerdictNotApplicable, "the server issued no session ticket in a full handshake", conns, detail)
	}
	detail["ticket_bytes"] = fmt.Sprint(len(ticket))
	sid := make([]byte, ticketbleedSessionID)
	if _, err := rand.Read(sid); err != nil {
		return verdict(model.VerdictInconclusive, "random session ID: "+err.Error(), conns, detail)
	}
	suites := append([]uint16{suite}, p.suitesFor(v, nil)...)
	spec := helloSpec{version: v, suites: suites, serverName: p.opts.ServerName, sessionID: sid,
		// extended_master_secret: crypto/tls negotiated it, and RFC 7627 servers refuse to
		// resume such a session without it.
		extra: []extension{{typ: extSessionTicket, data: ticket}, {typ: extExtendedMasterSecret}}}
	s, f, _, err := p.start(ctx, spec, true)
	if s != nil || f != nil {
		conns++
	}
	if err != nil {
		return verdict(model.VerdictInconclusive, "offering the ticket: "+refusal(err), conns, detail)
	}
	s.Close()
	echo := f.hello.SessionID
	detail["session_id_sent"] = fmt.Sprint(len(sid))
	detail["session_id_echoed"] = fmt.Sprint(len(echo))
	switch {
	case len(echo) > len(sid) && bytes.HasPrefix(echo, sid):
		return verdict(model.VerdictVulnerable, fmt.Sprintf("offered a ticket with a %d-byte session ID, the server echoed %d bytes: %d bytes of its memory", len(sid), len(echo), len(echo)-len(sid)), conns, detail)
	case bytes.Equal(echo, sid):
		return verdict(model.VerdictNotVulnerable, "the server resumed the ticket and echoed exactly the session ID sent", conns, detail)
	}
	return verdict(model.VerdictInconclusive, "the server did not resume the ticket (it answered with a session ID of its own), so the echo could not be tested", conns, detail)
}

// fetchTicket runs a crypto/tls handshake at version v and returns the ticket and suite.
func (p *prober) fetchTicket(ctx context.Context, v uint16) ([]byte, uint16, int, error) {
	c, err := p.dial(ctx)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("dial: %w", err)
	}
	p.conns.Add(1)
	defer c.Close()
	cache := &ticketCache{}
	cfg := &tls.Config{
		InsecureSkipVerify: true, // only the ticket matters here; nothing is authenticated
		MinVersion:         tls.VersionTLS10,
		MaxVersion:         v,
		ClientSessionCache: cache,
		CipherSuites:       goSuites(),
	}
	if net.ParseIP(p.opts.ServerName) == nil {
		cfg.ServerName = p.opts.ServerName
	}
	hctx, cancel := context.WithTimeout(ctx, p.opts.Timeout)
	defer cancel()
	tc := tls.Client(c, cfg)
	if err := tc.HandshakeContext(hctx); err != nil {
		return nil, 0, 1, fmt.Errorf("handshake: %w", err)
	}
	suite := tc.ConnectionState().CipherSuite
	cache.mu.Lock()
	cs := cache.cs
	cache.mu.Unlock()
	if cs == nil {
		return nil, suite, 1, nil
	}
	ticket, _, err := cs.ResumptionState()
	if err != nil {
		return nil, suite, 1, fmt.Errorf("session state: %w", err)
	}
	return ticket, suite, 1, nil
}

// goSuites lists every TLS ≤ 1.2 suite crypto/tls implements, the insecure ones included, so
// the ticket handshake succeeds with servers that only have old suites.
func goSuites() []uint16 {
	var out []uint16
	for _, s := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		out = append(out, s.ID)
	}
	return out
}
