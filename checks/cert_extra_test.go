package checks

import (
	"crypto/tls"
	"sort"
	"strings"
	"testing"

	"github.com/rampart-scan/rampart/model"
	"github.com/rampart-scan/rampart/policies"
)

func goodChain(keyType string, bits int, sha string) *model.CertFacts {
	return &model.CertFacts{
		Analyzed: true,
		Chain: []model.Certificate{
			{Subject: "CN=chat.example.org", Issuer: "CN=Inter", KeyType: keyType, KeyBits: bits, SignatureAlgorithm: "SHA256-RSA", SHA256: sha, ExtKeyUsage: []string{"serverAuth"},
				NotBefore: now.AddDate(0, -1, 0), NotAfter: now.AddDate(0, 2, 0)},
			{Subject: "CN=Inter", Issuer: "CN=Root", KeyType: "RSA", KeyBits: 4096, SignatureAlgorithm: "SHA384-RSA", SHA256: "inter", IsCA: true},
		},
		Trusted: true, NameChecked: "chat.example.org", NameMatches: true, ChainOrdered: true, ChainComplete: true,
	}
}

// richObservation is a healthy endpoint seen by the handshake inspection: RSA and ECDSA
// chains side by side, every TLS 1.2 feature as it should be.
func richObservation() model.Observation {
	o := healthy()
	ec, rs := goodChain("ECDSA", 256, "ec01"), goodChain("RSA", 2048, "rs01")
	o.Certificates = ec
	o.TLS.Features = &model.HandshakeFacts{
		Connections: 7,
		MaxVersion:  "TLS 1.3",
		TLS12: &model.TLS12Features{Version: "TLS 1.2", CipherSuite: "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
			SecureRenegotiation: true, ExtendedMasterSecret: true, SessionTicket: true, OCSPStapling: true, DowngradeSentinel: "tls1.2"},
		OCSP:     &model.OCSPStaple{Status: "good", Size: 500},
		Fallback: "rejected",
		Chains: []model.PresentedChain{
			{Leaf: "ec01", KeyType: "ECDSA", SNI: true, Probes: []string{"modern"}, Analysis: ec},
			{Leaf: "rs01", KeyType: "RSA", SNI: true, Probes: []string{"rsa"}, Analysis: rs},
		},
	}
	return o
}

func chainAt(o *model.Observation, i int) *model.CertFacts { return o.TLS.Features.Chains[i].Analysis }

func TestCertExtraAndFeatureRules(t *testing.T) {
	cat, err := NewCatalogue([]Check{certExtraCheck(), tlsFeaturesCheck()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		mutate func(o *model.Observation)
		want   map[string][]string // rule → details, exactly
	}{
		{"healthy endpoint raises nothing", func(*model.Observation) {}, nil},
		{"RSA 1024 leaf on the RSA chain", func(o *model.Observation) { chainAt(o, 1).Chain[0].KeyBits = 1024 },
			map[string][]string{"cert/weak-key": {"RSA/leaf"}}},
		{"RSA 2048 is not weak", func(o *model.Observation) { chainAt(o, 1).Chain[0].KeyBits = 2048 }, nil},
		{"EC 224 leaf", func(o *model.Observation) { chainAt(o, 0).Chain[0].KeyBits = 224 },
			map[string][]string{"cert/weak-key": {"ECDSA/leaf"}}},
		{"weak intermediate key", func(o *model.Observation) { chainAt(o, 1).Chain[1].KeyBits = 1024 },
			map[string][]string{"cert/weak-key": {"RSA/cert2"}}},
		{"weak self-signed root sent along is ignored", func(o *model.Observation) {
			c := chainAt(o, 1)
			c.Chain = append(c.Chain, model.Certificate{Subject: "CN=Root", KeyType: "RSA", KeyBits: 1024, SignatureAlgorithm: "SHA1-RSA", SelfSigned: true, SHA256: "root"})
		}, nil},
		{"SHA-1 leaf signature", func(o *model.Observation) { chainAt(o, 0).Chain[0].SignatureAlgorithm = "SHA1-RSA" },
			map[string][]string{"cert/weak-signature": {"ECDSA/leaf"}}},
		{"MD5 intermediate", func(o *model.Observation) { chainAt(o, 0).Chain[1].SignatureAlgorithm = "MD5-RSA" },
			map[string][]string{"cert/weak-signature": {"ECDSA/cert2"}}},
		{"ECDSA-SHA256 is fine", func(o *model.Observation) { chainAt(o, 0).Chain[0].SignatureAlgorithm = "ECDSA-SHA256" }, nil},
		{"incomplete chain", func(o *model.Observation) {
			c := chainAt(o, 1)
			c.Chain, c.ChainComplete, c.MissingIssuer = c.Chain[:1], false, "CN=Inter"
		}, map[string][]string{"cert/incomplete-chain": {"RSA"}}},
		{"chain out of order", func(o *model.Observation) {
			c := chainAt(o, 0)
			c.ChainOrdered, c.ChainIssues = false, []string{"certificate 2 is not part of the path from the leaf"}
		}, map[string][]string{"cert/chain-order": {"ECDSA"}}},
		{"single certificate never out of order", func(o *model.Observation) {
			c := chainAt(o, 0)
			c.Chain, c.ChainOrdered = c.Chain[:1], false
		}, nil},
		{"must-staple without staple", func(o *model.Observation) {
			chainAt(o, 0).Chain[0].MustStaple = true
			o.TLS.Features.OCSP = nil
		}, map[string][]string{"cert/must-staple-no-staple": {"ECDSA"}, "tls/no-ocsp-stapling": {""}}},
		{"must-staple with staple", func(o *model.Observation) { chainAt(o, 0).Chain[0].MustStaple = true }, nil},
		{"clientAuth only", func(o *model.Observation) { chainAt(o, 1).Chain[0].ExtKeyUsage = []string{"clientAuth"} },
			map[string][]string{"cert/not-server-auth": {"RSA"}}},
		{"no EKU at all is fine", func(o *model.Observation) { chainAt(o, 1).Chain[0].ExtKeyUsage = nil }, nil},
		{"anyExtendedKeyUsage is fine", func(o *model.Observation) { chainAt(o, 1).Chain[0].ExtKeyUsage = []string{"any"} }, nil},
		{"zlint errors: one finding per lint", func(o *model.Observation) {
			chainAt(o, 0).Chain[0].Lints = []model.LintResult{
				{Name: "e_sub_cert_aia_missing", Status: "error"},
				{Name: "e_ext_san_missing", Status: "fatal", Details: "x"},
				{Name: "w_sub_cert_x", Status: "warn"},
				{Name: "n_note", Status: "notice"},
			}
		}, map[string][]string{"cert/zlint-error": {"ECDSA/leaf/e_ext_san_missing", "ECDSA/leaf/e_sub_cert_aia_missing"}}},
		{"zlint warnings only", func(o *model.Observation) {
			chainAt(o, 0).Chain[0].Lints = []model.LintResult{{Name: "w_sub_cert_x", Status: "warn"}}
		}, nil},
		{"xmpp identity mismatch", func(o *model.Observation) {
			chainAt(o, 0).XMPP = &model.XMPPIdentity{Domain: "example.org", Service: "xmpp-client"}
		}, map[string][]string{"cert/xmpp-identity-mismatch": {"ECDSA"}}},
		{"xmpp identity by SRV-ID", func(o *model.Observation) {
			chainAt(o, 0).XMPP = &model.XMPPIdentity{Domain: "example.org", Service: "xmpp-client", Matches: true, MatchedBy: "SRV-ID"}
		}, nil},
		{"no-SNI chain is labelled", func(o *model.Observation) {
			o.TLS.Features.Chains[1].SNI = false
			chainAt(o, 1).Chain[0].KeyBits = 1024
		}, map[string][]string{"cert/weak-key": {"RSA/no-sni/leaf"}}},
		{"unanalysed main chain: only key and signature checks", func(o *model.Observation) {
			o.TLS.Features = nil
			o.Certificates = &model.CertFacts{Chain: []model.Certificate{{KeyType: "RSA", KeyBits: 1024, SignatureAlgorithm: "SHA256-RSA", SHA256: "x"}}, Trusted: true, NameMatches: true}
		}, map[string][]string{"cert/weak-key": {"RSA/leaf"}}},
		{"no secure renegotiation", func(o *model.Observation) { o.TLS.Features.TLS12.SecureRenegotiation = false },
			map[string][]string{"tls/no-secure-renegotiation": {""}}},
		{"compression", func(o *model.Observation) { o.TLS.Features.TLS12.Compression = 1 },
			map[string][]string{"tls/compression-enabled": {""}}},
		{"no EMS", func(o *model.Observation) { o.TLS.Features.TLS12.ExtendedMasterSecret = false },
			map[string][]string{"tls/no-extended-master-secret": {""}}},
		{"heartbeat", func(o *model.Observation) { o.TLS.Features.TLS12.Heartbeat = true },
			map[string][]string{"tls/heartbeat-enabled": {""}}},
		{"TLS 1.3 only: no TLS 1.2 feature findings", func(o *model.Observation) {
			o.TLS.Features.TLS12 = nil
		}, nil},
		{"no OCSP staple", func(o *model.Observation) { o.TLS.Features.OCSP = nil },
			map[string][]string{"tls/no-ocsp-stapling": {""}}},
		{"fallback accepted", func(o *model.Observation) {
			o.TLS.Features.Fallback, o.TLS.Features.FallbackDetail = "accepted", "TLS 1.2 negotiated"
		}, map[string][]string{"tls/no-fallback-scsv": {""}}},
		{"fallback inconclusive", func(o *model.Observation) { o.TLS.Features.Fallback = "inconclusive" }, nil},
		{"fallback not needed", func(o *model.Observation) { o.TLS.Features.Fallback = "not-needed" }, nil},
		{"TLS 1.3 server, TLS 1.2 answer without the sentinel", func(o *model.Observation) { o.TLS.Features.TLS12.DowngradeSentinel = "" },
			map[string][]string{"tls/no-downgrade-sentinel": {""}}},
		{"TLS 1.3 server, TLS 1.2 answer with the TLS 1.1 marker", func(o *model.Observation) { o.TLS.Features.TLS12.DowngradeSentinel = "tls1.1" },
			map[string][]string{"tls/no-downgrade-sentinel": {""}}},
		{"TLS 1.2 server: no sentinel expected", func(o *model.Observation) {
			o.TLS.Features.MaxVersion, o.TLS.Features.TLS12.DowngradeSentinel = "TLS 1.2", ""
		}, nil},
		{"no inspection at all", func(o *model.Observation) { o.TLS.Features = nil }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obs := richObservation()
			tt.mutate(&obs)
			got := cat.Evaluate(&obs, policies.Default(), now)
			gotMap := map[string][]string{}
			for _, f := range got {
				gotMap[f.RuleID] = append(gotMap[f.RuleID], f.Detail)
				if f.Message == "" || f.Fingerprint == "" {
					t.Errorf("incomplete finding %+v", f)
				}
			}
			for k := range gotMap {
				sort.Strings(gotMap[k])
			}
			for k := range tt.want {
				sort.Strings(tt.want[k])
			}
			if len(gotMap) != len(tt.want) {
				t.Fatalf("got %v, want %v", gotMap, tt.want)
			}
			for k, v := range tt.want {
				if strings.Join(gotMap[k], "|") != strings.Join(v, "|") {
					t.Errorf("%s details %q, want %q", k, gotMap[k], v)
				}
			}
		})
	}
}

func TestWeakKeyFollowsPolicy(t *testing.T) {
	cat, err := NewCatalogue([]Check{certExtraCheck()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	obs := richObservation()
	strict := policies.Default()
	strict.Thresholds.MinRSABits = 3072
	got := cat.Evaluate(&obs, strict, now)
	if len(got) != 1 || got[0].RuleID != "cert/weak-key" || got[0].Detail != "RSA/leaf" {
		t.Errorf("got %+v", got)
	}
	if got := cat.Evaluate(&obs, policies.Default(), now); len(got) != 0 {
		t.Errorf("default policy: %+v", got)
	}
}

func TestExtraRulesDocumented(t *testing.T) {
	for _, ch := range []Check{certExtraCheck(), tlsFeaturesCheck()} {
		for _, r := range ch.Rules {
			if r.Title == "" || r.Why == "" || r.Fix == "" || len(r.References) == 0 || len(r.Tags) == 0 {
				t.Errorf("rule %s incomplete", r.ID)
			}
			hasCWE := false
			for _, tag := range r.Tags {
				hasCWE = hasCWE || strings.HasPrefix(tag, "CWE-")
			}
			if !hasCWE {
				t.Errorf("rule %s has no CWE tag", r.ID)
			}
		}
	}
	// The version the fixtures claim must be a real one.
	if tls.VersionName(tls.VersionTLS13) != "TLS 1.3" {
		t.Fatal("fixture version name")
	}
}
