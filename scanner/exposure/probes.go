package exposure

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"

	"github.com/rampart-scan/rampart/model"
)

// keep records the identifying reply as the banner when the service did not speak first.
func (p *prober) keep(b []byte) {
	if p.f.Banner == "" && len(b) > 0 {
		p.f.Banner = escape(b, bannerKeep)
	}
}

// recorder keeps the first bytes a server sends during the TLS probe, so a plaintext answer
// to the ClientHello is still seen.
type recorder struct {
	net.Conn
	mu  sync.Mutex
	buf []byte
}

func (r *recorder) Read(b []byte) (int, error) {
	n, err := r.Conn.Read(b)
	r.mu.Lock()
	if room := bannerKeep - len(r.buf); room > 0 {
		r.buf = append(r.buf, b[:min(n, room)]...)
	}
	r.mu.Unlock()
	return n, err
}

func (r *recorder) seen() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]byte(nil), r.buf...)
}

// probeTLS sends a ClientHello. A completed handshake or a TLS alert means TLS answers here;
// after a handshake the service inside is identified like a plaintext one.
func (p *prober) probeTLS(s *session) bool {
	rec := &recorder{Conn: s.conn}
	tc := tls.Client(rec, p.tlsConfig())
	hctx, cancel := context.WithTimeout(p.ctx, p.opts.ProbeWait)
	err := tc.HandshakeContext(hctx)
	cancel()
	if err != nil {
		var alert tls.AlertError
		seen := rec.seen()
		if errors.As(err, &alert) || (len(seen) >= 3 && seen[0] == 0x15 && seen[1] == 3) {
			p.f.TLS = true
			setExtra(p.f, "tls_error", err.Error())
			return true
		}
		if len(seen) > 0 {
			setExtraEscaped(p.f, "tls_probe_reply", escape(seen, 64))
		}
		return false
	}
	p.f.TLS = true
	p.f.TLSVersion = tls.VersionName(tc.ConnectionState().Version)
	p.tls = true
	inner := &session{conn: tc}
	// On the usual HTTPS ports nothing speaks first: skip the banner wait.
	spoke := !httpsPorts[p.addr.Port()] && p.banner(inner)
	inner.close()
	if !spoke {
		p.runProbes(tlsProbes)
	}
	return true
}

// httpsPorts are ports where TLS almost always wraps HTTP (web, Matrix federation, the
// Kubernetes, Docker and kubelet APIs).
var httpsPorts = map[uint16]bool{443: true, 8443: true, 9443: true, 8448: true, 6443: true, 2376: true, 10250: true}

// probeHTTP sends GET / and, for API servers, GET /version.
func (p *prober) probeHTTP(s *session) bool {
	r, _ := s.exchange(httpRequest(p.host(), "/"), p.opts.ProbeWait, httpDone)
	if !classifyHTTP(r, "/", p.f) {
		return false
	}
	p.keep(r)
	switch p.f.Service {
	case model.SvcHTTP, model.SvcKubernetes:
	case model.SvcDocker:
		if p.f.AuthRequired != nil {
			return true
		}
	default:
		return true
	}
	s2, err := p.open()
	if err != nil {
		return true
	}
	defer s2.close()
	p.f.Probes = append(p.f.Probes, "http:/version")
	r2, _ := s2.exchange(httpRequest(p.host(), "/version"), p.opts.ProbeWait, httpDone)
	classifyHTTP(r2, "/version", p.f)
	return true
}

func (p *prober) probeRedis(s *session) bool {
	r, _ := s.exchange([]byte("PING\r\n"), p.opts.ProbeWait, hasLine)
	if !parseRedis(r, p.f) {
		return false
	}
	p.keep(r)
	if p.f.AuthRequired != nil && !*p.f.AuthRequired {
		info, _ := s.exchange([]byte("INFO server\r\n"), p.opts.ProbeWait, redisInfoDone)
		parseRedisInfo(info, p.f)
	}
	p.plaintextNoUpgrade()
	return true
}

func (p *prober) probeMemcached(s *session) bool {
	r, _ := s.exchange([]byte("version\r\n"), p.opts.ProbeWait, hasLine)
	if !parseMemcached(r, p.f) {
		return false
	}
	p.keep(r)
	p.plaintextNoUpgrade()
	return true
}

// sslRequest is PostgreSQL's SSLRequest: length 8, code 80877103.
var sslRequest = []byte{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f}

func (p *prober) probePostgres(s *session) bool {
	r, _ := s.exchange(sslRequest, p.opts.ProbeWait, anyBytes)
	if !parsePostgres(r, p.f) {
		return false
	}
	p.keep(r)
	if p.tls {
		p.f.StartTLS = nil
	}
	return true
}

func (p *prober) probeMongo(s *session) bool {
	r, _ := s.exchange(mongoHello(), p.opts.ProbeWait, mongoDone)
	if !parseMongoReply(r, p.f) {
		return false
	}
	p.keep(r)
	return true
}

func (p *prober) probeXMPP(s *session) bool {
	to := strings.Trim(p.host(), "[]")
	hdr := "<?xml version='1.0'?><stream:stream to='" + xmlEscape(to) +
		"' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>"
	r, _ := s.exchange([]byte(hdr), p.opts.ProbeWait, func(b []byte) bool {
		return bytes.Contains(b, []byte("</stream:features>")) || bytes.Contains(b, []byte("</stream:stream>")) ||
			bytes.Contains(b, []byte("</stream:error>"))
	})
	if !parseXMPP(r, p.f) {
		return false
	}
	p.keep(r)
	if p.tls {
		p.f.StartTLS = nil
	}
	_, _ = s.exchange([]byte("</stream:stream>"), p.opts.ProbeWait/4, anyBytes)
	return true
}

func xmlEscape(s string) string {
	var b strings.Builder
	for _, c := range s {
		switch c {
		case '<', '>', '&', '\'', '"':
			b.WriteString("&#" + strconv.Itoa(int(c)) + ";")
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

// ldapAnonymousBind is BindRequest(messageID 1, version 3, name "", simple "").
var ldapAnonymousBind = []byte{0x30, 0x0c, 0x02, 0x01, 0x01, 0x60, 0x07, 0x02, 0x01, 0x03, 0x04, 0x00, 0x80, 0x00}

// ldapUnbind is UnbindRequest(messageID 2).
var ldapUnbind = []byte{0x30, 0x05, 0x02, 0x01, 0x02, 0x42, 0x00}

func (p *prober) probeLDAP(s *session) bool {
	r, _ := s.exchange(ldapAnonymousBind, p.opts.ProbeWait, ldapDone)
	if !parseLDAPBind(r, p.f) {
		return false
	}
	p.keep(r)
	_, _ = s.conn.Write(ldapUnbind)
	return true
}

// rdpConnectionRequest is TPKT + X.224 Connection Request + RDP_NEG_REQ offering TLS and
// CredSSP (the first message of every RDP client).
var rdpConnectionRequest = []byte{
	0x03, 0x00, 0x00, 0x13, // TPKT, length 19
	0x0e, 0xe0, 0x00, 0x00, 0x00, 0x00, 0x00, // X.224 CR
	0x01, 0x00, 0x08, 0x00, 0x03, 0x00, 0x00, 0x00, // RDP_NEG_REQ: PROTOCOL_SSL | PROTOCOL_HYBRID
}

func (p *prober) probeRDP(s *session) bool {
	r, _ := s.exchange(rdpConnectionRequest, p.opts.ProbeWait, func(b []byte) bool {
		return len(b) >= 4 && (b[0] != 3 || len(b) >= int(b[2])<<8|int(b[3]))
	})
	if !parseRDP(r, p.f) {
		return false
	}
	p.keep(r)
	return true
}

// mqttConnect is an MQTT 3.1.1 CONNECT, clean session, no credentials, client id
// "rampart-probe".
func mqttConnect() []byte {
	id := "rampart-probe"
	vh := []byte{0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00, 0x3c}
	pl := append([]byte{0x00, byte(len(id))}, id...)
	return append(append([]byte{0x10, byte(len(vh) + len(pl))}, vh...), pl...)
}

func (p *prober) probeMQTT(s *session) bool {
	r, _ := s.exchange(mqttConnect(), p.opts.ProbeWait, func(b []byte) bool { return len(b) >= 4 })
	if !parseMQTTConnack(r, p.f) {
		return false
	}
	p.keep(r)
	if len(r) >= 4 && r[3] == 0 {
		_, _ = s.conn.Write([]byte{0xe0, 0x00}) // DISCONNECT
	}
	p.plaintextNoUpgrade()
	return true
}

func (p *prober) probeIRC(s *session) bool {
	r, _ := s.exchange([]byte("CAP LS 302\r\nPING :rampart\r\n"), p.opts.ProbeWait, func(b []byte) bool {
		return bytes.Contains(b, []byte(" PONG ")) || bytes.Contains(b, []byte(" 451 ")) ||
			(bytes.Contains(b, []byte(" CAP ")) && hasLine(b))
	})
	if !parseIRC(r, p.f) {
		return false
	}
	p.keep(r)
	if p.tls {
		p.f.StartTLS = nil
	}
	_, _ = s.conn.Write([]byte("QUIT\r\n"))
	return true
}

// plaintextNoUpgrade records that a protocol without an in-band TLS upgrade was found in
// plaintext.
func (p *prober) plaintextNoUpgrade() {
	if !p.tls {
		p.f.StartTLS = ptr(false)
	}
}

// sipOptions is a SIP OPTIONS request (RFC 3261 §11): the capability query every SIP element
// answers, outside any dialog.
func (p *prober) sipOptions() []byte {
	h := strings.Trim(p.host(), "[]")
	transport := "TCP"
	if p.tls {
		transport = "TLS"
	}
	return []byte("OPTIONS sip:" + h + " SIP/2.0\r\n" +
		"Via: SIP/2.0/" + transport + " rampart.invalid;branch=z9hG4bK-rampart-probe\r\n" +
		"Max-Forwards: 70\r\n" +
		"To: <sip:" + h + ">\r\n" +
		"From: <sip:rampart@rampart.invalid>;tag=rampart\r\n" +
		"Call-ID: rampart-probe@rampart.invalid\r\n" +
		"CSeq: 1 OPTIONS\r\n" +
		"Accept: application/sdp\r\n" +
		"Content-Length: 0\r\n\r\n")
}

func (p *prober) probeSIP(s *session) bool {
	r, _ := s.exchange(p.sipOptions(), p.opts.ProbeWait, func(b []byte) bool {
		return bytes.Contains(b, []byte("\r\n\r\n")) || (len(b) >= 8 && !bytes.HasPrefix(b, []byte("SIP/2.0 ")))
	})
	if !parseSIP(r, p.f) {
		return false
	}
	p.keep(r)
	p.plaintextNoUpgrade()
	return true
}
