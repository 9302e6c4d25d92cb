package vuln

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"sync"

	"github.com/rampart-scan/rampart/model"
	"github.com/rampart-scan/rampart/scanner/hello"
)

// robotVariant is one malformed (or well-formed) PKCS#1 v1.5 encryption of a premaster secret.
type robotVariant int

// The five variants, as in the ROBOT paper and SSLyze: a well-formed block, and four with
// one defect each.
const (
	robotValid         robotVariant = iota // 00 02 | padding | 00 | version | 46 bytes
	robotWrongFirst                        // 41 17 instead of 00 02
	robotZeroMisplaced                     // the 00 separator inside the padding: wrong length
	robotNoZero                            // no 00 separator at all
	robotWrongVersion                      // a well-formed block whose premaster version is 02 02
	robotVariants
)

var robotVariantNames = [robotVariants]string{"valid", "wrong-first-bytes", "zero-misplaced", "no-zero", "wrong-version"}

// robotFlow says what follows the ClientKeyExchange.
type robotFlow int

const (
	flowCCSFinished robotFlow = iota // ChangeCipherSpec and a garbage Finished, then read
	flowNoCCS                        // nothing more: read (a server may wait for more)
)

var robotFlowNames = []string{"with ChangeCipherSpec and Finished", "ClientKeyExchange alone"}

// robot looks for a Bleichenbacher oracle: in the newest supported version up to TLS 1.2,
// offering only RSA key exchange suites, five handshakes send the five ClientKeyExchange
// variants (plus ChangeCipherSpec and a garbage Finished) and record the server's answer
// (alert, close, reset or silence). Identical answers mean no oracle in that flow; then the
// five are sent again without ChangeCipherSpec/Finished, the client half-closing the
// connection after the ClientKeyExchange so that no answer costs a wait. A flow whose answers differ is run
// a second time: the same differences again mean an oracle (vulnerable), other answers mean
// the server is inconsistent (inconclusive). 10 connections for a server without an oracle,
// 10 or 15 for one with.
func (p *prober) robot(ctx context.Context) *model.ProbeVerdict {
	var v uint16
	var suites []uint16
	for _, cand := range p.opts.legacyVersions() {
		if cand < hello.VersionTLS10 {
			continue // SSL 3.0's ClientKeyExchange has no length prefix; not probed
		}
		if suites = p.suitesFor(cand, func(s hello.Suite) bool { return s.Kx == "RSA" && !s.Export }); len(suites) > 0 && p.acceptsRSA(cand) {
			v = cand
			break
		}
	}
	if v == 0 {
		return verdict(model.VerdictNotApplicable, "the server accepts no RSA key exchange suite in TLS 1.0 to 1.2", 0, nil)
	}
	detail := map[string]string{"version": hello.VersionName(v)}
	conns := 0
	for _, flow := range []robotFlow{flowCCSFinished, flowNoCCS} {
		first, n, err := p.robotRound(ctx, v, suites, flow)
		conns += n
		if err != nil {
			return verdict(model.VerdictInconclusive, err.Error(), conns, detail)
		}
		key := fmt.Sprintf("flow %d", flow+1)
		detail[key] = robotFlowNames[flow] + ": " + describeRobot(first)
		if allSame(first) {
			continue
		}
		second, n, err := p.robotRound(ctx, v, suites, flow)
		conns += n
		if err != nil {
			return verdict(model.VerdictInconclusive, err.Error(), conns, detail)
		}
		detail[key+" repeated"] = describeRobot(second)
		if first != second {
			return verdict(model.VerdictInconclusive, "the server answered the malformed key exchanges differently, but not the same way twice (unstable server or network); no oracle could be confirmed", conns, detail)
		}
		strength := "weak"
		if first[robotWrongFirst] != first[robotZeroMisplaced] || first[robotWrongFirst] != first[robotNoZero] {
			strength = "strong"
		}
		detail["oracle"] = strength
		return verdict(model.VerdictVulnerable, fmt.Sprintf("the server answers RSA key exchanges differently depending on their PKCS#1 padding (%s oracle, %s), consistently over two rounds", strength, robotFlowNames[flow]), conns, detail)
	}
	return verdict(model.VerdictNotVulnerable, "the server answered all five padding variants identically, in both flows", conns, detail)
}

// acceptsRSA is true unless the engine facts say no RSA suite was accepted (no facts: try).
func (p *prober) acceptsRSA(_ uint16) bool {
	if len(p.opts.Suites) == 0 {
		return true
	}
	return slices.ContainsFunc(p.opts.Suites, func(id uint16) bool {
		s, ok := hello.LookupSuite(id)
		return ok && s.Kx == "RSA"
	})
}

func allSame(r [robotVariants]string) bool {
	for _, x := range r[1:] {
		if x != r[0] {
			return false
		}
	}
	return true
}

func describeRobot(r [robotVariants]string) string {
	parts := make([]string, 0, len(r))
	for i, x := range r {
		parts = append(parts, robotVariantNames[i]+"="+x)
	}
	return strings.Join(parts, ", ")
}

// robotRound runs the five variants side by side; an error means a handshake could not be
// brought to the key exchange (so nothing can be compared).
func (p *prober) robotRound(ctx context.Context, v uint16, suites []uint16, flow robotFlow) ([robotVariants]string, int, error) {
	var out [robotVariants]string
	var errs [robotVariants]error
	var conns [robotVariants]int
	var wg sync.WaitGroup
	for i := range robotVariant(robotVariants) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i], conns[i], errs[i] = p.robotOnce(ctx, v, suites, flow, i)
		}()
	}
	wg.Wait()
	n := 0
	for _, c := range conns {
		n += c
	}
	for _, err := range errs {
		if err != nil {
			return out, n, err // the first is enough: the others say the same
		}
	}
	return out, n, nil
}

// robotOnce runs one handshake with variant and returns how the server answered.
func (p *prober) robotOnce(ctx context.Context, v uint16, suites []uint16, flow robotFlow, variant robotVariant) (string, int, error) {
	s, f, _, err := p.start(ctx, helloSpec{version: v, suites: suites, serverName: p.opts.ServerName}, false)
	if err != nil {
		conns := 1
		if s == nil && f == nil {
			conns = 0
		}
		return "", conns, fmt.Errorf("RSA key exchange handshake: %s", refusal(err))
	}
	defer s.Close()
	if st, ok := hello.LookupSuite(f.hello.Suite); !ok || st.Kx != "RSA" {
		return "", 1, fmt.Errorf("the server chose suite %#04x, not an RSA key exchange", f.hello.Suite)
	}
	if len(f.certs) == 0 {
		return "", 1, errors.New("the server sent no certificate with an RSA key exchange suite")
	}
	cert, err := x509.ParseCertificate(f.certs[0])
	if err != nil {
		return "", 1, fmt.Errorf("server certificate: %w", err)
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return "", 1, errors.New("the server certificate has no RSA key")
	}
	enc, err := robotCiphertext(pub, v, variant)
	if err != nil {
		return "", 1, err
	}
	rv := f.hello.Version()
	cke := append([]byte{hsClientKeyExchange, 0, byte((len(enc) + 2) >> 8), byte(len(enc) + 2), byte(len(enc) >> 8), byte(len(enc))}, enc...)
	cke[1] = byte((len(enc) + 2) >> 16)
	out := plainRecord(recHandshake, rv, cke)
	if flow == flowCCSFinished {
		out = append(out, plainRecord(recChangeCipherSpec, rv, []byte{1})...)
		garbage := make([]byte, 64) // not a valid Finished under any key
		if _, err := rand.Read(garbage); err != nil {
			return "", 1, fmt.Errorf("random finished: %w", err)
		}
		out = append(out, plainRecord(recHandshake, rv, garbage)...)
	}
	if err := s.write(out); err != nil {
		return "write " + classify(errors.Unwrap(err)), 1, nil
	}
	if flow == flowNoCCS {
		// Half-close: a server that waits for more reads end-of-stream at once instead of
		// holding the connection until the wait expires. A server whose reaction depends on
		// the padding still shows it (alert vs close). Without CloseWrite, wait.
		if cw, ok := s.conn.(interface{ CloseWrite() error }); ok {
			_ = cw.CloseWrite()
		}
	}
	s.waitFor(p.opts.Wait)
	for {
		rec, err := s.rr.next()
		if err != nil {
			return classify(err), 1, nil
		}
		if rec.typ == recAlert && len(rec.body) >= 2 {
			return fmt.Sprintf("alert %d", rec.body[1]), 1, nil
		}
		if rec.typ != recAlert {
			return fmt.Sprintf("record %d", rec.typ), 1, nil
		}
	}
}

// robotCiphertext encrypts the variant's 48-byte premaster block with pub (raw RSA).
func robotCiphertext(pub *rsa.PublicKey, v uint16, variant robotVariant) ([]byte, error) {
	k := pub.Size()
	if k < 64 {
		return nil, fmt.Errorf("RSA key of %d bytes is too small", k)
	}
	m := make([]byte, k)
	if _, err := rand.Read(m); err != nil {
		return nil, fmt.Errorf("random block: %w", err)
	}
	for i := 2; i < k; i++ { // no zero byte anywhere unless a variant puts one
		if m[i] == 0 {
			m[i] = 0x5a
		}
	}
	m[0], m[1] = 0x00, 0x02
	sep := k - 49
	m[sep] = 0
	m[sep+1], m[sep+2] = byte(v>>8), byte(v)
	switch variant {
	case robotWrongFirst:
		m[0], m[1] = 0x41, 0x17
	case robotZeroMisplaced:
		m[sep] = 0x11
		m[sep-8] = 0 // premaster of 56 bytes
	case robotNoZero:
		m[sep] = 0x11
	case robotWrongVersion:
		m[sep+1], m[sep+2] = 0x02, 0x02
	}
	c := new(big.Int).Exp(new(big.Int).SetBytes(m), big.NewInt(int64(pub.E)), pub.N)
	return c.FillBytes(make([]byte, k)), nil
}
