package scanner

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/rampart-scan/rampart/model"
	"github.com/rampart-scan/rampart/scanner/netx"
	"github.com/rampart-scan/rampart/services"
)

// Limits on what is kept of attacker-controlled certificate data.
const (
	maxNameLen   = 512
	maxSANs      = 100
	maxChain     = 10
	maxDERPerCrt = 32 << 10
)

// BasicProbe connects to an endpoint and performs one TLS handshake as a modern client
// (crypto/tls), recording connect and handshake facts and the certificate chain as sent.
type BasicProbe struct {
	Dialer   *netx.Dialer
	Services *services.Registry
	// Roots are the trust anchors (system roots plus --ca-file); nil means system roots.
	Roots *x509.CertPool
	Now   func() time.Time
}

// Probe implements Prober.
func (p *BasicProbe) Probe(ctx context.Context, ep model.Endpoint) model.Observation {
	now := p.now()
	obs := model.Observation{Endpoint: ep, Started: now, Status: model.StatusOK}
	defer func() { obs.Duration = p.now().Sub(obs.Started) }()

	start := p.now()
	conn, err := p.Dialer.Dial(ctx, ep.Addr)
	if err != nil {
		obs.Connect = &model.ConnectFacts{Reachable: false}
		obs.Status, obs.Error = classify(ctx, err)
		return obs
	}
	defer conn.Close()
	obs.Connect = &model.ConnectFacts{Reachable: true, Latency: p.now().Sub(start)}

	svc, _ := p.Services.ByName(ep.Service)
	if svc.Mode == services.None {
		return obs // a plaintext service: reachability is the fact
	}
	if svc.Mode == services.StartTLS {
		obs.Status = model.StatusError
		obs.Error = fmt.Sprintf("STARTTLS dialogue %q not available in this probe", svc.StartTLS)
		return obs
	}
	p.handshake(ctx, conn, ep, svc, &obs)
	return obs
}

func (p *BasicProbe) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

// serverName is the SNI to send: the endpoint's name unless it is empty or an IP literal.
func serverName(ep model.Endpoint) string {
	if ep.Name == "" {
		return ""
	}
	if _, err := netip.ParseAddr(ep.Name); err == nil {
		return ""
	}
	return ep.Name
}

func (p *BasicProbe) handshake(ctx context.Context, conn net.Conn, ep model.Endpoint, svc services.Service, obs *model.Observation) {
	sni := serverName(ep)
	cfg := &tls.Config{
		ServerName:         sni,
		InsecureSkipVerify: true, // verification is done below, as facts, not as a failure
		NextProtos:         svc.ALPN,
		MinVersion:         tls.VersionTLS10,
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
			facts.Speaks = false
			facts.HandshakeError = "the server did not answer with TLS: " + sanitize(err.Error(), 200)
		case errors.As(err, &alert):
			facts.Speaks = true
			facts.HandshakeError = err.Error()
		default:
			status, msg := classify(ctx, err)
			if status == model.StatusInterrupted {
				obs.Status, obs.Error = status, msg
				return
			}
			facts.Speaks = false
			facts.HandshakeError = msg
			if status == model.StatusTimeout {
				obs.Status, obs.Error = status, "TLS handshake: "+msg
			}
		}
		return
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
	obs.Certificates = p.verify(cs.PeerCertificates, ep, obs.Started)
}

// verify describes the chain and judges trust and name separately from validity dates, so an
// expired certificate from a trusted CA is "trusted and expired", not "untrusted".
func (p *BasicProbe) verify(chain []*x509.Certificate, ep model.Endpoint, now time.Time) *model.CertFacts {
	cf := &model.CertFacts{}
	for i, c := range chain {
		if i == maxChain {
			break
		}
		cf.Chain = append(cf.Chain, DescribeCertificate(c))
	}
	if len(chain) == 0 {
		cf.TrustError = "no certificate presented"
		return cf
	}
	leaf := chain[0]
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	opts := x509.VerifyOptions{Roots: p.Roots, Intermediates: inter, CurrentTime: now}
	paths, err := leaf.Verify(opts)
	var inv x509.CertificateInvalidError
	if errors.As(err, &inv) && inv.Reason == x509.Expired {
		// Judge the chain at a moment when every certificate sent was valid, if one exists.
		opts.CurrentTime = validMoment(chain, now)
		paths, err = leaf.Verify(opts)
	}
	if err != nil {
		cf.TrustError = sanitize(err.Error(), 300)
	} else {
		cf.Trusted = true
		for _, c := range paths[0] {
			cf.VerifiedChain = append(cf.VerifiedChain, fingerprint(c.Raw))
		}
	}
	if name := ep.Name; name != "" {
		cf.NameChecked = name
		if err := leaf.VerifyHostname(name); err != nil {
			cf.NameError = sanitize(err.Error(), 300)
		} else {
			cf.NameMatches = true
		}
	} else {
		cf.NameChecked = ep.Addr.Addr().String()
		if err := leaf.VerifyHostname(cf.NameChecked); err != nil {
			cf.NameError = sanitize(err.Error(), 300)
		} else {
			cf.NameMatches = true
		}
	}
	return cf
}

// validMoment returns a time inside every certificate's validity window, or now if none is.
func validMoment(chain []*x509.Certificate, now time.Time) time.Time {
	lo, hi := chain[0].NotBefore, chain[0].NotAfter
	for _, c := range chain[1:] {
		if c.NotBefore.After(lo) {
			lo = c.NotBefore
		}
		if c.NotAfter.Before(hi) {
			hi = c.NotAfter
		}
	}
	if !lo.Before(hi) {
		return now
	}
	return lo.Add(hi.Sub(lo) / 2)
}

// DescribeCertificate turns a parsed certificate into facts, bounding server-chosen strings.
func DescribeCertificate(c *x509.Certificate) model.Certificate {
	mc := model.Certificate{
		Subject:            sanitize(c.Subject.String(), maxNameLen),
		Issuer:             sanitize(c.Issuer.String(), maxNameLen),
		Serial:             sanitize(c.SerialNumber.Text(16), 128),
		NotBefore:          c.NotBefore.UTC(),
		NotAfter:           c.NotAfter.UTC(),
		SignatureAlgorithm: c.SignatureAlgorithm.String(),
		IsCA:               c.BasicConstraintsValid && c.IsCA,
		SHA256:             fingerprint(c.Raw),
	}
	for i, n := range c.DNSNames {
		if i == maxSANs {
			break
		}
		mc.DNSNames = append(mc.DNSNames, sanitize(n, 253))
	}
	for i, ip := range c.IPAddresses {
		if i == maxSANs {
			break
		}
		mc.IPAddresses = append(mc.IPAddresses, ip.String())
	}
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		mc.KeyType, mc.KeyBits = "RSA", k.N.BitLen()
	case *ecdsa.PublicKey:
		mc.KeyType, mc.KeyBits = "ECDSA", k.Params().BitSize
	case ed25519.PublicKey:
		mc.KeyType, mc.KeyBits = "Ed25519", 256
	default:
		mc.KeyType = c.PublicKeyAlgorithm.String()
	}
	// Self-signed: issuer equals subject and the certificate's own key verifies its signature.
	// (CheckSignatureFrom would also demand CA basic constraints, which self-signed leaves lack.)
	if bytes.Equal(c.RawSubject, c.RawIssuer) && c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) == nil {
		mc.SelfSigned = true
	}
	if len(c.Raw) <= maxDERPerCrt {
		mc.DER = c.Raw
	}
	return mc
}

func fingerprint(der []byte) string {
	s := sha256.Sum256(der)
	return hex.EncodeToString(s[:])
}

// classify maps a dial or I/O error to a probe status and a message.
func classify(ctx context.Context, err error) (model.ProbeStatus, string) {
	switch {
	case ctx.Err() != nil:
		return model.StatusInterrupted, "scan interrupted"
	case netx.IsTimeout(err):
		return model.StatusTimeout, "timed out: " + sanitize(err.Error(), 200)
	default:
		return model.StatusUnreachable, sanitize(err.Error(), 200)
	}
}

// sanitize bounds a string and replaces control characters, so attacker-controlled text is
// safe to print on a terminal and small enough to store.
func sanitize(s string, n int) string {
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= n {
			b.WriteString("…")
			break
		}
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			fmt.Fprintf(&b, "\\x%02x", r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
