package policies

import (
	"crypto/tls"
	"fmt"
	"net/netip"
	"path"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/rampart-scan/rampart/model"
	"github.com/rampart-scan/rampart/services"
)

// The named scalar types below carry their own validation: the loader calls check (and, for
// enumerations, compares against choices and aliases) with the value's file position, so every
// error points at the offending value and can suggest the nearest valid one.

// problem is a validation failure of one value: what is wrong and, when there is one, the
// nearest valid value.
type problem struct {
	msg     string
	suggest string
}

// checker is implemented by scalar types with rules beyond their Go type.
type checker interface {
	check(o *Options) *problem
}

// enumerated is implemented by scalar types that take one of a fixed set of values. The
// loader accepts a case-insensitive match or an alias and stores the canonical spelling.
type enumerated interface {
	choices() []string
}

// aliased maps accepted alternative spellings (lower-case) to canonical values.
type aliased interface {
	aliases() map[string]string
}

// APIVersionName is the apiVersion key.
type APIVersionName string

func (APIVersionName) choices() []string { return []string{APIVersion} }

// PolicyName is a policy's name.
type PolicyName string

var policyNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

func (n PolicyName) check(*Options) *problem {
	if !policyNameRE.MatchString(string(n)) {
		return &problem{msg: fmt.Sprintf("invalid policy name %q: use 1-64 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit", string(n)), suggest: suggestName(string(n))}
	}
	return nil
}

func suggestName(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			return r
		case r == ' ':
			return '-'
		}
		return -1
	}, s)
	s = strings.TrimLeft(s, "._-")
	if len(s) > 64 {
		s = s[:64]
	}
	return s
}

// Extends is the extends key: one policy or a list of them.
type Extends []string

// acceptsScalar lets `extends: mozilla-intermediate` stand for a one-element list.
func (Extends) acceptsScalar() {}

// Severities maps a rule ID or glob to a severity.
type Severities map[RulePattern]SeverityName

// SeverityName is a severity as written: info, low, medium, high, critical.
type SeverityName string

func (SeverityName) choices() []string {
	var out []string
	for _, s := range model.Severities() {
		out = append(out, s.String())
	}
	return out
}

// severity converts a validated name.
func (s SeverityName) severity() model.Severity {
	v, _ := model.ParseSeverity(string(s))
	return v
}

// RulePattern is a rule ID (family/name) or a glob over rule IDs (tls/*).
type RulePattern string

var ruleFormRE = regexp.MustCompile(`^[a-z0-9*?\[\]-]+(/[a-z0-9*?\[\]._-]+)?$`)

func (r RulePattern) check(o *Options) *problem {
	s := string(r)
	if !ruleFormRE.MatchString(s) {
		return &problem{msg: fmt.Sprintf("invalid rule %q: write a rule ID such as tls/legacy-protocol-negotiated, or a glob such as tls/*", s), suggest: nearest(strings.ToLower(s), o.knownRules())}
	}
	if _, err := path.Match(s, ""); err != nil {
		return &problem{msg: fmt.Sprintf("invalid rule glob %q: %v", s, err)}
	}
	known := o.knownRules()
	if len(known) == 0 {
		return nil
	}
	if !hasGlob(s) {
		for _, k := range known {
			if k == s {
				return nil
			}
		}
		return &problem{msg: fmt.Sprintf("unknown rule %q", s), suggest: nearest(s, known)}
	}
	for _, k := range known {
		if ruleMatch(s, k) {
			return nil
		}
	}
	return &problem{msg: fmt.Sprintf("rule glob %q matches no rule in the catalogue", s), suggest: nearest(s, known)}
}

// SuitePattern is an IANA cipher-suite name or a glob over such names.
type SuitePattern string

var suiteFormRE = regexp.MustCompile(`^[A-Za-z0-9_*?\[\]]+$`)

func (p SuitePattern) check(*Options) *problem {
	s := string(p)
	if !suiteFormRE.MatchString(s) {
		return &problem{msg: fmt.Sprintf("invalid cipher suite %q: use the IANA name (upper case, e.g. TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256) or a glob such as *_CBC_*", s)}
	}
	if _, err := path.Match(s, ""); err != nil {
		return &problem{msg: fmt.Sprintf("invalid cipher-suite glob %q: %v", s, err)}
	}
	if hasGlob(s) {
		for _, n := range ianaSuites {
			if ok, _ := path.Match(s, n); ok {
				return nil
			}
		}
		return &problem{msg: fmt.Sprintf("cipher-suite glob %q matches no IANA suite", s)}
	}
	if !knownSuite(s) {
		return &problem{msg: fmt.Sprintf("unknown cipher suite %q (not an IANA TLS Cipher Suites registry name)", s), suggest: nearest(s, ianaSuites)}
	}
	return nil
}

func knownSuite(s string) bool {
	i := sort.SearchStrings(ianaSuites, s)
	return i < len(ianaSuites) && ianaSuites[i] == s
}

// TLSVersion is a protocol version name.
type TLSVersion string

var tlsVersionIDs = map[string]uint16{
	"SSLv2":  0x0002,
	"SSLv3":  0x0300,
	"TLS1.0": tls.VersionTLS10,
	"TLS1.1": tls.VersionTLS11,
	"TLS1.2": tls.VersionTLS12,
	"TLS1.3": tls.VersionTLS13,
}

func (TLSVersion) choices() []string {
	return []string{"SSLv2", "SSLv3", "TLS1.0", "TLS1.1", "TLS1.2", "TLS1.3"}
}

func (TLSVersion) aliases() map[string]string {
	return map[string]string{
		"sslv2": "SSLv2", "ssl2": "SSLv2", "ssl2.0": "SSLv2",
		"sslv3": "SSLv3", "ssl3": "SSLv3", "ssl3.0": "SSLv3",
		"tlsv1": "TLS1.0", "tlsv1.0": "TLS1.0", "tls1": "TLS1.0", "tls 1.0": "TLS1.0",
		"tlsv1.1": "TLS1.1", "tls 1.1": "TLS1.1",
		"tlsv1.2": "TLS1.2", "tls 1.2": "TLS1.2",
		"tlsv1.3": "TLS1.3", "tls 1.3": "TLS1.3",
	}
}

// ID is the version's wire value (0 when unset).
func (v TLSVersion) ID() uint16 { return tlsVersionIDs[string(v)] }

// VersionName is the policy spelling of a wire version ("TLS1.2"), or "" when unknown.
func VersionName(id uint16) string {
	for n, v := range tlsVersionIDs {
		if v == id {
			return n
		}
	}
	return ""
}

// KeyType is a certificate key algorithm.
type KeyType string

func (KeyType) choices() []string { return []string{"rsa", "ecdsa", "ed25519", "ed448", "dsa"} }

// CurveName is a named elliptic curve, in Go's crypto/elliptic spelling.
type CurveName string

func (CurveName) choices() []string {
	return []string{"P-224", "P-256", "P-384", "P-521", "brainpoolP256r1", "brainpoolP384r1", "brainpoolP512r1"}
}

func (CurveName) aliases() map[string]string {
	return map[string]string{
		"secp224r1": "P-224", "prime256v1": "P-256", "secp256r1": "P-256",
		"secp384r1": "P-384", "secp521r1": "P-521",
	}
}

// SigAlg is a certificate signature algorithm in Go crypto/x509 spelling; OpenSSL names
// (sha256WithRSAEncryption, ecdsa-with-SHA256) are accepted and converted.
type SigAlg string

func (SigAlg) choices() []string {
	return []string{
		"MD2-RSA", "MD5-RSA", "SHA1-RSA", "SHA256-RSA", "SHA384-RSA", "SHA512-RSA",
		"SHA256-RSAPSS", "SHA384-RSAPSS", "SHA512-RSAPSS",
		"DSA-SHA1", "DSA-SHA256",
		"ECDSA-SHA1", "ECDSA-SHA256", "ECDSA-SHA384", "ECDSA-SHA512",
		"Ed25519",
	}
}

func (SigAlg) aliases() map[string]string {
	return map[string]string{
		"md5withrsaencryption":    "MD5-RSA",
		"sha1withrsaencryption":   "SHA1-RSA",
		"sha256withrsaencryption": "SHA256-RSA",
		"sha384withrsaencryption": "SHA384-RSA",
		"sha512withrsaencryption": "SHA512-RSA",
		"ecdsa-with-sha1":         "ECDSA-SHA1",
		"ecdsa-with-sha256":       "ECDSA-SHA256",
		"ecdsa-with-sha384":       "ECDSA-SHA384",
		"ecdsa-with-sha512":       "ECDSA-SHA512",
	}
}

// Role is a service role, as the service registry assigns them.
type Role string

// extraRoles are roles of services that exposure identification recognises beyond the
// registry's TLS services (see ServiceRole).
var extraRoles = []string{"web", "mail", "messaging", "database", "cache", "admin", "directory", "remote-access"}

func (Role) choices() []string {
	set := map[string]bool{}
	for _, r := range extraRoles {
		set[r] = true
	}
	for _, s := range registry().All() {
		if s.Role != "" {
			set[s.Role] = true
		}
	}
	return sortedKeys(set)
}

// identifiedServiceRoles gives the role of services that exposure identification names
// (model.Svc*) but the TLS service registry does not list.
var identifiedServiceRoles = map[string]string{
	model.SvcSSH: "remote-access", model.SvcRDP: "remote-access", model.SvcVNC: "remote-access",
	model.SvcTelnet: "remote-access",
	model.SvcSMTP:   "mail", model.SvcIMAP: "mail", model.SvcPOP3: "mail",
	model.SvcXMPP: "messaging", model.SvcMQTT: "messaging", model.SvcIRC: "messaging",
	model.SvcHTTP:  "web",
	model.SvcRedis: "cache", model.SvcMemcached: "cache",
	model.SvcMySQL: "database", model.SvcPostgres: "database", model.SvcMongoDB: "database",
	model.SvcElasticsearch: "database", model.SvcEtcd: "database",
	model.SvcDocker: "admin", model.SvcKubernetes: "admin", model.SvcFTP: "admin",
	model.SvcLDAP: "directory",
}

// ServiceRole is the role of a service name: the registry's role for registry names and
// aliases, else the role of a service that exposure identification names, else "".
func ServiceRole(name string) string {
	if s, ok := registry().ByName(name); ok {
		return s.Role
	}
	return identifiedServiceRoles[strings.ToLower(name)]
}

// ServiceName is a service: a registry name or alias, or a service exposure identification
// names (ssh, redis, …).
type ServiceName string

func (ServiceName) choices() []string {
	set := map[string]bool{}
	for _, s := range registry().All() {
		set[s.Name] = true
		for _, a := range s.Aliases {
			set[a] = true
		}
	}
	for n := range identifiedServiceRoles {
		set[n] = true
	}
	return sortedKeys(set)
}

// HostPattern is a glob over host names.
type HostPattern string

func (h HostPattern) check(*Options) *problem {
	s := string(h)
	if s == "" {
		return &problem{msg: "empty host pattern"}
	}
	if s != strings.ToLower(s) {
		return &problem{msg: fmt.Sprintf("host pattern %q must be lower case (names are compared in lower case)", s), suggest: strings.ToLower(s)}
	}
	if _, err := path.Match(s, ""); err != nil {
		return &problem{msg: fmt.Sprintf("invalid host glob %q: %v", s, err)}
	}
	return nil
}

// CIDR is an address or an address block.
type CIDR string

func (c CIDR) prefix() (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(string(c)); err == nil {
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(string(c))
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

func (c CIDR) check(*Options) *problem {
	if _, err := c.prefix(); err != nil {
		return &problem{msg: fmt.Sprintf("invalid address or CIDR %q (want e.g. 192.0.2.7 or 10.0.0.0/8)", string(c))}
	}
	return nil
}

// MailTransport says what must protect inbound mail transport.
type MailTransport string

func (MailTransport) choices() []string {
	return []string{"none", "mta-sts", "dane", "dane-or-mta-sts", "dane-and-mta-sts"}
}

// Date is a calendar day, YYYY-MM-DD.
type Date string

func (d Date) check(*Options) *problem {
	if _, err := time.Parse(time.DateOnly, string(d)); err != nil {
		return &problem{msg: fmt.Sprintf("invalid date %q: write YYYY-MM-DD, e.g. 2027-03-31", string(d))}
	}
	return nil
}

// End is the first instant after the day: a waiver expiring on D still holds all of D (UTC).
func (d Date) End() time.Time {
	t, err := time.Parse(time.DateOnly, string(d))
	if err != nil {
		return time.Time{}
	}
	return t.AddDate(0, 0, 1)
}

func hasGlob(s string) bool { return strings.ContainsAny(s, "*?[") }

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// registry is the built-in service registry, built once.
var registry = sync.OnceValue(services.Default)
