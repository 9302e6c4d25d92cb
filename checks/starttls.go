package checks

import (
	"fmt"
	"strings"

	"github.com/rampart-scan/rampart/model"
	"github.com/rampart-scan/rampart/services"
)

func starttlsRFC(n, title string) model.Reference {
	return model.Reference{Title: "RFC " + n + " (" + title + ")", URL: "https://www.rfc-editor.org/rfc/rfc" + n}
}

var (
	ruleStartTLSNotOffered = model.Rule{
		ID:    "starttls/not-offered",
		Title: "STARTTLS is not available on a service that reaches TLS only through it",
		Why: "On this port (SMTP, submission, IMAP, POP3, XMPP, LDAP, FTP, NNTP, Sieve, IRC, PostgreSQL, MySQL) the " +
			"only way to TLS is the STARTTLS upgrade, and the server did not advertise it or refused the request. " +
			"Everything on the connection (messages, mail, passwords, queries) crosses the network in clear text, " +
			"readable and changeable by anyone on the path. Sending mail servers fall back to plaintext delivery, or " +
			"refuse to deliver at all when the domain publishes MTA-STS or DANE.",
		Fix: "Install a certificate and enable STARTTLS on the listener; on submission, IMAP, POP3, XMPP and " +
			"databases also make TLS mandatory. Where clients allow it, serve implicit TLS as well (465, 993, 995, " +
			"5223; RFC 8314 prefers it for mail access). IRC's STARTTLS is deprecated by IRCv3: serve TLS on 6697 " +
			"and advertise it with the sts capability instead.",
		Snippets: []model.Snippet{
			{Software: "Postfix", Config: "# main.cf (port 25: opportunistic; submission: mandatory in master.cf)\n" +
				"smtpd_tls_chain_files = /etc/ssl/private/mail.key, /etc/ssl/certs/mail.pem\n" +
				"smtpd_tls_security_level = may\n" +
				"# master.cf, submission service:\n#  -o smtpd_tls_security_level=encrypt"},
			{Software: "Dovecot", Config: "# 2.3\nssl = required\nssl_cert = </etc/ssl/certs/mail.pem\nssl_key = </etc/ssl/private/mail.key\n" +
				"# 2.4\nssl = required\nssl_server_cert_file = /etc/ssl/certs/mail.pem\nssl_server_key_file = /etc/ssl/private/mail.key"},
			{Software: "Prosody", Config: "certificates = \"certs\"\nc2s_require_encryption = true\ns2s_require_encryption = true"},
			{Software: "ejabberd", Config: "certfiles:\n  - /etc/ejabberd/xmpp.pem\nlisten:\n  -\n    port: 5222\n    module: ejabberd_c2s\n    starttls_required: true\ns2s_use_starttls: required"},
		},
		References: []model.Reference{
			starttlsRFC("3207", "SMTP STARTTLS"),
			starttlsRFC("2595", "Using TLS with IMAP, POP3 and ACAP"),
			starttlsRFC("6120", "XMPP Core, §5 STARTTLS negotiation"),
			starttlsRFC("8314", "Cleartext considered obsolete: use of TLS for email submission and access"),
			starttlsRFC("7817", "TLS server identity check for email-related protocols"),
			starttlsRFC("4513", "LDAP authentication methods and security mechanisms, §3 StartTLS"),
			starttlsRFC("4217", "Securing FTP with TLS"),
			starttlsRFC("4642", "Using TLS with NNTP"),
			starttlsRFC("5804", "ManageSieve, §2.2 STARTTLS"),
		},
		DefaultSeverity: model.SeverityHigh,
		Tags:            []string{"starttls", "tls", "CWE-319"},
	}
	ruleStartTLSPlainAuth = model.Rule{
		ID:    "starttls/plaintext-auth",
		Title: "Clear-text authentication is offered before TLS",
		Why: "Before STARTTLS, the server advertised authentication that sends the password or bearer token itself: " +
			"SASL PLAIN, LOGIN or OAuth bearer mechanisms, IMAP LOGIN without LOGINDISABLED, POP3 USER/PASS, NNTP " +
			"AUTHINFO USER or XMPP non-SASL iq-auth. A client that authenticates before upgrading (misconfigured, or " +
			"misled by an on-path attacker who deleted STARTTLS from the capability list) hands its credentials to " +
			"anyone on the path. Severity medium: a leak needs such a client or an active attacker, but it yields the " +
			"account, and a server that refuses clear-text authentication before TLS defeats the stripping attack.",
		Fix: "Advertise and accept password-based mechanisms only after TLS is established.",
		Snippets: []model.Snippet{
			{Software: "Postfix", Config: "smtpd_tls_auth_only = yes"},
			{Software: "Dovecot", Config: "# 2.3\ndisable_plaintext_auth = yes\n# 2.4\nauth_allow_cleartext = no"},
			{Software: "Prosody", Config: "c2s_require_encryption = true\nallow_unencrypted_plain_auth = false"},
			{Software: "ejabberd", Config: "listen:\n  -\n    port: 5222\n    module: ejabberd_c2s\n    starttls_required: true"},
		},
		References: []model.Reference{
			starttlsRFC("4616", "The PLAIN SASL mechanism, Security Considerations"),
			starttlsRFC("4954", "SMTP AUTH"),
			starttlsRFC("3501", "IMAP4rev1, §6.2.3 LOGIN and LOGINDISABLED"),
			starttlsRFC("2595", "Using TLS with IMAP, POP3 and ACAP"),
			starttlsRFC("4643", "NNTP AUTHINFO"),
			starttlsRFC("8314", "Cleartext considered obsolete"),
		},
		DefaultSeverity: model.SeverityMedium,
		Tags:            []string{"starttls", "authentication", "CWE-319", "CWE-523"},
	}
	ruleStartTLSNotRequired = model.Rule{
		ID:    "starttls/not-required",
		Title: "XMPP server offers STARTTLS but does not require it",
		Why: "The stream features list <starttls/> without <required/>, so the server is prepared to carry the " +
			"stream unencrypted (RFC 6120: a server that makes TLS mandatory-to-negotiate says so with <required/>). " +
			"A client or peer server that skips TLS exchanges messages, presence and, on c2s, logins in clear, and an " +
			"on-path attacker can delete <starttls/> from the features to force that on federated (s2s) traffic. " +
			"Severity medium rather than high: exploiting it needs a peer that does not insist on TLS or an active " +
			"attacker, and clear-text logins are reported separately (starttls/plaintext-auth). The XMPP operators' " +
			"manifesto committed public servers to mandatory TLS on both c2s and s2s.",
		Fix: "Require TLS on client and server streams.",
		Snippets: []model.Snippet{
			{Software: "Prosody", Config: "c2s_require_encryption = true\ns2s_require_encryption = true"},
			{Software: "ejabberd", Config: "listen:\n  -\n    port: 5222\n    module: ejabberd_c2s\n    starttls_required: true\ns2s_use_starttls: required"},
		},
		References: []model.Reference{
			starttlsRFC("6120", "XMPP Core, §5 STARTTLS negotiation"),
			starttlsRFC("7590", "Use of TLS in XMPP"),
			{Title: "A Public Statement Regarding Ubiquitous Encryption on the XMPP Network", URL: "https://github.com/stpeter/manifesto/blob/master/manifesto.txt"},
		},
		DefaultSeverity: model.SeverityMedium,
		Tags:            []string{"starttls", "xmpp", "CWE-319"},
	}
)

// startTLSCheck raises the STARTTLS rules from Observation.StartTLS: STARTTLS missing or
// refused on a service whose registry mode is STARTTLS, clear-text authentication advertised
// before TLS, and XMPP streams that offer TLS without requiring it.
func startTLSCheck() Check {
	reg := services.Default()
	return Check{
		Name:  "starttls",
		Rules: []model.Rule{ruleStartTLSNotOffered, ruleStartTLSPlainAuth, ruleStartTLSNotRequired},
		Run: func(in *Input, r *Reporter) {
			st := in.Obs.StartTLS
			if st == nil {
				return
			}
			ev := startTLSEvidence(st)
			if (st.Outcome == model.StartTLSNotOffered || st.Outcome == model.StartTLSRefused) && startTLSService(reg, in.Obs.Endpoint) {
				msg := fmt.Sprintf("%s did not advertise STARTTLS: the protocol stays in clear text", st.Protocol)
				if st.Outcome == model.StartTLSRefused {
					msg = fmt.Sprintf("%s refused STARTTLS (%s): the protocol stays in clear text", st.Protocol, strings.TrimSpace(st.ReplyCode+" "+st.ReplyText))
				}
				r.Raise(ruleStartTLSNotOffered.ID, "", msg, ev)
			}
			if len(st.PlaintextAuth) > 0 {
				r.Raise(ruleStartTLSPlainAuth.ID, "",
					fmt.Sprintf("%s advertised clear-text authentication before TLS: %s", st.Protocol, strings.Join(st.PlaintextAuth, ", ")), ev)
			}
			if (st.Protocol == "xmpp-client" || st.Protocol == "xmpp-server") && st.Offered && !st.Required {
				r.Raise(ruleStartTLSNotRequired.ID, "",
					fmt.Sprintf("%s stream features offer <starttls/> without <required/>", st.Protocol), ev)
			}
		},
	}
}

// startTLSService reports whether the endpoint's service (by name, else by port) reaches TLS
// through STARTTLS in the registry.
func startTLSService(reg *services.Registry, e model.Endpoint) bool {
	if s, ok := reg.ByName(e.Service); ok {
		return s.Mode == services.StartTLS
	}
	if e.Service != "" {
		return false
	}
	s, ok := reg.ByPort(e.Addr.Port())
	return ok && s.Mode == services.StartTLS
}

func startTLSEvidence(st *model.StartTLSFacts) map[string]string {
	ev := map[string]string{
		"protocol": st.Protocol,
		"outcome":  string(st.Outcome),
		"offered":  fmt.Sprint(st.Offered),
	}
	if st.Protocol == "xmpp-client" || st.Protocol == "xmpp-server" {
		ev["required"] = fmt.Sprint(st.Required)
	}
	if len(st.PlaintextAuth) > 0 {
		ev["plaintext_auth"] = strings.Join(st.PlaintextAuth, " ")
	}
	if st.ReplyCode != "" {
		ev["reply"] = strings.TrimSpace(st.ReplyCode + " " + st.ReplyText)
	}
	if st.Greeting != "" {
		ev["greeting"] = st.Greeting
	}
	if st.Software != "" {
		ev["software"] = st.Software
	}
	return ev
}
