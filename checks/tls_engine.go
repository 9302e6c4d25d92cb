package checks

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/rampart-scan/rampart/model"
	"github.com/rampart-scan/rampart/policies"
)

// Rules raised from the raw ClientHello engine's facts (model.TLSEngineFacts).
//
// Protocol versions: SSL 2.0 and SSL 3.0 have their own rules because they are broken
// (DROWN, POODLE), never acceptable under any policy, and deserve a higher severity; TLS 1.0
// and 1.1 share tls/deprecated-protocol with the version as detail, because whether they are
// acceptable is the policy's min_version and the fix is the same.
var (
	engineProtocolSnippets = []model.Snippet{
		{Software: "nginx", Config: "ssl_protocols TLSv1.2 TLSv1.3;"},
		{Software: "Postfix", Config: "smtpd_tls_protocols = >=TLSv1.2\nsmtpd_tls_mandatory_protocols = >=TLSv1.2"},
		{Software: "Dovecot", Config: "ssl_min_protocol = TLSv1.2"},
		{Software: "Prosody", Config: "ssl = { protocol = \"tlsv1_2+\" }"},
		{Software: "ejabberd", Config: "define_macro:\n  TLS_OPTS: \"no_sslv3|no_tlsv1|no_tlsv1_1\""},
	}
	engineSuiteSnippets = []model.Snippet{
		{Software: "nginx", Config: "ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305;"},
		{Software: "Postfix", Config: "smtpd_tls_ciphers = high\nsmtpd_tls_mandatory_ciphers = high\ntls_high_cipherlist = ECDHE+AESGCM:ECDHE+CHACHA20\nsmtpd_tls_exclude_ciphers = aNULL, eNULL, EXPORT, DES, 3DES, RC4, MD5"},
		{Software: "Dovecot", Config: "ssl_cipher_list = ECDHE+AESGCM:ECDHE+CHACHA20"},
		{Software: "Prosody", Config: "ssl = { ciphers = \"ECDHE+AESGCM:ECDHE+CHACHA20\" }"},
	}
	engineRefBCP195  = model.Reference{Title: "RFC 9325 / BCP 195 (Recommendations for Secure Use of TLS)", URL: "https://www.rfc-editor.org/rfc/rfc9325"}
	engineRefMozilla = model.Reference{Title: "Mozilla Server Side TLS", URL: "https://wiki.mozilla.org/Security/Server_Side_TLS"}
	engineRefNIST    = model.Reference{Title: "NIST SP 800-52 Rev. 2", URL: "https://csrc.nist.gov/pubs/sp/800/52/r2/final"}
	engineRefBSI     = model.Reference{Title: "BSI TR-02102-2", URL: "https://www.bsi.bund.de/EN/Themen/Unternehmen-und-Organisationen/Standards-und-Zertifizierung/Technische-Richtlinien/TR-nach-Thema-sortiert/tr02102/tr02102_node.html"}

	ruleSSLv2 = model.Rule{
		ID:    "tls/sslv2-enabled",
		Title: "SSL 2.0 accepted",
		Why: "SSL 2.0 is broken beyond repair (RFC 6176 prohibits it). A server that still answers SSL 2.0 " +
			"lets attackers decrypt TLS sessions that use the same RSA key (DROWN, CVE-2016-0800).",
		Fix:      "Disable SSL 2.0 on every service that uses this key; upgrade software that cannot.",
		Snippets: engineProtocolSnippets,
		References: []model.Reference{
			{Title: "RFC 6176 (Prohibiting SSL 2.0)", URL: "https://www.rfc-editor.org/rfc/rfc6176"},
			{Title: "CVE-2016-0800 (DROWN)", URL: "https://drownattack.com/"},
		},
		DefaultSeverity: model.SeverityCritical,
		Tags:            []string{"tls", "protocol", "CWE-327"},
	}
	ruleSSLv3 = model.Rule{
		ID:    "tls/sslv3-enabled",
		Title: "SSL 3.0 accepted",
		Why: "SSL 3.0 is deprecated by RFC 7568: its CBC padding is not authenticated (POODLE, CVE-2014-3566) " +
			"and its only other cipher is RC4.",
		Fix:      "Disable SSL 3.0; allow TLS 1.2 and TLS 1.3 only.",
		Snippets: engineProtocolSnippets,
		References: []model.Reference{
			{Title: "RFC 7568 (Deprecating SSL 3.0)", URL: "https://www.rfc-editor.org/rfc/rfc7568"},
			{Title: "CVE-2014-3566 (POODLE)", URL: "https://nvd.nist.gov/vuln/detail/CVE-2014-3566"},
		},
		DefaultSeverity: model.SeverityHigh,
		Tags:            []string{"tls", "protocol", "CWE-327"},
	}
	ruleDeprecatedProtocol = model.Rule{
		ID:    "tls/deprecated-protocol",
		Title: "Deprecated TLS protocol version accepted",
		Why: "TLS 1.0 and 1.1 are deprecated by RFC 8996: they depend on SHA-1 and MD5 in the handshake, " +
			"have no AEAD cipher suites, and every current client speaks TLS 1.2.",
		Fix:             "Allow only TLS 1.2 and TLS 1.3 (or whatever the policy's min_version says).",
		Snippets:        engineProtocolSnippets,
		References:      []model.Reference{{Title: "RFC 8996 (Deprecating TLS 1.0 and 1.1)", URL: "https://www.rfc-editor.org/rfc/rfc8996"}, engineRefNIST, engineRefBSI},
		DefaultSeverity: model.SeverityMedium,
		Tags:            []string{"tls", "protocol", "CWE-327"},
	}
	ruleNoTLS13 = model.Rule{
		ID:    "tls/no-tls13",
		Title: "TLS 1.3 not supported",
		Why: "TLS 1.3 removes every legacy key exchange and cipher, encrypts more of the handshake and is " +
			"required by NIST SP 800-52r2 for government servers since 2024. Servers without it miss those protections.",
		Fix:             "Upgrade the TLS library (OpenSSL ≥ 1.1.1, GnuTLS ≥ 3.6.5) and enable TLS 1.3.",
		Snippets:        engineProtocolSnippets,
		References:      []model.Reference{{Title: "RFC 8446 (TLS 1.3)", URL: "https://www.rfc-editor.org/rfc/rfc8446"}, engineRefNIST, engineRefMozilla},
		DefaultSeverity: model.SeverityLow,
		Tags:            []string{"tls", "protocol"},
	}
	ruleWeakCipher = model.Rule{
		ID:    "tls/weak-cipher",
		Title: "Weak cipher suite offered",
		Why: "RC4 is prohibited (RFC 7465); DES and 40/56-bit ciphers can be brute-forced; 3DES, IDEA and " +
			"other 64-bit block ciphers leak plaintext after a few hundred gigabytes on one connection (SWEET32, CVE-2016-2183).",
		Fix:      "Remove RC4, DES, 3DES, IDEA and RC2 suites from the server's cipher list.",
		Snippets: engineSuiteSnippets,
		References: []model.Reference{
			{Title: "RFC 7465 (Prohibiting RC4)", URL: "https://www.rfc-editor.org/rfc/rfc7465"},
			{Title: "CVE-2016-2183 (SWEET32)", URL: "https://sweet32.info/"}, engineRefBCP195, engineRefNIST,
		},
		DefaultSeverity: model.SeverityMedium,
		Tags:            []string{"tls", "cipher", "CWE-327"},
	}
	ruleExportCipher = model.Rule{
		ID:    "tls/export-cipher",
		Title: "Export-grade cipher suite offered",
		Why: "Export suites use 40- or 56-bit keys and 512-bit RSA or DH; an attacker can downgrade clients to " +
			"them and break the session in hours (FREAK, CVE-2015-0204; Logjam, CVE-2015-4000).",
		Fix:      "Remove every EXPORT suite; current libraries no longer build them.",
		Snippets: engineSuiteSnippets,
		References: []model.Reference{
			{Title: "CVE-2015-0204 (FREAK)", URL: "https://nvd.nist.gov/vuln/detail/CVE-2015-0204"},
			{Title: "CVE-2015-4000 (Logjam)", URL: "https://weakdh.org/"}, engineRefBCP195,
		},
		DefaultSeverity: model.SeverityHigh,
		Tags:            []string{"tls", "cipher", "CWE-327"},
	}
	ruleNullCipher = model.Rule{
		ID:              "tls/null-cipher",
		Title:           "Cipher suite without encryption offered",
		Why:             "NULL suites authenticate the traffic but send it in cleartext; a downgrade exposes everything, passwords included.",
		Fix:             "Remove every NULL (eNULL) suite from the server's cipher list.",
		Snippets:        engineSuiteSnippets,
		References:      []model.Reference{engineRefBCP195, engineRefNIST},
		DefaultSeverity: model.SeverityHigh,
		Tags:            []string{"tls", "cipher", "CWE-319"},
	}
	ruleAnonCipher = model.Rule{
		ID:              "tls/anon-cipher",
		Title:           "Anonymous (unauthenticated) cipher suite offered",
		Why:             "Anonymous DH/ECDH suites send no certificate, so any man in the middle can impersonate the server.",
		Fix:             "Remove every anonymous (aNULL, ADH, AECDH) suite from the server's cipher list.",
		Snippets:        engineSuiteSnippets,
		References:      []model.Reference{engineRefBCP195, engineRefNIST},
		DefaultSeverity: model.SeverityHigh,
		Tags:            []string{"tls", "cipher", "CWE-287"},
	}
	ruleNoFS = model.Rule{
		ID:    "tls/no-forward-secrecy",
		Title: "Key exchange without forward secrecy",
		Why: "With RSA or static (EC)DH key exchange, whoever obtains the server's private key later can decrypt " +
			"every recorded session. Raised when no accepted suite is forward secret, or when the policy requires " +
			"forward secrecy and some accepted suite lacks it.",
		Fix:             "Prefer ECDHE (and DHE with ≥ 2048-bit groups) and remove plain RSA key exchange suites.",
		Snippets:        engineSuiteSnippets,
		References:      []model.Reference{engineRefBCP195, engineRefMozilla, engineRefBSI},
		DefaultSeverity: model.SeverityMedium,
		Tags:            []string{"tls", "cipher", "CWE-327"},
	}
	ruleNoAEAD = model.Rule{
		ID:    "tls/no-aead",
		Title: "No authenticated-encryption (AEAD) cipher suite",
		Why: "CBC suites use MAC-then-encrypt, the root of padding-oracle attacks (Lucky13, POODLE variants). " +
			"Raised when no accepted suite is AEAD, or when the policy requires AEAD and some accepted suite is not.",
		Fix:             "Enable AES-GCM and ChaCha20-Poly1305 suites and TLS 1.3.",
		Snippets:        engineSuiteSnippets,
		References:      []model.Reference{engineRefBCP195, engineRefMozilla, engineRefNIST},
		DefaultSeverity: model.SeverityMedium,
		Tags:            []string{"tls", "cipher", "CWE-327"},
	}
	ruleCBCPreferred = model.Rule{
		ID:              "tls/cbc-preferred",
		Title:           "Server prefers a CBC suite over the AEAD suites it supports",
		Why:             "The server's own order puts a CBC suite first although it also accepts AEAD suites, so clients that offer both get the weaker construction.",
		Fix:             "Order the cipher list with ECDHE AEAD suites first.",
		Snippets:        engineSuiteSnippets,
		References:      []model.Reference{engineRefBCP195, engineRefMozilla},
		DefaultSeverity: model.SeverityLow,
		Tags:            []string{"tls", "cipher"},
	}
	ruleSmallDH = model.Rule{
		ID:    "tls/small-dh",
		Title: "Diffie-Hellman group smaller than the policy allows",
		Why: "DHE with primes under 2048 bits is within reach of well-funded attackers, and a widely shared 1024-bit " +
			"prime (such as Oakley group 2) can be precomputed once and then broken per connection (Logjam, CVE-2015-4000).",
		Fix:             "Use RFC 7919 ffdhe2048 or larger (or drop DHE in favour of ECDHE).",
		Snippets:        []model.Snippet{{Software: "nginx", Config: "ssl_dhparam /etc/nginx/ffdhe2048.pem;"}, {Software: "Postfix", Config: "smtpd_tls_dh1024_param_file = /etc/postfix/ffdhe2048.pem"}, {Software: "Dovecot", Config: "ssl_dh = </etc/dovecot/ffdhe2048.pem"}},
		References:      []model.Reference{{Title: "RFC 7919 (Negotiated FFDHE groups)", URL: "https://www.rfc-editor.org/rfc/rfc7919"}, {Title: "CVE-2015-4000 (Logjam)", URL: "https://weakdh.org/"}, engineRefNIST},
		DefaultSeverity: model.SeverityMedium,
		Tags:            []string{"tls", "key-exchange", "CWE-326"},
	}
	ruleNoServerPreference = model.Rule{
		ID:    "tls/no-server-preference",
		Title: "Server follows the client's suite order while it accepts weaker suites",
		Why: "The server takes the first suite the client offers. That is fine when every accepted suite is strong, " +
			"but this server also accepts weaker ones, so a client with a poor order (or an attacker influencing it) gets them.",
		Fix:             "Enable server cipher preference (ssl_prefer_server_ciphers on, tls_preempt_cipherlist = yes) or remove the weaker suites.",
		Snippets:        []model.Snippet{{Software: "nginx", Config: "ssl_prefer_server_ciphers on;"}, {Software: "Postfix", Config: "tls_preempt_cipherlist = yes"}, {Software: "Dovecot", Config: "ssl_prefer_server_ciphers = yes"}},
		References:      []model.Reference{engineRefMozilla, engineRefBSI},
		DefaultSeverity: model.SeverityLow,
		Tags:            []string{"tls", "cipher"},
	}
)

var (
	ruleSuiteNotAllowed = model.Rule{
		ID:    "tls/suite-not-allowed",
		Title: "Cipher suite outside the policy",
		Why: "The policy names the suites this estate may offer (an allow-list such as Mozilla's, or a forbidden list), " +
			"and the server accepts one it does not allow. Suites already reported as NULL, anonymous, export or weak are not repeated here.",
		Fix:             "Limit the server's cipher list to the suites the policy allows.",
		Snippets:        engineSuiteSnippets,
		References:      []model.Reference{engineRefMozilla, engineRefNIST, engineRefBSI},
		DefaultSeverity: model.SeverityMedium,
		Tags:            []string{"tls", "cipher", "policy", "CWE-327"},
	}
	ruleGroupNotAllowed = model.Rule{
		ID:    "tls/group-not-allowed",
		Title: "Key exchange group outside the policy",
		Why: "The server accepts a key exchange group the policy does not allow, or an elliptic curve smaller than its " +
			"min_ec_bits; clients that offer it get weaker (or non-approved) key exchange.",
		Fix: "Limit the server's groups to the policy's list.",
		Snippets: []model.Snippet{
			{Software: "nginx", Config: "ssl_ecdh_curve X25519MLKEM768:X25519:prime256v1:secp384r1;"},
			{Software: "Postfix", Config: "tls_eecdh_auto_curves = X25519 prime256v1 secp384r1"},
			{Software: "Dovecot", Config: "ssl_curve_list = X25519:prime256v1:secp384r1"},
		},
		References:      []model.Reference{engineRefMozilla, engineRefNIST, engineRefBSI},
		DefaultSeverity: model.SeverityLow,
		Tags:            []string{"tls", "key-exchange", "policy"},
	}
)

// tlsEngineCheck judges the versions, suites and key exchange parameters the raw ClientHello
// engine enumerated.
func tlsEngineCheck() Check {
	return Check{
		Name: "tls-engine",
		Rules: []model.Rule{ruleSSLv2, ruleSSLv3, ruleDeprecatedProtocol, ruleNoTLS13, ruleWeakCipher, ruleExportCipher,
			ruleNullCipher, ruleAnonCipher, ruleNoFS, ruleNoAEAD, ruleCBCPreferred, ruleSmallDH, ruleNoServerPreference,
			ruleSuiteNotAllowed, ruleGroupNotAllowed},
		Run: runTLSEngine,
	}
}

func runTLSEngine(in *Input, r *Reporter) {
	if in.Obs.TLS == nil || in.Obs.TLS.Engine == nil {
		return
	}
	e := in.Obs.TLS.Engine
	var supported []string
	for _, v := range e.Versions {
		if v.Supported {
			supported = append(supported, v.Version)
		}
	}
	if len(supported) == 0 {
		return
	}
	versions := strings.Join(supported, ", ")
	engineProtocols(in.Thresholds, e, versions, r)
	engineSuites(in.Thresholds, e, r)
	engineDH(in.Thresholds, e, r)
	engineGroups(in.Thresholds, e, r)
}

func engineGroups(t policies.Thresholds, e *model.TLSEngineFacts, r *Reporter) {
	for _, g := range e.Groups {
		ev := map[string]string{"group": g.Name, "version": e.GroupsVersion}
		switch {
		case !t.GroupAllowed(g.Name):
			r.Raise(ruleGroupNotAllowed.ID, g.Name, fmt.Sprintf("The server accepts the group %s, which the policy does not allow.", g.Name), ev)
		case t.MinECBits > 0 && g.Bits > 0 && g.Bits < t.MinECBits && !g.PostQuantum && !strings.HasPrefix(g.Name, "ffdhe"):
			ev["bits"] = strconv.Itoa(g.Bits)
			r.Raise(ruleGroupNotAllowed.ID, g.Name, fmt.Sprintf("The server accepts the %d-bit curve %s; the policy's minimum is %d bits.", g.Bits, g.Name, t.MinECBits), ev)
		}
	}
}

func engineProtocols(t policies.Thresholds, e *model.TLSEngineFacts, versions string, r *Reporter) {
	ev := map[string]string{"versions": versions}
	var tls13Probed, tls13 bool
	for _, v := range e.Versions {
		switch v.VersionID {
		case 0x0304:
			tls13Probed, tls13 = v.Error == "", v.Supported
		}
		if !v.Supported {
			continue
		}
		switch v.VersionID {
		case 0x0002:
			r.Raise(ruleSSLv2.ID, "", "The server accepts SSL 2.0.", ev)
		case 0x0300:
			r.Raise(ruleSSLv3.ID, "", "The server accepts SSL 3.0.", ev)
		case 0x0301, 0x0302:
			// Without a policy minimum, RFC 8996's applies.
			if t.MinProtocol == 0 || !t.VersionAllowed(v.VersionID) {
				r.Raise(ruleDeprecatedProtocol.ID, v.Version, fmt.Sprintf("The server accepts %s.", v.Version), ev)
			}
		}
	}
	if tls13Probed && !tls13 { // some version is supported: runTLSEngine checked
		r.Raise(ruleNoTLS13.ID, "", "The server does not accept TLS 1.3.", ev)
	}
}

// engineSuiteUse is one accepted suite and the versions that accept it.
type engineSuiteUse struct {
	s        model.EngineSuite
	versions []string
}

func engineSuites(t policies.Thresholds, e *model.TLSEngineFacts, r *Reporter) {
	uses := map[string]*engineSuiteUse{}
	var order []string
	anyFS, anyAEAD := false, false
	for _, v := range e.Versions {
		if !v.Supported || v.VersionID == 0x0002 {
			continue // SSL 2.0's cipher kinds are covered by tls/sslv2-enabled
		}
		for _, s := range v.Suites {
			u, ok := uses[s.Name]
			if !ok {
				u = &engineSuiteUse{s: s}
				uses[s.Name] = u
				order = append(order, s.Name)
			}
			u.versions = append(u.versions, v.Version)
			anyFS = anyFS || s.ForwardSecret
			anyAEAD = anyAEAD || s.AEAD
		}
		enginePreference(v, r)
	}
	sort.Strings(order)
	var noFS, noAEAD []string
	for _, name := range order {
		u := uses[name]
		s := u.s
		ev := map[string]string{"suite": s.Name, "openssl_name": s.OpenSSLName, "versions": strings.Join(u.versions, ", ")}
		on := fmt.Sprintf("The server accepts %s (%s).", s.Name, strings.Join(u.versions, ", "))
		switch {
		case s.Cipher == "NULL":
			r.Raise(ruleNullCipher.ID, s.Name, on, ev)
		case s.Auth == "anon":
			r.Raise(ruleAnonCipher.ID, s.Name, on, ev)
		case s.Export:
			r.Raise(ruleExportCipher.ID, s.Name, on, ev)
		case engineWeakCipher(s) && (s.Cipher == "RC4" || !engineSuiteAllowed(t, s.Name)):
			ev["cipher"] = fmt.Sprintf("%s %d-bit", s.Cipher, s.Bits)
			r.Raise(ruleWeakCipher.ID, s.Name, on, ev)
		default:
			// Forward secrecy and AEAD requirements are reported once, below.
			if ok, reason := t.SuiteAllowed(s.Name); !ok && reason != "no forward secrecy" && reason != "not an AEAD cipher" &&
				!(engineWeakCipher(s) && engineSuiteAllowed(t, s.Name)) {
				ev["reason"] = reason
				r.Raise(ruleSuiteNotAllowed.ID, s.Name, on+" The policy does not allow it: "+reason+".", ev)
			}
		}
		if !s.ForwardSecret && s.KeyExchange != "any" {
			noFS = append(noFS, s.Name)
		}
		if !s.AEAD {
			noAEAD = append(noAEAD, s.Name)
		}
	}
	switch {
	case !anyFS:
		r.Raise(ruleNoFS.ID, "", "No accepted cipher suite has forward secrecy.", map[string]string{"suites": strings.Join(noFS, ", ")})
	case t.RequireForwardSecrecy && len(noFS) > 0:
		r.Raise(ruleNoFS.ID, "", fmt.Sprintf("The policy requires forward secrecy; %d accepted suites lack it.", len(noFS)), map[string]string{"suites": strings.Join(noFS, ", ")})
	}
	switch {
	case !anyAEAD:
		r.Raise(ruleNoAEAD.ID, "", "No accepted cipher suite is AEAD.", map[string]string{"suites": strings.Join(noAEAD, ", ")})
	case t.RequireAEAD && len(noAEAD) > 0:
		r.Raise(ruleNoAEAD.ID, "", fmt.Sprintf("The policy requires AEAD; %d accepted suites are not.", len(noAEAD)), map[string]string{"suites": strings.Join(noAEAD, ", ")})
	}
}

// engineWeakCipher: RC4, single DES, 64-bit block ciphers and anything under 112 bits.
func engineWeakCipher(s model.EngineSuite) bool {
	switch s.Cipher {
	case "RC4", "DES", "3DES", "IDEA", "RC2":
		return true
	}
	return s.Bits > 0 && s.Bits < 112
}

// engineSuiteAllowed reports whether the policy lists the suite in an allow-list, as
// Mozilla's "old" profile does for 3DES.
func engineSuiteAllowed(t policies.Thresholds, name string) bool {
	if len(t.AllowedSuites) == 0 {
		return false
	}
	ok, _ := t.SuiteAllowed(name)
	return ok
}

func engineStrengthRank(s string) int {
	switch s {
	case "insecure":
		return 0
	case "weak":
		return 1
	case "secure":
		return 2
	case "recommended":
		return 3
	}
	return -1
}

// enginePreference raises the order rules of one version.
func enginePreference(v model.EngineVersion, r *Reporter) {
	if len(v.Suites) < 2 || v.VersionID == 0x0002 {
		return
	}
	best, worst := -1, 4
	for _, s := range v.Suites {
		best = max(best, engineStrengthRank(s.Strength))
		worst = min(worst, engineStrengthRank(s.Strength))
	}
	switch v.Preference {
	case "client":
		if worst < best {
			var weaker []string
			for _, s := range v.Suites {
				if engineStrengthRank(s.Strength) < best {
					weaker = append(weaker, s.Name)
				}
			}
			r.Raise(ruleNoServerPreference.ID, v.Version, fmt.Sprintf("With %s the server takes the client's first suite, and it also accepts %d weaker suites.", v.Version, len(weaker)),
				map[string]string{"version": v.Version, "weaker_suites": strings.Join(weaker, ", ")})
		}
	case "server":
		top := v.Suites[0]
		if top.Mode != "CBC" {
			return
		}
		for _, s := range v.Suites[1:] {
			if s.AEAD {
				r.Raise(ruleCBCPreferred.ID, v.Version, fmt.Sprintf("With %s the server prefers %s over %s.", v.Version, top.Name, s.Name),
					map[string]string{"version": v.Version, "preferred": top.Name, "aead_available": s.Name})
				return
			}
		}
	}
}

func engineDH(t policies.Thresholds, e *model.TLSEngineFacts, r *Reporter) {
	minBits := t.MinDHBits
	if minBits <= 0 {
		minBits = 2048
	}
	seen := map[int]bool{}
	for _, d := range e.DH {
		if d.PrimeBits >= minBits || seen[d.PrimeBits] {
			continue
		}
		seen[d.PrimeBits] = true
		msg := fmt.Sprintf("DHE suites use a %d-bit prime (policy minimum %d).", d.PrimeBits, minBits)
		if d.Known != "" {
			msg += " It is the well-known " + d.Known + ", a precomputation target."
		}
		r.Raise(ruleSmallDH.ID, strconv.Itoa(d.PrimeBits), msg,
			map[string]string{"prime_bits": strconv.Itoa(d.PrimeBits), "known_group": d.Known, "suite": d.Suite, "version": d.Version})
	}
}
