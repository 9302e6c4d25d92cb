package checks

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/rampart-scan/rampart/model"
	"github.com/rampart-scan/rampart/policies"
	"github.com/rampart-scan/rampart/services"
)

// Grading: a letter per TLS endpoint after the SSL Labs "SSL Server Rating Guide" (2009r),
// adapted to messaging. docs/grades.md gives the method, its sources and where it differs
// from SSL Labs; the numbers below are the guide's.

// Protocol versions by wire ID.
const (
	gradeSSL2  uint16 = 0x0002
	gradeSSL3  uint16 = 0x0300
	gradeTLS10 uint16 = 0x0301
	gradeTLS11 uint16 = 0x0302
	gradeTLS12 uint16 = 0x0303
	gradeTLS13 uint16 = 0x0304
)

// gradeHSTSMinAge is the max-age SSL Labs asks of HSTS for A+ (180 days; testssl's HSTS_MIN).
const gradeHSTSMinAge = 180 * 24 * 3600

// Grade computes the letter grade of one endpoint from its observation. It is pure and
// deterministic: now decides certificate validity. The thresholds are not consulted, so that
// grades compare across policies; a cap cites the catalogue rule that explains its condition
// whether or not the policy raised that rule.
//
// It returns nil when the endpoint speaks no TLS (plaintext service, unreachable, not probed,
// STARTTLS not reached), and a Grade with Letter "" and NotGraded set when it speaks TLS but
// the facts a grade needs are missing: no version enumeration (quick mode), no version
// accepted, or no certificate obtained.
func Grade(obs *model.Observation, _ policies.Thresholds, now time.Time) *model.Grade {
	if obs == nil || obs.TLS == nil || !obs.TLS.Speaks {
		return nil
	}
	gr := &grader{obs: obs, now: now, g: &model.Grade{Method: model.GradeMethod}}
	return gr.run()
}

type grader struct {
	obs  *model.Observation
	now  time.Time
	g    *model.Grade
	caps map[string]bool
}

// versionScore is the guide's protocol table.
var versionScore = map[uint16]int{gradeSSL2: 0, gradeSSL3: 80, gradeTLS10: 90, gradeTLS11: 95, gradeTLS12: 100, gradeTLS13: 100}

func (gr *grader) notGraded(reason string) *model.Grade {
	gr.g.Letter = ""
	gr.g.NotGraded = reason
	return gr.g
}

// capAt records a condition that limits the letter.
func (gr *grader) capAt(letter, rule, reason string) {
	key := letter + "\x00" + rule + "\x00" + reason
	if gr.caps == nil {
		gr.caps = map[string]bool{}
	}
	if gr.caps[key] {
		return
	}
	gr.caps[key] = true
	gr.g.Caps = append(gr.g.Caps, model.GradeCap{Letter: letter, Reason: reason, Rule: rule})
}

func (gr *grader) warn(rule, reason string) {
	for _, w := range gr.g.Warnings {
		if w.Rule == rule && w.Reason == reason {
			return
		}
	}
	gr.g.Warnings = append(gr.g.Warnings, model.GradeWarning{Reason: reason, Rule: rule})
}

func (gr *grader) incomplete(note string) { gr.g.Incomplete = append(gr.g.Incomplete, note) }

func (gr *grader) run() *model.Grade {
	e := gr.obs.TLS.Engine
	if e == nil {
		return gr.notGraded("protocol versions and cipher suites were not enumerated (quick scan or engine not run)")
	}
	var supported []model.EngineVersion
	for _, v := range e.Versions {
		if v.Error != "" {
			gr.incomplete(fmt.Sprintf("%s: %s", v.Version, v.Error))
		}
		if v.KeyExchangeError != "" {
			gr.incomplete(fmt.Sprintf("%s key exchange: %s", v.Version, v.KeyExchangeError))
		}
		if v.Supported {
			supported = append(supported, v)
		}
	}
	if e.GroupsError != "" {
		gr.incomplete("groups: " + e.GroupsError)
	}
	if len(supported) == 0 {
		return gr.notGraded("the engine found no protocol version the server accepts")
	}
	chains := gradeChains(gr.obs)
	if len(chains) == 0 {
		return gr.notGraded("no certificate was obtained, so trust and key strength cannot be judged")
	}

	gr.protocols(e, supported)
	kx := gr.keyExchange(e, supported, chains)
	gr.ciphers(supported)
	gr.features()
	gr.vulnerabilities()
	gr.certificates(chains)
	gr.messaging()
	gr.g.KeyExchangeScore = kx
	gr.letter()
	return gr.g
}

// protocols scores protocol support and applies the protocol caps.
func (gr *grader) protocols(e *model.TLSEngineFacts, supported []model.EngineVersion) {
	best, worst := -1, 101
	has := map[uint16]bool{}
	for _, v := range supported {
		s, ok := versionScore[v.VersionID]
		if !ok {
			continue
		}
		has[v.VersionID] = true
		best, worst = max(best, s), min(worst, s)
	}
	if best < 0 {
		best, worst = 0, 0
	}
	gr.g.ProtocolScore = (best + worst) / 2

	if has[gradeSSL2] {
		gr.capAt(model.LetterF, ruleSSLv2.ID, "SSL 2.0 is accepted")
	}
	if has[gradeSSL3] {
		switch {
		case !has[gradeTLS10] && !has[gradeTLS11] && !has[gradeTLS12] && !has[gradeTLS13]:
			gr.capAt(model.LetterF, ruleSSLv3.ID, "SSL 3.0 is the best protocol accepted")
		case gradeVersionHasMode(supported, gradeSSL3, "CBC"):
			gr.capAt(model.LetterC, ruleSSLv3.ID, "SSL 3.0 is accepted with CBC suites (POODLE)")
		default:
			gr.capAt(model.LetterB, ruleSSLv3.ID, "SSL 3.0 is accepted")
		}
	}
	for _, id := range []uint16{gradeTLS10, gradeTLS11} {
		if has[id] {
			gr.capAt(model.LetterB, ruleDeprecatedProtocol.ID, gradeVersionName(id)+" is accepted")
		}
	}
	if !has[gradeTLS12] && !has[gradeTLS13] {
		gr.capAt(model.LetterC, ruleLegacyNegotiated.ID, "neither TLS 1.2 nor TLS 1.3 is accepted")
	}
	for _, v := range e.Versions {
		if v.VersionID == gradeTLS13 && !v.Supported && v.Error == "" {
			gr.warn(ruleNoTLS13.ID, "TLS 1.3 is not supported")
		}
	}
}

func gradeVersionName(id uint16) string {
	switch id {
	case gradeSSL2:
		return "SSL 2.0"
	case gradeSSL3:
		return "SSL 3.0"
	case gradeTLS10:
		return "TLS 1.0"
	case gradeTLS11:
		return "TLS 1.1"
	case gradeTLS12:
		return "TLS 1.2"
	case gradeTLS13:
		return "TLS 1.3"
	}
	return fmt.Sprintf("0x%04x", id)
}

func gradeVersionHasMode(vs []model.EngineVersion, id uint16, mode string) bool {
	for _, v := range vs {
		if v.VersionID != id {
			continue
		}
		for _, s := range v.Suites {
			if s.Mode == mode {
				return true
			}
		}
	}
	return false
}

// ciphers scores cipher strength (best and worst accepted suite) and applies the suite caps.
func (gr *grader) ciphers(supported []model.EngineVersion) {
	best, worst := -1, 1<<30
	anyFS, anyAEAD, anySuite := false, false, false
	for _, v := range supported {
		for _, s := range v.Suites {
			if s.Cipher == "" {
				continue // a cipher kind the registry does not know: its strength is unknown
			}
			anySuite = true
			best, worst = max(best, s.Bits), min(worst, s.Bits)
			if v.VersionID == gradeSSL2 {
				continue // SSL 2.0 is an F already; its cipher kinds have no FS or AEAD notion
			}
			anyFS = anyFS || s.ForwardSecret || s.KeyExchange == "any"
			anyAEAD = anyAEAD || s.AEAD
			gr.suiteCaps(v, s)
		}
		gr.preferenceCaps(v)
	}
	if !anySuite {
		gr.incomplete("no cipher suite was recorded for the accepted versions")
		gr.g.CipherScore = 0
		return
	}
	gr.g.CipherScore = (cipherBitsScore(best) + cipherBitsScore(worst)) / 2
	if !anyFS {
		gr.capAt(model.LetterB, ruleNoFS.ID, "no accepted suite has forward secrecy")
	}
	if !anyAEAD {
		gr.capAt(model.LetterB, ruleNoAEAD.ID, "no accepted suite is AEAD")
	}
}

// cipherBitsScore is the guide's cipher strength table.
func cipherBitsScore(bits int) int {
	switch {
	case bits <= 0:
		return 0
	case bits < 128:
		return 20
	case bits < 256:
		return 80
	}
	return 100
}

func (gr *grader) suiteCaps(v model.EngineVersion, s model.EngineSuite) {
	modern := v.VersionID >= gradeTLS11 // "modern protocols" in the SSL Labs changes: TLS 1.1 and later
	switch {
	case s.Cipher == "NULL" || s.Bits <= 0:
		gr.capAt(model.LetterF, ruleNullCipher.ID, "a suite without encryption is accepted ("+s.Name+")")
	case s.Export:
		gr.capAt(model.LetterF, ruleExportCipher.ID, "an export suite is accepted ("+s.Name+")")
	case s.Bits < 112:
		gr.capAt(model.LetterF, ruleWeakCipher.ID, fmt.Sprintf("a suite under 112 bits is accepted (%s, %d bits)", s.Name, s.Bits))
	}
	if s.Auth == "anon" {
		gr.capAt(model.LetterF, ruleAnonCipher.ID, "an anonymous suite is accepted ("+s.Name+")")
	}
	if s.Cipher == "RC4" {
		if modern {
			gr.capAt(model.LetterC, ruleWeakCipher.ID, "RC4 is accepted with TLS 1.1 or later")
		} else {
			gr.capAt(model.LetterB, ruleWeakCipher.ID, "RC4 is accepted")
		}
	}
}

// gradeBlock64 reports the 64-bit block ciphers (SWEET32).
func gradeBlock64(s model.EngineSuite) bool {
	switch s.Cipher {
	case "3DES", "DES", "IDEA", "RC2":
		return true
	}
	return false
}

// preferenceCaps applies the caps SSL Labs bases on what capable clients negotiate: a server
// is penalised for a weak suite only when a client that can do better still gets it. Without
// browser simulations, Rampart reads that from the server's own order: the suite it picks
// first (server preference) is what capable clients get; with client preference they get
// their own first choice, which for current clients is forward-secret AEAD.
func (gr *grader) preferenceCaps(v model.EngineVersion) {
	if v.VersionID == gradeSSL2 || v.VersionID == gradeTLS13 || len(v.Suites) == 0 {
		return
	}
	top := v.Suites[0]
	all64 := true
	for _, s := range v.Suites {
		all64 = all64 && gradeBlock64(s)
	}
	if v.VersionID >= gradeTLS11 && gradeBlock64(top) && (v.Preference == "server" || all64) {
		gr.capAt(model.LetterC, ruleWeakCipher.ID, fmt.Sprintf("with %s a capable client gets the 64-bit block cipher %s (SWEET32)", v.Version, top.Name))
	}
	if v.Preference != "server" || len(v.Suites) < 2 {
		return
	}
	if !top.ForwardSecret {
		for _, s := range v.Suites[1:] {
			if s.ForwardSecret {
				gr.capAt(model.LetterB, ruleNoFS.ID, fmt.Sprintf("with %s the server prefers %s, without forward secrecy, over %s", v.Version, top.Name, s.Name))
				break
			}
		}
	}
	if !top.AEAD {
		for _, s := range v.Suites[1:] {
			if s.AEAD {
				gr.capAt(model.LetterB, ruleCBCPreferred.ID, fmt.Sprintf("with %s the server prefers %s over the AEAD suite %s", v.Version, top.Name, s.Name))
				break
			}
		}
	}
}

// kxFactor is one input to the key exchange score, with the rule that explains it.
type kxFactor struct {
	score  int
	rule   string
	reason string
}

// keyExchange scores key exchange strength: the weakest of the certificate keys and the
// ephemeral keys, by the guide's table, and applies its caps (≤40 F, ≤80 B).
func (gr *grader) keyExchange(e *model.TLSEngineFacts, supported []model.EngineVersion, chains []gradeChain) int {
	worst := kxFactor{score: 100}
	take := func(f kxFactor) {
		if f.score < worst.score {
			worst = f
		}
	}
	for _, ch := range chains {
		if len(ch.f.Chain) == 0 {
			continue
		}
		leaf := ch.f.Chain[0]
		if s, ok := keyScore(leaf.KeyType, leaf.KeyBits); ok {
			take(kxFactor{s, ruleWeakKey.ID, fmt.Sprintf("the %s certificate key is %d-bit %s", ch.label, leaf.KeyBits, leaf.KeyType)})
		}
	}
	for _, d := range e.DH {
		if d.PrimeBits > 0 {
			take(kxFactor{dhScore(d.PrimeBits), ruleSmallDH.ID, fmt.Sprintf("DHE uses a %d-bit prime", d.PrimeBits)})
		}
	}
	if f := gr.obs.TLS.Features; f != nil && f.DHEBits > 0 {
		take(kxFactor{dhScore(f.DHEBits), ruleSmallDH.ID, fmt.Sprintf("DHE uses a %d-bit prime", f.DHEBits)})
	}
	for _, g := range e.Groups {
		if g.Bits <= 0 {
			continue
		}
		if strings.HasPrefix(strings.ToLower(g.Name), "ffdhe") {
			take(kxFactor{dhScore(g.Bits), ruleSmallDH.ID, fmt.Sprintf("the group %s is %d-bit", g.Name, g.Bits)})
		} else {
			take(kxFactor{ecScore(g.Bits), ruleGroupNotAllowed.ID, fmt.Sprintf("the group %s is %d-bit", g.Name, g.Bits)})
		}
	}
	for _, v := range supported {
		for _, s := range v.Suites {
			if s.DHBits > 0 {
				take(kxFactor{dhScore(s.DHBits), ruleSmallDH.ID, fmt.Sprintf("DHE uses a %d-bit prime (%s)", s.DHBits, s.Name)})
			}
			if v.VersionID == gradeSSL2 {
				continue
			}
			if s.Export {
				take(kxFactor{40, ruleExportCipher.ID, "an export suite limits key exchange to 512 bits (" + s.Name + ")"})
			}
			if s.Auth == "anon" {
				take(kxFactor{0, ruleAnonCipher.ID, "an anonymous suite has no authenticated key exchange (" + s.Name + ")"})
			}
		}
	}
	switch {
	case worst.score <= 40:
		gr.capAt(model.LetterF, worst.rule, "insecure key exchange: "+worst.reason)
	case worst.score <= 80:
		gr.capAt(model.LetterB, worst.rule, "weak key exchange: "+worst.reason)
	}
	return worst.score
}

// keyScore scores a certificate key; ok is false for key types the guide has no table for.
func keyScore(keyType string, bits int) (int, bool) {
	switch keyType {
	case "RSA", "DSA":
		if bits <= 0 {
			return 0, false
		}
		return dhScore(bits), true
	case "ECDSA":
		if bits <= 0 {
			return 0, false
		}
		return ecScore(bits), true
	case "Ed25519":
		return ecScore(max(bits, 256)), true
	case "Ed448":
		return ecScore(max(bits, 448)), true
	}
	return 0, false
}

// dhScore is the guide's table for RSA, DSA and finite-field DH sizes.
func dhScore(bits int) int {
	switch {
	case bits < 512:
		return 20
	case bits < 1024:
		return 40
	case bits < 2048:
		return 80
	case bits < 4096:
		return 90
	}
	return 100
}

// ecScore is the elliptic-curve equivalent of dhScore (the sizes testssl uses for the guide).
func ecScore(bits int) int {
	switch {
	case bits < 110:
		return 20
	case bits < 123:
		return 40
	case bits < 163:
		return 80
	case bits < 225:
		return 90
	}
	return 100
}

// features applies the caps and warnings from the handshake inspection.
func (gr *grader) features() {
	f := gr.obs.TLS.Features
	if f == nil {
		gr.incomplete("handshake features (renegotiation, compression, fallback protection) were not inspected")
		return
	}
	if x := f.TLS12; x != nil {
		if !x.SecureRenegotiation {
			gr.warn(ruleNoSecureReneg.ID, "secure renegotiation (RFC 5746) is not supported")
		}
		if x.Compression != 0 {
			gr.capAt(model.LetterC, ruleCompression.ID, "TLS compression is enabled (CRIME)")
		}
	}
	if f.Fallback == "accepted" {
		gr.capAt(model.LetterA, ruleNoFallbackSCSV.ID, "A+ needs downgrade protection: TLS_FALLBACK_SCSV is ignored")
	}
}

// vulnerabilities applies the caps of the active vulnerability probes (model.VulnFacts).
func (gr *grader) vulnerabilities() {
	v := gr.obs.Vulns
	if v == nil {
		gr.incomplete("vulnerability probes (Heartbleed, CCS injection, Ticketbleed, ROBOT, renegotiation, compression) were not run")
		return
	}
	for _, p := range []struct {
		name, rule, reason string
		pv                 *model.ProbeVerdict
	}{
		{"heartbleed", ruleHeartbleed.ID, "vulnerable to Heartbleed", v.Heartbleed},
		{"ccs-injection", ruleCCSInjection.ID, "vulnerable to CCS injection", v.CCSInjection},
		{"ticketbleed", ruleTicketbleed.ID, "vulnerable to Ticketbleed", v.Ticketbleed},
		{"robot", ruleROBOT.ID, "vulnerable to ROBOT", v.ROBOT},
		{"secure-renegotiation", "", "", v.SecureRenegotiation},
		{"client-renegotiation", "", "", v.ClientRenegotiation},
		{"compression", ruleCRIME.ID, "TLS compression is enabled (CRIME)", v.Compression},
	} {
		switch {
		case p.pv == nil:
			gr.incomplete(p.name + ": probe not run")
		case p.pv.Verdict == model.VerdictInconclusive:
			gr.incomplete(p.name + ": inconclusive: " + p.pv.Reason)
		case p.pv.Verdict != model.VerdictVulnerable || p.rule == "":
		case p.rule == ruleCRIME.ID:
			gr.capAt(model.LetterC, p.rule, p.reason)
		default:
			gr.capAt(model.LetterF, p.rule, p.reason)
		}
	}
	if vulnerable(v.SecureRenegotiation) {
		gr.warn(ruleInsecureReneg.ID, "secure renegotiation (RFC 5746) is not supported")
		if vulnerable(v.ClientRenegotiation) {
			gr.capAt(model.LetterF, ruleInsecureReneg.ID, "the server accepts client-initiated renegotiation without RFC 5746 (CVE-2009-3555)")
		}
	}
}

func vulnerable(pv *model.ProbeVerdict) bool {
	return pv != nil && pv.Verdict == model.VerdictVulnerable
}

// gradeChain is one certificate chain that clients sending SNI receive.
type gradeChain struct {
	label string
	f     *model.CertFacts
}

// gradeChains lists the chains clients get: the main chain and every other chain presented
// with SNI (an RSA chain next to an ECDSA one). Chains presented only without SNI are left
// out: every client of these services sends SNI, as SSL Labs also assumes.
func gradeChains(o *model.Observation) []gradeChain {
	var out []gradeChain
	seen := map[string]bool{}
	if c := o.Certificates; c != nil && len(c.Chain) > 0 {
		seen[c.Chain[0].SHA256] = true
		out = append(out, gradeChain{label: c.Chain[0].KeyType, f: c})
	}
	if o.TLS != nil && o.TLS.Features != nil {
		for _, pc := range o.TLS.Features.Chains {
			if !pc.SNI || pc.Analysis == nil || len(pc.Analysis.Chain) == 0 || seen[pc.Leaf] {
				continue
			}
			seen[pc.Leaf] = true
			out = append(out, gradeChain{label: pc.KeyType, f: pc.Analysis})
		}
	}
	return out
}

// certificates applies the trust (T), name (M), chain and signature caps.
func (gr *grader) certificates(chains []gradeChain) {
	web := gr.web()
	for _, ch := range chains {
		f := ch.f
		leaf := f.Chain[0]
		switch {
		case gr.now.After(leaf.NotAfter):
			gr.capAt(model.LetterT, ruleExpired.ID, fmt.Sprintf("the %s certificate expired on %s", ch.label, leaf.NotAfter.Format("2006-01-02")))
		case gr.now.Before(leaf.NotBefore):
			gr.capAt(model.LetterT, ruleNotYetValid.ID, fmt.Sprintf("the %s certificate is valid only from %s", ch.label, leaf.NotBefore.Format("2006-01-02")))
		}
		incomplete := f.Analyzed && !f.ChainComplete && f.MissingIssuer != ""
		switch {
		case !f.Trusted && leaf.SelfSigned:
			gr.capAt(model.LetterT, ruleSelfSigned.ID, fmt.Sprintf("the %s certificate is self-signed", ch.label))
		case !f.Trusted && incomplete && !web:
			// Mail and XMPP clients do not fetch missing intermediates: the chain fails for them.
			gr.capAt(model.LetterT, ruleIncompleteChain.ID, fmt.Sprintf("the %s chain is incomplete (missing %s), which messaging clients cannot repair", ch.label, f.MissingIssuer))
		case !f.Trusted && !incomplete:
			gr.capAt(model.LetterT, ruleUntrusted.ID, fmt.Sprintf("the %s chain does not verify: %s", ch.label, f.TrustError))
		}
		if incomplete && (f.Trusted || web) {
			gr.capAt(model.LetterB, ruleIncompleteChain.ID, fmt.Sprintf("the %s chain is incomplete (missing %s)", ch.label, f.MissingIssuer))
		}
		switch {
		case gr.xmpp() && f.XMPP != nil:
			if !f.XMPP.Matches {
				gr.capAt(model.LetterM, ruleXMPPIdentity.ID, fmt.Sprintf("the %s certificate does not prove the XMPP domain %s", ch.label, f.XMPP.Domain))
			}
		case f.NameChecked != "" && !f.NameMatches && !isIPLiteral(gr.obs.Endpoint.Name):
			gr.capAt(model.LetterM, ruleHostnameMismatch.ID, fmt.Sprintf("the %s certificate is not valid for %s", ch.label, f.NameChecked))
		}
		for i, c := range f.Chain {
			if c.SelfSigned {
				continue // a root's self-signature is not verified by clients
			}
			alg := strings.ToUpper(c.SignatureAlgorithm)
			switch {
			case strings.Contains(alg, "MD5") || strings.Contains(alg, "MD2"):
				gr.capAt(model.LetterF, ruleWeakSignature.ID, fmt.Sprintf("the %s %s certificate is signed with %s", ch.label, position(i), c.SignatureAlgorithm))
			case strings.Contains(alg, "SHA1") || strings.Contains(alg, "SHA-1"):
				gr.capAt(model.LetterT, ruleWeakSignature.ID, fmt.Sprintf("the %s %s certificate is signed with %s", ch.label, position(i), c.SignatureAlgorithm))
			}
		}
	}
}

var gradeServices = services.Default()

// service returns the registry entry of the endpoint, by name, else by port.
func (gr *grader) service() (services.Service, bool) {
	e := gr.obs.Endpoint
	if s, ok := gradeServices.ByName(e.Service); ok {
		return s, true
	}
	if e.Service != "" {
		return services.Service{}, false
	}
	return gradeServices.ByPort(e.Addr.Port())
}

// web reports whether the endpoint serves HTTPS (browsers and web clients).
func (gr *grader) web() bool {
	s, ok := gr.service()
	return ok && s.Role == "web" && s.Mode == services.Implicit
}

func (gr *grader) xmpp() bool {
	if st := gr.obs.StartTLS; st != nil && strings.HasPrefix(st.Protocol, "xmpp") {
		return true
	}
	s, ok := gr.service()
	return ok && (strings.HasPrefix(s.Name, "xmpp") || strings.HasPrefix(s.StartTLS, "xmpp"))
}

// messaging applies what stands in for HSTS: A+ needs the protection against stripping TLS
// that the endpoint itself can give. An implicit-TLS messaging port has nothing to strip; an
// HTTPS endpoint needs HSTS; a STARTTLS endpoint must not accept credentials before TLS, and
// an XMPP stream must declare TLS required.
func (gr *grader) messaging() {
	st := gr.obs.StartTLS
	if st != nil && len(st.PlaintextAuth) > 0 {
		gr.capAt(model.LetterB, ruleStartTLSPlainAuth.ID, "credentials are accepted in clear before STARTTLS ("+strings.Join(st.PlaintextAuth, ", ")+")")
	}
	if st != nil && strings.HasPrefix(st.Protocol, "xmpp") && !st.Required {
		gr.capAt(model.LetterA, ruleStartTLSNotRequired.ID, "A+ needs downgrade protection: the XMPP stream does not declare TLS required")
	}
	if gr.web() {
		gr.hsts()
	}
}

// hsts withholds A+ from an HTTPS endpoint without a valid HSTS header of at least 180 days.
func (gr *grader) hsts() {
	const need = "A+ needs HSTS with max-age of at least 180 days: "
	f := gr.obs.HTTP
	switch {
	case f == nil:
		gr.capAt(model.LetterA, "", need+"HTTP headers were not collected")
	case f.Status == 0:
		gr.capAt(model.LetterA, ruleHTTPInconclusive.ID, need+"the HTTP request got no response ("+f.Error+")")
	case f.HSTS != nil && !f.HSTS.Valid:
		gr.capAt(model.LetterA, ruleHTTPHSTSInvalid.ID, need+"browsers ignore the Strict-Transport-Security header sent ("+strings.Join(f.HSTS.Problems, "; ")+")")
	case f.HSTS == nil:
		gr.capAt(model.LetterA, ruleHTTPNoHSTS.ID, need+"the response has no Strict-Transport-Security header")
	case f.HSTS.MaxAge == 0:
		gr.capAt(model.LetterA, ruleHTTPNoHSTS.ID, need+"max-age=0 removes HSTS")
	case f.HSTS.MaxAge < gradeHSTSMinAge:
		gr.capAt(model.LetterA, ruleHTTPHSTSShort.ID, fmt.Sprintf("%smax-age is %d seconds", need, f.HSTS.MaxAge))
	}
}

// GradeAcrossEndpoints applies what needs more than one observation, after the per-endpoint
// grades, Catalogue.DerivedAcrossEndpoints and the domain observations (with TLSA matches):
//
//   - an endpoint with a vuln/drown finding (its RSA key is also served with SSL 2.0 elsewhere
//     in the scan) is capped at F, whether or not a waiver hides the finding (a policy that
//     disables vuln/drown removes the finding and so the cap);
//   - an SMTP endpoint (port 25) whose chain matches a DNSSEC-secure TLSA record is judged as
//     RFC 7672 DANE clients judge it: with DANE-EE (usage 3) the certificate's trust, name,
//     dates and signature no longer cap the grade (only its key counts); with DANE-TA (usage 2)
//     the chain's trust no longer does. Notes says so.
//
// Results without a letter are left alone.
func GradeAcrossEndpoints(results []model.EndpointResult, domains []model.DomainResult) {
	dane := gradeDANEMatches(domains)
	for i := range results {
		g := results[i].Grade
		if g == nil || g.Letter == "" {
			continue
		}
		for _, f := range results[i].Findings {
			if f.RuleID == ruleDerivedDROWN.ID {
				AddGradeCap(g, model.GradeCap{Letter: model.LetterF, Rule: ruleDerivedDROWN.ID,
					Reason: "the certificate's RSA key is also served with SSL 2.0 (DROWN)"})
			}
		}
		obs := &results[i].Observation
		if rec, ok := dane[obs.Endpoint.ID()]; ok && (&grader{obs: obs}).smtpRelay() {
			gradeLiftForDANE(g, rec)
		}
	}
}

// gradeDANEMatches maps endpoint IDs to the first DNSSEC-secure TLSA record ("3 1 1") their
// chain matched.
func gradeDANEMatches(domains []model.DomainResult) map[string]string {
	out := map[string]string{}
	for _, d := range domains {
		for _, set := range d.Observation.TLSA {
			if !set.Secure {
				continue
			}
			for _, m := range set.Matches {
				if _, seen := out[m.Endpoint]; m.Matched && !seen {
					out[m.Endpoint] = m.Record
				}
			}
		}
	}
	return out
}

// daneEELifted are the certificate conditions a DANE-EE record makes irrelevant (RFC 7672
// §3.1.1: only the key the record pins is checked).
var daneEELifted = map[string]bool{
	ruleUntrusted.ID: true, ruleSelfSigned.ID: true, ruleIncompleteChain.ID: true, ruleExpired.ID: true,
	ruleNotYetValid.ID: true, ruleHostnameMismatch.ID: true, ruleWeakSignature.ID: true,
}

func gradeLiftForDANE(g *model.Grade, record string) {
	usage, _, _ := strings.Cut(record, " ")
	var lifted func(c model.GradeCap) bool
	switch usage {
	case "3":
		lifted = func(c model.GradeCap) bool { return daneEELifted[c.Rule] }
	case "2":
		lifted = func(c model.GradeCap) bool { return c.Rule == ruleUntrusted.ID }
	default:
		return // PKIX-TA and PKIX-EE still need the public PKI
	}
	kept := g.Caps[:0]
	var dropped []string
	for _, c := range g.Caps {
		if lifted(c) {
			dropped = append(dropped, c.Rule)
			continue
		}
		kept = append(kept, c)
	}
	g.Caps = kept
	if len(dropped) == 0 {
		return
	}
	g.Notes = append(g.Notes, fmt.Sprintf("the chain matches the DNSSEC-secure TLSA record %q: DANE clients (RFC 7672) do not apply %s",
		record, strings.Join(gradeUnique(dropped), ", ")))
	g.TrustIgnored = ""
	(&grader{g: g}).letter()
}

func gradeUnique(ss []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// smtpRelay reports whether the endpoint is an SMTP relay (port 25), the service RFC 7672
// DANE applies to.
func (gr *grader) smtpRelay() bool {
	s, ok := gr.service()
	return ok && s.Name == "smtp"
}

// AddGradeCap adds a cap to a grade and recomputes its letter; a cap already present, a nil
// grade and an ungraded one are left as they are.
func AddGradeCap(g *model.Grade, c model.GradeCap) {
	if g == nil || g.Letter == "" {
		return
	}
	for _, x := range g.Caps {
		if x == c {
			return
		}
	}
	g.Caps = append(g.Caps, c)
	g.TrustIgnored = ""
	(&grader{g: g}).letter()
}

// letter turns the scores and caps into the letter.
func (gr *grader) letter() {
	g := gr.g
	if g.ProtocolScore == 0 || g.KeyExchangeScore == 0 || g.CipherScore == 0 {
		g.Score = 0
	} else {
		g.Score = (3*g.ProtocolScore + 3*g.KeyExchangeScore + 4*g.CipherScore) / 10
	}
	letter := scoreLetter(g.Score)
	trust := ""
	noPlus := false
	for _, c := range g.Caps {
		switch c.Letter {
		case model.LetterT:
			trust = model.LetterT
		case model.LetterM:
			if trust == "" {
				trust = model.LetterM
			}
		case model.LetterA:
			noPlus = true
		default:
			if model.GradeRank(c.Letter) > model.GradeRank(letter) {
				letter = c.Letter
			}
		}
	}
	if letter == model.LetterA {
		switch {
		case len(g.Warnings) > 0:
			letter = model.LetterAMinus
		case !noPlus:
			letter = model.LetterAPlus
		}
	}
	sort.SliceStable(g.Caps, func(i, j int) bool {
		ri, rj := capRank(g.Caps[i].Letter), capRank(g.Caps[j].Letter)
		if ri != rj {
			return ri > rj
		}
		return g.Caps[i].Rule < g.Caps[j].Rule
	})
	if trust != "" {
		g.Letter, g.TrustIgnored = trust, letter
		return
	}
	g.Letter = letter
}

// capRank orders caps worst first: T and M above F.
func capRank(letter string) int {
	switch letter {
	case model.LetterT:
		return 20
	case model.LetterM:
		return 19
	}
	return model.GradeRank(letter)
}

// scoreLetter is the guide's letter table.
func scoreLetter(score int) string {
	switch {
	case score >= 80:
		return model.LetterA
	case score >= 65:
		return model.LetterB
	case score >= 50:
		return model.LetterC
	case score >= 35:
		return model.LetterD
	case score >= 20:
		return model.LetterE
	}
	return model.LetterF
}
