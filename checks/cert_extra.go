package checks

import (
	"fmt"
	"strings"

	"github.com/rampart-scan/rampart/model"
)

// Checks on the certificate analysis (scanner/certs) and the handshake inspection
// (scanner/handshake): key and signature strength, chain order and completeness, EKU,
// must-staple, zlint, XMPP identities, and TLS ≤1.2 handshake features.

var fullChainSnippets = []model.Snippet{
	{Software: "nginx", Config: "ssl_certificate /etc/letsencrypt/live/example.org/fullchain.pem;  # leaf first, then intermediates"},
	{Software: "Postfix", Config: "smtpd_tls_chain_files = /etc/letsencrypt/live/example.org/privkey.pem, /etc/letsencrypt/live/example.org/fullchain.pem"},
	{Software: "Dovecot", Config: "ssl_cert = </etc/letsencrypt/live/example.org/fullchain.pem"},
	{Software: "Prosody", Config: "certificate = \"/etc/prosody/certs/example.org.crt\" -- leaf first, then every intermediate"},
}

var (
	ruleWeakKey = model.Rule{
		ID:    "cert/weak-key",
		Title: "Certificate key is too small",
		Why: "An RSA or DSA key below 2048 bits, or an elliptic-curve key below 256 bits, is within reach of " +
			"factoring or discrete-log attacks; whoever recovers it can impersonate the server.",
		Fix: "Issue a new certificate with a new key: ECDSA P-256 or RSA of at least 2048 (better 3072) bits.",
		Snippets: []model.Snippet{
			{Software: "certbot", Config: "certbot certonly --key-type ecdsa --elliptic-curve secp256r1 -d example.org"},
			{Software: "openssl", Config: "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout example.org.key -out example.org.csr"},
		},
		References: []model.Reference{
			{Title: "NIST SP 800-131A Rev. 2", URL: "https://csrc.nist.gov/pubs/sp/800/131/a/r2/final"},
			{Title: "CA/Browser Forum Baseline Requirements §6.1.5", URL: "https://cabforum.org/baseline-requirements-documents/"},
		},
		DefaultSeverity: model.SeverityHigh,
		Tags:            []string{"certificate", "CWE-326"},
	}
	ruleWeakSignature = model.Rule{
		ID:    "cert/weak-signature",
		Title: "Certificate signed with SHA-1 or MD5",
		Why: "SHA-1 and MD5 signatures can be forged with chosen-prefix collisions (MD5: the 2008 rogue CA; SHA-1: " +
			"'SHA-1 is a Shambles', 2020). Current clients reject them.",
		Fix: "Reissue the certificate (and any intermediate signed this way) with a SHA-256 or stronger signature.",
		References: []model.Reference{
			{Title: "RFC 6194 (SHA-1 security considerations)", URL: "https://www.rfc-editor.org/rfc/rfc6194"},
			{Title: "RFC 6151 (MD5 security considerations)", URL: "https://www.rfc-editor.org/rfc/rfc6151"},
		},
		DefaultSeverity: model.SeverityHigh,
		Tags:            []string{"certificate", "CWE-328"},
	}
	ruleIncompleteChain = model.Rule{
		ID:    "cert/incomplete-chain",
		Title: "Certificate chain is incomplete",
		Why: "The server does not send the intermediate certificate(s) needed to reach a trust anchor. Browsers may " +
			"paper over it by fetching them; mail, XMPP and most library clients do not and fail to verify.",
		Fix:             "Serve the full chain: the leaf followed by every intermediate up to (not including) the root.",
		Snippets:        fullChainSnippets,
		References:      []model.Reference{{Title: "RFC 8446 §4.4.2 (Certificate)", URL: "https://www.rfc-editor.org/rfc/rfc8446#section-4.4.2"}},
		DefaultSeverity: model.SeverityHigh,
		Tags:            []string{"certificate", "CWE-296"},
	}
	ruleChainOrder = model.Rule{
		ID:    "cert/chain-order",
		Title: "Certificate chain is out of order or has extra certificates",
		Why: "Each certificate should be followed by the one that issued it. Out-of-order or unrelated certificates " +
			"break strict TLS 1.2 clients and usually point to a wrong or stale chain file.",
		Fix:             "Rebuild the chain file: leaf first, then its issuer, then that issuer's issuer; drop unrelated certificates.",
		Snippets:        fullChainSnippets,
		References:      []model.Reference{{Title: "RFC 5246 §7.4.2 (Server Certificate)", URL: "https://www.rfc-editor.org/rfc/rfc5246#section-7.4.2"}},
		DefaultSeverity: model.SeverityLow,
		Tags:            []string{"certificate", "CWE-296"},
	}
	ruleMustStapleNoStaple = model.Rule{
		ID:    "cert/must-staple-no-staple",
		Title: "Must-staple certificate served without an OCSP staple",
		Why: "The certificate carries the TLS Feature (must-staple) extension, so clients that honour it (Firefox) " +
			"refuse the connection when no OCSP response is stapled.",
		Fix: "Enable OCSP stapling (and make sure the server can reach the CA's OCSP responder), or reissue the certificate without must-staple.",
		Snippets: []model.Snippet{
			{Software: "nginx", Config: "ssl_stapling on;\nssl_stapling_verify on;\nssl_trusted_certificate /etc/letsencrypt/live/example.org/chain.pem;"},
		},
		References: []model.Reference{
			{Title: "RFC 7633 (TLS Feature extension)", URL: "https://www.rfc-editor.org/rfc/rfc7633"},
		},
		DefaultSeverity: model.SeverityHigh,
		Tags:            []string{"certificate", "CWE-299"},
	}
	ruleNotServerAuth = model.Rule{
		ID:    "cert/not-server-auth",
		Title: "Certificate is not valid for TLS server authentication",
		Why: "The extended key usage extension does not include serverAuth (id-kp-serverAuth), so verifying " +
			"clients reject the certificate for a TLS server.",
		Fix:             "Request a certificate whose EKU includes serverAuth (TLS Web Server Authentication).",
		References:      []model.Reference{{Title: "RFC 5280 §4.2.1.12 (Extended Key Usage)", URL: "https://www.rfc-editor.org/rfc/rfc5280#section-4.2.1.12"}},
		DefaultSeverity: model.SeverityHigh,
		Tags:            []string{"certificate", "CWE-295"},
	}
	ruleZlintError = model.Rule{
		ID:    "cert/zlint-error",
		Title: "Certificate fails a zlint check",
		Why: "zlint found an error against RFC 5280 or the CA/Browser Forum requirements. Some clients reject such " +
			"certificates; for public CAs it is a mis-issuance. Private-CA certificates often trip CA/B Forum lints.",
		Fix:             "Read the lint named in the finding and reissue the certificate with a corrected profile; waive CA/B Forum lints for private PKI if they do not apply.",
		References:      []model.Reference{{Title: "zlint", URL: "https://github.com/zmap/zlint"}},
		DefaultSeverity: model.SeverityLow,
		Tags:            []string{"certificate", "CWE-295"},
	}
	ruleXMPPIdentity = model.Rule{
		ID:    "cert/xmpp-identity-mismatch",
		Title: "Certificate does not prove the XMPP domain",
		Why: "For XMPP the certificate must match the XMPP domain (the JID's domain), not only the host it runs on: " +
			"an SRV-ID (_xmpp-client./_xmpp-server.), an XmppAddr or a DNS-ID for the domain. Other servers and clients refuse it.",
		Fix: "Obtain a certificate that names the XMPP domain itself (example.org), or an SRV-ID for it; one certificate may cover both domain and host.",
		Snippets: []model.Snippet{
			{Software: "Prosody", Config: "-- import certificates for every VirtualHost (names must include the domain):\n-- prosodyctl --root cert import /etc/letsencrypt/live"},
			{Software: "certbot", Config: "certbot certonly -d example.org -d xmpp.example.org -d conference.example.org"},
		},
		References: []model.Reference{
			{Title: "RFC 6120 §13.7.1.2 (Server certificates)", URL: "https://www.rfc-editor.org/rfc/rfc6120#section-13.7.1.2"},
			{Title: "RFC 7712 (Domain name associations in XMPP)", URL: "https://www.rfc-editor.org/rfc/rfc7712"},
		},
		DefaultSeverity: model.SeverityHigh,
		Tags:            []string{"certificate", "xmpp", "CWE-297"},
	}

	ruleNoSecureReneg = model.Rule{
		ID:    "tls/no-secure-renegotiation",
		Title: "Secure renegotiation not supported",
		Why: "Without the renegotiation_info extension (RFC 5746) a TLS ≤1.2 server is open to the renegotiation " +
			"prefix-injection attack (CVE-2009-3555), and modern clients refuse to talk to it or warn.",
		Fix:             "Upgrade the TLS library (any OpenSSL since 0.9.8m, GnuTLS since 2.10 supports it).",
		References:      []model.Reference{{Title: "RFC 5746", URL: "https://www.rfc-editor.org/rfc/rfc5746"}, {Title: "CVE-2009-3555"}},
		DefaultSeverity: model.SeverityMedium,
		Tags:            []string{"tls", "CWE-300"},
	}
	ruleCompression = model.Rule{
		ID:    "tls/compression-enabled",
		Title: "TLS compression enabled",
		Why:   "TLS-level compression leaks secrets in the encrypted data through its length (CRIME, CVE-2012-4929).",
		Fix:   "Disable TLS compression (OpenSSL 1.1.0 and later disable it by default).",
		Snippets: []model.Snippet{
			{Software: "Postfix", Config: "tls_ssl_options = NO_COMPRESSION"},
			{Software: "Dovecot", Config: "ssl_options = no_compression"},
		},
		References:      []model.Reference{{Title: "CVE-2012-4929 (CRIME)"}, {Title: "RFC 7457 §2.6", URL: "https://www.rfc-editor.org/rfc/rfc7457#section-2.6"}},
		DefaultSeverity: model.SeverityHigh,
		Tags:            []string{"tls", "CWE-200"},
	}
	ruleNoEMS = model.Rule{
		ID:    "tls/no-extended-master-secret",
		Title: "Extended master secret not supported",
		Why: "Without the extended master secret (RFC 7627) TLS ≤1.2 sessions can be synchronised across two " +
			"connections (triple handshake attack); FIPS 140-3 TLS 1.2 and some clients require it.",
		Fix:             "Upgrade the TLS library (OpenSSL 1.1.0 or later, GnuTLS 3.4 or later negotiate it by default), or offer TLS 1.3.",
		References:      []model.Reference{{Title: "RFC 7627", URL: "https://www.rfc-editor.org/rfc/rfc7627"}},
		DefaultSeverity: model.SeverityLow,
		Tags:            []string{"tls", "CWE-300"},
	}
	ruleNoOCSPStapling = model.Rule{
		ID:    "tls/no-ocsp-stapling",
		Title: "No OCSP response stapled",
		Why: "Without stapling, clients that check revocation must ask the CA (leaking which server they visit, and " +
			"failing open when the CA is unreachable); most simply skip the check.",
		Fix: "Enable OCSP stapling where the server software supports it.",
		Snippets: []model.Snippet{
			{Software: "nginx", Config: "ssl_stapling on;\nssl_stapling_verify on;\nssl_trusted_certificate /etc/letsencrypt/live/example.org/chain.pem;"},
		},
		References:      []model.Reference{{Title: "RFC 6066 §8 (Certificate Status Request)", URL: "https://www.rfc-editor.org/rfc/rfc6066#section-8"}},
		DefaultSeverity: model.SeverityInfo,
		Tags:            []string{"tls", "CWE-299"},
	}
	ruleHeartbeat = model.Rule{
		ID:    "tls/heartbeat-enabled",
		Title: "TLS heartbeat extension enabled",
		Why: "The heartbeat extension has no use on a TCP server and is where Heartbleed (CVE-2014-0160) lived; " +
			"its presence usually means an old or unusual TLS stack.",
		Fix:             "Upgrade the TLS library (OpenSSL 1.1.0 and later have no heartbeat support).",
		References:      []model.Reference{{Title: "RFC 6520", URL: "https://www.rfc-editor.org/rfc/rfc6520"}, {Title: "CVE-2014-0160"}},
		DefaultSeverity: model.SeverityInfo,
		Tags:            []string{"tls", "CWE-125"},
	}
	ruleNoDowngradeSentinel = model.Rule{
		ID:    "tls/no-downgrade-sentinel",
		Title: "TLS 1.3 server without the TLS 1.2 downgrade sentinel",
		Why: "A server that speaks TLS 1.3 must end ServerHello.random with \"DOWNGRD\" 01 when it negotiates TLS 1.2 " +
			"(RFC 8446 section 4.1.3), so that TLS 1.3 clients notice an attacker who stripped TLS 1.3 from their hello. " +
			"This server's TLS 1.2 answers carry no such marker, so that downgrade goes unnoticed. Usually the TLS 1.2 " +
			"answer comes from something other than the TLS 1.3 stack: a terminating proxy or load balancer in front of a " +
			"TLS 1.3 backend, nodes with different software behind one address, or a non-conforming TLS library.",
		Fix:             "Upgrade the TLS library or the terminating proxy, and make every node behind the address run the same TLS stack.",
		References:      []model.Reference{{Title: "RFC 8446 section 4.1.3", URL: "https://www.rfc-editor.org/rfc/rfc8446#section-4.1.3"}},
		DefaultSeverity: model.SeverityLow,
		Tags:            []string{"tls", "CWE-757"},
	}
	ruleNoFallbackSCSV = model.Rule{
		ID:    "tls/no-fallback-scsv",
		Title: "Version downgrade not prevented (TLS_FALLBACK_SCSV ignored)",
		Why: "The server accepted a lower protocol version from a client that signalled TLS_FALLBACK_SCSV, so an " +
			"attacker who breaks the first handshake can push fallback-capable clients to a weaker version (POODLE-style).",
		Fix:             "Upgrade the TLS library (OpenSSL 1.0.1j or later honour RFC 7507), or disable the protocol versions below the best one.",
		References:      []model.Reference{{Title: "RFC 7507", URL: "https://www.rfc-editor.org/rfc/rfc7507"}},
		DefaultSeverity: model.SeverityMedium,
		Tags:            []string{"tls", "CWE-757"},
	}
)

// analysedChain is one certificate chain with a label that tells side-by-side chains apart.
type analysedChain struct {
	label string // "ECDSA", "RSA", "RSA/no-sni", …
	f     *model.CertFacts
}

// chainsOf lists the analysed chains of an observation: every distinct chain the handshake
// inspection found, else the main chain when it was analysed.
func chainsOf(o *model.Observation) []analysedChain {
	var out []analysedChain
	seen := map[string]bool{}
	if o.TLS != nil && o.TLS.Features != nil {
		for _, pc := range o.TLS.Features.Chains {
			if pc.Analysis == nil || seen[pc.Leaf] {
				continue
			}
			seen[pc.Leaf] = true
			label := pc.KeyType
			if !pc.SNI {
				label += "/no-sni"
			}
			out = append(out, analysedChain{label: label, f: pc.Analysis})
		}
	}
	if c := o.Certificates; c != nil && c.Analyzed && len(c.Chain) > 0 && !seen[c.Chain[0].SHA256] {
		out = append(out, analysedChain{label: c.Chain[0].KeyType, f: c})
	}
	return out
}

// keyChainsOf adds the main chain for the key and signature checks even when it was not
// analysed (those facts come from any parser).
func keyChainsOf(o *model.Observation) []analysedChain {
	out := chainsOf(o)
	if c := o.Certificates; c != nil && !c.Analyzed && len(c.Chain) > 0 {
		for _, a := range out {
			if len(a.f.Chain) > 0 && a.f.Chain[0].SHA256 == c.Chain[0].SHA256 {
				return out
			}
		}
		out = append(out, analysedChain{label: c.Chain[0].KeyType, f: c})
	}
	return out
}

func position(i int) string {
	if i == 0 {
		return "leaf"
	}
	return fmt.Sprintf("cert%d", i+1)
}

// certExtraCheck raises the certificate rules that need the chain analysis.
func certExtraCheck() Check {
	return Check{
		Name:  "certificate analysis",
		Rules: []model.Rule{ruleWeakKey, ruleWeakSignature, ruleIncompleteChain, ruleChainOrder, ruleMustStapleNoStaple, ruleNotServerAuth, ruleZlintError, ruleXMPPIdentity},
		Run: func(in *Input, r *Reporter) {
			minRSA, minEC := max(in.Thresholds.MinRSABits, 2048), max(in.Thresholds.MinECBits, 256)
			for _, ch := range keyChainsOf(in.Obs) {
				for i, c := range ch.f.Chain {
					if i > 0 && c.SelfSigned {
						continue // a trust anchor sent along: clients use their own copy
					}
					ev := map[string]string{"subject": c.Subject, "key_type": c.KeyType, "key_bits": fmt.Sprint(c.KeyBits), "sha256": c.SHA256}
					switch c.KeyType {
					case "RSA", "DSA":
						if c.KeyBits > 0 && c.KeyBits < minRSA {
							r.Raise(ruleWeakKey.ID, ch.label+"/"+position(i), fmt.Sprintf("%s certificate %q has a %d-bit %s key (minimum %d).", position(i), c.Subject, c.KeyBits, c.KeyType, minRSA), ev)
						}
					case "ECDSA":
						if c.KeyBits > 0 && c.KeyBits < minEC {
							r.Raise(ruleWeakKey.ID, ch.label+"/"+position(i), fmt.Sprintf("%s certificate %q has a %d-bit EC key (minimum %d).", position(i), c.Subject, c.KeyBits, minEC), ev)
						}
					}
					if !c.SelfSigned && weakHash(c.SignatureAlgorithm) {
						ev["signature_algorithm"] = c.SignatureAlgorithm
						r.Raise(ruleWeakSignature.ID, ch.label+"/"+position(i), fmt.Sprintf("%s certificate %q is signed with %s.", position(i), c.Subject, c.SignatureAlgorithm), ev)
					}
				}
			}
			for _, ch := range chainsOf(in.Obs) {
				f := ch.f
				if len(f.Chain) == 0 {
					continue
				}
				leaf := f.Chain[0]
				if !f.ChainComplete && f.MissingIssuer != "" {
					r.Raise(ruleIncompleteChain.ID, ch.label, fmt.Sprintf("The %s chain stops at a certificate whose issuer was not sent: %s.", ch.label, f.MissingIssuer),
						map[string]string{"missing_issuer": f.MissingIssuer, "chain_length": fmt.Sprint(len(f.Chain)), "leaf_sha256": leaf.SHA256})
				}
				if !f.ChainOrdered && len(f.Chain) > 1 {
					r.Raise(ruleChainOrder.ID, ch.label, fmt.Sprintf("The %s chain is not in issuing order: %s.", ch.label, strings.Join(f.ChainIssues, "; ")),
						map[string]string{"issues": strings.Join(f.ChainIssues, "\n"), "leaf_sha256": leaf.SHA256})
				}
				if leaf.MustStaple && in.Obs.TLS != nil && in.Obs.TLS.Features != nil && in.Obs.TLS.Features.OCSP == nil {
					r.Raise(ruleMustStapleNoStaple.ID, ch.label, fmt.Sprintf("The %s certificate requires stapling but the server stapled no OCSP response.", ch.label),
						map[string]string{"leaf_sha256": leaf.SHA256})
				}
				if len(leaf.ExtKeyUsage) > 0 && !hasAny(leaf.ExtKeyUsage, "serverAuth", "any") {
					r.Raise(ruleNotServerAuth.ID, ch.label, fmt.Sprintf("The %s certificate's extended key usage is %s, without serverAuth.", ch.label, strings.Join(leaf.ExtKeyUsage, ", ")),
						map[string]string{"ext_key_usage": strings.Join(leaf.ExtKeyUsage, ","), "leaf_sha256": leaf.SHA256})
				}
				for i, c := range f.Chain {
					for _, l := range c.Lints {
						if l.Status != "error" && l.Status != "fatal" {
							continue
						}
						msg := fmt.Sprintf("zlint %s on the %s certificate %q", l.Name, position(i), c.Subject)
						if l.Details != "" {
							msg += ": " + l.Details
						}
						r.Raise(ruleZlintError.ID, ch.label+"/"+position(i)+"/"+l.Name, msg+".",
							map[string]string{"lint": l.Name, "status": l.Status, "details": l.Details, "sha256": c.SHA256})
					}
				}
				if x := f.XMPP; x != nil && !x.Matches {
					r.Raise(ruleXMPPIdentity.ID, ch.label, fmt.Sprintf("The %s certificate names neither an SRV-ID, an XmppAddr nor a DNS-ID for the XMPP domain %s (%s).", ch.label, x.Domain, x.Service),
						map[string]string{"domain": x.Domain, "service": x.Service, "srv_ids": strings.Join(x.SRVIDs, ","), "xmpp_addrs": strings.Join(x.XmppAddrs, ","), "dns_names": strings.Join(leaf.DNSNames, ",")})
				}
			}
		},
	}
}

func weakHash(alg string) bool {
	a := strings.ToUpper(alg)
	return strings.Contains(a, "SHA1") || strings.Contains(a, "SHA-1") || strings.Contains(a, "MD5") || strings.Contains(a, "MD2")
}

func hasAny(list []string, want ...string) bool {
	for _, l := range list {
		for _, w := range want {
			if l == w {
				return true
			}
		}
	}
	return false
}

// tlsFeaturesCheck raises the rules about handshake features (scanner/handshake facts).
func tlsFeaturesCheck() Check {
	return Check{
		Name:  "handshake features",
		Rules: []model.Rule{ruleNoSecureReneg, ruleCompression, ruleNoEMS, ruleNoOCSPStapling, ruleHeartbeat, ruleNoFallbackSCSV, ruleNoDowngradeSentinel},
		Run: func(in *Input, r *Reporter) {
			if in.Obs.TLS == nil || in.Obs.TLS.Features == nil {
				return
			}
			f := in.Obs.TLS.Features
			if x := f.TLS12; x != nil {
				ev := map[string]string{"version": x.Version, "cipher_suite": x.CipherSuite}
				if !x.SecureRenegotiation {
					r.Raise(ruleNoSecureReneg.ID, "", fmt.Sprintf("The %s ServerHello has no renegotiation_info extension.", x.Version), ev)
				}
				if x.Compression != 0 {
					r.Raise(ruleCompression.ID, "", fmt.Sprintf("The server chose TLS compression method %d (DEFLATE is 1).", x.Compression), withKV(ev, "compression", fmt.Sprint(x.Compression)))
				}
				if !x.ExtendedMasterSecret {
					r.Raise(ruleNoEMS.ID, "", fmt.Sprintf("The %s ServerHello has no extended_master_secret extension.", x.Version), ev)
				}
				if x.Heartbeat {
					r.Raise(ruleHeartbeat.ID, "", "The server acknowledged the heartbeat extension.", ev)
				}
				// The features hello offers at most TLS 1.2 (no supported_versions), so a TLS 1.3
				// server answering it in TLS 1.2 must mark the answer.
				if f.MaxVersion == "TLS 1.3" && x.Version == "TLS 1.2" && x.DowngradeSentinel != model.SentinelTLS12 {
					marker := "no marker"
					if x.DowngradeSentinel != "" {
						marker = "the TLS 1.1-and-below marker"
					}
					r.Raise(ruleNoDowngradeSentinel.ID, "", fmt.Sprintf("The server speaks TLS 1.3, but its TLS 1.2 ServerHello.random ends in %s instead of \"DOWNGRD\" 01.", marker),
						withKV(ev, "downgrade_sentinel", x.DowngradeSentinel))
				}
			}
			if f.OCSP == nil && len(f.Chains) > 0 {
				r.Raise(ruleNoOCSPStapling.ID, "", "No handshake received a stapled OCSP response.", map[string]string{"max_version": f.MaxVersion})
			}
			if f.Fallback == "accepted" {
				r.Raise(ruleNoFallbackSCSV.ID, "", f.FallbackDetail+".", map[string]string{"max_version": f.MaxVersion, "detail": f.FallbackDetail})
			}
		},
	}
}

func withKV(m map[string]string, k, v string) map[string]string {
	out := make(map[string]string, len(m)+1)
	for a, b := range m {
		out[a] = b
	}
	out[k] = v
	return out
}
