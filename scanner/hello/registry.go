package hello

import (
	"fmt"
	"math/big"

	"github.com/rampart-scan/rampart/model"
)

// Protocol version numbers as they appear on the wire.
const (
	VersionSSL20 uint16 = 0x0002
	VersionSSL30 uint16 = 0x0300
	VersionTLS10 uint16 = 0x0301
	VersionTLS11 uint16 = 0x0302
	VersionTLS12 uint16 = 0x0303
	VersionTLS13 uint16 = 0x0304
)

// VersionName is the conventional name of a protocol version ("TLS 1.2").
func VersionName(v uint16) string {
	switch v {
	case VersionSSL20:
		return "SSLv2"
	case VersionSSL30:
		return "SSLv3"
	case VersionTLS10:
		return "TLS 1.0"
	case VersionTLS11:
		return "TLS 1.1"
	case VersionTLS12:
		return "TLS 1.2"
	case VersionTLS13:
		return "TLS 1.3"
	}
	return fmt.Sprintf("0x%04x", v)
}

// Strength is a suite's class, from worst to best.
type Strength string

// Strength classes. Insecure: broken or no protection (NULL, export, anonymous, RC4, DES, RC2,
// MD5). Weak: no forward secrecy, no AEAD, or a 64-bit block / non-standard cipher. Secure:
// forward secret AEAD that is not among the recommended ones. Recommended: forward secret
// AES-GCM/CCM or ChaCha20-Poly1305 with certificate authentication, and TLS 1.3's suites.
const (
	StrengthInsecure    Strength = "insecure"
	StrengthWeak        Strength = "weak"
	StrengthSecure      Strength = "secure"
	StrengthRecommended Strength = "recommended"
)

// Suite is one TLS cipher suite of the registry.
type Suite struct {
	ID         uint16
	Name       string // IANA name (a descriptive name for the few non-IANA suites)
	OpenSSL    string // OpenSSL's name; empty when OpenSSL never had one
	Kx         string // key exchange: RSA, DH, DHE, ECDH, ECDHE, PSK, SRP, KRB5, GOST, ECCPWD, CECPQ1, NULL, any
	Auth       string // authentication: RSA, DSS, ECDSA, anon, PSK, SRP, KRB5, GOST01, GOST12, any, NULL
	Cipher     string // AES, ChaCha20, 3DES, RC4, NULL …
	Bits       int    // effective key bits of the cipher (3DES counts 112)
	Mode       string // CBC, GCM, CCM, CCM8, POLY1305, MGM, CNT, CTR-OMAC, stream, none
	MAC        string // SHA1, SHA256, SHA384, MD5, AEAD, GOST28147 …
	MinVersion uint16 // first protocol version that defines the suite
	MaxVersion uint16 // last protocol version that can negotiate it
	Export     bool
	Strength   Strength
}

// AEAD reports whether the suite uses an authenticated encryption mode.
func (s Suite) AEAD() bool {
	switch s.Mode {
	case "GCM", "CCM", "CCM8", "POLY1305", "MGM":
		return true
	}
	return false
}

// ForwardSecret reports whether the key exchange is ephemeral.
func (s Suite) ForwardSecret() bool {
	switch s.Kx {
	case "DHE", "ECDHE", "any", "ECCPWD", "CECPQ1":
		return true
	}
	return false
}

// TLS13 reports whether the suite belongs to TLS 1.3.
func (s Suite) TLS13() bool { return s.MinVersion == VersionTLS13 }

// SSLv2Suite is one SSL 2.0 cipher kind (a three-byte code).
type SSLv2Suite struct {
	ID      uint32
	Name    string
	OpenSSL string
	Cipher  string
	Bits    int
	Mode    string
	MAC     string
	Export  bool
}

var suiteByID = func() map[uint16]*Suite {
	m := make(map[uint16]*Suite, len(suites))
	for i := range suites {
		m[suites[i].ID] = &suites[i]
	}
	return m
}()

// Suites returns a copy of the registry, sorted by ID.
func Suites() []Suite { return append([]Suite(nil), suites...) }

// SSLv2Suites returns a copy of the SSL 2.0 cipher kinds.
func SSLv2Suites() []SSLv2Suite { return append([]SSLv2Suite(nil), sslv2Suites...) }

// LookupSuite finds a suite by ID.
func LookupSuite(id uint16) (Suite, bool) {
	s, ok := suiteByID[id]
	if !ok {
		return Suite{}, false
	}
	return *s, true
}

// LookupSSLv2Suite finds an SSL 2.0 cipher kind by its three-byte code.
func LookupSSLv2Suite(id uint32) (SSLv2Suite, bool) {
	for _, s := range sslv2Suites {
		if s.ID == id {
			return s, true
		}
	}
	return SSLv2Suite{}, false
}

// Group is one entry of the TLS Supported Groups registry.
type Group struct {
	ID   uint16
	Name string
	// Kind is "ec" (elliptic curve), "ff" (finite-field DH), "pq" (pure ML-KEM) or "hybrid".
	Kind string
	// Bits is the classical key size (256 for P-256 and X25519, 2048 for ffdhe2048); 0 for pure ML-KEM.
	Bits int
	// TLS13 is true when TLS 1.3 may use the group (no binary or legacy prime curves).
	TLS13 bool
}

// groups lists the TLS Supported Groups registry (RFC 8422, 7919, 8446, 8734, 9189, draft
// ML-KEM and hybrid code points) plus the draft Kyber hybrids peers still send.
var groups = []Group{
	{1, "sect163k1", "ec", 163, false}, {2, "sect163r1", "ec", 163, false}, {3, "sect163r2", "ec", 163, false},
	{4, "sect193r1", "ec", 193, false}, {5, "sect193r2", "ec", 193, false}, {6, "sect233k1", "ec", 233, false},
	{7, "sect233r1", "ec", 233, false}, {8, "sect239k1", "ec", 239, false}, {9, "sect283k1", "ec", 283, false},
	{10, "sect283r1", "ec", 283, false}, {11, "sect409k1", "ec", 409, false}, {12, "sect409r1", "ec", 409, false},
	{13, "sect571k1", "ec", 571, false}, {14, "sect571r1", "ec", 571, false}, {15, "secp160k1", "ec", 160, false},
	{16, "secp160r1", "ec", 160, false}, {17, "secp160r2", "ec", 160, false}, {18, "secp192k1", "ec", 192, false},
	{19, "secp192r1", "ec", 192, false}, {20, "secp224k1", "ec", 224, false}, {21, "secp224r1", "ec", 224, false},
	{22, "secp256k1", "ec", 256, false}, {23, "secp256r1", "ec", 256, true}, {24, "secp384r1", "ec", 384, true},
	{25, "secp521r1", "ec", 521, true}, {26, "brainpoolP256r1", "ec", 256, false}, {27, "brainpoolP384r1", "ec", 384, false},
	{28, "brainpoolP512r1", "ec", 512, false}, {29, "x25519", "ec", 256, true}, {30, "x448", "ec", 448, true},
	{31, "brainpoolP256r1tls13", "ec", 256, true}, {32, "brainpoolP384r1tls13", "ec", 384, true},
	{33, "brainpoolP512r1tls13", "ec", 512, true}, {34, "GC256A", "ec", 256, true}, {35, "GC256B", "ec", 256, true},
	{36, "GC256C", "ec", 256, true}, {37, "GC256D", "ec", 256, true}, {38, "GC512A", "ec", 512, true},
	{39, "GC512B", "ec", 512, true}, {40, "GC512C", "ec", 512, true}, {41, "curveSM2", "ec", 256, true},
	{256, "ffdhe2048", "ff", 2048, true}, {257, "ffdhe3072", "ff", 3072, true}, {258, "ffdhe4096", "ff", 4096, true},
	{259, "ffdhe6144", "ff", 6144, true}, {260, "ffdhe8192", "ff", 8192, true},
	{0x0200, "MLKEM512", "pq", 0, true}, {0x0201, "MLKEM768", "pq", 0, true}, {0x0202, "MLKEM1024", "pq", 0, true},
	{0x11EB, "SecP256r1MLKEM768", "hybrid", 256, true}, {0x11EC, "X25519MLKEM768", "hybrid", 256, true},
	{0x11ED, "SecP384r1MLKEM1024", "hybrid", 384, true}, {0x11EE, "curveSM2MLKEM768", "hybrid", 256, true},
	{0x6399, "X25519Kyber768Draft00", "hybrid", 256, true}, {0x639A, "SecP256r1Kyber768Draft00", "hybrid", 256, true},
}

// Groups returns a copy of the group registry.
func Groups() []Group { return append([]Group(nil), groups...) }

// LookupGroup finds a group by ID; unknown IDs get a synthetic name.
func LookupGroup(id uint16) (Group, bool) {
	for _, g := range groups {
		if g.ID == id {
			return g, true
		}
	}
	return Group{ID: id, Name: fmt.Sprintf("group_0x%04x", id)}, false
}

// SignatureScheme is one TLS SignatureScheme (TLS 1.3) or hash/signature pair (TLS 1.2).
type SignatureScheme struct {
	ID   uint16
	Name string
}

// sigSchemes lists the TLS SignatureScheme registry, legacy TLS 1.2 pairs included.
var sigSchemes = []SignatureScheme{
	{0x0101, "rsa_pkcs1_md5"}, {0x0102, "dsa_md5"}, {0x0103, "ecdsa_md5"},
	{0x0201, "rsa_pkcs1_sha1"}, {0x0202, "dsa_sha1"}, {0x0203, "ecdsa_sha1"},
	{0x0301, "rsa_pkcs1_sha224"}, {0x0302, "dsa_sha224"}, {0x0303, "ecdsa_sha224"},
	{0x0401, "rsa_pkcs1_sha256"}, {0x0402, "dsa_sha256"}, {0x0403, "ecdsa_secp256r1_sha256"},
	{0x0501, "rsa_pkcs1_sha384"}, {0x0502, "dsa_sha384"}, {0x0503, "ecdsa_secp384r1_sha384"},
	{0x0601, "rsa_pkcs1_sha512"}, {0x0602, "dsa_sha512"}, {0x0603, "ecdsa_secp521r1_sha512"},
	{0x0708, "sm2sig_sm3"}, {0x0709, "gostr34102012_256a"}, {0x070A, "gostr34102012_256b"},
	{0x070B, "gostr34102012_256c"}, {0x070C, "gostr34102012_256d"}, {0x070D, "gostr34102012_512a"},
	{0x070E, "gostr34102012_512b"}, {0x070F, "gostr34102012_512c"},
	{0x0804, "rsa_pss_rsae_sha256"}, {0x0805, "rsa_pss_rsae_sha384"}, {0x0806, "rsa_pss_rsae_sha512"},
	{0x0807, "ed25519"}, {0x0808, "ed448"}, {0x0809, "rsa_pss_pss_sha256"}, {0x080A, "rsa_pss_pss_sha384"},
	{0x080B, "rsa_pss_pss_sha512"}, {0x081A, "ecdsa_brainpoolP256r1tls13_sha256"},
	{0x081B, "ecdsa_brainpoolP384r1tls13_sha384"}, {0x081C, "ecdsa_brainpoolP512r1tls13_sha512"},
	{0x0904, "mldsa44"}, {0x0905, "mldsa65"}, {0x0906, "mldsa87"},
}

// SignatureSchemes returns a copy of the signature scheme registry.
func SignatureSchemes() []SignatureScheme { return append([]SignatureScheme(nil), sigSchemes...) }

// SignatureSchemeName names a signature scheme; unknown IDs get a synthetic name.
func SignatureSchemeName(id uint16) string {
	for _, s := range sigSchemes {
		if s.ID == id {
			return s.Name
		}
	}
	return fmt.Sprintf("sigscheme_0x%04x", id)
}

var knownPrimes = func() map[string]string {
	m := make(map[string]string, len(wellKnownPrimes))
	for _, p := range wellKnownPrimes {
		n, ok := new(big.Int).SetString(p.Hex, 16)
		if !ok {
			panic("bad prime for " + p.Name) // fixed table; a test parses every entry
		}
		m[string(n.Bytes())] = p.Name
	}
	return m
}()

// KnownPrime names the well-known group whose prime is p, or returns "".
func KnownPrime(p *big.Int) string {
	if p == nil {
		return ""
	}
	return knownPrimes[string(p.Bytes())]
}

// SuiteByName finds a suite by IANA name.
func SuiteByName(name string) (Suite, bool) {
	for _, s := range suites {
		if s.Name == name {
			return s, true
		}
	}
	return Suite{}, false
}

// Facts converts a registry suite into the fact type observations carry.
func (s Suite) Facts() model.EngineSuite {
	return model.EngineSuite{
		ID: s.ID, Name: s.Name, OpenSSLName: s.OpenSSL, KeyExchange: s.Kx, Auth: s.Auth,
		Cipher: s.Cipher, Bits: s.Bits, Mode: s.Mode, MAC: s.MAC, AEAD: s.AEAD(),
		ForwardSecret: s.ForwardSecret(), Export: s.Export, Strength: string(s.Strength),
	}
}
