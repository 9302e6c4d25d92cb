package hello

import (
	"math/big"
	"strings"
	"testing"
)

func TestSuiteRegistryConsistent(t *testing.T) {
	ids := map[uint16]bool{}
	names := map[string]bool{}
	ossl := map[string]bool{}
	prev := -1
	for _, s := range suites {
		if int(s.ID) <= prev {
			t.Errorf("%s: table not sorted by ID", s.Name)
		}
		prev = int(s.ID)
		if ids[s.ID] || names[s.Name] || (s.OpenSSL != "" && ossl[s.OpenSSL]) {
			t.Errorf("duplicate suite 0x%04x %s %s", s.ID, s.Name, s.OpenSSL)
		}
		ids[s.ID], names[s.Name], ossl[s.OpenSSL] = true, true, true
		if s.AEAD() != (s.MAC == "AEAD") {
			t.Errorf("%s: mode %s but MAC %s", s.Name, s.Mode, s.MAC)
		}
		for frag, mode := range map[string]string{"_GCM": "GCM", "_CBC": "CBC", "_CCM_8": "CCM8", "RC4": "stream", "POLY1305": "POLY1305"} {
			if strings.Contains(s.Name, frag) && s.Mode != mode && !(frag == "_CBC" && s.Cipher == "DES") {
				t.Errorf("%s: mode %s, name says %s", s.Name, s.Mode, mode)
			}
		}
		if strings.Contains(s.Name, "EXPORT") != s.Export {
			t.Errorf("%s: export = %v", s.Name, s.Export)
		}
		if strings.Contains(s.Name, "_anon_") != (s.Auth == "anon") {
			t.Errorf("%s: auth %s", s.Name, s.Auth)
		}
		if s.TLS13() != (s.MaxVersion == VersionTLS13) || s.MinVersion > s.MaxVersion {
			t.Errorf("%s: versions %x..%x", s.Name, s.MinVersion, s.MaxVersion)
		}
		if s.Strength == StrengthRecommended && (!s.AEAD() || !s.ForwardSecret()) {
			t.Errorf("%s: recommended without AEAD and forward secrecy", s.Name)
		}
		if (s.Export || s.Cipher == "NULL" || s.Cipher == "RC4" || s.Auth == "anon") && s.Strength != StrengthInsecure {
			t.Errorf("%s: strength %s, want insecure", s.Name, s.Strength)
		}
	}
	for _, want := range []struct {
		id   uint16
		name string
		ossl string
	}{
		{0xC02F, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256"},
		{0x000A, "TLS_RSA_WITH_3DES_EDE_CBC_SHA", "DES-CBC3-SHA"},
		{0x1301, "TLS_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256"},
		{0xCCA8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-RSA-CHACHA20-POLY1305"},
		{0x0003, "TLS_RSA_EXPORT_WITH_RC4_40_MD5", "EXP-RC4-MD5"},
	} {
		s, ok := LookupSuite(want.id)
		if !ok || s.Name != want.name || s.OpenSSL != want.ossl {
			t.Errorf("0x%04x = %+v, want %s / %s", want.id, s, want.name, want.ossl)
		}
	}
	if len(suites) < 350 {
		t.Errorf("registry holds %d suites; the IANA registry alone has more", len(suites))
	}
}

func TestGroupAndSigSchemeRegistries(t *testing.T) {
	seen := map[uint16]bool{}
	names := map[string]bool{}
	for _, g := range groups {
		if seen[g.ID] || names[g.Name] {
			t.Errorf("duplicate group %d %s", g.ID, g.Name)
		}
		seen[g.ID], names[g.Name] = true, true
	}
	for id, name := range map[uint16]string{0x11EC: "X25519MLKEM768", 29: "x25519", 256: "ffdhe2048", 0x11EB: "SecP256r1MLKEM768"} {
		if g, ok := LookupGroup(id); !ok || g.Name != name {
			t.Errorf("group 0x%04x = %s, want %s", id, g.Name, name)
		}
	}
	ss := map[uint16]bool{}
	for _, s := range sigSchemes {
		if ss[s.ID] {
			t.Errorf("duplicate signature scheme 0x%04x", s.ID)
		}
		ss[s.ID] = true
	}
}

func TestKnownPrimes(t *testing.T) {
	bits := map[string]int{}
	for _, p := range wellKnownPrimes {
		n, ok := new(big.Int).SetString(p.Hex, 16)
		if !ok || (n.BitLen() <= 2048 && !n.ProbablyPrime(0)) { // larger ones take seconds each
			t.Errorf("%s: not a prime", p.Name)
			continue
		}
		bits[p.Name] = n.BitLen()
		if KnownPrime(n) != p.Name {
			t.Errorf("KnownPrime(%s) = %q", p.Name, KnownPrime(n))
		}
	}
	if bits["ffdhe2048 (RFC 7919)"] != 2048 || bits["MODP 1024 / Oakley group 2 (RFC 2409)"] != 1024 {
		t.Errorf("bit sizes: %v", bits)
	}
	if KnownPrime(big.NewInt(23)) != "" {
		t.Error("23 is not a well-known group")
	}
}
