package certs

import (
	"crypto/x509"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/rampart-scan/rampart/model"
	"github.com/rampart-scan/rampart/scanner/certs/certtest"
)

func ders(cs ...*certtest.Cert) [][]byte {
	var out [][]byte
	for _, c := range cs {
		out = append(out, c.DER)
	}
	return out
}

func TestAnalyzeChains(t *testing.T) {
	pki := certtest.NewChain("Test")
	other := certtest.NewChain("Other")
	leaf := pki.Leaf(certtest.Spec{CN: "mail.example.org", DNS: []string{"mail.example.org", "*.example.org"}, IPs: []net.IP{net.ParseIP("127.0.0.9")}})
	self := certtest.Issue(certtest.Spec{CN: "self.example.org", DNS: []string{"self.example.org"}}, nil)
	weak := pki.Leaf(certtest.Spec{CN: "weak.example.org", DNS: []string{"weak.example.org"}, Key: certtest.Key(certtest.RSA1024, 0)})
	staple := pki.Leaf(certtest.Spec{CN: "s.example.org", DNS: []string{"s.example.org"}, MustStaple: true, EKU: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, SCTs: 2})
	expired := pki.Leaf(certtest.Spec{CN: "old.example.org", DNS: []string{"old.example.org"}, NotBefore: time.Now().Add(-400 * 24 * time.Hour), NotAfter: time.Now().Add(-10 * 24 * time.Hour)})

	tests := []struct {
		name     string
		chain    [][]byte
		host     string
		trusted  bool
		ordered  bool
		complete bool
		nameOK   bool
		missing  string
		check    func(t *testing.T, f *model.CertFacts)
	}{
		{name: "good", chain: ders(leaf, pki.Inter), host: "mail.example.org", trusted: true, ordered: true, complete: true, nameOK: true,
			check: func(t *testing.T, f *model.CertFacts) {
				c := f.Chain[0]
				if c.KeyType != "ECDSA" || c.KeyBits != 256 || c.CurveName != "P-256" {
					t.Errorf("key = %s %d %s", c.KeyType, c.KeyBits, c.CurveName)
				}
				if len(c.ExtKeyUsage) != 1 || c.ExtKeyUsage[0] != "serverAuth" {
					t.Errorf("eku = %v", c.ExtKeyUsage)
				}
				if c.SelfSigned || c.IsCA || !f.Chain[1].IsCA || c.MustStaple {
					t.Errorf("flags wrong: %+v", c)
				}
				if len(f.VerifiedChain) != 3 {
					t.Errorf("verified chain = %v", f.VerifiedChain)
				}
				if !strings.Contains(c.Subject, "CN=mail.example.org") || !strings.Contains(c.Issuer, "Test Intermediate") {
					t.Errorf("names %q / %q", c.Subject, c.Issuer)
				}
			}},
		{name: "wildcard", chain: ders(leaf, pki.Inter), host: "xmpp.example.org", trusted: true, ordered: true, complete: true, nameOK: true},
		{name: "wildcard one label only", chain: ders(leaf, pki.Inter), host: "a.b.example.org", trusted: true, ordered: true, complete: true, nameOK: false},
		{name: "ip san", chain: ders(leaf, pki.Inter), host: "127.0.0.9", trusted: true, ordered: true, complete: true, nameOK: true},
		{name: "ip not in san", chain: ders(leaf, pki.Inter), host: "127.0.0.10", trusted: true, ordered: true, complete: true, nameOK: false},
		{name: "missing intermediate", chain: ders(leaf), host: "mail.example.org", ordered: true, nameOK: true, missing: "Test Intermediate"},
		{name: "root sent too", chain: ders(leaf, pki.Inter, pki.Root), host: "mail.example.org", trusted: true, ordered: true, complete: true, nameOK: true},
		{name: "wrong order", chain: ders(leaf, pki.Root, pki.Inter), host: "mail.example.org", trusted: true, complete: true, nameOK: true,
			check: func(t *testing.T, f *model.CertFacts) {
				if len(f.ChainIssues) == 0 {
					t.Error("no chain issue recorded")
				}
			}},
		{name: "extra unrelated", chain: ders(leaf, pki.Inter, other.Inter), host: "mail.example.org", trusted: true, complete: true, nameOK: true,
			check: func(t *testing.T, f *model.CertFacts) {
				if !strings.Contains(strings.Join(f.ChainIssues, "\n"), "not part of the path") {
					t.Errorf("issues = %v", f.ChainIssues)
				}
			}},
		{name: "wrong intermediate", chain: ders(leaf, other.Inter), host: "mail.example.org", nameOK: true, missing: "Test Intermediate"},
		{name: "self-signed", chain: ders(self), host: "self.example.org", ordered: true, complete: true, nameOK: true,
			check: func(t *testing.T, f *model.CertFacts) {
				if !f.Chain[0].SelfSigned || f.TrustError == "" {
					t.Errorf("self-signed facts: %+v", f)
				}
				if len(f.Chain[0].Lints) == 0 {
					t.Error("zlint found nothing on a self-signed leaf")
				}
			}},
		{name: "rsa1024", chain: ders(weak, pki.Inter), host: "weak.example.org", trusted: true, ordered: true, complete: true, nameOK: true,
			check: func(t *testing.T, f *model.CertFacts) {
				if f.Chain[0].KeyType != "RSA" || f.Chain[0].KeyBits != 1024 {
					t.Errorf("key %s %d", f.Chain[0].KeyType, f.Chain[0].KeyBits)
				}
				if !hasLint(f.Chain[0], "e_rsa_mod_less_than_2048_bits") {
					t.Errorf("lints = %v", f.Chain[0].Lints)
				}
			}},
		{name: "must staple client eku", chain: ders(staple, pki.Inter), host: "s.example.org", trusted: true, ordered: true, complete: true, nameOK: true,
			check: func(t *testing.T, f *model.CertFacts) {
				c := f.Chain[0]
				if !c.MustStaple || len(c.ExtKeyUsage) != 1 || c.ExtKeyUsage[0] != "clientAuth" {
					t.Errorf("must staple %v eku %v", c.MustStaple, c.ExtKeyUsage)
				}
				if c.EmbeddedSCTs != 2 || f.Chain[1].EmbeddedSCTs != 0 {
					t.Errorf("embedded SCTs %d / %d", c.EmbeddedSCTs, f.Chain[1].EmbeddedSCTs)
				}
			}},
		{name: "expired still complete", chain: ders(expired, pki.Inter), host: "old.example.org", ordered: true, complete: true, nameOK: true,
			check: func(t *testing.T, f *model.CertFacts) {
				if !strings.Contains(f.TrustError, "expired") {
					t.Errorf("trust error %q", f.TrustError)
				}
			}},
		{name: "garbage", chain: [][]byte{[]byte("not a certificate")}, host: "x.example.org", ordered: true,
			check: func(t *testing.T, f *model.CertFacts) {
				if f.Chain[0].ParseError == "" || f.NameError == "" || f.TrustError == "" {
					t.Errorf("garbage facts: %+v", f)
				}
			}},
		{name: "empty", chain: nil, host: "x.example.org", ordered: false,
			check: func(t *testing.T, f *model.CertFacts) {
				if f.TrustError == "" {
					t.Error("no trust error for an empty chain")
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := Analyze(tc.chain, Options{Name: tc.host, Roots: pki.Pool()})
			if f.Trusted != tc.trusted || f.ChainOrdered != tc.ordered || f.ChainComplete != tc.complete || f.NameMatches != tc.nameOK {
				t.Errorf("trusted=%v ordered=%v complete=%v name=%v, want %v %v %v %v (trust %q, name %q, issues %v)",
					f.Trusted, f.ChainOrdered, f.ChainComplete, f.NameMatches, tc.trusted, tc.ordered, tc.complete, tc.nameOK, f.TrustError, f.NameError, f.ChainIssues)
			}
			if tc.missing != "" && !strings.Contains(f.MissingIssuer, tc.missing) {
				t.Errorf("missing issuer %q, want %q", f.MissingIssuer, tc.missing)
			}
			if tc.missing == "" && f.MissingIssuer != "" && tc.complete {
				t.Errorf("unexpected missing issuer %q", f.MissingIssuer)
			}
			if tc.check != nil {
				tc.check(t, f)
			}
		})
	}
}

func hasLint(c model.Certificate, name string) bool {
	for _, l := range c.Lints {
		if l.Name == name {
			return true
		}
	}
	return false
}

func TestExtraRootsAndSystemPool(t *testing.T) {
	pki := certtest.NewChain("Extra")
	leaf := pki.Leaf(certtest.Spec{CN: "a.example.org", DNS: []string{"a.example.org"}})
	// Not trusted by the system roots...
	if f := Analyze(ders(leaf, pki.Inter), Options{Name: "a.example.org", NoLint: true}); f.Trusted || f.ChainComplete {
		t.Errorf("trusted by system roots: %+v", f)
	}
	// ...but trusted with the root as an extra anchor.
	if f := Analyze(ders(leaf, pki.Inter), Options{Name: "a.example.org", ExtraRoots: []*x509.Certificate{pki.Root.Cert}, NoLint: true}); !f.Trusted || !f.ChainComplete {
		t.Errorf("not trusted with extra root: %s %v", f.TrustError, f.ChainIssues)
	}
}

func TestXMPPIdentity(t *testing.T) {
	pki := certtest.NewChain("XMPP")
	tests := []struct {
		name    string
		spec    certtest.Spec
		service string
		domain  string
		match   bool
		by      string
	}{
		{"srv-id client", certtest.Spec{CN: "x", SRVNames: []string{"_xmpp-client.example.org"}, DNS: []string{"xmpp.hosting.net"}}, "xmpp-client", "example.org", true, "SRV-ID"},
		{"srv-id wrong service", certtest.Spec{CN: "x", SRVNames: []string{"_xmpp-server.example.org"}}, "xmpp-client", "example.org", false, ""},
		{"srv-id server", certtest.Spec{CN: "x", SRVNames: []string{"_xmpp-server.example.org"}}, "xmpps-server", "example.org", true, "SRV-ID"},
		{"srv-id xmpps", certtest.Spec{CN: "x", SRVNames: []string{"_xmpps-client.example.org"}}, "xmpps-client", "example.org", true, "SRV-ID"},
		{"xmppaddr", certtest.Spec{CN: "x", XmppAddrs: []string{"example.org"}}, "xmpp-client", "example.org", true, "XmppAddr"},
		{"dns-id", certtest.Spec{CN: "x", DNS: []string{"example.org"}}, "xmpp-server", "example.org", true, "DNS-ID"},
		{"dns-id wildcard", certtest.Spec{CN: "x", DNS: []string{"*.example.org"}}, "xmpp-client", "chat.example.org", true, "DNS-ID"},
		{"hosting name only", certtest.Spec{CN: "x", DNS: []string{"xmpp.hosting.net"}, XmppAddrs: []string{"other.org"}}, "xmpp-client", "example.org", false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			leaf := pki.Leaf(tc.spec)
			f := Analyze(ders(leaf, pki.Inter), Options{Name: "xmpp.hosting.net", Service: tc.service, XMPPDomain: tc.domain, Roots: pki.Pool(), NoLint: true})
			if f.XMPP == nil {
				t.Fatal("no XMPP facts")
			}
			if f.XMPP.Matches != tc.match || f.XMPP.MatchedBy != tc.by {
				t.Errorf("match=%v by=%q, want %v %q (%+v)", f.XMPP.Matches, f.XMPP.MatchedBy, tc.match, tc.by, f.XMPP)
			}
		})
	}
	if f := Analyze(ders(pki.Leaf(certtest.Spec{CN: "x", DNS: []string{"a.org"}})), Options{Name: "a.org", Service: "https", NoLint: true}); f.XMPP != nil {
		t.Error("XMPP facts for https")
	}
}

func TestBounds(t *testing.T) {
	pki := certtest.NewChain("Bounds")
	var names []string
	for i := 0; i < 400; i++ {
		names = append(names, fmt.Sprintf("%s%d.example.org", strings.Repeat("a", 60), i))
	}
	leaf := pki.Leaf(certtest.Spec{CN: strings.Repeat("C", 64), DNS: names})
	chain := ders(leaf)
	for i := 0; i < 30; i++ {
		chain = append(chain, pki.Inter.DER)
	}
	f := Analyze(chain, Options{Name: "x.example.org", Roots: pki.Pool(), NoLint: true})
	if len(f.Chain) != MaxChain || !f.ChainTruncated {
		t.Errorf("chain len %d truncated %v", len(f.Chain), f.ChainTruncated)
	}
	if len(f.Chain[0].DNSNames) != MaxNames {
		t.Errorf("kept %d names", len(f.Chain[0].DNSNames))
	}
	if len(f.ChainIssues) > maxChainIssue {
		t.Errorf("kept %d issues", len(f.ChainIssues))
	}
}

func TestClip(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"abc", "abc"},
		{"a\x00b\nc", "a?b?c"},
		{strings.Repeat("é", 10), strings.Repeat("é", 2) + "…"},
		{"\xff\xfe", "?"},
	} {
		if got := clip(tc.in, 5); got != tc.want {
			t.Errorf("clip(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestMatchDNSID(t *testing.T) {
	for _, tc := range []struct {
		p, n string
		want bool
	}{
		{"example.org", "EXAMPLE.org.", true},
		{"*.example.org", "a.example.org", true},
		{"*.example.org", "example.org", false},
		{"*.example.org", "a.b.example.org", false},
		{"*.org", "example.org", false},
		{"a*.example.org", "ab.example.org", false},
		{"*.example.org", "127.0.0.1", false},
	} {
		if got := MatchDNSID(tc.p, tc.n); got != tc.want {
			t.Errorf("MatchDNSID(%q, %q) = %v", tc.p, tc.n, got)
		}
	}
}

func FuzzAnalyze(f *testing.F) {
	pki := certtest.NewChain("Fuzz")
	leaf := pki.Leaf(certtest.Spec{CN: "f", DNS: []string{"f.example.org"}, SRVNames: []string{"_xmpp-client.f.example.org"}, MustStaple: true})
	f.Add(leaf.DER, pki.Inter.DER)
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0x01}, []byte{})
	f.Add(leaf.DER[:len(leaf.DER)/2], pki.Root.DER)
	pool := pki.Pool()
	f.Fuzz(func(t *testing.T, a, b []byte) {
		fa := Analyze([][]byte{a, b}, Options{Name: "f.example.org", Service: "xmpp-client", Roots: pool, NoLint: len(a)%2 == 0})
		if len(fa.Chain) != 2 {
			t.Fatalf("chain len %d", len(fa.Chain))
		}
		for _, c := range fa.Chain {
			if len(c.Subject) > MaxString+4 || len(c.DNSNames) > MaxNames {
				t.Fatalf("unbounded facts: %d %d", len(c.Subject), len(c.DNSNames))
			}
		}
	})
}

func TestLintRegistry(t *testing.T) {
	self := certtest.Issue(certtest.Spec{CN: "self.example.org", DNS: []string{"self.example.org"}}, nil)
	all := Analyze(ders(self), Options{Name: "self.example.org"})
	if !hasLint(all.Chain[0], "e_sub_cert_aia_missing") {
		t.Fatalf("global registry lints %v", all.Chain[0].Lints)
	}
	reg, err := LintRegistry("RFC5280", "Community")
	if err != nil {
		t.Fatal(err)
	}
	some := Analyze(ders(self), Options{Name: "self.example.org", LintRegistry: reg})
	if hasLint(some.Chain[0], "e_sub_cert_aia_missing") || len(some.Chain[0].Lints) >= len(all.Chain[0].Lints) {
		t.Errorf("filtered lints %v", some.Chain[0].Lints)
	}
	if _, err := LintRegistry("NoSuchSource"); err == nil {
		t.Error("unknown source accepted")
	}
}
