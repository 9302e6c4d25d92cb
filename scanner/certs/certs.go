// Package certs analyses a certificate chain as a server sent it: parsing (lenient with
// zcrypto/x509, strict with crypto/x509), order and completeness, trust, host name and XMPP
// service identity, key and signature facts, extensions, and zlint results. It records facts
// only; checks decide what they mean.
//
// Everything here reads bytes a server chose, so every string kept is truncated, lists are
// capped, and a certificate that cannot be parsed becomes a fact rather than an error. The
// zcrypto global parsing switches (asn1.AllowPermissiveParsing, pkix.LegacyNameString) are
// left alone: they would change every parse in the process.
package certs

import (
	"bytes"
	//lint:ignore SA1019 DSA keys still appear in certificates the analysis must describe
	"crypto/dsa"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	zrsa "github.com/zmap/zcrypto/rsa"
	zx509 "github.com/zmap/zcrypto/x509"
	"github.com/zmap/zlint/v3"
	"github.com/zmap/zlint/v3/lint"

	"github.com/rampart-scan/rampart/model"
)

// Bounds on what is kept of a chain.
const (
	MaxChain      = 12  // certificates analysed; the rest are dropped (ChainTruncated)
	MaxNames      = 100 // DNS names / IP addresses / XMPP identities kept per certificate
	MaxString     = 256 // subjects, issuers, lint details
	MaxNameLen    = 253 // one DNS name
	MaxLints      = 40  // non-passing lint results kept per certificate
	MaxCertDER    = 1 << 16
	maxChainIssue = 16
)

// Options say what the chain is checked against.
type Options struct {
	// Name is the host name the client connected to (also an IP address literal); "" skips the
	// name check.
	Name string
	// Service is the registry service name; XMPP services get the RFC 6120 identity check.
	Service string
	// XMPPDomain is the XMPP domain served (the JID domain); "" means Name.
	XMPPDomain string
	// Roots are the trust anchors; nil means the system roots (plus ExtraRoots).
	Roots *x509.CertPool
	// ExtraRoots are added to the anchors (e.g. --ca-file).
	ExtraRoots []*x509.Certificate
	// Now is the time validity is judged at; zero means time.Now().
	Now time.Time
	// NoLint skips zlint.
	NoLint bool
	// LintRegistry selects lints; nil means zlint's global registry (every source).
	LintRegistry lint.Registry
}

// OIDs the analysis looks for.
var (
	oidExtKeyUsage = asn1.ObjectIdentifier{2, 5, 29, 37}
	oidTLSFeature  = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 1, 24}
	// OIDSRVName is the otherName type of an RFC 4985 SRVName (an XMPP SRV-ID).
	OIDSRVName = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 8, 7}
	// OIDXmppAddr is the otherName type of an RFC 6120 XmppAddr.
	OIDXmppAddr = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 8, 5}
)

var ekuNames = map[string]string{
	"2.5.29.37.0":       "any",
	"1.3.6.1.5.5.7.3.1": "serverAuth",
	"1.3.6.1.5.5.7.3.2": "clientAuth",
	"1.3.6.1.5.5.7.3.3": "codeSigning",
	"1.3.6.1.5.5.7.3.4": "emailProtection",
	"1.3.6.1.5.5.7.3.8": "timeStamping",
	"1.3.6.1.5.5.7.3.9": "OCSPSigning",
}

// parsed is one certificate in both parsers' views; either may be nil.
type parsed struct {
	der    []byte
	z      *zx509.Certificate
	s      *x509.Certificate
	zerr   error
	serr   error
	cert   model.Certificate
	selfOK bool // self-signed: names match and its own key verifies it
}

// Analyze parses and judges chain (DER, leaf first, as sent). It never fails: what cannot be
// parsed or verified is recorded in the facts.
func Analyze(chain [][]byte, opts Options) *model.CertFacts {
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	f := &model.CertFacts{Analyzed: true}
	if len(chain) > MaxChain {
		chain = chain[:MaxChain]
		f.ChainTruncated = true
	}
	if len(chain) == 0 {
		f.TrustError = "no certificate sent"
		f.ChainIssues = []string{"no certificate sent"}
		return f
	}
	ps := make([]*parsed, len(chain))
	for i, der := range chain {
		ps[i] = parseOne(der, opts)
		f.Chain = append(f.Chain, ps[i].cert)
	}
	roots := anchors(opts)
	analyseOrder(f, ps, roots, now)
	verifyTrust(f, ps, roots, now)
	if opts.Name != "" {
		f.NameChecked = clip(opts.Name, MaxNameLen)
		checkName(f, ps[0], opts.Name)
	}
	if svc := xmppService(opts.Service); svc != "" {
		dom := opts.XMPPDomain
		if dom == "" {
			dom = opts.Name
		}
		if dom != "" {
			f.XMPP = XMPPMatch(ps[0].z, svc, dom)
		}
	}
	return f
}

func anchors(opts Options) *x509.CertPool {
	roots := opts.Roots
	if roots == nil {
		if sys, err := x509.SystemCertPool(); err == nil {
			roots = sys
		} else {
			roots = x509.NewCertPool()
		}
	} else {
		roots = roots.Clone()
	}
	for _, c := range opts.ExtraRoots {
		roots.AddCert(c)
	}
	return roots
}

// parseOne parses der with both parsers, recovering from parser panics on hostile input.
func parseOne(der []byte, opts Options) *parsed {
	p := &parsed{der: der}
	sum := sha256.Sum256(der)
	p.cert.SHA256 = hex.EncodeToString(sum[:])
	if len(der) <= MaxCertDER {
		p.cert.DER = der
	}
	p.z, p.zerr = safeZParse(der)
	p.s, p.serr = safeStrictParse(der)
	if p.serr != nil {
		p.cert.ParseError = clip(p.serr.Error(), MaxString)
	}
	switch {
	case p.z != nil:
		fillFromZ(&p.cert, p.z)
		p.selfOK = bytes.Equal(p.z.RawSubject, p.z.RawIssuer) && safeCheckSig(p.z, p.z) == nil
	case p.s != nil:
		fillFromStrict(&p.cert, p.s)
		p.selfOK = bytes.Equal(p.s.RawSubject, p.s.RawIssuer) && p.s.CheckSignature(p.s.SignatureAlgorithm, p.s.RawTBSCertificate, p.s.Signature) == nil
	default:
		p.cert.ParseError = clip(fmt.Sprintf("unparsable certificate: %v", p.zerr), MaxString)
		return p
	}
	p.cert.SelfSigned = p.selfOK
	if p.s != nil {
		// Strict names print the way operators know them (and agree with crypto/tls probes).
		p.cert.Subject = clip(p.s.Subject.String(), MaxString)
		p.cert.Issuer = clip(p.s.Issuer.String(), MaxString)
	}
	if p.z != nil && !opts.NoLint {
		p.cert.Lints, p.cert.LintsTruncated = runLint(p.z, opts.LintRegistry)
	}
	return p
}

func safeZParse(der []byte) (c *zx509.Certificate, err error) {
	defer func() {
		if r := recover(); r != nil {
			c, err = nil, fmt.Errorf("zcrypto parser panic: %v", r)
		}
	}()
	c, err = zx509.ParseCertificate(der)
	if err != nil && c == nil {
		return nil, fmt.Errorf("parse certificate: %w", err)
	}
	if c == nil {
		return nil, errors.New("parse certificate: no result")
	}
	return c, nil
}

func safeStrictParse(der []byte) (c *x509.Certificate, err error) {
	defer func() {
		if r := recover(); r != nil {
			c, err = nil, fmt.Errorf("crypto/x509 parser panic: %v", r)
		}
	}()
	c, err = x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("strict parse: %w", err)
	}
	return c, nil
}

func safeCheckSig(child, parent *zx509.Certificate) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("signature check panic: %v", r)
		}
	}()
	// The signature relation only: whether parent may act as a CA is a separate fact
	// (basic constraints, zlint), and a self-signed leaf has no CA bit.
	return parent.CheckSignature(child.SignatureAlgorithm, child.RawTBSCertificate, child.Signature)
}

func fillFromZ(c *model.Certificate, z *zx509.Certificate) {
	c.Subject = clip(z.Subject.String(), MaxString)
	c.Issuer = clip(z.Issuer.String(), MaxString)
	if z.SerialNumber != nil {
		c.Serial = clip(z.SerialNumber.Text(16), 64)
	}
	c.NotBefore, c.NotAfter = z.NotBefore, z.NotAfter
	c.DNSNames = clipList(z.DNSNames)
	for i, ip := range z.IPAddresses {
		if i >= MaxNames {
			break
		}
		c.IPAddresses = append(c.IPAddresses, ip.String())
	}
	c.KeyType, c.KeyBits, c.CurveName = keyInfo(z.PublicKey)
	c.SignatureAlgorithm = clip(z.SignatureAlgorithm.String(), 64)
	c.IsCA = z.BasicConstraintsValid && z.IsCA
	c.BasicConstraintsValid = z.BasicConstraintsValid
	c.EmbeddedSCTs = len(z.SignedCertificateTimestampList)
	for _, e := range z.Extensions {
		fillExtension(c, asn1.ObjectIdentifier(e.Id), e.Value)
	}
}

func fillFromStrict(c *model.Certificate, s *x509.Certificate) {
	c.Subject = clip(s.Subject.String(), MaxString)
	c.Issuer = clip(s.Issuer.String(), MaxString)
	if s.SerialNumber != nil {
		c.Serial = clip(s.SerialNumber.Text(16), 64)
	}
	c.NotBefore, c.NotAfter = s.NotBefore, s.NotAfter
	c.DNSNames = clipList(s.DNSNames)
	for i, ip := range s.IPAddresses {
		if i >= MaxNames {
			break
		}
		c.IPAddresses = append(c.IPAddresses, ip.String())
	}
	c.KeyType, c.KeyBits, c.CurveName = keyInfo(s.PublicKey)
	c.SignatureAlgorithm = s.SignatureAlgorithm.String()
	c.IsCA = s.BasicConstraintsValid && s.IsCA
	c.BasicConstraintsValid = s.BasicConstraintsValid
	for _, e := range s.Extensions {
		fillExtension(c, e.Id, e.Value)
	}
}

// fillExtension decodes the extensions both parsers treat differently or not at all.
func fillExtension(c *model.Certificate, id asn1.ObjectIdentifier, val []byte) {
	switch {
	case id.Equal(oidExtKeyUsage):
		var oids []asn1.ObjectIdentifier
		if _, err := asn1.Unmarshal(val, &oids); err != nil {
			c.ExtKeyUsage = []string{"unparsable"}
			return
		}
		c.ExtKeyUsage = nil
		for i, o := range oids {
			if i >= MaxNames {
				break
			}
			if n, ok := ekuNames[o.String()]; ok {
				c.ExtKeyUsage = append(c.ExtKeyUsage, n)
			} else {
				c.ExtKeyUsage = append(c.ExtKeyUsage, clip(o.String(), 64))
			}
		}
	case id.Equal(oidTLSFeature):
		var feats []int
		if _, err := asn1.Unmarshal(val, &feats); err != nil {
			return
		}
		for _, f := range feats {
			if f == 5 { // status_request
				c.MustStaple = true
			}
		}
	}
}

func keyInfo(pub any) (typ string, bits int, curve string) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if k.N != nil {
			return "RSA", k.N.BitLen(), ""
		}
		return "RSA", 0, ""
	case *zrsa.PublicKey:
		if k.N != nil {
			return "RSA", k.N.BitLen(), ""
		}
		return "RSA", 0, ""
	case *ecdsa.PublicKey:
		if k.Curve != nil {
			return "ECDSA", k.Curve.Params().BitSize, k.Curve.Params().Name
		}
		return "ECDSA", 0, ""
	case *zx509.AugmentedECDSA:
		if k.Pub != nil {
			return keyInfo(k.Pub)
		}
		return "ECDSA", 0, ""
	case ed25519.PublicKey:
		return "Ed25519", 256, ""
	case *dsa.PublicKey:
		if k.P != nil {
			return "DSA", k.P.BitLen(), ""
		}
		return "DSA", 0, ""
	case nil:
		return "unknown", 0, ""
	default:
		return clip(fmt.Sprintf("%T", pub), 32), 0, ""
	}
}

func runLint(z *zx509.Certificate, reg lint.Registry) (out []model.LintResult, truncated bool) {
	defer func() {
		if r := recover(); r != nil {
			out = append(out, model.LintResult{Name: "zlint", Status: "fatal", Details: clip(fmt.Sprintf("zlint panic: %v", r), MaxString)})
		}
	}()
	var rs *zlint.ResultSet
	if reg != nil {
		rs = zlint.LintCertificateEx(z, reg)
	} else {
		rs = zlint.LintCertificate(z)
	}
	if rs == nil {
		return nil, false
	}
	for name, r := range rs.Results {
		if r == nil {
			continue
		}
		var st string
		switch r.Status {
		case lint.Notice:
			st = "notice"
		case lint.Warn:
			st = "warn"
		case lint.Error:
			st = "error"
		case lint.Fatal:
			st = "fatal"
		default:
			continue // pass, NA, NE
		}
		out = append(out, model.LintResult{Name: name, Status: st, Details: clip(r.Details, MaxString)})
	}
	sort.Slice(out, func(i, j int) bool {
		if rank(out[i].Status) != rank(out[j].Status) {
			return rank(out[i].Status) > rank(out[j].Status)
		}
		return out[i].Name < out[j].Name
	})
	if len(out) > MaxLints {
		out, truncated = out[:MaxLints], true
	}
	return out, truncated
}

func rank(s string) int {
	switch s {
	case "fatal":
		return 3
	case "error":
		return 2
	case "warn":
		return 1
	}
	return 0
}

// issues reports whether parent's subject is child's issuer and parent's key verifies child.
func issues(parent, child *parsed) bool {
	if parent.z != nil && child.z != nil {
		return bytes.Equal(parent.z.RawSubject, child.z.RawIssuer) && safeCheckSig(child.z, parent.z) == nil
	}
	if parent.s != nil && child.s != nil {
		return bytes.Equal(parent.s.RawSubject, child.s.RawIssuer) && parent.s.CheckSignature(child.s.SignatureAlgorithm, child.s.RawTBSCertificate, child.s.Signature) == nil
	}
	return false
}

func (p *parsed) label(i int) string {
	name := p.cert.Subject
	if name == "" {
		name = "unparsable"
	}
	return fmt.Sprintf("certificate %d (%s)", i+1, clip(name, 80))
}

func addIssue(f *model.CertFacts, s string) {
	if len(f.ChainIssues) < maxChainIssue {
		f.ChainIssues = append(f.ChainIssues, s)
	}
}

// analyseOrder decides ChainOrdered and ChainComplete from the certificates sent alone.
func analyseOrder(f *model.CertFacts, ps []*parsed, roots *x509.CertPool, now time.Time) {
	f.ChainOrdered = true
	for i := 0; i+1 < len(ps); i++ {
		if !issues(ps[i+1], ps[i]) {
			f.ChainOrdered = false
			addIssue(f, fmt.Sprintf("%s is not issued by the next, %s", ps[i].label(i), ps[i+1].label(i+1)))
		}
	}
	for i := 1; i < len(ps); i++ {
		if ps[i].cert.SHA256 == ps[0].cert.SHA256 {
			f.ChainOrdered = false
			addIssue(f, fmt.Sprintf("%s repeats the leaf", ps[i].label(i)))
		}
	}

	// Walk up from the leaf using only what was sent.
	used := map[int]bool{0: true}
	cur := 0
	for steps := 0; steps < len(ps); steps++ {
		if ps[cur].selfOK {
			f.ChainComplete = true
			break
		}
		next := -1
		for j := range ps {
			if !used[j] && issues(ps[j], ps[cur]) {
				next = j
				break
			}
		}
		if next < 0 {
			if anchoredIssuer(ps[cur], roots, now) {
				f.ChainComplete = true
			} else {
				f.MissingIssuer = ps[cur].cert.Issuer
				addIssue(f, fmt.Sprintf("the issuer of %s was not sent and is not a trust anchor: %s", ps[cur].label(cur), ps[cur].cert.Issuer))
			}
			break
		}
		used[next] = true
		cur = next
	}
	for j := range ps {
		if !used[j] && f.ChainComplete {
			addIssue(f, fmt.Sprintf("%s is not part of the path from the leaf", ps[j].label(j)))
		}
	}
}

// anchoredIssuer reports whether a trust anchor issued p (or p is itself an anchor).
func anchoredIssuer(p *parsed, roots *x509.CertPool, now time.Time) bool {
	if p.s == nil {
		return false
	}
	// Judge the issuer relation only, not validity: check at a time inside p's validity.
	at := now
	if at.Before(p.s.NotBefore) || at.After(p.s.NotAfter) {
		at = p.s.NotBefore.Add(p.s.NotAfter.Sub(p.s.NotBefore) / 2)
	}
	_, err := p.s.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: at, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	if err == nil {
		return true
	}
	var ua x509.UnknownAuthorityError
	return !errors.As(err, &ua)
}

func verifyTrust(f *model.CertFacts, ps []*parsed, roots *x509.CertPool, now time.Time) {
	leaf := ps[0].s
	if leaf == nil {
		f.TrustError = "leaf certificate cannot be parsed strictly: " + ps[0].cert.ParseError
		return
	}
	inter := x509.NewCertPool()
	for _, p := range ps[1:] {
		if p.s != nil {
			inter.AddCert(p.s)
		}
	}
	opts := x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}
	chains, err := leaf.Verify(opts)
	var inv x509.CertificateInvalidError
	if errors.As(err, &inv) && inv.Reason == x509.Expired {
		// Trust and validity are separate facts: judge the path at a moment when every
		// certificate sent was valid, so an expired chain from a trusted CA reads "trusted,
		// expired" (cert/expired) rather than also "untrusted".
		if at, ok := validMoment(ps); ok {
			opts.CurrentTime = at
			chains, err = leaf.Verify(opts)
		}
	}
	if err != nil {
		f.TrustError = clip(err.Error(), MaxString)
		return
	}
	f.Trusted = true
	if len(chains) > 0 {
		for _, c := range chains[0] {
			sum := sha256.Sum256(c.Raw)
			f.VerifiedChain = append(f.VerifiedChain, hex.EncodeToString(sum[:]))
		}
	}
}

// validMoment returns a time inside the validity window of every parsed certificate sent.
func validMoment(ps []*parsed) (time.Time, bool) {
	var lo, hi time.Time
	for i, p := range ps {
		if p.s == nil {
			continue
		}
		if i == 0 || p.s.NotBefore.After(lo) {
			lo = p.s.NotBefore
		}
		if i == 0 || p.s.NotAfter.Before(hi) {
			hi = p.s.NotAfter
		}
	}
	if !lo.Before(hi) {
		return time.Time{}, false
	}
	return lo.Add(hi.Sub(lo) / 2), true
}

func checkName(f *model.CertFacts, leaf *parsed, name string) {
	var err error
	switch {
	case leaf.s != nil:
		err = leaf.s.VerifyHostname(name)
	case leaf.z != nil:
		err = safeZHostname(leaf.z, name)
	default:
		err = errors.New("leaf certificate cannot be parsed")
	}
	if err != nil {
		f.NameError = clip(err.Error(), MaxString)
		return
	}
	f.NameMatches = true
}

func safeZHostname(z *zx509.Certificate, name string) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("hostname check panic: %v", r)
		}
	}()
	return z.VerifyHostname(name)
}

func xmppService(s string) string {
	switch s {
	case "xmpp-client", "xmpps-client", "xmpp", "xmpps":
		return "xmpp-client"
	case "xmpp-server", "xmpps-server":
		return "xmpp-server"
	}
	return ""
}

// XMPPMatch checks the XMPP domain against the certificate's identities as RFC 6120
// §13.7.1.2 and RFC 7712 describe: an SRV-ID "_xmpp-client.<domain>" (or "_xmpp-server."
// for servers; the "_xmpps-" forms of XEP-0368 too), an XmppAddr equal to the domain, or a
// DNS-ID matching the domain (one leftmost wildcard label). z may be nil.
func XMPPMatch(z *zx509.Certificate, service, domain string) *model.XMPPIdentity {
	domain = strings.TrimSuffix(strings.ToLower(domain), ".")
	id := &model.XMPPIdentity{Domain: clip(domain, MaxNameLen), Service: service}
	if z == nil {
		return id
	}
	for _, on := range z.OtherNames {
		switch {
		case asn1.ObjectIdentifier(on.TypeID).Equal(OIDSRVName):
			s, ok := otherNameString(on.Value.Class, on.Value.Tag, on.Value.Bytes, asn1.TagIA5String)
			if !ok {
				continue
			}
			if len(id.SRVIDs) < MaxNames {
				id.SRVIDs = append(id.SRVIDs, clip(s, MaxNameLen))
			}
			svc, host, ok := strings.Cut(strings.ToLower(s), ".")
			if ok && !id.Matches && host == domain && (svc == "_"+service || svc == "_"+strings.Replace(service, "xmpp", "xmpps", 1)) {
				id.Matches, id.MatchedBy = true, "SRV-ID"
			}
		case asn1.ObjectIdentifier(on.TypeID).Equal(OIDXmppAddr):
			s, ok := otherNameString(on.Value.Class, on.Value.Tag, on.Value.Bytes, asn1.TagUTF8String)
			if !ok {
				continue
			}
			if len(id.XmppAddrs) < MaxNames {
				id.XmppAddrs = append(id.XmppAddrs, clip(s, MaxNameLen))
			}
			if !id.Matches && strings.EqualFold(strings.TrimSuffix(s, "."), domain) {
				id.Matches, id.MatchedBy = true, "XmppAddr"
			}
		}
	}
	if !id.Matches {
		for _, n := range z.DNSNames {
			if MatchDNSID(n, domain) {
				id.Matches, id.MatchedBy = true, "DNS-ID"
				break
			}
		}
	}
	return id
}

// otherNameString extracts the string of an otherName value of the wanted universal tag,
// whether the parser kept the [0] EXPLICIT wrapper or removed it.
func otherNameString(class, tag int, b []byte, want int) (string, bool) {
	if class == asn1.ClassContextSpecific && tag == 0 {
		var inner asn1.RawValue
		rest, err := asn1.Unmarshal(b, &inner)
		if err != nil || len(rest) != 0 {
			return "", false
		}
		class, tag, b = inner.Class, inner.Tag, inner.Bytes
	}
	if class != asn1.ClassUniversal || tag != want || !utf8.Valid(b) {
		return "", false
	}
	return string(b), true
}

// MatchDNSID matches a DNS-ID (possibly "*.example.org") against a reference name, as RFC 6125
// §6.4: case-insensitive, a wildcard only as the whole leftmost label, matching exactly one label.
func MatchDNSID(pattern, name string) bool {
	pattern = strings.TrimSuffix(strings.ToLower(pattern), ".")
	name = strings.TrimSuffix(strings.ToLower(name), ".")
	if pattern == "" || name == "" || net.ParseIP(name) != nil {
		return false
	}
	if pattern == name {
		return true
	}
	rest, ok := strings.CutPrefix(pattern, "*.")
	if !ok || strings.Contains(rest, "*") || !strings.Contains(rest, ".") {
		return false
	}
	_, nrest, ok := strings.Cut(name, ".")
	return ok && nrest == rest
}

// clip bounds an attacker-controlled string to n bytes of valid UTF-8, without control chars.
func clip(s string, n int) string {
	if len(s) > n {
		s = s[:n]
		for len(s) > 0 && !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
		s += "…"
	}
	if strings.IndexFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0 {
		s = strings.Map(func(r rune) rune {
			if r < 0x20 || r == 0x7f {
				return '?'
			}
			return r
		}, s)
	}
	return strings.ToValidUTF8(s, "?")
}

func clipList(in []string) []string {
	var out []string
	for i, s := range in {
		if i >= MaxNames {
			break
		}
		out = append(out, clip(s, MaxNameLen))
	}
	return out
}

// LintRegistry returns zlint's registry restricted to the named lint sources ("RFC5280",
// "CABF_BR", "Community", …); with no names it is the whole global registry. Private PKIs
// typically want RFC5280 and Community only, since CA/Browser Forum lints target public CAs.
func LintRegistry(sources ...string) (lint.Registry, error) {
	if len(sources) == 0 {
		return lint.GlobalRegistry(), nil
	}
	var list lint.SourceList
	if err := list.FromString(strings.Join(sources, ",")); err != nil {
		return nil, fmt.Errorf("zlint sources: %w", err)
	}
	reg, err := lint.GlobalRegistry().Filter(lint.FilterOptions{IncludeSources: list})
	if err != nil {
		return nil, fmt.Errorf("zlint registry: %w", err)
	}
	return reg, nil
}
