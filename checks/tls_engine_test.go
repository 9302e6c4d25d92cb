package checks

import (
	"testing"

	"github.com/rampart-scan/rampart/model"
	"github.com/rampart-scan/rampart/policies"
	"github.com/rampart-scan/rampart/scanner/hello"
)

// ver builds an engine version fact with suites named by IANA name.
func ver(t *testing.T, id uint16, pref string, names ...string) model.EngineVersion {
	t.Helper()
	v := model.EngineVersion{Version: hello.VersionName(id), VersionID: id, Supported: true, Preference: pref}
	for _, n := range names {
		s, ok := hello.SuiteByName(n)
		if !ok {
			t.Fatalf("unknown suite %s", n)
		}
		v.Suites = append(v.Suites, s.Facts())
	}
	return v
}

func off(id uint16) model.EngineVersion {
	return model.EngineVersion{Version: hello.VersionName(id), VersionID: id}
}

const (
	ecdheGCM128 = "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
	ecdheGCM256 = "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"
	ecdheCBC    = "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"
	rsaGCM      = "TLS_RSA_WITH_AES_128_GCM_SHA256"
	rsaCBC      = "TLS_RSA_WITH_AES_128_CBC_SHA"
	rsa3DES     = "TLS_RSA_WITH_3DES_EDE_CBC_SHA"
	rsaRC4      = "TLS_RSA_WITH_RC4_128_SHA"
	tls13AES    = "TLS_AES_128_GCM_SHA256"
)

// modernEngine is a TLS 1.2 + 1.3 server with forward-secret AEAD suites in server order.
func modernEngine(t *testing.T) *model.TLSEngineFacts {
	return &model.TLSEngineFacts{Versions: []model.EngineVersion{
		off(hello.VersionSSL20), off(hello.VersionSSL30), off(hello.VersionTLS10), off(hello.VersionTLS11),
		ver(t, hello.VersionTLS12, "server", ecdheGCM256, ecdheGCM128),
		ver(t, hello.VersionTLS13, "server", tls13AES),
	}}
}

func setVersion(e *model.TLSEngineFacts, v model.EngineVersion) {
	for i := range e.Versions {
		if e.Versions[i].VersionID == v.VersionID {
			e.Versions[i] = v
		}
	}
}

func TestTLSEngineRules(t *testing.T) {
	cat, err := NewCatalogue([]Check{tlsEngineCheck()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	withPolicy := func(f func(p *policies.Policy)) *policies.Policy {
		p := policies.Default()
		f(p)
		return p
	}
	tests := []struct {
		name   string
		mutate func(e *model.TLSEngineFacts)
		policy *policies.Policy
		want   []string
		detail map[string]string // rule → expected detail of its (single) finding
	}{
		{name: "modern server raises nothing", mutate: func(*model.TLSEngineFacts) {}},
		{name: "SSL 2.0", mutate: func(e *model.TLSEngineFacts) {
			v := off(hello.VersionSSL20)
			v.Supported = true
			v.Suites = []model.EngineSuite{{Name: "SSL_CK_RC4_128_WITH_MD5", Cipher: "RC4", Bits: 128, MAC: "MD5", Strength: "insecure"}}
			setVersion(e, v)
		}, want: []string{"tls/sslv2-enabled"}},
		{name: "SSL 3.0", mutate: func(e *model.TLSEngineFacts) {
			setVersion(e, ver(t, hello.VersionSSL30, "server", ecdheCBC))
		}, want: []string{"tls/sslv3-enabled"}},
		{name: "TLS 1.0 and 1.1", mutate: func(e *model.TLSEngineFacts) {
			setVersion(e, ver(t, hello.VersionTLS10, "", ecdheCBC))
			setVersion(e, ver(t, hello.VersionTLS11, "", ecdheCBC))
		}, want: []string{"tls/deprecated-protocol", "tls/deprecated-protocol"}},
		{name: "TLS 1.0 allowed by the policy", mutate: func(e *model.TLSEngineFacts) {
			setVersion(e, ver(t, hello.VersionTLS10, "", ecdheCBC))
		}, policy: withPolicy(func(p *policies.Policy) { p.Thresholds.MinProtocol = hello.VersionTLS10 })},
		{name: "no TLS 1.3", mutate: func(e *model.TLSEngineFacts) {
			setVersion(e, off(hello.VersionTLS13))
		}, want: []string{"tls/no-tls13"}},
		{name: "TLS 1.3 probe failed is not a finding", mutate: func(e *model.TLSEngineFacts) {
			v := off(hello.VersionTLS13)
			v.Error = "read server hello: i/o timeout"
			setVersion(e, v)
		}},
		{name: "RC4 and 3DES", mutate: func(e *model.TLSEngineFacts) {
			setVersion(e, ver(t, hello.VersionTLS12, "server", ecdheGCM128, rsa3DES, rsaRC4))
		}, want: []string{"tls/weak-cipher", "tls/weak-cipher"}},
		{name: "3DES allowed by the policy's allow-list, RC4 never", mutate: func(e *model.TLSEngineFacts) {
			setVersion(e, ver(t, hello.VersionTLS12, "server", ecdheGCM128, rsa3DES, rsaRC4))
		}, policy: withPolicy(func(p *policies.Policy) {
			p.Thresholds.ForbiddenSuites = nil
			p.Thresholds.AllowedSuites = []string{ecdheGCM128, rsa3DES, rsaRC4, tls13AES}
		}), want: []string{"tls/weak-cipher"}, detail: map[string]string{"tls/weak-cipher": rsaRC4}},
		{name: "export suite is export, not also weak", mutate: func(e *model.TLSEngineFacts) {
			setVersion(e, ver(t, hello.VersionTLS12, "server", ecdheGCM128, "TLS_RSA_EXPORT_WITH_RC4_40_MD5"))
		}, want: []string{"tls/export-cipher"}},
		{name: "NULL suite", mutate: func(e *model.TLSEngineFacts) {
			setVersion(e, ver(t, hello.VersionTLS12, "server", ecdheGCM128, "TLS_RSA_WITH_NULL_SHA256"))
		}, want: []string{"tls/null-cipher"}},
		{name: "anonymous suite", mutate: func(e *model.TLSEngineFacts) {
			setVersion(e, ver(t, hello.VersionTLS12, "server", ecdheGCM128, "TLS_DH_anon_WITH_AES_128_GCM_SHA256"))
		}, want: []string{"tls/anon-cipher"}},
		{name: "only RSA key exchange", mutate: func(e *model.TLSEngineFacts) {
			setVersion(e, ver(t, hello.VersionTLS12, "server", rsaGCM))
			setVersion(e, off(hello.VersionTLS13))
		}, want: []string{"tls/no-forward-secrecy", "tls/no-tls13"}},
		{name: "some RSA key exchange, policy indifferent", mutate: func(e *model.TLSEngineFacts) {
			setVersion(e, ver(t, hello.VersionTLS12, "server", ecdheGCM128, rsaGCM))
		}},
		{name: "some RSA key exchange, policy requires forward secrecy", mutate: func(e *model.TLSEngineFacts) {
			setVersion(e, ver(t, hello.VersionTLS12, "server", ecdheGCM128, rsaGCM))
		}, policy: withPolicy(func(p *policies.Policy) { p.Thresholds.RequireForwardSecrecy = true }), want: []string{"tls/no-forward-secrecy"}},
		{name: "only CBC", mutate: func(e *model.TLSEngineFacts) {
			setVersion(e, ver(t, hello.VersionTLS12, "server", ecdheCBC))
			setVersion(e, off(hello.VersionTLS13))
		}, want: []string{"tls/no-aead", "tls/no-tls13"}},
		{name: "some CBC, policy requires AEAD", mutate: func(e *model.TLSEngineFacts) {
			setVersion(e, ver(t, hello.VersionTLS12, "server", ecdheGCM128, ecdheCBC))
		}, policy: withPolicy(func(p *policies.Policy) { p.Thresholds.RequireAEAD = true }), want: []string{"tls/no-aead"}},
		{name: "CBC preferred over GCM", mutate: func(e *model.TLSEngineFacts) {
			setVersion(e, ver(t, hello.VersionTLS12, "server", ecdheCBC, ecdheGCM128))
		}, want: []string{"tls/cbc-preferred"}, detail: map[string]string{"tls/cbc-preferred": "TLS 1.2"}},
		{name: "GCM preferred over CBC", mutate: func(e *model.TLSEngineFacts) {
			setVersion(e, ver(t, hello.VersionTLS12, "server", ecdheGCM128, ecdheCBC))
		}},
		{name: "client order with weaker suites", mutate: func(e *model.TLSEngineFacts) {
			setVersion(e, ver(t, hello.VersionTLS12, "client", ecdheGCM128, rsaCBC))
		}, want: []string{"tls/no-server-preference"}},
		{name: "client order among equally strong suites", mutate: func(e *model.TLSEngineFacts) {
			setVersion(e, ver(t, hello.VersionTLS12, "client", ecdheGCM128, ecdheGCM256))
		}},
		{name: "1024-bit DH", mutate: func(e *model.TLSEngineFacts) {
			e.DH = []model.DHParams{{Version: "TLS 1.2", Suite: "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", PrimeBits: 1024, Known: "MODP 1024 / Oakley group 2 (RFC 2409)"}}
		}, want: []string{"tls/small-dh"}, detail: map[string]string{"tls/small-dh": "1024"}},
		{name: "2048-bit DH", mutate: func(e *model.TLSEngineFacts) {
			e.DH = []model.DHParams{{Version: "TLS 1.2", PrimeBits: 2048, Known: "ffdhe2048 (RFC 7919)"}}
		}},
		{name: "2048-bit DH under a 3000-bit policy", mutate: func(e *model.TLSEngineFacts) {
			e.DH = []model.DHParams{{Version: "TLS 1.2", PrimeBits: 2048}}
		}, policy: withPolicy(func(p *policies.Policy) { p.Thresholds.MinDHBits = 3000 }), want: []string{"tls/small-dh"}},
		{name: "suite outside the policy's allow-list", mutate: func(e *model.TLSEngineFacts) {
			setVersion(e, ver(t, hello.VersionTLS12, "server", ecdheGCM128, ecdheCBC))
		}, policy: withPolicy(func(p *policies.Policy) { p.Thresholds.AllowedSuites = []string{ecdheGCM128, tls13AES} }),
			want: []string{"tls/suite-not-allowed"}, detail: map[string]string{"tls/suite-not-allowed": ecdheCBC}},
		{name: "suite on the policy's forbidden list", mutate: func(e *model.TLSEngineFacts) {
			setVersion(e, ver(t, hello.VersionTLS12, "server", ecdheGCM128, ecdheCBC))
		}, policy: withPolicy(func(p *policies.Policy) { p.Thresholds.ForbiddenSuites = []string{"*_CBC_*"} }),
			want: []string{"tls/suite-not-allowed"}},
		{name: "groups inside the policy", mutate: func(e *model.TLSEngineFacts) {
			e.Groups = []model.EngineGroup{{ID: 29, Name: "x25519", Bits: 256}, {ID: 23, Name: "secp256r1", Bits: 256}}
		}, policy: withPolicy(func(p *policies.Policy) { p.Thresholds.AllowedGroups = []string{"X25519", "secp256r1"} })},
		{name: "group outside the policy's list", mutate: func(e *model.TLSEngineFacts) {
			e.Groups = []model.EngineGroup{{ID: 29, Name: "x25519", Bits: 256}, {ID: 25, Name: "secp521r1", Bits: 521}}
		}, policy: withPolicy(func(p *policies.Policy) { p.Thresholds.AllowedGroups = []string{"x25519", "secp256r1"} }),
			want: []string{"tls/group-not-allowed"}, detail: map[string]string{"tls/group-not-allowed": "secp521r1"}},
		{name: "curve below min_ec_bits", mutate: func(e *model.TLSEngineFacts) {
			e.Groups = []model.EngineGroup{{ID: 29, Name: "x25519", Bits: 256}, {ID: 21, Name: "secp224r1", Bits: 224}, {ID: 256, Name: "ffdhe2048", Bits: 2048}}
		}, policy: withPolicy(func(p *policies.Policy) { p.Thresholds.MinECBits = 256 }),
			want: []string{"tls/group-not-allowed"}, detail: map[string]string{"tls/group-not-allowed": "secp224r1"}},
		{name: "nothing supported raises nothing", mutate: func(e *model.TLSEngineFacts) {
			for i := range e.Versions {
				e.Versions[i] = off(e.Versions[i].VersionID)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obs := healthy()
			obs.TLS.Engine = modernEngine(t)
			tt.mutate(obs.TLS.Engine)
			p := tt.policy
			if p == nil {
				p = policies.Default()
			}
			got := cat.Evaluate(&obs, p, now)
			assertRules(t, got, dedupe(tt.want))
			count := map[string]int{}
			for _, f := range got {
				count[f.RuleID]++
				if f.Message == "" || f.Fingerprint == "" {
					t.Errorf("incomplete finding %+v", f)
				}
				if d, ok := tt.detail[f.RuleID]; ok && f.Detail != d {
					t.Errorf("%s detail = %q, want %q", f.RuleID, f.Detail, d)
				}
			}
			for _, w := range tt.want {
				want := 0
				for _, x := range tt.want {
					if x == w {
						want++
					}
				}
				if count[w] != want {
					t.Errorf("%s fired %d times, want %d", w, count[w], want)
				}
			}
		})
	}
}

func dedupe(ids []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

func TestTLSEngineWithoutFacts(t *testing.T) {
	cat, err := NewCatalogue([]Check{tlsEngineCheck()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	obs := healthy()
	assertRules(t, cat.Evaluate(&obs, policies.Default(), now), nil)
	obs.TLS = nil
	assertRules(t, cat.Evaluate(&obs, policies.Default(), now), nil)
}
