package vuln

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"golang.org/x/crypto/cryptobyte"

	"github.com/rampart-scan/rampart/model"
	"github.com/rampart-scan/rampart/scanner/hello"
)

// The suites the minimal TLS 1.2 client implements: ECDHE with AES-128-GCM and SHA-256.
var renegSuites = []uint16{0xc02f, 0xc02b} // ECDHE_RSA / ECDHE_ECDSA _WITH_AES_128_GCM_SHA256

// clientRenegotiation completes a TLS 1.2 handshake (ECDHE, AES-128-GCM; one connection)
// with a minimal client, then sends a new ClientHello inside the encrypted connection —
// carrying renegotiation_info with the client's Finished when the server supports RFC 5746
// — and reads the next record. An encrypted handshake record (the server's new hello)
// means the server accepts client-initiated renegotiation; a no_renegotiation or fatal
// alert, or a close, means it refuses. The renegotiation is never completed.
func (p *prober) clientRenegotiation(ctx context.Context) *model.ProbeVerdict {
	if !slices.Contains(p.opts.Versions, hello.VersionTLS12) {
		if p.opts.highestLegacy() == 0 {
			return verdict(model.VerdictNotApplicable, "the server speaks only TLS 1.3, which has no renegotiation", 0, nil)
		}
		return verdict(model.VerdictInconclusive, "not tested: the renegotiation probe needs TLS 1.2, and the server's newest version is older", 0, nil)
	}
	if len(p.opts.Suites) > 0 && !slices.ContainsFunc(p.opts.Suites, func(id uint16) bool { return slices.Contains(renegSuites, id) }) {
		return verdict(model.VerdictInconclusive, "not tested: the renegotiation probe needs an ECDHE AES-128-GCM-SHA256 suite, which the server does not accept", 0, nil)
	}
	c := &tls12Client{p: p}
	verdictName, why, conns := c.run(ctx)
	return verdict(verdictName, why, conns, c.detail)
}

// tls12Client is the minimal TLS 1.2 client of the renegotiation probe. It does not
// authenticate the server: the probe only needs a working record layer.
type tls12Client struct {
	p          *prober
	s          *session
	detail     map[string]string
	transcript []byte
	clientKey  []byte
	serverKey  []byte
	clientIV   []byte
	serverIV   []byte
	clientSeq  uint64
	serverSeq  uint64
}

func (c *tls12Client) run(ctx context.Context) (string, string, int) {
	c.detail = map[string]string{}
	spec := helloSpec{version: hello.VersionTLS12, suites: renegSuites, serverName: c.p.opts.ServerName}
	s, f, msg, err := c.p.start(ctx, spec, false)
	if err != nil {
		conns := 1
		if s == nil && f == nil {
			conns = 0
		}
		return model.VerdictInconclusive, "initial handshake: " + refusal(err), conns
	}
	c.s = s
	defer s.Close()
	if why, err := c.finishHandshake(msg, f); err != nil {
		return model.VerdictInconclusive, why + ": " + err.Error(), 1
	}
	c.detail["secure_renegotiation"] = fmt.Sprint(f.hello.SecureRenegotiation)
	spec2 := helloSpec{version: hello.VersionTLS12, suites: renegSuites, serverName: c.p.opts.ServerName}
	if f.hello.SecureRenegotiation {
		spec2.noSCSV = true
		spec2.extra = []extension{{typ: extRenegInfo, data: append([]byte{12}, c.clientVerify()...)}}
	}
	msg2, err := buildHello(spec2)
	if err != nil {
		return model.VerdictInconclusive, err.Error(), 1
	}
	if err := c.send(recHandshake, msg2); err != nil {
		return model.VerdictInconclusive, "sending the renegotiation hello: " + err.Error(), 1
	}
	for {
		rec, err := s.rr.next()
		if err != nil {
			how := classify(err)
			c.detail["answer"] = how
			if how == "closed" || how == "reset" {
				return model.VerdictNotVulnerable, "the server closed the connection when the client started a renegotiation", 1
			}
			return model.VerdictInconclusive, "after the renegotiation hello: " + how, 1
		}
		switch rec.typ {
		case recHandshake:
			c.detail["answer"] = "handshake"
			return model.VerdictVulnerable, "the server answered a client-initiated renegotiation hello with a new handshake", 1
		case recAlert:
			pt, err := c.open(rec)
			if err != nil || len(pt) < 2 {
				c.detail["answer"] = "undecryptable alert"
				return model.VerdictNotVulnerable, "the server answered the renegotiation hello with an alert", 1
			}
			a := alertError{pt[0], pt[1]}
			c.detail["answer"] = a.Error()
			return model.VerdictNotVulnerable, "the server refused the client-initiated renegotiation with " + a.Error(), 1
		case recApplicationData:
			continue // data the server had queued (a banner): keep reading
		default:
			c.detail["answer"] = fmt.Sprintf("record %d", rec.typ)
			return model.VerdictInconclusive, fmt.Sprintf("the server answered the renegotiation hello with an unexpected record type %d", rec.typ), 1
		}
	}
}

// finishHandshake completes the initial handshake after the server's first flight.
func (c *tls12Client) finishHandshake(clientHello []byte, f *flight) (string, error) {
	sh := f.hello
	if sh.Version() != hello.VersionTLS12 || !slices.Contains(renegSuites, sh.Suite) {
		return "initial handshake", fmt.Errorf("server chose %s suite %#04x", hello.VersionName(sh.Version()), sh.Suite)
	}
	if f.certReq {
		return "initial handshake", errors.New("the server asks for a client certificate")
	}
	curve, point, err := parseECDHParams(f.kx)
	if err != nil {
		return "server key exchange", err
	}
	var ec ecdh.Curve
	switch curve {
	case 29:
		ec = ecdh.X25519()
	case 23:
		ec = ecdh.P256()
	case 24:
		ec = ecdh.P384()
	case 25:
		ec = ecdh.P521()
	default:
		return "server key exchange", fmt.Errorf("unsupported group %d", curve)
	}
	peer, err := ec.NewPublicKey(point)
	if err != nil {
		return "server key exchange", fmt.Errorf("server public key: %w", err)
	}
	priv, err := ec.GenerateKey(rand.Reader)
	if err != nil {
		return "key exchange", fmt.Errorf("generate key: %w", err)
	}
	pms, err := priv.ECDH(peer)
	if err != nil {
		return "key exchange", fmt.Errorf("ECDH: %w", err)
	}
	pub := priv.PublicKey().Bytes()
	cke := []byte{hsClientKeyExchange, 0, 0, byte(len(pub) + 1), byte(len(pub))}
	cke = append(cke, pub...)
	c.transcript = slices.Concat(clientHello, f.transcript, cke)

	var clientRandom [32]byte
	copy(clientRandom[:], clientHello[6:38])
	ms := prf12(pms, "master secret", slices.Concat(clientRandom[:], sh.Random), 48)
	kb := prf12(ms, "key expansion", slices.Concat(sh.Random, clientRandom[:]), 40)
	c.clientKey, c.serverKey, c.clientIV, c.serverIV = kb[:16], kb[16:32], kb[32:36], kb[36:40]
	th := sha256.Sum256(c.transcript)
	fin := append([]byte{hsFinished, 0, 0, 12}, prf12(ms, "client finished", th[:], 12)...)
	c.transcript = append(c.transcript, fin...)

	out := slices.Concat(plainRecord(recHandshake, hello.VersionTLS12, cke), plainRecord(recChangeCipherSpec, hello.VersionTLS12, []byte{1}))
	if err := c.s.write(out); err != nil {
		return "client key exchange", err
	}
	if err := c.send(recHandshake, fin); err != nil {
		return "client finished", err
	}
	// Server: optional NewSessionTicket, ChangeCipherSpec, then its encrypted Finished.
	for seenCCS := false; ; {
		rec, err := c.s.rr.next()
		if err != nil {
			return "server finished", errors.New(classify(err))
		}
		switch {
		case rec.typ == recAlert && !seenCCS && len(rec.body) >= 2:
			return "initial handshake", alertError{rec.body[0], rec.body[1]}
		case rec.typ == recChangeCipherSpec:
			seenCCS = true
		case rec.typ == recHandshake && !seenCCS:
			// NewSessionTicket in clear text: ignored.
		case rec.typ == recHandshake && seenCCS:
			pt, err := c.open(rec)
			if err != nil {
				return "server finished", err
			}
			if len(pt) < 4 || pt[0] != hsFinished {
				return "server finished", fmt.Errorf("%w: not a Finished", errBadHS)
			}
			c.detail["handshake"] = "completed"
			return "", nil
		default:
			if rec.typ == recAlert && len(rec.body) >= 2 {
				return "server finished", errors.New("encrypted alert instead of Finished")
			}
			return "server finished", fmt.Errorf("unexpected record type %d", rec.typ)
		}
	}
}

// clientVerify is the verify_data of the client's Finished (the last 12 transcript bytes
// of the Finished message, which closes the transcript).
func (c *tls12Client) clientVerify() []byte {
	return c.transcript[len(c.transcript)-12:]
}

// send encrypts and writes one record.
func (c *tls12Client) send(typ uint8, pt []byte) error {
	block, err := aes.NewCipher(c.clientKey)
	if err != nil {
		return fmt.Errorf("cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return fmt.Errorf("gcm: %w", err)
	}
	explicit := binary.BigEndian.AppendUint64(nil, c.clientSeq)
	nonce := slices.Concat(c.clientIV, explicit)
	ad := binary.BigEndian.AppendUint64(nil, c.clientSeq)
	ad = append(ad, typ, 3, 3, byte(len(pt)>>8), byte(len(pt)))
	c.clientSeq++
	body := aead.Seal(explicit, nonce, pt, ad)
	return c.s.write(plainRecord(typ, hello.VersionTLS12, body))
}

// open decrypts one record from the server.
func (c *tls12Client) open(rec record) ([]byte, error) {
	block, err := aes.NewCipher(c.serverKey)
	if err != nil {
		return nil, fmt.Errorf("cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("gcm: %w", err)
	}
	if len(rec.body) < 8+aead.Overhead() {
		return nil, fmt.Errorf("%w: short encrypted record", errBadRecord)
	}
	nonce := slices.Concat(c.serverIV, rec.body[:8])
	n := len(rec.body) - 8 - aead.Overhead()
	ad := binary.BigEndian.AppendUint64(nil, c.serverSeq)
	ad = append(ad, rec.typ, 3, 3, byte(n>>8), byte(n))
	pt, err := aead.Open(nil, nonce, rec.body[8:], ad)
	if err != nil {
		return nil, fmt.Errorf("decrypt server record: %w", err)
	}
	c.serverSeq++
	return pt, nil
}

// parseECDHParams reads the named curve and point of an ECDHE ServerKeyExchange.
func parseECDHParams(body []byte) (uint16, []byte, error) {
	if body == nil {
		return 0, nil, errors.New("no server key exchange")
	}
	s := cryptobyte.String(body)
	var typ uint8
	var curve uint16
	var point cryptobyte.String
	if !s.ReadUint8(&typ) || typ != 3 || !s.ReadUint16(&curve) || !s.ReadUint8LengthPrefixed(&point) || len(point) == 0 {
		return 0, nil, fmt.Errorf("%w: ECDH parameters", errBadHS)
	}
	return curve, []byte(point), nil
}

// prf12 is the TLS 1.2 PRF with SHA-256 (RFC 5246 §5).
func prf12(secret []byte, label string, seed []byte, n int) []byte {
	seed = append([]byte(label), seed...)
	out := make([]byte, 0, n+sha256.Size)
	a := seed
	for len(out) < n {
		h := hmac.New(sha256.New, secret)
		h.Write(a)
		a = h.Sum(nil)
		h = hmac.New(sha256.New, secret)
		h.Write(a)
		h.Write(seed)
		out = h.Sum(out)
	}
	return out[:n]
}
