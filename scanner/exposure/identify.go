package exposure

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/rampart-scan/rampart/model"
)

// Dialer opens TCP connections. *netx.Dialer is the implementation every scan passes, so the
// global rate, the per-address cap and the timeouts hold for every probe connection.
type Dialer interface {
	Dial(ctx context.Context, addr netip.AddrPort) (net.Conn, error)
}

// IdentifyOptions bound service identification of one open port.
type IdentifyOptions struct {
	// BannerWait is how long to wait for a server that speaks first. Zero: 2s.
	BannerWait time.Duration
	// ProbeWait is how long to wait for the reply to each probe. Zero: 2s.
	ProbeWait time.Duration
	// Budget bounds the whole identification of one port. Zero: 20s.
	Budget time.Duration
	// ServerName is used for SNI, the HTTP Host header and the XMPP stream's "to"; empty: the
	// address.
	ServerName string
}

func (o IdentifyOptions) withDefaults() IdentifyOptions {
	if o.BannerWait <= 0 {
		o.BannerWait = 2 * time.Second
	}
	if o.ProbeWait <= 0 {
		o.ProbeWait = 2 * time.Second
	}
	if o.Budget <= 0 {
		o.Budget = 20 * time.Second
	}
	return o
}

// probe is one harmless question for a silent service, asked on a fresh connection.
type probe struct {
	name string
	run  func(p *prober, s *session) bool
}

// prober carries the state of one port's identification.
type prober struct {
	ctx  context.Context
	d    Dialer
	addr netip.AddrPort
	opts IdentifyOptions
	f    *model.ServiceFacts
	tls  bool // probes run inside TLS
}

func (p *prober) host() string {
	if p.opts.ServerName != "" {
		return p.opts.ServerName
	}
	if p.addr.Addr().Is6() {
		return "[" + p.addr.Addr().String() + "]"
	}
	return p.addr.Addr().String()
}

// Identify learns what speaks on an open TCP port: it waits for a banner, then asks harmless
// questions (TLS ClientHello, HTTP GET, Redis PING, …) on fresh connections until one is
// answered, all within opts.Budget. It opens every connection through d.
func Identify(ctx context.Context, d Dialer, addr netip.AddrPort, opts IdentifyOptions) model.ServiceFacts {
	return identify(ctx, d, addr, nil, opts)
}

// identify runs identification; first, when not nil, is an already open connection (the
// scan's) used for the banner wait.
func identify(ctx context.Context, d Dialer, addr netip.AddrPort, first net.Conn, opts IdentifyOptions) model.ServiceFacts {
	opts = opts.withDefaults()
	ctx, cancel := context.WithTimeout(ctx, opts.Budget)
	defer cancel()
	f := model.ServiceFacts{Port: addr.Port(), State: model.PortOpen}
	p := &prober{ctx: ctx, d: d, addr: addr, opts: opts, f: &f}

	if first == nil {
		c, err := d.Dial(ctx, addr)
		if err != nil {
			f.State = StateOf(err)
			f.Error = fmt.Sprintf("connect: %v", err)
			return f
		}
		first = c
	}
	s := &session{conn: first}
	if p.banner(s) {
		s.close()
		return f
	}
	s.close()
	p.runProbes(plainProbes)
	if f.Service != "" {
		delete(f.Extra, "tls_probe_reply")
	}
	if f.Service == "" && f.Error == "" && ctx.Err() != nil {
		f.Error = "identification budget exhausted"
	}
	return f
}

// banner waits for a server-first greeting and, when one came, follows it up. It reports
// whether the service was identified (or spoke at all: an unknown greeting is kept as is).
func (p *prober) banner(s *session) bool {
	p.f.Probes = append(p.f.Probes, "banner")
	wait := p.opts.BannerWait
	if _, hinted := portHints[p.addr.Port()]; hinted && !p.tls {
		// The port's usual service waits for the client: a short wait still catches a
		// different, server-first service there.
		wait /= 4
	}
	b, err := s.exchange(nil, wait, bannerDone)
	if len(b) == 0 {
		if err != nil && !errors.Is(err, errNoReply) {
			setExtra(p.f, "banner_wait", "closed without data: "+err.Error())
		}
		return false
	}
	p.f.Banner = escape(b, bannerKeep)
	ambiguous, ok := classifyBanner(b, p.f)
	if !ok {
		return true // it spoke, but nothing we know: keep the banner
	}
	p.followUp(s, b, ambiguous)
	return true
}

// bannerDone: a whole line, a whole MySQL packet, or a binary greeting.
func bannerDone(b []byte) bool {
	if len(b) >= 5 && looksMySQL(b) {
		return mysqlComplete(b)
	}
	if b[0] == 0xff { // Telnet option negotiation
		return true
	}
	return hasLine(b)
}

// followUp asks a greeted service the one extra question that settles its facts.
func (p *prober) followUp(s *session, greeting []byte, ambiguous220 bool) {
	w := p.opts.ProbeWait
	switch p.f.Service {
	case model.SvcSMTP, model.SvcFTP:
		if !smtpDone(greeting) {
			// The rest of a multi-line greeting ("220-…" lines, then "220 …").
			if more, _ := s.exchange(nil, w, smtpDone); len(more) > 0 {
				p.f.Banner = escape(append(greeting, more...), bannerKeep)
			}
		}
		if p.f.Service == model.SvcSMTP {
			r, _ := s.exchange([]byte("EHLO rampart.invalid\r\n"), w, smtpDone)
			if smtp, st := parseEHLO(r); smtp {
				if !p.tls {
					p.f.StartTLS = ptr(st)
				}
				_, _ = s.exchange([]byte("QUIT\r\n"), w, hasLine)
				return
			}
			if !ambiguous220 {
				return
			}
			p.f.Service = model.SvcFTP // a 220 greeting that refuses EHLO
		}
		r, _ := s.exchange([]byte("FEAT\r\n"), w, smtpDone)
		if _, authTLS := parseFTPFeat(r); !p.tls && len(r) > 0 {
			p.f.StartTLS = ptr(authTLS)
		}
		_, _ = s.exchange([]byte("QUIT\r\n"), w, hasLine)
	case model.SvcIMAP:
		if p.f.StartTLS == nil && !p.tls {
			r, _ := s.exchange([]byte("a1 CAPABILITY\r\n"), w, func(b []byte) bool {
				return containsLinePrefix(b, "a1 ")
			})
			if ok, st := parseIMAPCapability(r); ok {
				p.f.StartTLS = ptr(st)
			}
		}
		if p.tls {
			p.f.StartTLS = nil
		}
		_, _ = s.exchange([]byte("a2 LOGOUT\r\n"), w, hasLine)
	case model.SvcPOP3:
		if !p.tls {
			r, _ := s.exchange([]byte("CAPA\r\n"), w, pop3Done)
			if ok, st := parsePOP3Capa(r); ok {
				p.f.StartTLS = ptr(st)
			} else if len(r) > 0 {
				p.f.StartTLS = ptr(false) // CAPA refused: no STLS advertised
			}
		}
		_, _ = s.exchange([]byte("QUIT\r\n"), w, hasLine)
	case model.SvcNNTP:
		if !p.tls {
			r, _ := s.exchange([]byte("CAPABILITIES\r\n"), w, pop3Done)
			if ok, st := parseNNTPCapabilities(r); ok {
				p.f.StartTLS = ptr(st)
			}
		}
		_, _ = s.exchange([]byte("QUIT\r\n"), w, hasLine)
	case model.SvcSieve:
		caps := greeting
		if !sieveDone(caps) {
			more, _ := s.exchange(nil, w, func(b []byte) bool { return sieveDone(append(caps[:len(caps):len(caps)], b...)) })
			caps = append(caps[:len(caps):len(caps)], more...)
		}
		p.f.Banner = escape(caps, bannerKeep)
		parseSieveCapabilities(caps, p.f)
		_, _ = s.exchange([]byte("LOGOUT\r\n"), w, hasLine)
	case model.SvcVNC:
		v33 := p.f.Version == "003.003"
		reply := []byte("RFB 003.008\n")
		if v33 {
			reply = []byte("RFB 003.003\n")
		}
		r, _ := s.exchange(reply, w, func(b []byte) bool {
			if v33 {
				return len(b) >= 4
			}
			return len(b) >= 1+int(b[0])
		})
		parseVNCSecurity(r, v33, p.f)
	}
	if p.tls && p.f.StartTLS != nil {
		p.f.StartTLS = nil // inside TLS, an upgrade offer means nothing
	}
}

// containsLinePrefix reports whether some complete line of b starts with prefix.
func containsLinePrefix(b []byte, prefix string) bool {
	start := 0
	for i, c := range b {
		if c != '\n' {
			continue
		}
		line := string(b[start:i])
		if len(line) >= len(prefix) && line[:len(prefix)] == prefix {
			return true
		}
		start = i + 1
	}
	return false
}

// plainProbes are asked in this order, after the ones the port number suggests.
var plainProbes = []probe{
	{"tls", (*prober).probeTLS},
	{"http", func(p *prober, s *session) bool { return p.probeHTTP(s) }},
	{"redis", (*prober).probeRedis},
	{"memcached", (*prober).probeMemcached},
	{"postgres", (*prober).probePostgres},
	{"mongodb", (*prober).probeMongo},
	{"xmpp", (*prober).probeXMPP},
	{"ldap", (*prober).probeLDAP},
	{"rdp", (*prober).probeRDP},
	{"mqtt", (*prober).probeMQTT},
	{"irc", (*prober).probeIRC},
	{"sip", (*prober).probeSIP},
}

// tlsProbes are asked inside TLS when the TLS service does not speak first.
var tlsProbes = []probe{
	{"http", func(p *prober, s *session) bool { return p.probeHTTP(s) }},
	{"xmpp", (*prober).probeXMPP},
	{"mqtt", (*prober).probeMQTT},
	{"redis", (*prober).probeRedis},
	{"irc", (*prober).probeIRC},
	{"ldap", (*prober).probeLDAP},
	{"sip", (*prober).probeSIP},
}

// portHints name the probe to try first on well-known ports, so a conventional service is
// identified with one question.
var portHints = map[uint16]string{
	80: "http", 443: "tls", 8080: "http", 8443: "tls", 8000: "http", 8008: "http", 8448: "tls",
	6379: "redis", 11211: "memcached", 5432: "postgres", 27017: "mongodb", 27018: "mongodb",
	5222: "xmpp", 5269: "xmpp", 5223: "tls", 5270: "tls", 389: "ldap", 636: "tls", 3389: "rdp",
	1883: "mqtt", 8883: "tls", 6667: "irc", 6697: "tls", 9200: "http", 2375: "http", 2376: "tls",
	2379: "http", 6443: "tls", 993: "tls", 995: "tls", 465: "tls", 10250: "tls", 5060: "sip", 5061: "tls",
}

// order puts the hinted probe first.
func order(ps []probe, port uint16) []probe {
	hint, ok := portHints[port]
	if !ok {
		return ps
	}
	out := make([]probe, 0, len(ps))
	for _, pr := range ps {
		if pr.name == hint {
			out = append(out, pr)
		}
	}
	for _, pr := range ps {
		if pr.name != hint {
			out = append(out, pr)
		}
	}
	return out
}

// runProbes asks each probe on a fresh connection until one identifies the service.
func (p *prober) runProbes(ps []probe) {
	for _, pr := range order(ps, p.addr.Port()) {
		if p.ctx.Err() != nil {
			return
		}
		s, err := p.open()
		if err != nil {
			p.f.Error = fmt.Sprintf("%s probe: %v", pr.name, err)
			if p.ctx.Err() != nil || !isRefusal(err) {
				return
			}
			continue
		}
		p.f.Probes = append(p.f.Probes, pr.name)
		ok := pr.run(p, s)
		s.close()
		if ok {
			p.f.Error = ""
			return
		}
	}
}

// open dials a fresh probe connection, inside TLS when the port spoke TLS.
func (p *prober) open() (*session, error) {
	c, err := p.d.Dial(p.ctx, p.addr)
	if err != nil {
		return nil, err
	}
	if !p.tls {
		return &session{conn: c}, nil
	}
	tc := tls.Client(c, p.tlsConfig())
	hctx, cancel := context.WithTimeout(p.ctx, p.opts.ProbeWait)
	defer cancel()
	if err := tc.HandshakeContext(hctx); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("tls handshake: %w", err)
	}
	return &session{conn: tc}, nil
}

func isRefusal(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, net.ErrClosed)
}

func (p *prober) tlsConfig() *tls.Config {
	name := p.opts.ServerName
	if name == "" {
		name = p.addr.Addr().String()
	}
	return &tls.Config{
		// Identification only learns that TLS answers here; the certificate is judged by
		// the TLS prober, never here.
		InsecureSkipVerify: true, //nolint:gosec // see above
		MinVersion:         tls.VersionTLS10,
		ServerName:         name,
	}
}

// pop3Done: a one-line -ERR (POP3) or 4xx/5xx (NNTP), or a multi-line reply ended by a line
// holding only ".".
func pop3Done(b []byte) bool {
	if bytes.HasPrefix(b, []byte("-ERR")) || (len(b) > 0 && (b[0] == '4' || b[0] == '5')) {
		return hasLine(b)
	}
	return bytes.HasSuffix(b, []byte("\r\n.\r\n")) || bytes.HasSuffix(b, []byte("\n.\n"))
}
