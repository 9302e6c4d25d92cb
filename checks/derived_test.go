package checks

import (
	"crypto/sha256"
	"encoding/hex"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/rampart-scan/rampart/model"
	"github.com/rampart-scan/rampart/policies"
	"github.com/rampart-scan/rampart/scanner/certs/certtest"
	"github.com/rampart-scan/rampart/scanner/hello"
)

const (
	rsaExportRC4  = "TLS_RSA_EXPORT_WITH_RC4_40_MD5"
	dheExportDES  = "TLS_DHE_RSA_EXPORT_WITH_DES40_CBC_SHA"
	dheGCM        = "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256"
	rsaIDEA       = "TLS_RSA_WITH_IDEA_CBC_SHA"
	inconclusive  = "vuln/derived-inconclusive"
	oakleyGroup2  = "MODP 1024 / Oakley group 2 (RFC 2409)"
	ffdhe2048Name = "ffdhe2048 (RFC 7919)"
)

func TestDerivedVerdicts(t *testing.T) {
	cat, err := NewCatalogue([]Check{derivedVulnCheck()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	failed := func(id uint16, why string) model.EngineVersion {
		v := off(id)
		v.Error = why
		return v
	}
	tests := []struct {
		name    string
		mutate  func(e *model.TLSEngineFacts)
		want    []string
		details []string // details of the inconclusive findings, sorted
		msg     string
	}{
		{name: "modern server raises nothing", mutate: func(*model.TLSEngineFacts) {}},
		{name: "SSL 3.0 with CBC", mutate: func(e *model.TLSEngineFacts) {
			setVersion(e, ver(t, hello.VersionSSL30, "server", rsaCBC))
		}, want: []string{"vuln/poodle", "vuln/beast", "vuln/lucky13"}, msg: rsaCBC + " (SSLv3)"},
		{name: "SSL 3.0 with RC4 only is not POODLE", mutate: func(e *model.TLSEngineFacts) {
			setVersion(e, ver(t, hello.VersionSSL30, "server", rsaRC4))
		}, want: []string{"vuln/rc4"}},
		{name: "TLS 1.0 CBC", mutate: func(e *model.TLSEngineFacts) {
			setVersion(e, ver(t, hello.VersionTLS10, "server", ecdheCBC))
		}, want: []string{"vuln/beast", "vuln/lucky13"}},
		{name: "TLS 1.2 CBC only LUCKY13", mutate: func(e *model.TLSEngineFacts) {
			setVersion(e, ver(t, hello.VersionTLS12, "server", ecdheGCM128, ecdheCBC))
		}, want: []string{"vuln/lucky13"}},
		{name: "3DES and IDEA", mutate: func(e *model.TLSEngineFacts) {
			setVersion(e, ver(t, hello.VersionTLS11, "server", rsa3DES))
			setVersion(e, ver(t, hello.VersionTLS12, "server", ecdheGCM128, rsa3DES, rsaIDEA))
		}, want: []string{"vuln/sweet32", "vuln/lucky13"}, msg: rsa3DES + " (TLS 1.1, TLS 1.2), " + rsaIDEA + " (TLS 1.2)"},
		{name: "RSA export: FREAK", mutate: func(e *model.TLSEngineFacts) {
			setVersion(e, ver(t, hello.VersionTLS12, "server", ecdheGCM128, rsaExportRC4))
		}, want: []string{"vuln/freak", "vuln/rc4"}},
		{name: "DHE export: Logjam", mutate: func(e *model.TLSEngineFacts) {
			setVersion(e, ver(t, hello.VersionTLS12, "server", ecdheGCM128, dheExportDES))
		}, want: []string{"vuln/logjam", "vuln/sweet32", "vuln/lucky13"}, msg: "DHE export suites"},
		{name: "well-known 1024-bit prime", mutate: func(e *model.TLSEngineFacts) {
			setVersion(e, ver(t, hello.VersionTLS12, "server", ecdheGCM128, dheGCM))
			e.DH = []model.DHParams{{Version: "TLS 1.2", Suite: dheGCM, PrimeBits: 1024, Known: oakleyGroup2}}
		}, want: []string{"vuln/logjam"}, msg: "Oakley group 2"},
		{name: "custom 1024-bit prime is not Logjam", mutate: func(e *model.TLSEngineFacts) {
			setVersion(e, ver(t, hello.VersionTLS12, "server", ecdheGCM128, dheGCM))
			e.DH = []model.DHParams{{Version: "TLS 1.2", Suite: dheGCM, PrimeBits: 1024}}
		}},
		{name: "768-bit prime", mutate: func(e *model.TLSEngineFacts) {
			setVersion(e, ver(t, hello.VersionTLS12, "server", ecdheGCM128, dheGCM))
			e.DH = []model.DHParams{{Version: "TLS 1.2", Suite: dheGCM, PrimeBits: 768}}
		}, want: []string{"vuln/logjam"}, msg: "768-bit"},
		{name: "ffdhe2048", mutate: func(e *model.TLSEngineFacts) {
			setVersion(e, ver(t, hello.VersionTLS12, "server", ecdheGCM128, dheGCM))
			e.DH = []model.DHParams{{Version: "TLS 1.2", Suite: dheGCM, PrimeBits: 2048, Known: ffdhe2048Name}}
		}},
		{name: "small prime seen only on the suite", mutate: func(e *model.TLSEngineFacts) {
			v := ver(t, hello.VersionTLS12, "server", ecdheGCM128, dheGCM)
			v.Suites[1].DHBits = 512
			setVersion(e, v)
		}, want: []string{"vuln/logjam"}, msg: "512-bit"},
		{name: "SSL 3.0 probe failed: every verdict that needs it is undecided", mutate: func(e *model.TLSEngineFacts) {
			setVersion(e, failed(hello.VersionSSL30, "read: connection reset by peer"))
		}, want: []string{inconclusive, inconclusive, inconclusive, inconclusive, inconclusive, inconclusive, inconclusive},
			details: []string{"beast", "freak", "logjam", "lucky13", "poodle", "rc4", "sweet32"}, msg: "connection reset"},
		{name: "a verdict already reached is not undecided", mutate: func(e *model.TLSEngineFacts) {
			setVersion(e, failed(hello.VersionTLS10, "timeout"))
			setVersion(e, ver(t, hello.VersionTLS12, "server", ecdheGCM128, ecdheCBC))
		}, want: []string{"vuln/lucky13", inconclusive, inconclusive, inconclusive, inconclusive, inconclusive},
			details: []string{"beast", "freak", "logjam", "rc4", "sweet32"}},
		{name: "DHE parameters unread", mutate: func(e *model.TLSEngineFacts) {
			v := ver(t, hello.VersionTLS12, "server", ecdheGCM128, dheGCM)
			v.KeyExchangeError = "certificate message larger than 64 KiB"
			setVersion(e, v)
		}, want: []string{inconclusive}, details: []string{"logjam"}, msg: "DHE parameters unread"},
		{name: "SSL 2.0 is left to tls/sslv2-enabled", mutate: func(e *model.TLSEngineFacts) {
			v := off(hello.VersionSSL20)
			v.Supported = true
			v.Suites = []model.EngineSuite{{Name: "SSL_CK_RC4_128_EXPORT40_WITH_MD5", Cipher: "RC4", Bits: 40, Export: true, KeyExchange: "RSA"}}
			setVersion(e, v)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obs := healthy()
			obs.TLS.Engine = modernEngine(t)
			tt.mutate(obs.TLS.Engine)
			got := cat.Evaluate(&obs, policies.Default(), now)
			assertRules(t, got, dedupe(tt.want))
			if len(got) != len(tt.want) {
				t.Errorf("%d findings, want %d: %+v", len(got), len(tt.want), got)
			}
			var details []string
			found := tt.msg == ""
			for _, f := range got {
				if f.RuleID == inconclusive {
					details = append(details, f.Detail)
				}
				found = found || strings.Contains(f.Message, tt.msg)
			}
			sort.Strings(details)
			if !slices.Equal(details, tt.details) {
				t.Errorf("inconclusive details %v, want %v", details, tt.details)
			}
			if !found {
				t.Errorf("no message mentions %q: %+v", tt.msg, got)
			}
		})
	}
	t.Run("no enumeration, no verdict", func(t *testing.T) {
		obs := healthy()
		obs.TLS.Engine = nil
		assertRules(t, cat.Evaluate(&obs, policies.Default(), now), nil)
	})
}

// rsaCert is a model certificate for leaf, with or without its DER.
func rsaCert(c *certtest.Cert, withDER bool) model.Certificate {
	sum := sha256.Sum256(c.DER)
	mc := model.Certificate{Subject: c.Cert.Subject.String(), KeyType: "RSA", KeyBits: 1024, SHA256: hex.EncodeToString(sum[:])}
	if withDER {
		mc.DER = c.DER
	}
	return mc
}

func TestDerivedAcrossEndpointsDROWN(t *testing.T) {
	keyX, keyY, keyZ := certtest.Key(certtest.RSA1024, 0), certtest.Key(certtest.RSA1024, 1), certtest.Key(certtest.RSA1024, 2)
	certX := certtest.Issue(certtest.Spec{CN: "mail.example.org", Key: keyX}, nil)
	certX2 := certtest.Issue(certtest.Spec{CN: "www.example.org", Key: keyX}, nil) // re-issued, same key
	certY := certtest.Issue(certtest.Spec{CN: "other.example.org", Key: keyY}, nil)
	certZ := certtest.Issue(certtest.Spec{CN: "legacy.example.org", Key: keyZ}, nil)
	certEC := certtest.Issue(certtest.Spec{CN: "ec.example.org"}, nil)

	endpoint := func(svc, addr string, sslv2 model.EngineVersion, leaf model.Certificate) model.EndpointResult {
		obs := healthy()
		obs.Endpoint = model.Endpoint{Name: "example.org", Addr: netip.MustParseAddrPort(addr), Service: svc}
		obs.TLS.Engine = modernEngine(t)
		setVersion(obs.TLS.Engine, sslv2)
		obs.Certificates = &model.CertFacts{Chain: []model.Certificate{leaf}, Trusted: true, NameMatches: true}
		return model.EndpointResult{Observation: obs, Findings: []model.Finding{{RuleID: "tls/no-tls13", Severity: model.SeverityLow, Fingerprint: "x"}}}
	}
	sslv2 := off(hello.VersionSSL20)
	sslv2.Supported = true
	v2failed := off(hello.VersionSSL20)
	v2failed.Error = "timeout"
	no := off(hello.VersionSSL20)

	results := []model.EndpointResult{
		endpoint("smtp", "192.0.2.1:25", sslv2, rsaCert(certX, true)),                             // 0: the SSL 2.0 oracle
		endpoint("https", "192.0.2.1:443", no, rsaCert(certX, false)),                             // 1: same certificate, DER not kept
		endpoint("https", "192.0.2.2:443", no, rsaCert(certY, true)),                              // 2: another key
		endpoint("https", "192.0.2.3:443", no, model.Certificate{KeyType: "ECDSA", SHA256: "ec"}), // 3
		endpoint("imaps", "192.0.2.4:993", no, rsaCert(certEC, true)),                             // 4: ECDSA leaf
		endpoint("xmpps-client", "192.0.2.5:5223", no, rsaCert(certY, true)),                      // 5: key Y again, no SSL 2.0 anywhere
		endpoint("pop3s", "192.0.2.6:995", v2failed, rsaCert(certZ, true)),                        // 6: SSL 2.0 undecided
		endpoint("submissions", "192.0.2.7:465", no, rsaCert(certZ, true)),                        // 7: shares key Z with 6
		endpoint("https", "192.0.2.8:443", no, rsaCert(certY, true)),                              // 8: re-issued X via the inspection
		endpoint("https", "192.0.2.9:443", no, rsaCert(certX, true)),                              // 9: interrupted
	}
	results[3].Observation.Certificates.Chain[0].KeyType = "ECDSA"
	results[8].Observation.TLS.Features = &model.HandshakeFacts{Chains: []model.PresentedChain{
		{Leaf: rsaCert(certX2, true).SHA256, KeyType: "RSA", SNI: true, DER: [][]byte{certX2.DER}},
	}}
	results[9].Observation.Status = model.StatusInterrupted

	cat, err := NewCatalogue([]Check{derivedVulnCheck()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	changed := cat.DerivedAcrossEndpoints(results, policies.Default(), now)
	if !slices.Equal(changed, []int{1, 7, 8}) {
		t.Fatalf("changed %v, want [1 7 8]", changed)
	}
	for _, i := range []int{1, 8} {
		fs := results[i].Findings
		if len(fs) != 2 || fs[0].RuleID != "vuln/drown" || fs[0].Severity != model.SeverityHigh || fs[1].RuleID != "tls/no-tls13" {
			t.Fatalf("endpoint %d findings %+v", i, fs)
		}
		f := fs[0]
		if f.Asset != results[i].Observation.Endpoint.ID() || !strings.HasPrefix(f.Detail, "leaf:") ||
			f.Evidence["sslv2_endpoints"] != results[0].Observation.Endpoint.ID() || f.Fingerprint == "" {
			t.Errorf("endpoint %d finding %+v", i, f)
		}
	}
	if fs := results[7].Findings; len(fs) != 2 || fs[0].RuleID != "tls/no-tls13" {
		t.Errorf("endpoint 7 findings not sorted by severity: %+v", fs)
	}
	if f := results[7].Findings[1]; f.RuleID != inconclusive || f.Detail != "drown" || !strings.Contains(f.Message, "timeout") {
		t.Errorf("undecided finding %+v", f)
	}
	for _, i := range []int{0, 2, 3, 4, 5, 6, 9} {
		if len(results[i].Findings) != 1 {
			t.Errorf("endpoint %d got findings %+v", i, results[i].Findings)
		}
	}

	// A policy that disables the rule silences it; a catalogue without it does nothing.
	again := func() []model.EndpointResult {
		r := slices.Clone(results)
		for i := range r {
			r[i].Findings = nil
		}
		return r
	}
	p := policies.Default()
	p.Disabled = map[string]bool{"vuln/drown": true}
	r := again()
	if ch := cat.DerivedAcrossEndpoints(r, p, now); !slices.Equal(ch, []int{7}) {
		t.Errorf("with vuln/drown disabled: changed %v", ch)
	}
	other, err := NewCatalogue([]Check{httpSecurityCheck()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ch := other.DerivedAcrossEndpoints(again(), policies.Default(), now); ch != nil {
		t.Errorf("catalogue without vuln/drown changed %v", ch)
	}
}

func TestCatalogueWithNewChecks(t *testing.T) {
	cat, err := NewCatalogue(builtin(), builtinDomain(), builtinGroup()...) // the registered catalogue includes both families
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"vuln/poodle", "vuln/drown", "vuln/breach", "http/no-hsts", inconclusive} {
		r, ok := cat.Rule(id)
		if !ok || r.Why == "" || r.Fix == "" || len(r.References) == 0 && !strings.HasSuffix(id, "inconclusive") {
			t.Errorf("rule %s: %+v", id, r)
		}
	}
	for _, r := range derivedVulnCheck().Rules {
		if r.ID == inconclusive {
			continue
		}
		cves := 0
		for _, tag := range r.Tags {
			if strings.HasPrefix(tag, "CVE-") {
				cves++
			}
		}
		if cves == 0 || len(r.Snippets) < 4 {
			t.Errorf("rule %s: %d CVE tags, %d snippets", r.ID, cves, len(r.Snippets))
		}
	}
}
