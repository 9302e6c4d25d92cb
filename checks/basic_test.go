package checks

import (
	"crypto/tls"
	"net/netip"
	"testing"
	"time"

	"github.com/rampart-scan/rampart/model"
	"github.com/rampart-scan/rampart/policies"
)

var now = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

func ep(service string) model.Endpoint {
	return model.Endpoint{Name: "chat.example.org", Addr: netip.MustParseAddrPort("192.0.2.7:5223"), Service: service}
}

func leaf(notBefore, notAfter time.Time, selfSigned bool) model.Certificate {
	return model.Certificate{Subject: "CN=chat.example.org", Issuer: "CN=CA", NotBefore: notBefore, NotAfter: notAfter, SelfSigned: selfSigned, SHA256: "ab12"}
}

func tlsOK(version uint16) *model.TLSFacts {
	return &model.TLSFacts{Speaks: true, Handshake: &model.Handshake{VersionID: version, Version: tls.VersionName(version), CipherSuite: "TLS_AES_128_GCM_SHA256"}}
}

func healthy() model.Observation {
	return model.Observation{
		Endpoint: ep("xmpps-client"),
		Status:   model.StatusOK,
		Connect:  &model.ConnectFacts{Reachable: true},
		TLS:      tlsOK(tls.VersionTLS13),
		Certificates: &model.CertFacts{
			Chain:       []model.Certificate{leaf(now.AddDate(0, -1, 0), now.AddDate(0, 2, 0), false)},
			Trusted:     true,
			NameChecked: "chat.example.org",
			NameMatches: true,
		},
	}
}

func TestFoundationRules(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(o *model.Observation)
		want   []string // rule IDs expected, in any order; nothing else may fire
	}{
		{"healthy endpoint raises nothing", func(*model.Observation) {}, nil},
		{"expired", func(o *model.Observation) {
			o.Certificates.Chain[0] = leaf(now.AddDate(-1, 0, 0), now.AddDate(0, 0, -3), false)
		}, []string{"cert/expired"}},
		{"expired one second ago", func(o *model.Observation) {
			o.Certificates.Chain[0] = leaf(now.AddDate(-1, 0, 0), now.Add(-time.Second), false)
		}, []string{"cert/expired"}},
		{"not yet valid", func(o *model.Observation) {
			o.Certificates.Chain[0] = leaf(now.Add(time.Hour), now.AddDate(1, 0, 0), false)
		}, []string{"cert/not-yet-valid"}},
		{"expiring within 30 days", func(o *model.Observation) {
			o.Certificates.Chain[0] = leaf(now.AddDate(0, -2, 0), now.AddDate(0, 0, 29), false)
		}, []string{"cert/expiring-soon"}},
		{"expiring in 31 days is fine", func(o *model.Observation) {
			o.Certificates.Chain[0] = leaf(now.AddDate(0, -2, 0), now.AddDate(0, 0, 31), false)
		}, nil},
		{"untrusted", func(o *model.Observation) {
			o.Certificates.Trusted, o.Certificates.TrustError = false, "x509: certificate signed by unknown authority"
		}, []string{"cert/untrusted"}},
		{"self-signed reported once, not also as untrusted", func(o *model.Observation) {
			o.Certificates.Chain[0].SelfSigned = true
			o.Certificates.Trusted, o.Certificates.TrustError = false, "x509: certificate signed by unknown authority"
		}, []string{"cert/self-signed"}},
		{"self-signed but trusted (pinned via --ca-file) is fine", func(o *model.Observation) {
			o.Certificates.Chain[0].SelfSigned = true
		}, nil},
		{"hostname mismatch", func(o *model.Observation) {
			o.Certificates.NameMatches, o.Certificates.NameError = false, "x509: certificate is valid for other.example, not chat.example.org"
		}, []string{"cert/hostname-mismatch"}},
		{"address target: an IP-SAN mismatch is a fact, not a finding", func(o *model.Observation) {
			o.Endpoint.Name = ""
			o.Certificates.NameChecked, o.Certificates.NameMatches = "192.0.2.7", false
		}, nil},
		{"TLS 1.0 negotiated", func(o *model.Observation) { o.TLS = tlsOK(tls.VersionTLS10) }, []string{"tls/legacy-protocol-negotiated"}},
		{"TLS 1.1 negotiated", func(o *model.Observation) { o.TLS = tlsOK(tls.VersionTLS11) }, []string{"tls/legacy-protocol-negotiated"}},
		{"TLS 1.2 negotiated is fine", func(o *model.Observation) { o.TLS = tlsOK(tls.VersionTLS12) }, nil},
		{"plaintext on implicit-TLS port", func(o *model.Observation) {
			o.TLS, o.Certificates = &model.TLSFacts{Speaks: false, HandshakeError: "not TLS"}, nil
		}, []string{"tls/not-tls"}},
		{"plaintext on a port of unknown service is not a TLS finding", func(o *model.Observation) {
			o.Endpoint.Service = ""
			o.TLS, o.Certificates = &model.TLSFacts{Speaks: false, HandshakeError: "not TLS"}, nil
		}, nil},
		{"handshake refused", func(o *model.Observation) {
			o.TLS, o.Certificates = &model.TLSFacts{Speaks: true, HandshakeError: "remote error: tls: protocol version not supported"}, nil
		}, []string{"tls/handshake-failed"}},
		{"unreachable", func(o *model.Observation) {
			*o = model.Observation{Endpoint: o.Endpoint, Status: model.StatusUnreachable, Error: "connection refused", Connect: &model.ConnectFacts{}}
		}, []string{"net/unreachable"}},
		{"dial timeout", func(o *model.Observation) {
			*o = model.Observation{Endpoint: o.Endpoint, Status: model.StatusTimeout, Error: "i/o timeout", Connect: &model.ConnectFacts{}}
		}, []string{"net/unreachable"}},
		{"connected then stalled is not unreachable", func(o *model.Observation) {
			o.Status, o.Certificates = model.StatusTimeout, nil
			o.TLS = &model.TLSFacts{Speaks: false, HandshakeError: "timed out"}
		}, []string{"tls/not-tls"}},
	}
	cat := Default()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obs := healthy()
			tt.mutate(&obs)
			got := cat.Evaluate(&obs, policies.Default(), now)
			assertRules(t, got, tt.want)
			for _, f := range got {
				if f.Fingerprint == "" || f.Asset != obs.Endpoint.ID() || f.Message == "" || f.Title == "" {
					t.Errorf("incomplete finding %+v", f)
				}
			}
		})
	}
}

// TestThresholdsComeFromPolicy evaluates one observation under two policies.
func TestThresholdsComeFromPolicy(t *testing.T) {
	obs := healthy()
	obs.TLS = tlsOK(tls.VersionTLS12)
	obs.Certificates.Chain[0] = leaf(now.AddDate(0, -2, 0), now.AddDate(0, 0, 45), false)
	strict := policies.Default()
	strict.Thresholds.MinProtocol = tls.VersionTLS13
	strict.Thresholds.ExpiryWarningDays = 60
	assertRules(t, Default().Evaluate(&obs, policies.Default(), now), nil)
	assertRules(t, Default().Evaluate(&obs, strict, now), []string{"tls/legacy-protocol-negotiated", "cert/expiring-soon"})
}

func TestFingerprintStableAcrossWording(t *testing.T) {
	obs := healthy()
	obs.Certificates.Chain[0] = leaf(now.AddDate(-1, 0, 0), now.AddDate(0, 0, -3), false)
	a := Default().Evaluate(&obs, policies.Default(), now)
	b := Default().Evaluate(&obs, policies.Default(), now.AddDate(0, 0, 7)) // message says 10 days now
	if a[0].Fingerprint != b[0].Fingerprint || a[0].Message == b[0].Message {
		t.Fatalf("fingerprint must depend on rule+asset+detail only: %q/%q %q/%q", a[0].Fingerprint, b[0].Fingerprint, a[0].Message, b[0].Message)
	}
}

func TestCatalogueRulesComplete(t *testing.T) {
	for _, r := range Default().Rules() {
		if r.ID == "" || r.Title == "" || r.Why == "" || r.Fix == "" {
			t.Errorf("rule %q lacks title, why or fix", r.ID)
		}
	}
	if _, err := NewCatalogue([]Check{reachabilityCheck(), reachabilityCheck()}, nil); err == nil {
		t.Fatal("duplicate rule IDs accepted")
	}
}

func assertRules(t *testing.T, got []model.Finding, want []string) {
	t.Helper()
	gotSet := map[string]int{}
	for _, f := range got {
		gotSet[f.RuleID]++
	}
	for _, w := range want {
		if gotSet[w] == 0 {
			t.Errorf("rule %s did not fire; got %v", w, gotSet)
		}
		delete(gotSet, w)
	}
	for id := range gotSet {
		t.Errorf("unexpected rule %s fired", id)
	}
}

func TestNodeConsistencyRule(t *testing.T) {
	g := model.NodeGroup{Name: "chat.example.org", Port: 5223, Service: "xmpps-client",
		Endpoints: []string{"a", "b"}}
	assertRules(t, Default().EvaluateGroup(&g, policies.Default(), now), nil)
	g.Differences = []model.NodeDifference{
		{Fact: "leaf_certificate", Values: map[string]string{"192.0.2.1:5223": "aa", "192.0.2.2:5223": "bb"}},
		{Fact: "protocol_versions", Values: map[string]string{"192.0.2.1:5223": "TLS 1.3", "192.0.2.2:5223": "TLS 1.0, TLS 1.3"}},
	}
	fs := Default().EvaluateGroup(&g, policies.Default(), now)
	assertRules(t, fs, []string{"tls/inconsistent-nodes"})
	if len(fs) != 2 || fs[0].Asset != "xmpps-client://chat.example.org:5223" || fs[0].Detail == fs[1].Detail {
		t.Fatalf("findings = %+v", fs)
	}
}
