package policies

import (
	"fmt"
	"path"
	"reflect"
	"slices"
	"strings"
)

// Thresholds are the numbers and lists checks compare facts against, for one endpoint. A zero
// value (0, false, empty list, "") means the policy sets no requirement.
type Thresholds struct {
	// MinProtocol is the lowest acceptable protocol version, as a TLS version ID.
	MinProtocol uint16 `json:"min_protocol"`
	// ExpiryWarningDays: a certificate expiring within this many days is flagged.
	ExpiryWarningDays int `json:"expiry_warning_days"`

	// AllowedSuites are IANA names or globs; when non-empty, any other suite is a finding.
	AllowedSuites []string `json:"allowed_suites,omitempty"`
	// ForbiddenSuites are IANA names or globs that must never be offered.
	ForbiddenSuites       []string `json:"forbidden_suites,omitempty"`
	AllowedGroups         []string `json:"allowed_groups,omitempty"`
	RequireForwardSecrecy bool     `json:"require_forward_secrecy,omitempty"`
	RequireAEAD           bool     `json:"require_aead,omitempty"`

	MinRSABits int `json:"min_rsa_bits,omitempty"`
	MinECBits  int `json:"min_ec_bits,omitempty"`
	MinDHBits  int `json:"min_dh_bits,omitempty"`

	AllowedKeyTypes            []string `json:"allowed_key_types,omitempty"`
	AllowedCurves              []string `json:"allowed_curves,omitempty"`
	AllowedSignatureAlgorithms []string `json:"allowed_signature_algorithms,omitempty"`
	MaxCertLifetimeDays        int      `json:"max_cert_lifetime_days,omitempty"`
	RequireOCSPStapling        bool     `json:"require_ocsp_stapling,omitempty"`
	RequireCT                  bool     `json:"require_ct,omitempty"`

	RequireHSTS       bool `json:"require_hsts,omitempty"`
	HSTSMinAgeSeconds int  `json:"hsts_min_age_seconds,omitempty"`

	RequireSTARTTLS     bool `json:"require_starttls,omitempty"`
	ForbidPlaintextAuth bool `json:"forbid_plaintext_auth,omitempty"`

	Exposure Exposure `json:"exposure"`
	DNS      DNS      `json:"dns"`
}

// Exposure says which services may be reachable.
type Exposure struct {
	AllowRoles    []string `json:"allow_roles,omitempty"`
	DenyRoles     []string `json:"deny_roles,omitempty"`
	AllowServices []string `json:"allow_services,omitempty"`
	DenyServices  []string `json:"deny_services,omitempty"`
	AllowPorts    []uint16 `json:"allow_ports,omitempty"`
	DenyPorts     []uint16 `json:"deny_ports,omitempty"`
}

// DNS holds the domain-level requirements.
type DNS struct {
	RequireCAA    bool `json:"require_caa,omitempty"`
	RequireDNSSEC bool `json:"require_dnssec,omitempty"`
	// MailTransport is none, mta-sts, dane, dane-or-mta-sts or dane-and-mta-sts ("" = none).
	MailTransport string `json:"mail_transport,omitempty"`
}

// VersionAllowed reports whether a protocol version (wire ID) meets MinProtocol.
func (t Thresholds) VersionAllowed(id uint16) bool {
	return t.MinProtocol == 0 || versionRank(id) >= versionRank(t.MinProtocol)
}

// versionRank orders versions; SSLv2's wire value 0x0002 sorts below SSLv3's 0x0300.
func versionRank(id uint16) int { return int(id) }

// SuiteAllowed reports whether an IANA-named suite is acceptable: not forbidden, in the
// allow-list when there is one, forward secret and AEAD when required. reason says why not.
func (t Thresholds) SuiteAllowed(name string) (ok bool, reason string) {
	for _, p := range t.ForbiddenSuites {
		if globMatch(p, name) {
			return false, fmt.Sprintf("forbidden by %s", p)
		}
	}
	if len(t.AllowedSuites) > 0 && !slices.ContainsFunc(t.AllowedSuites, func(p string) bool { return globMatch(p, name) }) {
		return false, "not in the policy's allowed suites"
	}
	if t.RequireForwardSecrecy && !SuiteForwardSecret(name) {
		return false, "no forward secrecy"
	}
	if t.RequireAEAD && !SuiteAEAD(name) {
		return false, "not an AEAD cipher"
	}
	return true, ""
}

// SuiteForwardSecret reports whether an IANA suite uses ephemeral key exchange: every TLS 1.3
// suite, and ECDHE or DHE suites of earlier versions.
func SuiteForwardSecret(name string) bool {
	if isTLS13Suite(name) {
		return true
	}
	return strings.Contains(name, "_ECDHE_") || strings.Contains(name, "_DHE_")
}

// SuiteAEAD reports whether an IANA suite uses an AEAD cipher (GCM, CCM, ChaCha20-Poly1305).
func SuiteAEAD(name string) bool {
	return strings.Contains(name, "_GCM") || strings.Contains(name, "_CCM") || strings.Contains(name, "CHACHA20_POLY1305")
}

func isTLS13Suite(name string) bool {
	switch name {
	case "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
		"TLS_AES_128_CCM_SHA256", "TLS_AES_128_CCM_8_SHA256":
		return true
	}
	return false
}

// GroupAllowed reports whether a key-exchange group is acceptable (case-insensitive).
func (t Thresholds) GroupAllowed(name string) bool {
	return len(t.AllowedGroups) == 0 || slices.ContainsFunc(t.AllowedGroups, func(g string) bool { return strings.EqualFold(g, name) })
}

// KeyTypeAllowed reports whether a leaf key type (RSA, ECDSA, Ed25519…) is acceptable.
func (t Thresholds) KeyTypeAllowed(keyType string) bool {
	return len(t.AllowedKeyTypes) == 0 || slices.ContainsFunc(t.AllowedKeyTypes, func(k string) bool { return strings.EqualFold(k, keyType) })
}

// SignatureAllowed reports whether a signature algorithm (crypto/x509 name) is acceptable.
func (t Thresholds) SignatureAllowed(alg string) bool {
	return len(t.AllowedSignatureAlgorithms) == 0 || slices.ContainsFunc(t.AllowedSignatureAlgorithms, func(a string) bool { return strings.EqualFold(a, alg) })
}

// CurveAllowed reports whether a named curve (P-256…) is acceptable for an ECDSA leaf.
func (t Thresholds) CurveAllowed(curve string) bool {
	return len(t.AllowedCurves) == 0 || slices.ContainsFunc(t.AllowedCurves, func(c string) bool { return strings.EqualFold(c, curve) })
}

// Allowed reports whether a service (registry or identified name) answering on port may be
// reachable. A denied port or service always loses; an allowed port or service wins over the
// role lists; then a denied role, or a role outside AllowRoles when it is set, loses. reason
// says which entry decided.
func (e Exposure) Allowed(service string, port uint16) (ok bool, reason string) {
	service = strings.ToLower(service)
	if slices.Contains(e.DenyPorts, port) {
		return false, fmt.Sprintf("port %d is denied", port)
	}
	if service != "" && slices.Contains(e.DenyServices, service) {
		return false, fmt.Sprintf("service %s is denied", service)
	}
	if slices.Contains(e.AllowPorts, port) {
		return true, fmt.Sprintf("port %d is allowed", port)
	}
	if service != "" && slices.Contains(e.AllowServices, service) {
		return true, fmt.Sprintf("service %s is allowed", service)
	}
	role := ServiceRole(service)
	if role != "" && slices.Contains(e.DenyRoles, role) {
		return false, fmt.Sprintf("role %s is denied", role)
	}
	if role != "" && len(e.AllowRoles) > 0 && !slices.Contains(e.AllowRoles, role) {
		return false, fmt.Sprintf("role %s is not among the allowed roles (%s)", role, strings.Join(e.AllowRoles, ", "))
	}
	return true, ""
}

func globMatch(pattern, name string) bool {
	ok, err := path.Match(pattern, name)
	return err == nil && ok
}

func compileThresholds(s *ThresholdSpec) Thresholds {
	var t Thresholds
	if s == nil {
		return t
	}
	if x := s.TLS; x != nil {
		t.MinProtocol = x.MinVersion.ID()
		t.AllowedSuites = strs(x.AllowedSuites)
		t.ForbiddenSuites = strs(x.ForbiddenSuites)
		t.AllowedGroups = slices.Clone(x.AllowedGroups)
		t.RequireForwardSecrecy = deref(x.RequireForwardSecrecy)
		t.RequireAEAD = deref(x.RequireAEAD)
	}
	if x := s.Keys; x != nil {
		t.MinRSABits, t.MinECBits, t.MinDHBits = deref(x.MinRSABits), deref(x.MinECBits), deref(x.MinDHBits)
	}
	if x := s.Certificate; x != nil {
		t.AllowedKeyTypes = strs(x.AllowedKeyTypes)
		t.AllowedCurves = strs(x.AllowedCurves)
		t.AllowedSignatureAlgorithms = strs(x.AllowedSignatureAlgorithms)
		t.MaxCertLifetimeDays = deref(x.MaxLifetimeDays)
		t.ExpiryWarningDays = deref(x.ExpiryWarningDays)
		t.RequireOCSPStapling = deref(x.RequireOCSPStapling)
		t.RequireCT = deref(x.RequireCertificateTransparency)
	}
	if x := s.HTTP; x != nil {
		t.RequireHSTS, t.HSTSMinAgeSeconds = deref(x.RequireHSTS), deref(x.HSTSMinAgeSeconds)
	}
	if x := s.Messaging; x != nil {
		t.RequireSTARTTLS, t.ForbidPlaintextAuth = deref(x.RequireSTARTTLS), deref(x.ForbidPlaintextAuth)
	}
	if x := s.Exposure; x != nil {
		t.Exposure = Exposure{
			AllowRoles: strs(x.AllowRoles), DenyRoles: strs(x.DenyRoles), AllowServices: strs(x.AllowServices), DenyServices: strs(x.DenyServices),
			AllowPorts: slices.Clone(x.AllowPorts), DenyPorts: slices.Clone(x.DenyPorts),
		}
	}
	if x := s.DNS; x != nil {
		t.DNS = DNS{RequireCAA: deref(x.RequireCAA), RequireDNSSEC: deref(x.RequireDNSSEC), MailTransport: string(x.MailTransport)}
		if t.DNS.MailTransport == "none" {
			t.DNS.MailTransport = ""
		}
	}
	return t
}

func strs[S ~string](in []S) []string {
	if len(in) == 0 {
		return nil
	}
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = string(s)
	}
	return out
}

func deref[T any](p *T) T {
	var z T
	if p == nil {
		return z
	}
	return *p
}

// mergeThresholds lays over on top of dst with the same rules as extends.
func mergeThresholds(dst, over *ThresholdSpec) {
	mergeValue(reflect.ValueOf(dst).Elem(), reflect.ValueOf(over).Elem(), "")
}

func deepCopyValueOf[T any](p *T) *T {
	return deepCopyValue(reflect.ValueOf(p)).Interface().(*T)
}
