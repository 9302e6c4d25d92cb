package vuln

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"golang.org/x/crypto/cryptobyte"

	"github.com/rampart-scan/rampart/model"
	"github.com/rampart-scan/rampart/scanner/hello"
)

// ticket13 is what a TLS 1.3 NewSessionTicket carries that resumption needs.
type ticket13 struct {
	ticket       []byte
	nonce        []byte
	ageAdd       uint32
	maxEarlyData uint32
	received     time.Time
}

// parseNewSessionTicket parses a TLS 1.3 NewSessionTicket body.
func parseNewSessionTicket(body []byte) (*ticket13, error) {
	s := cryptobyte.String(body)
	t := &ticket13{}
	var lifetime uint32
	var nonce, tkt, exts cryptobyte.String
	if !s.ReadUint32(&lifetime) || !s.ReadUint32(&t.ageAdd) || !s.ReadUint8LengthPrefixed(&nonce) ||
		!s.ReadUint16LengthPrefixed(&tkt) || len(tkt) == 0 || !s.ReadUint16LengthPrefixed(&exts) || !s.Empty() {
		return nil, fmt.Errorf("%w: new session ticket", errBadHS)
	}
	t.nonce, t.ticket = slices.Clone([]byte(nonce)), slices.Clone([]byte(tkt))
	for !exts.Empty() {
		var typ uint16
		var data cryptobyte.String
		if !exts.ReadUint16(&typ) || !exts.ReadUint16LengthPrefixed(&data) {
			return nil, fmt.Errorf("%w: ticket extensions", errBadHS)
		}
		if typ == extEarlyData && (!data.ReadUint32(&t.maxEarlyData) || !data.Empty()) {
			return nil, fmt.Errorf("%w: early_data extension", errBadHS)
		}
	}
	return t, nil
}

// encryptedExtensions reports whether an EncryptedExtensions body carries early_data.
func encryptedExtensionsHaveEarlyData(body []byte) (bool, error) {
	s := cryptobyte.String(body)
	var exts cryptobyte.String
	if !s.ReadUint16LengthPrefixed(&exts) || !s.Empty() {
		return false, fmt.Errorf("%w: encrypted extensions", errBadHS)
	}
	for !exts.Empty() {
		var typ uint16
		var data cryptobyte.String
		if !exts.ReadUint16(&typ) || !exts.ReadUint16LengthPrefixed(&data) {
			return false, fmt.Errorf("%w: encrypted extensions", errBadHS)
		}
		if typ == extEarlyData {
			return true, nil
		}
	}
	return false, nil
}

// earlyData asks whether a TLS 1.3 server accepts 0-RTT. A minimal TLS 1.3 client
// (TLS_AES_128_GCM_SHA256, X25519, P-256 or P-384) completes a handshake and reads the server's
// first NewSessionTicket (one connection). A ticket without early_data means the server
// never accepts 0-RTT with it: not vulnerable. Otherwise a second connection resumes the
// ticket offering early_data — but sends no early data at all — and reads the server's
// EncryptedExtensions: early_data there means the server accepted 0-RTT (vulnerable), its
// absence that it declined.
func (p *prober) earlyData(ctx context.Context) *model.ProbeVerdict {
	if !slices.Contains(p.opts.Versions, hello.VersionTLS13) {
		return verdict(model.VerdictNotApplicable, "the server does not speak TLS 1.3, the only version with 0-RTT early data", 0, nil)
	}
	detail := map[string]string{}
	tkt, resMaster, conns, err := p.fetchTicket13(ctx, detail)
	if err != nil {
		return verdict(model.VerdictInconclusive, err.Error(), conns, detail)
	}
	if tkt == nil {
		return verdict(model.VerdictInconclusive, "the server sent no TLS 1.3 session ticket after the handshake, so 0-RTT could not be tested", conns, detail)
	}
	detail["max_early_data"] = fmt.Sprint(tkt.maxEarlyData)
	if tkt.maxEarlyData == 0 {
		return verdict(model.VerdictNotVulnerable, "the server's session ticket carries no early_data extension: it does not accept 0-RTT with it", conns, detail)
	}
	accepted, why, err := p.resumeWithEarlyData(ctx, tkt, resMaster)
	conns++
	if err != nil {
		return verdict(model.VerdictInconclusive, fmt.Sprintf("the ticket allows %d bytes of early data, but resuming it failed: %v", tkt.maxEarlyData, err), conns, detail)
	}
	detail["resumption"] = why
	if accepted {
		return verdict(model.VerdictVulnerable, fmt.Sprintf("the server issues tickets allowing %d bytes of early data and accepted 0-RTT when one was resumed", tkt.maxEarlyData), conns, detail)
	}
	return verdict(model.VerdictNotVulnerable, "the server's ticket announces early data, but the server declined 0-RTT when it was resumed", conns, detail)
}

// fetchTicket13 runs a full TLS 1.3 handshake and returns the first ticket and the
// resumption master secret.
func (p *prober) fetchTicket13(ctx context.Context, detail map[string]string) (*ticket13, []byte, int, error) {
	c := &tls13Client{}
	msg, err := c.hello13(p.opts.ServerName, nil)
	if err != nil {
		return nil, nil, 0, err
	}
	s, err := p.open(ctx)
	if err != nil {
		return nil, nil, 0, err
	}
	defer s.Close()
	c.s = s
	if err := s.write(hello.Record(hello.VersionTLS10, msg)); err != nil {
		return nil, nil, 1, err
	}
	c.transcript = slices.Clone(msg)
	if _, err := c.serverHello(nil); err != nil {
		return nil, nil, 1, fmt.Errorf("TLS 1.3 handshake: %s", refusalOrErr(err))
	}
	sKeys, err := newTLS13Keys(c.sHS)
	if err != nil {
		return nil, nil, 1, err
	}
	for done := false; !done; {
		typ, _, raw, err := c.nextEncrypted(sKeys)
		if err != nil {
			return nil, nil, 1, fmt.Errorf("TLS 1.3 handshake: %s", refusalOrErr(err))
		}
		c.transcript = append(c.transcript, raw...)
		switch typ {
		case hsCertificateReq:
			return nil, nil, 1, errors.New("the server asks for a client certificate; 0-RTT was not tested")
		case hsFinished:
			done = true
		}
	}
	cAP, err := deriveSecret(c.master, "c ap traffic", c.transcript)
	if err != nil {
		return nil, nil, 1, err
	}
	_ = cAP // the client sends no application data
	sAP, err := deriveSecret(c.master, "s ap traffic", c.transcript)
	if err != nil {
		return nil, nil, 1, err
	}
	mac, err := finishedMAC(c.cHS, c.transcript)
	if err != nil {
		return nil, nil, 1, err
	}
	fin := append([]byte{hsFinished, 0, 0, byte(len(mac))}, mac...)
	cKeys, err := newTLS13Keys(c.cHS)
	if err != nil {
		return nil, nil, 1, err
	}
	out := append(plainRecord(recChangeCipherSpec, hello.VersionTLS12, []byte{1}), cKeys.seal(recHandshake, fin)...)
	if err := s.write(out); err != nil {
		return nil, nil, 1, err
	}
	c.transcript = append(c.transcript, fin...)
	resMaster, err := deriveSecret(c.master, "res master", c.transcript)
	if err != nil {
		return nil, nil, 1, err
	}
	detail["handshake"] = "completed"
	apKeys, err := newTLS13Keys(sAP)
	if err != nil {
		return nil, nil, 1, err
	}
	c.hsBuf = nil
	s.waitFor(p.opts.Wait)
	for {
		typ, body, _, err := c.nextEncrypted(apKeys)
		if err != nil {
			if classify(err) == "timeout" || classify(err) == "closed" {
				return nil, resMaster, 1, nil
			}
			return nil, nil, 1, fmt.Errorf("waiting for a session ticket: %s", refusalOrErr(err))
		}
		if typ == hsNewTicket {
			t, err := parseNewSessionTicket(body)
			if err != nil {
				return nil, nil, 1, err
			}
			t.received = time.Now()
			return t, resMaster, 1, nil
		}
	}
}

// resumeWithEarlyData offers the ticket with early_data and reports whether the server's
// EncryptedExtensions accept it. No early data is sent.
func (p *prober) resumeWithEarlyData(ctx context.Context, t *ticket13, resMaster []byte) (bool, string, error) {
	psk, err := expandLabel(resMaster, "resumption", t.nonce, 32)
	if err != nil {
		return false, "", err
	}
	age := uint32(time.Since(t.received).Milliseconds()) + t.ageAdd
	var b cryptobyte.Builder
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(t.ticket) })
		b.AddUint32(age)
	})
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
		b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(make([]byte, 32)) })
	})
	pskExt, err := b.Bytes()
	if err != nil {
		return false, "", fmt.Errorf("pre_shared_key: %w", err)
	}
	c := &tls13Client{}
	msg, err := c.hello13(p.opts.ServerName, []extension{{typ: extEarlyData}, {typ: extPreSharedKey, data: pskExt}})
	if err != nil {
		return false, "", err
	}
	early := extract(psk, nil)
	binderKey, err := deriveSecret(early, "res binder", nil)
	if err != nil {
		return false, "", err
	}
	binder, err := finishedMAC(binderKey, msg[:len(msg)-35]) // binders list: 2 + 1 + 32 bytes
	if err != nil {
		return false, "", err
	}
	copy(msg[len(msg)-32:], binder)
	s, err := p.open(ctx)
	if err != nil {
		return false, "", err
	}
	defer s.Close()
	c.s = s
	if err := s.write(hello.Record(hello.VersionTLS10, msg)); err != nil {
		return false, "", err
	}
	c.transcript = slices.Clone(msg)
	sh, err := c.serverHello(psk)
	if err != nil {
		return false, "", errors.New(refusalOrErr(err))
	}
	if !slices.Contains(sh.Extensions, extPreSharedKey) {
		return false, "", errors.New("the server did not accept the ticket (full handshake instead)")
	}
	sKeys, err := newTLS13Keys(c.sHS)
	if err != nil {
		return false, "", err
	}
	typ, body, _, err := c.nextEncrypted(sKeys)
	if err != nil {
		return false, "", errors.New(refusalOrErr(err))
	}
	if typ != hsEncryptedExts {
		return false, "", fmt.Errorf("%w: message %d instead of encrypted extensions", errBadHS, typ)
	}
	ok, err := encryptedExtensionsHaveEarlyData(body)
	if err != nil {
		return false, "", err
	}
	if ok {
		return true, "ticket resumed, early_data accepted", nil
	}
	return false, "ticket resumed, early_data declined", nil
}

// refusalOrErr names an alert, or gives the error.
func refusalOrErr(err error) string {
	if a, ok := alertOf(err); ok {
		return "the server answered with " + a.Error()
	}
	return err.Error()
}
