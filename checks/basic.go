package checks

import (
	"crypto/tls"
	"fmt"

	"github.com/rampart-scan/rampart/model"
	"github.com/rampart-scan/rampart/services"
)

var (
	ruleUnreachable = model.Rule{
		ID:    "net/unreachable",
		Title: "Endpoint did not answer",
		Why: "A messaging endpoint published in DNS (or listed as a target) refused the connection or timed out. " +
			"Clients and peer servers that follow the same records fail too.",
		Fix: "Check that the service runs and listens on this address, and that firewalls allow the port; " +
			"remove DNS records that point at decommissioned hosts.",
		DefaultSeverity: model.SeverityHigh,
		Tags:            []string{"availability"},
	}
	ruleNoTLS = model.Rule{
		ID:    "tls/not-tls",
		Title: "Port expected to speak TLS does not",
		Why:   "The service on this port is expected to use implicit TLS, but it answered a ClientHello with something else. Clients either fail or, if misconfigured, talk in plaintext.",
		Fix:   "Enable TLS on the listener (implicit TLS ports such as 443, 465, 993, 995, 5223 must start with the TLS handshake), or correct the DNS record or service hint.",
		References: []model.Reference{
			{Title: "RFC 8314 (Cleartext considered obsolete)", URL: "https://www.rfc-editor.org/rfc/rfc8314"},
		},
		DefaultSeverity: model.SeverityHigh,
		Tags:            []string{"tls", "CWE-319"},
	}
	ruleHandshakeFailed = model.Rule{
		ID:    "tls/handshake-failed",
		Title: "A modern TLS client cannot connect",
		Why:   "The server speaks TLS but refused a handshake from a current client (TLS 1.0–1.3, current cipher suites and groups). Up-to-date clients fail to connect.",
		Fix:   "Enable TLS 1.2 and 1.3 with the Mozilla intermediate cipher suites and curves.",
		References: []model.Reference{
			{Title: "Mozilla Server Side TLS", URL: "https://wiki.mozilla.org/Security/Server_Side_TLS"},
		},
		DefaultSeverity: model.SeverityHigh,
		Tags:            []string{"tls", "availability"},
	}
	ruleLegacyNegotiated = model.Rule{
		ID:    "tls/legacy-protocol-negotiated",
		Title: "Negotiated protocol is older than the policy allows",
		Why: "When a modern client offers TLS 1.3 and 1.2, the server still picked an older protocol: it does not support a current version at all. " +
			"TLS 1.0 and 1.1 were deprecated by RFC 8996 and lack modern AEAD cipher suites.",
		Fix: "Enable TLS 1.2 and TLS 1.3 on the server.",
		Snippets: []model.Snippet{
			{Software: "nginx", Config: "ssl_protocols TLSv1.2 TLSv1.3;"},
			{Software: "Postfix", Config: "smtpd_tls_protocols = >=TLSv1.2\nsmtpd_tls_mandatory_protocols = >=TLSv1.2"},
			{Software: "Dovecot", Config: "ssl_min_protocol = TLSv1.2"},
			{Software: "Prosody", Config: "ssl = { protocol = \"tlsv1_2+\" }"},
			{Software: "ejabberd", Config: "define_macro:\n  TLS_OPTS: \"no_sslv3|no_tlsv1|no_tlsv1_1\""},
		},
		References: []model.Reference{
			{Title: "RFC 8996 (Deprecating TLS 1.0 and 1.1)", URL: "https://www.rfc-editor.org/rfc/rfc8996"},
			{Title: "NIST SP 800-52 Rev. 2 §3.1", URL: "https://csrc.nist.gov/pubs/sp/800/52/r2/final"},
		},
		DefaultSeverity: model.SeverityHigh,
		Tags:            []string{"tls", "CWE-327"},
	}
)

// reachabilityCheck reports endpoints that could not be connected to.
func reachabilityCheck() Check {
	return Check{
		Name:  "reachability",
		Rules: []model.Rule{ruleUnreachable},
		Run: func(in *Input, r *Reporter) {
			o := in.Obs
			if o.Status != model.StatusUnreachable && o.Status != model.StatusTimeout {
				return
			}
			if o.Connect != nil && o.Connect.Reachable {
				return // connected, then timed out later: a TLS fact, not reachability
			}
			r.Raise(ruleUnreachable.ID, "", fmt.Sprintf("%s did not accept a connection: %s", o.Endpoint.Addr, o.Error),
				map[string]string{"status": string(o.Status), "error": o.Error})
		},
	}
}

// protocolCheck judges the modern client's handshake: no TLS at all, refused, or too old.
func protocolCheck() Check {
	reg := services.Default()
	return Check{
		Name:  "protocol",
		Rules: []model.Rule{ruleNoTLS, ruleHandshakeFailed, ruleLegacyNegotiated},
		Run: func(in *Input, r *Reporter) {
			t := in.Obs.TLS
			if t == nil {
				return
			}
			svc, _ := reg.ByName(in.Obs.Endpoint.Service)
			if !t.Speaks {
				if svc.Mode == services.Implicit {
					r.Raise(ruleNoTLS.ID, "", fmt.Sprintf("The %s port did not answer with TLS: %s", in.Obs.Endpoint.Service, t.HandshakeError),
						map[string]string{"error": t.HandshakeError})
				}
				return
			}
			if t.Handshake == nil {
				r.Raise(ruleHandshakeFailed.ID, "", "The server rejected a modern client's handshake: "+t.HandshakeError,
					map[string]string{"error": t.HandshakeError})
				return
			}
			if min := in.Thresholds.MinProtocol; min != 0 && t.Handshake.VersionID < min {
				r.Raise(ruleLegacyNegotiated.ID, t.Handshake.Version,
					fmt.Sprintf("The server negotiated %s although the client offered up to TLS 1.3 (policy minimum %s).", t.Handshake.Version, tls.VersionName(min)),
					map[string]string{"negotiated": t.Handshake.Version, "cipher_suite": t.Handshake.CipherSuite, "minimum": tls.VersionName(min)})
			}
		},
	}
}
