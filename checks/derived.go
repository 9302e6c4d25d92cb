package checks

import (
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/rampart-scan/rampart/model"
	"github.com/rampart-scan/rampart/policies"
)

// Derived vulnerability verdicts: named attacks decided from what the raw ClientHello engine
// already recorded (model.TLSEngineFacts: versions, suites, DH parameters), with no extra
// connection. They are the attack-named view of facts that tls/* rules judge as configuration;
// where a tls/* rule already says everything (tls/null-cipher, tls/anon-cipher: no CVE, same
// condition) there is no vuln/* twin. A vuln/* rule that restates a tls/* rule's condition
// defaults one severity level below it, so a report sorted by severity leads with the rule
// that carries the configuration fix. docs/vulns-derived.md explains each verdict.

const derivedHow = "Decided from the protocol-version and cipher-suite enumeration (no extra connection). "

var (
	derivedDHSnippets = []model.Snippet{
		{Software: "nginx", Config: "ssl_dhparam /etc/nginx/ffdhe2048.pem;  # or drop DHE: ssl_ciphers ECDHE+AESGCM:ECDHE+CHACHA20;"},
		{Software: "Postfix", Config: "smtpd_tls_dh1024_param_file = /etc/postfix/ffdhe2048.pem\nsmtpd_tls_exclude_ciphers = EXPORT, LOW"},
		{Software: "Prosody", Config: "ssl = { dhparam = \"/etc/prosody/ffdhe2048.pem\"; ciphers = \"ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM\" }"},
		{Software: "Dovecot", Config: "ssl_dh = </etc/dovecot/ffdhe2048.pem\nssl_cipher_list = ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM"},
	}
	derivedCBCSnippets = []model.Snippet{
		{Software: "nginx", Config: "ssl_protocols TLSv1.2 TLSv1.3;\nssl_ciphers ECDHE+AESGCM:ECDHE+CHACHA20;"},
		{Software: "Postfix", Config: "smtpd_tls_protocols = >=TLSv1.2\ntls_high_cipherlist = ECDHE+AESGCM:ECDHE+CHACHA20\nsmtpd_tls_ciphers = high"},
		{Software: "Prosody", Config: "ssl = { protocol = \"tlsv1_2+\"; ciphers = \"ECDHE+AESGCM:ECDHE+CHACHA20\" }"},
		{Software: "Dovecot", Config: "ssl_min_protocol = TLSv1.2\nssl_cipher_list = ECDHE+AESGCM:ECDHE+CHACHA20"},
	}
	derivedProtocolSnippets = []model.Snippet{
		{Software: "nginx", Config: "ssl_protocols TLSv1.2 TLSv1.3;"},
		{Software: "Postfix", Config: "smtpd_tls_protocols = >=TLSv1.2\nsmtpd_tls_mandatory_protocols = >=TLSv1.2"},
		{Software: "Prosody", Config: "ssl = { protocol = \"tlsv1_2+\" }"},
		{Software: "Dovecot", Config: "ssl_min_protocol = TLSv1.2"},
	}

	ruleDerivedPOODLE = model.Rule{
		ID:    "vuln/poodle",
		Title: "POODLE: SSL 3.0 with a CBC cipher suite (CVE-2014-3566)",
		Why: "SSL 3.0 does not authenticate CBC padding, so a man in the middle who can make a client repeat requests " +
			"decrypts a cookie in about 256 requests per byte. " + derivedHow + "Vulnerable: the server accepts SSL 3.0 " +
			"with at least one CBC suite (listed in the evidence). Not vulnerable: SSL 3.0 refused, or only non-CBC suites " +
			"with it (then RC4 is the problem). TLS-level POODLE (CVE-2014-8730, servers that do not check TLS padding) " +
			"needs an active probe and is not covered here. tls/sslv3-enabled reports the protocol itself.",
		Fix:             "Disable SSL 3.0.",
		Snippets:        derivedProtocolSnippets,
		References:      []model.Reference{{Title: "CVE-2014-3566", URL: "https://nvd.nist.gov/vuln/detail/CVE-2014-3566"}, {Title: "RFC 7568 (Deprecating SSL 3.0)", URL: "https://www.rfc-editor.org/rfc/rfc7568"}},
		DefaultSeverity: model.SeverityMedium,
		Tags:            []string{"tls", "vulnerability", "CVE-2014-3566", "CWE-327"},
	}
	ruleDerivedBEAST = model.Rule{
		ID:    "vuln/beast",
		Title: "BEAST: CBC cipher suites in SSL 3.0 or TLS 1.0 (CVE-2011-3389)",
		Why: "SSL 3.0 and TLS 1.0 use the last ciphertext block as the next record's IV, which lets an attacker who runs " +
			"script in the victim's browser decrypt chosen bytes. Every current browser splits records (1/n-1) to " +
			"defeat it, so the risk is to old clients: informational. " + derivedHow + "Vulnerable: SSL 3.0 or TLS 1.0 " +
			"is accepted with a CBC suite. Not vulnerable: neither version accepted with CBC.",
		Fix:             "Disable SSL 3.0 and TLS 1.0 (RFC 8996).",
		Snippets:        derivedProtocolSnippets,
		References:      []model.Reference{{Title: "CVE-2011-3389", URL: "https://nvd.nist.gov/vuln/detail/CVE-2011-3389"}, {Title: "RFC 8996 (Deprecating TLS 1.0 and 1.1)", URL: "https://www.rfc-editor.org/rfc/rfc8996"}},
		DefaultSeverity: model.SeverityInfo,
		Tags:            []string{"tls", "vulnerability", "CVE-2011-3389", "CWE-327"},
	}
	ruleDerivedSWEET32 = model.Rule{
		ID:    "vuln/sweet32",
		Title: "SWEET32: 64-bit block cipher suites (CVE-2016-2183)",
		Why: "With a 64-bit block cipher (3DES, DES, IDEA, RC2) CBC blocks collide after about 32 GB on one connection " +
			"(the birthday bound), which reveals XORs of plaintext blocks; a long-lived connection carrying a repeated " +
			"secret (a cookie, a bearer token on a chat connection) leaks it. " + derivedHow + "Vulnerable: an accepted " +
			"SSL 3.0–TLS 1.2 suite uses a 64-bit block cipher. Not vulnerable: none does. Raised even when the policy " +
			"allows 3DES (as Mozilla's old profile does), when tls/weak-cipher stays silent.",
		Fix:             "Remove 3DES, DES, IDEA and RC2 suites.",
		Snippets:        engineSuiteSnippets,
		References:      []model.Reference{{Title: "CVE-2016-2183", URL: "https://nvd.nist.gov/vuln/detail/CVE-2016-2183"}, {Title: "SWEET32", URL: "https://sweet32.info/"}},
		DefaultSeverity: model.SeverityLow,
		Tags:            []string{"tls", "vulnerability", "CVE-2016-2183", "CWE-327"},
	}
	ruleDerivedFREAK = model.Rule{
		ID:    "vuln/freak",
		Title: "FREAK: RSA export cipher suites (CVE-2015-0204)",
		Why: "A server that accepts RSA_EXPORT suites signs a 512-bit temporary RSA key; clients with the FREAK bug " +
			"(OpenSSL CVE-2015-0204, Schannel CVE-2015-1637, Secure Transport CVE-2015-1067) accept it in a normal " +
			"handshake, and a man in the middle who factors it (hours of cloud computing, reusable while the server " +
			"keeps the key) reads and changes the session. " + derivedHow + "Vulnerable: an RSA export suite is " +
			"accepted. Not vulnerable: none is. tls/export-cipher reports every export suite.",
		Fix:             "Remove every EXPORT suite.",
		Snippets:        engineSuiteSnippets,
		References:      []model.Reference{{Title: "CVE-2015-0204", URL: "https://nvd.nist.gov/vuln/detail/CVE-2015-0204"}, {Title: "FREAK (SMACK: State Machine AttaCKs)", URL: "https://mitls.org/pages/attacks/SMACK"}},
		DefaultSeverity: model.SeverityMedium,
		Tags:            []string{"tls", "vulnerability", "CVE-2015-0204", "CWE-327"},
	}
	ruleDerivedLogjam = model.Rule{
		ID:    "vuln/logjam",
		Title: "Logjam: export or breakable Diffie-Hellman groups (CVE-2015-4000)",
		Why: "Logjam downgrades a DHE handshake to a 512-bit export group, and a widely shared 1024-bit prime can be " +
			"precomputed once and then broken per connection. " + derivedHow + "Vulnerable: a DHE export suite is " +
			"accepted, or the server's DHE prime is shorter than 1024 bits, or it is a well-known 1024-bit (or smaller) " +
			"prime (Oakley group 1 or 2, RFC 5114's 1024-bit group). Not vulnerable: none of these; a custom 1024-bit " +
			"prime is not Logjam but is still below the usual minimum (tls/small-dh). Only the RFC groups are known as " +
			"common primes; testssl.sh also knows common server defaults.",
		Fix:             "Use RFC 7919 ffdhe2048 or larger, or drop DHE in favour of ECDHE; remove EXPORT suites.",
		Snippets:        derivedDHSnippets,
		References:      []model.Reference{{Title: "CVE-2015-4000", URL: "https://nvd.nist.gov/vuln/detail/CVE-2015-4000"}, {Title: "Weak Diffie-Hellman and the Logjam Attack", URL: "https://weakdh.org/"}, {Title: "RFC 7919 (Negotiated FFDHE groups)", URL: "https://www.rfc-editor.org/rfc/rfc7919"}},
		DefaultSeverity: model.SeverityMedium,
		Tags:            []string{"tls", "vulnerability", "CVE-2015-4000", "CWE-326"},
	}
	ruleDerivedLucky13 = model.Rule{
		ID:    "vuln/lucky13",
		Title: "LUCKY13: CBC cipher suites (CVE-2013-0169)",
		Why: "TLS CBC suites authenticate before they encrypt (MAC-then-encrypt), and the time a server takes to reject " +
			"a bad record leaks padding information (Lucky Thirteen, CVE-2013-0169). Libraries have shipped " +
			"constant-time fixes since 2013, and whether this server's is fixed cannot be seen without timing " +
			"thousands of connections, so the verdict is informational: CBC suites are accepted. " + derivedHow +
			"Not vulnerable: no CBC suite is accepted. tls/no-aead and tls/cbc-preferred judge the configuration.",
		Fix:             "Prefer AEAD suites (AES-GCM, ChaCha20-Poly1305) and TLS 1.3; remove CBC suites where clients allow.",
		Snippets:        derivedCBCSnippets,
		References:      []model.Reference{{Title: "CVE-2013-0169", URL: "https://nvd.nist.gov/vuln/detail/CVE-2013-0169"}, engineRefBCP195},
		DefaultSeverity: model.SeverityInfo,
		Tags:            []string{"tls", "vulnerability", "CVE-2013-0169", "CWE-208"},
	}
	ruleDerivedRC4 = model.Rule{
		ID:    "vuln/rc4",
		Title: "RC4 cipher suites (CVE-2013-2566, CVE-2015-2808)",
		Why: "RC4's keystream biases let an attacker recover plaintext repeated across many connections (a cookie, a " +
			"password sent on every login); RFC 7465 prohibits RC4 in TLS. " + derivedHow + "Vulnerable: an RC4 suite is " +
			"accepted. Not vulnerable: none is. tls/weak-cipher reports each suite.",
		Fix:             "Remove every RC4 suite.",
		Snippets:        engineSuiteSnippets,
		References:      []model.Reference{{Title: "CVE-2013-2566", URL: "https://nvd.nist.gov/vuln/detail/CVE-2013-2566"}, {Title: "CVE-2015-2808 (Bar Mitzvah)", URL: "https://nvd.nist.gov/vuln/detail/CVE-2015-2808"}, {Title: "RFC 7465 (Prohibiting RC4)", URL: "https://www.rfc-editor.org/rfc/rfc7465"}},
		DefaultSeverity: model.SeverityLow,
		Tags:            []string{"tls", "vulnerability", "CVE-2013-2566", "CVE-2015-2808", "CWE-327"},
	}
	ruleDerivedDROWN = model.Rule{
		ID:    "vuln/drown",
		Title: "DROWN: this endpoint's RSA key is also served by an SSL 2.0 endpoint (CVE-2016-0800)",
		Why: "DROWN decrypts recorded TLS sessions of any server whose RSA key is also used by a server that speaks " +
			"SSL 2.0: the SSL 2.0 server is the oracle. An endpoint that accepts SSL 2.0 itself is reported as " +
			"tls/sslv2-enabled; this rule covers the endpoints that do not, but share an RSA key (the same public key " +
			"in a leaf certificate) with one in the same scan that does. Decided across the scan's endpoints from the " +
			"certificates already recorded and the SSL 2.0 enumeration: no extra connection. Not vulnerable means no " +
			"endpoint in this scan with the same key accepts SSL 2.0; servers outside the scan (another host with a copy " +
			"of the key) cannot be seen.",
		Fix:             "Disable SSL 2.0 on every server that holds this key, or give this endpoint a new key and certificate.",
		Snippets:        derivedProtocolSnippets,
		References:      []model.Reference{{Title: "CVE-2016-0800", URL: "https://nvd.nist.gov/vuln/detail/CVE-2016-0800"}, {Title: "The DROWN Attack", URL: "https://drownattack.com/"}},
		DefaultSeverity: model.SeverityHigh,
		Tags:            []string{"tls", "vulnerability", "CVE-2016-0800", "CWE-327"},
	}
	ruleDerivedInconclusive = model.Rule{
		ID:    "vuln/derived-inconclusive",
		Title: "A derived vulnerability verdict could not be decided",
		Why: "The engine's enumeration of a protocol version this attack depends on ended abnormally (timeout, reset, " +
			"garbage; the reason is in the evidence), or a DHE key exchange could not be read, so the attack named in " +
			"the detail is neither confirmed nor ruled out. This is not a clean result.",
		Fix:             "Scan again; if it repeats, look at what the server does with old protocol versions.",
		DefaultSeverity: model.SeverityInfo,
		Tags:            []string{"tls", "vulnerability", "inconclusive"},
	}
)

// derivedVulnCheck raises the attack-named verdicts derived from the engine's facts.
func derivedVulnCheck() Check {
	return Check{
		Name: "derived-vulns",
		Rules: []model.Rule{ruleDerivedPOODLE, ruleDerivedBEAST, ruleDerivedSWEET32, ruleDerivedFREAK, ruleDerivedLogjam, ruleDerivedLucky13,
			ruleDerivedRC4, ruleDerivedDROWN, ruleDerivedInconclusive},
		Run: runDerived,
	}
}

// Version filters. SSL 2.0 has its own rule (tls/sslv2-enabled) and TLS 1.3 suites are all AEAD.
func derivedSSL3(id uint16) bool      { return id == 0x0300 }
func derivedUpToTLS10(id uint16) bool { return id == 0x0300 || id == 0x0301 }
func derivedLegacy(id uint16) bool    { return id >= 0x0300 && id <= 0x0303 }

// derivedRule is one suite-based verdict.
type derivedRule struct {
	rule     model.Rule
	name     string // detail of an inconclusive finding
	versions func(uint16) bool
	match    func(model.EngineSuite) bool
	message  string // "%s": the suites
}

var derivedRules = []derivedRule{
	{rule: ruleDerivedPOODLE, name: "poodle", versions: derivedSSL3, match: func(s model.EngineSuite) bool { return s.Mode == "CBC" },
		message: "The server accepts SSL 3.0 with CBC suites: %s."},
	{rule: ruleDerivedBEAST, name: "beast", versions: derivedUpToTLS10, match: func(s model.EngineSuite) bool { return s.Mode == "CBC" },
		message: "The server accepts CBC suites in SSL 3.0 or TLS 1.0: %s."},
	{rule: ruleDerivedSWEET32, name: "sweet32", versions: derivedLegacy, match: derived64BitBlock,
		message: "The server accepts 64-bit block cipher suites: %s."},
	{rule: ruleDerivedFREAK, name: "freak", versions: derivedLegacy, match: func(s model.EngineSuite) bool { return s.Export && s.KeyExchange == "RSA" },
		message: "The server accepts RSA export suites: %s."},
	{rule: ruleDerivedLucky13, name: "lucky13", versions: derivedLegacy, match: func(s model.EngineSuite) bool { return s.Mode == "CBC" },
		message: "The server accepts CBC suites: %s."},
	{rule: ruleDerivedRC4, name: "rc4", versions: derivedLegacy, match: func(s model.EngineSuite) bool { return s.Cipher == "RC4" },
		message: "The server accepts RC4 suites: %s."},
}

func derived64BitBlock(s model.EngineSuite) bool {
	switch s.Cipher {
	case "3DES", "DES", "IDEA", "RC2":
		return s.Mode == "CBC"
	}
	return false
}

func runDerived(in *Input, r *Reporter) {
	if in.Obs.TLS == nil || in.Obs.TLS.Engine == nil {
		return // no enumeration (quick audit): the derived verdicts are not claimed either way
	}
	e := in.Obs.TLS.Engine
	for _, d := range derivedRules {
		suites := derivedSuites(e, d.versions, d.match)
		if len(suites) > 0 {
			r.Raise(d.rule.ID, "", fmt.Sprintf(d.message, strings.Join(suites, ", ")), map[string]string{"suites": strings.Join(suites, ", ")})
			continue
		}
		derivedInconclusive(e, d.name, d.versions, nil, r)
	}
	derivedLogjam(e, r)
}

// derivedSuites lists the accepted suites of the filtered versions that match, as
// "NAME (versions)", sorted by name.
func derivedSuites(e *model.TLSEngineFacts, versions func(uint16) bool, match func(model.EngineSuite) bool) []string {
	byName := map[string][]string{}
	for _, v := range e.Versions {
		if !v.Supported || !versions(v.VersionID) {
			continue
		}
		for _, s := range v.Suites {
			if match(s) {
				byName[s.Name] = append(byName[s.Name], v.Version)
			}
		}
	}
	out := make([]string, 0, len(byName))
	for n, vs := range byName {
		out = append(out, n+" ("+strings.Join(vs, ", ")+")")
	}
	sort.Strings(out)
	return out
}

// derivedInconclusive raises vuln/derived-inconclusive when a version the verdict depends on
// could not be enumerated; extra lists further reasons.
func derivedInconclusive(e *model.TLSEngineFacts, name string, versions func(uint16) bool, extra []string, r *Reporter) {
	reasons := extra
	for _, v := range e.Versions {
		if versions(v.VersionID) && v.Error != "" {
			reasons = append(reasons, v.Version+": "+v.Error)
		}
	}
	if len(reasons) == 0 {
		return
	}
	r.Raise(ruleDerivedInconclusive.ID, name, fmt.Sprintf("The %s verdict is undecided: %s.", name, strings.Join(reasons, "; ")),
		map[string]string{"attack": name, "reasons": strings.Join(reasons, "; ")})
}

func derivedLogjam(e *model.TLSEngineFacts, r *Reporter) {
	var reasons []string
	exports := derivedSuites(e, derivedLegacy, func(s model.EngineSuite) bool { return s.Export && s.KeyExchange == "DHE" })
	if len(exports) > 0 {
		reasons = append(reasons, "DHE export suites "+strings.Join(exports, ", "))
	}
	seen := map[string]bool{}
	weak := func(bits int, known, where string) {
		var why string
		switch {
		case bits > 0 && bits < 1024:
			why = fmt.Sprintf("a %d-bit DH prime", bits)
		case bits > 0 && bits <= 1024 && known != "":
			why = fmt.Sprintf("the well-known %d-bit prime %s", bits, known)
		default:
			return
		}
		if known != "" && bits < 1024 {
			why += " (" + known + ")"
		}
		if !seen[why] {
			seen[why] = true
			reasons = append(reasons, why+where)
		}
	}
	for _, d := range e.DH {
		weak(d.PrimeBits, d.Known, " with "+d.Suite+" ("+d.Version+")")
	}
	for _, v := range e.Versions {
		for _, s := range v.Suites {
			if v.Supported && derivedLegacy(v.VersionID) && s.DHBits > 0 && s.DHBits < 1024 {
				weak(s.DHBits, "", " with "+s.Name+" ("+v.Version+")")
			}
		}
	}
	if len(reasons) > 0 {
		r.Raise(ruleDerivedLogjam.ID, "", "The server offers "+strings.Join(reasons, "; ")+".", map[string]string{"reasons": strings.Join(reasons, "; ")})
		return
	}
	// A DHE suite was accepted but its parameters were never read: the prime is unknown.
	var extra []string
	if len(e.DH) == 0 {
		for _, v := range e.Versions {
			if v.Supported && derivedLegacy(v.VersionID) && v.KeyExchangeError != "" &&
				len(derivedSuites(&model.TLSEngineFacts{Versions: []model.EngineVersion{v}}, derivedLegacy, func(s model.EngineSuite) bool { return s.KeyExchange == "DHE" })) > 0 {
				extra = append(extra, v.Version+" DHE parameters unread: "+v.KeyExchangeError)
			}
		}
	}
	derivedInconclusive(e, "logjam", derivedLegacy, extra, r)
}

// DerivedAcrossEndpoints raises the verdicts that need every endpoint of a scan: vuln/drown on
// each endpoint that does not accept SSL 2.0 but serves an RSA key that another endpoint of the
// scan serves with SSL 2.0 (and vuln/derived-inconclusive "drown" when that other endpoint's
// SSL 2.0 probe ended abnormally). It applies the policy as Evaluate does, appends the
// findings to results[i].Findings (kept sorted) and returns the indexes it changed. Endpoints
// whose probe was interrupted get no findings. It does nothing when the catalogue lacks
// vuln/drown. Like every check it reads facts only.
func (c *Catalogue) DerivedAcrossEndpoints(results []model.EndpointResult, p *policies.Policy, now time.Time) []int {
	if _, ok := c.Rule(ruleDerivedDROWN.ID); !ok {
		return nil
	}
	type undecided struct {
		index int
		what  string
	}
	type source struct {
		sslv2     []string
		undecided []undecided
	}
	keys := make([]map[string]string, len(results)) // per endpoint: key ID → leaf SHA-256
	byKey := map[string]*source{}
	for i := range results {
		obs := &results[i].Observation
		keys[i] = derivedRSAKeys(obs)
		v2 := derivedSSLv2(obs)
		if v2 == nil || (!v2.Supported && v2.Error == "") {
			continue
		}
		for k := range keys[i] {
			s := byKey[k]
			if s == nil {
				s = &source{}
				byKey[k] = s
			}
			if v2.Supported {
				s.sslv2 = append(s.sslv2, obs.Endpoint.ID())
			} else {
				s.undecided = append(s.undecided, undecided{i, obs.Endpoint.ID() + " (" + v2.Error + ")"})
			}
		}
	}
	var changed []int
	for i := range results {
		obs := &results[i].Observation
		if obs.Status == model.StatusInterrupted {
			continue
		}
		if v2 := derivedSSLv2(obs); v2 != nil && v2.Supported {
			continue // tls/sslv2-enabled
		}
		rep := &Reporter{cat: c, asset: obs.Endpoint.ID(), allowed: []model.Rule{ruleDerivedDROWN, ruleDerivedInconclusive}}
		ids := make([]string, 0, len(keys[i]))
		for k := range keys[i] {
			ids = append(ids, k)
		}
		sort.Strings(ids)
		raised := map[string]bool{}
		var unsure []string
		for _, k := range ids {
			s := byKey[k]
			if s == nil {
				continue
			}
			leaf := keys[i][k]
			if len(s.sslv2) > 0 && !raised[leaf] {
				raised[leaf] = true
				others := derivedSortedUnique(s.sslv2)
				rep.Raise(ruleDerivedDROWN.ID, "leaf:"+leaf,
					fmt.Sprintf("The RSA key of this endpoint's certificate %s is also served by %s, which accepts SSL 2.0.", derivedShort(leaf), strings.Join(others, ", ")),
					map[string]string{"leaf_sha256": leaf, "key": k, "sslv2_endpoints": strings.Join(others, ", ")})
			}
			for _, u := range s.undecided {
				if u.index != i { // its own SSL 2.0 probe is not a shared-key question
					unsure = append(unsure, u.what)
				}
			}
		}
		if len(raised) == 0 && len(unsure) > 0 {
			u := derivedSortedUnique(unsure)
			rep.Raise(ruleDerivedInconclusive.ID, "drown", "The drown verdict is undecided: endpoints with the same RSA key could not be probed for SSL 2.0: "+strings.Join(u, "; ")+".",
				map[string]string{"attack": "drown", "reasons": strings.Join(u, "; ")})
		}
		if len(rep.out) == 0 {
			continue
		}
		fs := p.Apply(obs.Endpoint, rep.out, now)
		if len(fs) == 0 {
			continue
		}
		results[i].Findings = append(results[i].Findings, fs...)
		sortFindings(results[i].Findings)
		changed = append(changed, i)
	}
	return changed
}

func derivedSSLv2(obs *model.Observation) *model.EngineVersion {
	if obs.TLS == nil || obs.TLS.Engine == nil {
		return nil
	}
	for i, v := range obs.TLS.Engine.Versions {
		if v.VersionID == 0x0002 {
			return &obs.TLS.Engine.Versions[i]
		}
	}
	return nil
}

// derivedRSAKeys identifies the RSA keys of every leaf the endpoint presented: by the SHA-256
// of the SubjectPublicKeyInfo when the certificate's DER is recorded and parses, and always by
// the certificate fingerprint (the same certificate is the same key). It maps each ID to the
// leaf's fingerprint.
func derivedRSAKeys(obs *model.Observation) map[string]string {
	out := map[string]string{}
	add := func(keyType, sha string, der []byte) {
		isRSA := strings.EqualFold(keyType, "RSA")
		if len(der) > 0 {
			if c, err := x509.ParseCertificate(der); err == nil {
				_, isRSA = c.PublicKey.(*rsa.PublicKey)
				if isRSA {
					h := sha256.Sum256(c.RawSubjectPublicKeyInfo)
					if sha == "" {
						s := sha256.Sum256(der)
						sha = hex.EncodeToString(s[:])
					}
					out["spki:"+hex.EncodeToString(h[:])] = sha
				}
			}
		}
		if isRSA && sha != "" {
			out["cert:"+strings.ToLower(sha)] = strings.ToLower(sha)
		}
	}
	if c := obs.Certificates; c != nil && len(c.Chain) > 0 {
		add(c.Chain[0].KeyType, c.Chain[0].SHA256, c.Chain[0].DER)
	}
	if obs.TLS != nil && obs.TLS.Features != nil {
		for _, ch := range obs.TLS.Features.Chains {
			var der []byte
			if len(ch.DER) > 0 {
				der = ch.DER[0]
			}
			add(ch.KeyType, ch.Leaf, der)
		}
	}
	return out
}

func derivedSortedUnique(s []string) []string {
	s = append([]string(nil), s...)
	sort.Strings(s)
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

func derivedShort(sha string) string {
	if len(sha) > 16 {
		return sha[:16] + "…"
	}
	return sha
}
