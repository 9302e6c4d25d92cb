package vuln

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
)

// labConfig selects the vulnerable behaviours of the lab server.
type labConfig struct {
	heartbleed  bool   // echo heartbeat payloads past their length (CVE-2014-0160)
	acceptCCS   bool   // accept a ChangeCipherSpec before the key exchange (CVE-2014-0224)
	oracle      string // "", "strong" (checks 00 02 only) or "weak" (full PKCS#1 check): Bleichenbacher oracle
	deflate     bool   // choose DEFLATE when offered
	noRenegInfo bool   // no RFC 5746 support
	ticketbleed bool   // echo 32 bytes of session ID on ticket resumption (CVE-2016-9244)
	ticketEcho  bool   // resume tickets echoing the session ID correctly
}

// labServer is a minimal TLS ≤ 1.2 server at the record level that really implements the
// selected vulnerable behaviours. It completes no handshake: it goes as far as each probe
// needs (ServerHello … ServerHelloDone, then the records a probe sends).
type labServer struct {
	t    *testing.T
	cfg  labConfig
	ln   net.Listener
	key  *rsa.PrivateKey
	cert []byte
	tlsC *tls.Config
	wg   sync.WaitGroup
}

var (
	labKeyOnce sync.Once
	labKey     *rsa.PrivateKey
	labCert    []byte
)

func labCredentials(t *testing.T) (*rsa.PrivateKey, []byte) {
	labKeyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "lab.test"}, DNSNames: []string{"lab.test"},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
		if err != nil {
			panic(err)
		}
		labKey, labCert = k, der
	})
	return labKey, labCert
}

func startLab(t *testing.T, cfg labConfig) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	k, c := labCredentials(t)
	s := &labServer{t: t, cfg: cfg, ln: ln, key: k, cert: c}
	s.tlsC = &tls.Config{MaxVersion: tls.VersionTLS12, Certificates: []tls.Certificate{{Certificate: [][]byte{c}, PrivateKey: k}}}
	s.wg.Add(1)
	go s.serve()
	t.Cleanup(func() { ln.Close(); s.wg.Wait() })
	return ln.Addr().String()
}

func (s *labServer) serve() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(20 * time.Second)) // testssl.sh waits 5 s after each early CCS
			s.handle(c)
		}()
	}
}

type labHello struct {
	raw         []byte
	version     uint16
	sessionID   []byte
	suites      []uint16
	compression []byte
	heartbeat   bool
	ticket      []byte
}

func parseLabHello(raw []byte) (*labHello, bool) {
	h := &labHello{raw: raw}
	s := cryptobyte.String(raw[4:])
	var random, sid, suites, comp, exts cryptobyte.String
	if !s.ReadUint16(&h.version) || !s.ReadBytes((*[]byte)(&random), 32) || !s.ReadUint8LengthPrefixed(&sid) ||
		!s.ReadUint16LengthPrefixed(&suites) || !s.ReadUint8LengthPrefixed(&comp) {
		return nil, false
	}
	h.sessionID, h.compression = sid, comp
	for !suites.Empty() {
		var id uint16
		suites.ReadUint16(&id)
		h.suites = append(h.suites, id)
	}
	if s.ReadUint16LengthPrefixed(&exts) {
		for !exts.Empty() {
			var typ uint16
			var data cryptobyte.String
			if !exts.ReadUint16(&typ) || !exts.ReadUint16LengthPrefixed(&data) {
				return nil, false
			}
			switch typ {
			case extHeartbeat:
				h.heartbeat = true
			case extSessionTicket:
				h.ticket = data
			}
		}
	}
	return h, true
}

func (s *labServer) handle(c net.Conn) {
	var peek bytes.Buffer
	rr := newRecordReader(io.TeeReader(c, &peek), maxFlight)
	_, _, raw, err := rr.handshake()
	if err != nil || raw[0] != hsClientHello {
		return
	}
	h, ok := parseLabHello(raw)
	if !ok {
		return
	}
	if len(h.ticket) == 0 && (s.cfg.ticketbleed || s.cfg.ticketEcho) {
		// A real handshake issues a real ticket.
		tc := tls.Server(&replayConn{Conn: c, r: io.MultiReader(bytes.NewReader(peek.Bytes()), c)}, s.tlsC)
		if tc.Handshake() == nil {
			_, _ = io.Copy(io.Discard, tc)
		}
		return
	}
	v := min(h.version, 0x0303)
	suite := uint16(0x002f)
	for _, id := range h.suites {
		if id == 0x002f || id == 0x0035 || id == 0x009c {
			suite = id
			break
		}
	}
	sid := make([]byte, 32)
	_, _ = rand.Read(sid)
	if len(h.ticket) > 0 {
		switch {
		case s.cfg.ticketbleed:
			sid = append(bytes.Clone(h.sessionID), bytes.Repeat([]byte{0xAA}, 32-len(h.sessionID))...)
		case s.cfg.ticketEcho:
			sid = h.sessionID
		}
	}
	comp := uint8(0)
	if s.cfg.deflate && bytes.Contains(h.compression, []byte{1}) {
		comp = 1
	}
	var b cryptobyte.Builder
	b.AddUint8(hsServerHello)
	b.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) {
		b.AddUint16(v)
		b.AddBytes(make([]byte, 32))
		b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(sid) })
		b.AddUint16(suite)
		b.AddUint8(comp)
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
			if !s.cfg.noRenegInfo {
				b.AddUint16(extRenegInfo)
				b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddUint8(0) })
			}
			if h.heartbeat && s.cfg.heartbleed {
				b.AddUint16(extHeartbeat)
				b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddUint8(1) })
			}
		})
	})
	b.AddUint8(hsCertificate)
	b.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) {
		b.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) {
			b.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(s.cert) })
		})
	})
	b.AddUint8(hsServerHelloDone)
	b.AddUint24(0)
	flight := b.BytesOrPanic()
	if _, err := c.Write(plainRecord(recHandshake, v, flight)); err != nil {
		return
	}
	if len(h.ticket) > 0 {
		return
	}
	s.afterFlight(c, rr, v)
}

// afterFlight plays the server's side after ServerHelloDone.
func (s *labServer) afterFlight(c net.Conn, rr *recordReader, v uint16) {
	alert := func(desc byte) { _, _ = c.Write(plainRecord(recAlert, v, []byte{2, desc})) }
	encrypted, sawCKE := false, false
	for {
		rec, err := rr.next()
		if err != nil {
			return
		}
		if encrypted {
			alert(20) // bad_record_mac: keys derived from nothing cannot decrypt anything
			return
		}
		switch rec.typ {
		case recHeartbeat:
			if !s.cfg.heartbleed || len(rec.body) < 3 || rec.body[0] != 1 {
				continue // RFC 6520: discard silently
			}
			claim := int(rec.body[1])<<8 | int(rec.body[2])
			memory := append(bytes.Clone(rec.body[3:]), bytes.Repeat([]byte("secret-key-material "), claim/20+1)...)
			resp := append([]byte{2, byte(claim >> 8), byte(claim)}, memory[:claim]...)
			resp = append(resp, make([]byte, 16)...)
			_, _ = c.Write(plainRecord(recHeartbeat, v, resp))
		case recChangeCipherSpec:
			if !sawCKE && !s.cfg.acceptCCS {
				alert(10)
				return
			}
			encrypted = true
		case recHandshake:
			if len(rec.body) < 6 || rec.body[0] != hsClientKeyExchange {
				alert(10)
				return
			}
			sawCKE = true
			if s.badPadding(rec.body[6:]) {
				alert(51) // decrypt_error at once: the oracle
				return
			}
		case recAlert:
			return
		default:
			alert(10)
			return
		}
	}
}

// badPadding decrypts a ClientKeyExchange and reports whether the oracle answers "bad" now.
func (s *labServer) badPadding(enc []byte) bool {
	if s.cfg.oracle == "" {
		return false
	}
	m := new(big.Int).Exp(new(big.Int).SetBytes(enc), s.key.D, s.key.N).FillBytes(make([]byte, s.key.Size()))
	if m[0] != 0 || m[1] != 2 {
		return true
	}
	if s.cfg.oracle == "strong" {
		return false
	}
	sep := bytes.IndexByte(m[2:], 0)
	return sep < 0 || len(m)-(sep+3) != 48
}

// replayConn replays bytes already read before the live connection.
type replayConn struct {
	net.Conn
	r io.Reader
}

func (c *replayConn) Read(p []byte) (int, error) { return c.r.Read(p) }

func dialTo(addr string) DialFunc {
	return func(ctx context.Context) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", addr)
	}
}
