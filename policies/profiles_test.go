package policies

import (
	"slices"
	"sort"
	"strings"
	"testing"
)

// The expected lists below are written out from each profile's published source, independent
// of the YAML files, so a typo in a profile fails here.

// Mozilla Server Side TLS 6.0, mozilla/ssl-config-generator src/static/guidelines/6.0.json
// (commit f196de9), configurations.modern.ciphersuites (ciphers.iana is empty).
var mozillaTLS13 = []string{"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"}

// 6.0.json configurations.intermediate.ciphers.iana.
var mozillaIntermediate12 = []string{
	"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
	"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
	"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
}

// 5.8.json (commit 46b2a5e, "proposed 5.8 guideline changes") configurations.old.ciphers.iana.
var mozillaOld12 = []string{
	"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
	"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
	"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
	"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
	"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
	"TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
	"TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
	"TLS_RSA_WITH_AES_128_GCM_SHA256", "TLS_RSA_WITH_AES_256_GCM_SHA384",
	"TLS_RSA_WITH_AES_128_CBC_SHA256", "TLS_RSA_WITH_AES_256_CBC_SHA256",
	"TLS_RSA_WITH_AES_128_CBC_SHA", "TLS_RSA_WITH_AES_256_CBC_SHA",
	"TLS_RSA_WITH_3DES_EDE_CBC_SHA",
}

// NIST SP 800-52r2 section 3.3.1.1 (TLS 1.2, by certificate type, "(1.0-1.2)" suites included)
// and 3.3.1.2 (TLS 1.3), as quoted in shared/research/messaging-dns-starttls-policies.md 4.2.
func nistSuites() []string {
	var out []string
	for _, s := range []string{"AES_128_GCM_SHA256", "AES_256_GCM_SHA384", "AES_128_CCM", "AES_256_CCM", "AES_128_CCM_8", "AES_256_CCM_8", "AES_128_CBC_SHA256", "AES_256_CBC_SHA384", "AES_128_CBC_SHA", "AES_256_CBC_SHA"} {
		out = append(out, "TLS_ECDHE_ECDSA_WITH_"+s)
	}
	for _, s := range []string{"ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE_RSA_WITH_AES_256_GCM_SHA384", "DHE_RSA_WITH_AES_128_GCM_SHA256", "DHE_RSA_WITH_AES_256_GCM_SHA384", "DHE_RSA_WITH_AES_128_CCM", "DHE_RSA_WITH_AES_256_CCM", "DHE_RSA_WITH_AES_128_CCM_8", "DHE_RSA_WITH_AES_256_CCM_8", "ECDHE_RSA_WITH_AES_128_CBC_SHA256", "ECDHE_RSA_WITH_AES_256_CBC_SHA384", "DHE_RSA_WITH_AES_128_CBC_SHA256", "DHE_RSA_WITH_AES_256_CBC_SHA256", "ECDHE_RSA_WITH_AES_128_CBC_SHA", "ECDHE_RSA_WITH_AES_256_CBC_SHA", "DHE_RSA_WITH_AES_128_CBC_SHA", "DHE_RSA_WITH_AES_256_CBC_SHA"} {
		out = append(out, "TLS_"+s)
	}
	for _, kx := range []string{"DHE_DSS", "DH_DSS", "DH_RSA"} {
		for _, s := range []string{"AES_128_GCM_SHA256", "AES_256_GCM_SHA384", "AES_128_CBC_SHA256", "AES_256_CBC_SHA256", "AES_128_CBC_SHA", "AES_256_CBC_SHA"} {
			out = append(out, "TLS_"+kx+"_WITH_"+s)
		}
	}
	for _, kx := range []string{"ECDH_ECDSA", "ECDH_RSA"} {
		for _, s := range []string{"AES_128_GCM_SHA256", "AES_256_GCM_SHA384", "AES_128_CBC_SHA256", "AES_256_CBC_SHA384", "AES_128_CBC_SHA", "AES_256_CBC_SHA"} {
			out = append(out, "TLS_"+kx+"_WITH_"+s)
		}
	}
	return append(out, "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_AES_128_CCM_SHA256", "TLS_AES_128_CCM_8_SHA256")
}

// BSI TR-02102-2 2023-01 Table 1 (TLS 1.2 PFS) and Table 11 (TLS 1.3), as extracted in
// winkler-winsen/BSI_TR-02102-2_Cipher_suites.
var bsiSuites = []string{
	"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384",
	"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
	"TLS_ECDHE_ECDSA_WITH_AES_128_CCM", "TLS_ECDHE_ECDSA_WITH_AES_256_CCM",
	"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
	"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
	"TLS_DHE_DSS_WITH_AES_128_CBC_SHA256", "TLS_DHE_DSS_WITH_AES_256_CBC_SHA256",
	"TLS_DHE_DSS_WITH_AES_128_GCM_SHA256", "TLS_DHE_DSS_WITH_AES_256_GCM_SHA384",
	"TLS_DHE_RSA_WITH_AES_128_CBC_SHA256", "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256",
	"TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
	"TLS_DHE_RSA_WITH_AES_128_CCM", "TLS_DHE_RSA_WITH_AES_256_CCM",
	"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_AES_128_CCM_SHA256",
}

// weakSuites are suites that PCI DSS ASV practice and RFC 7525 rule out (NULL, anonymous,
// export, RC4, DES, 3DES): one of each kind.
var weakSuites = []string{
	"TLS_NULL_WITH_NULL_NULL", "TLS_RSA_WITH_NULL_SHA256", "TLS_DH_anon_WITH_AES_128_GCM_SHA256",
	"TLS_ECDH_anon_WITH_AES_256_CBC_SHA", "TLS_RSA_EXPORT_WITH_RC4_40_MD5", "TLS_RSA_EXPORT_WITH_DES40_CBC_SHA",
	"TLS_DHE_RSA_EXPORT_WITH_DES40_CBC_SHA", "TLS_RSA_WITH_RC4_128_SHA", "TLS_ECDHE_RSA_WITH_RC4_128_SHA",
	"TLS_RSA_WITH_DES_CBC_SHA", "TLS_RSA_WITH_3DES_EDE_CBC_SHA", "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA",
}

type profilePin struct {
	name    string
	min     string   // lowest accepted version
	allowed []string // exact allow-list; every other IANA suite must be refused (nil: no allow-list)
	rsa, ec int
	dh      int
	check   func(t *testing.T, th Thresholds)
}

func TestProfilesPinnedToSources(t *testing.T) {
	pins := []profilePin{
		{name: "mozilla-modern", min: "TLS1.3", allowed: mozillaTLS13, ec: 256, check: func(t *testing.T, th Thresholds) {
			eq(t, "key types", th.AllowedKeyTypes, []string{"ecdsa"})
			eq(t, "signatures", th.AllowedSignatureAlgorithms, []string{"ECDSA-SHA256", "ECDSA-SHA384", "ECDSA-SHA512"})
			eq(t, "groups", th.AllowedGroups, []string{"X25519MLKEM768", "x25519", "secp256r1", "secp384r1"})
			if th.MaxCertLifetimeDays != 90 || !th.RequireOCSPStapling || th.HSTSMinAgeSeconds != 63072000 {
				t.Errorf("lifetime/ocsp/hsts: %+v", th)
			}
		}},
		{name: "mozilla-intermediate", min: "TLS1.2", allowed: append(slices.Clone(mozillaIntermediate12), mozillaTLS13...), rsa: 2048, ec: 256, dh: 2048, check: func(t *testing.T, th Thresholds) {
			eq(t, "key types", th.AllowedKeyTypes, []string{"ecdsa", "rsa"})
			eq(t, "signatures", th.AllowedSignatureAlgorithms, []string{"SHA256-RSA", "ECDSA-SHA256", "ECDSA-SHA384", "ECDSA-SHA512"})
			eq(t, "curves", th.AllowedCurves, []string{"P-256", "P-384"})
			if th.MaxCertLifetimeDays != 366 || !th.RequireOCSPStapling || th.HSTSMinAgeSeconds != 63072000 {
				t.Errorf("lifetime/ocsp/hsts: %+v", th)
			}
		}},
		{name: "mozilla-old", min: "TLS1.0", allowed: append(slices.Clone(mozillaOld12), mozillaTLS13...), rsa: 2048, ec: 256, dh: 2048, check: func(t *testing.T, th Thresholds) {
			eq(t, "key types", th.AllowedKeyTypes, []string{"rsa"})
			eq(t, "signatures", th.AllowedSignatureAlgorithms, []string{"SHA256-RSA"})
			if th.MaxCertLifetimeDays != 366 {
				t.Errorf("lifetime %d", th.MaxCertLifetimeDays)
			}
			for _, s := range []string{"TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256"} {
				if ok, _ := th.SuiteAllowed(s); ok {
					t.Errorf("%s was removed from old in 5.8", s)
				}
			}
		}},
		{name: "nist-sp800-52r2", min: "TLS1.2", allowed: nistSuites(), rsa: 2048, ec: 224, dh: 2048, check: func(t *testing.T, th Thresholds) {
			if ok, _ := th.SuiteAllowed("TLS_CHACHA20_POLY1305_SHA256"); ok {
				t.Error("ChaCha20 is not in SP 800-52r2")
			}
			if !th.RequireOCSPStapling || th.MaxCertLifetimeDays != 1095 || th.SignatureAllowed("SHA1-RSA") {
				t.Errorf("certificate: %+v", th)
			}
		}},
		{name: "bsi-tr-02102-2", min: "TLS1.2", allowed: bsiSuites, rsa: 3000, ec: 256, dh: 3000, check: func(t *testing.T, th Thresholds) {
			if !th.RequireForwardSecrecy {
				t.Error("Table 1 is forward secret only")
			}
			eq(t, "groups", th.AllowedGroups, []string{"secp256r1", "secp384r1", "secp521r1", "brainpoolP256r1", "brainpoolP384r1", "brainpoolP512r1", "ffdhe2048", "ffdhe3072", "ffdhe4096"})
			if th.GroupAllowed("x25519") || th.SignatureAllowed("SHA1-RSA") {
				t.Error("x25519 and SHA-1 are not in TR-02102-2 2023-01")
			}
		}},
		{name: "pci-dss-v4", min: "TLS1.2", check: func(t *testing.T, th Thresholds) {
			for _, s := range weakSuites {
				if ok, _ := th.SuiteAllowed(s); ok {
					t.Errorf("%s must be forbidden", s)
				}
			}
			for _, s := range []string{"TLS_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", "TLS_AES_128_GCM_SHA256"} {
				if ok, why := th.SuiteAllowed(s); !ok {
					t.Errorf("%s refused: %s", s, why)
				}
			}
		}},
		{name: "messaging-baseline", min: "TLS1.2", rsa: 2048, ec: 224, dh: 2048, check: func(t *testing.T, th Thresholds) {
			for _, s := range append(slices.Clone(weakSuites), "TLS_RSA_WITH_NULL_MD5") {
				if ok, _ := th.SuiteAllowed(s); ok {
					t.Errorf("%s must be forbidden", s)
				}
			}
			if !th.RequireSTARTTLS || !th.ForbidPlaintextAuth || !th.DNS.RequireCAA || th.DNS.MailTransport != "dane-or-mta-sts" {
				t.Errorf("messaging/dns: %+v", th)
			}
			for _, role := range []string{"database", "cache", "admin"} {
				if !slices.Contains(th.Exposure.DenyRoles, role) {
					t.Errorf("role %s not denied", role)
				}
			}
			if th.ExpiryWarningDays != 30 {
				t.Errorf("expiry warning %d", th.ExpiryWarningDays)
			}
		}},
	}
	if got, want := len(pins), len(Builtins()); got != want {
		t.Fatalf("%d pins for %d built-ins: pin every profile", got, want)
	}
	for _, pin := range pins {
		t.Run(pin.name, func(t *testing.T) {
			p, err := Load(pin.name, Options{})
			if err != nil {
				t.Fatal(err)
			}
			th := p.Thresholds
			min := TLSVersion(pin.min).ID()
			if th.MinProtocol != min {
				t.Errorf("min protocol %s, want %s", VersionName(th.MinProtocol), pin.min)
			}
			for _, v := range TLSVersion("").choices() {
				id := TLSVersion(v).ID()
				if th.VersionAllowed(id) != (id >= min) {
					t.Errorf("version %s allowed=%v", v, th.VersionAllowed(id))
				}
			}
			if pin.allowed != nil {
				eq(t, "allowed suites (as a set)", sorted(th.AllowedSuites), sorted(pin.allowed))
				for _, s := range ianaSuites {
					ok, _ := th.SuiteAllowed(s)
					if ok != slices.Contains(pin.allowed, s) {
						t.Errorf("%s: allowed=%v", s, ok)
					}
				}
			} else if len(th.AllowedSuites) != 0 {
				t.Errorf("unexpected allow-list %v", th.AllowedSuites)
			}
			if th.MinRSABits != pin.rsa || th.MinECBits != pin.ec || th.MinDHBits != pin.dh {
				t.Errorf("keys rsa=%d ec=%d dh=%d, want %d %d %d", th.MinRSABits, th.MinECBits, th.MinDHBits, pin.rsa, pin.ec, pin.dh)
			}
			if p.Source == nil || p.Source.Title == "" || p.Source.Version == "" {
				t.Error("built-in profiles cite their source")
			}
			src, _ := BuiltinSource(pin.name)
			if !strings.HasPrefix(string(src), "# ") {
				t.Error("built-in files start with a comment naming their source")
			}
			pin.check(t, th)
		})
	}
}

func TestMozillaOldIsLabelledLegacy(t *testing.T) {
	p, _ := Load("mozilla-old", Options{})
	if p.Source.Version != "5.8" || !strings.Contains(p.Description, "legacy") || !strings.Contains(p.Source.Note, "6.0 dropped it") {
		t.Fatalf("%+v %+v", p.Description, p.Source)
	}
}

func eq(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("%s:\n got  %v\n want %v", what, got, want)
	}
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	sort.Strings(out)
	return out
}
