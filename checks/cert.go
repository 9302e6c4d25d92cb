package checks

import (
	"fmt"
	"math"
	"net/netip"
	"time"

	"github.com/rampart-scan/rampart/model"
)

var (
	ruleExpired = model.Rule{
		ID:    "cert/expired",
		Title: "Certificate has expired",
		Why: "Clients refuse an expired certificate or, worse, teach their users to click through warnings. " +
			"Mail and XMPP servers that fall back to unauthenticated TLS stop being protected against interception.",
		Fix: "Renew the certificate and reload the service. Automate renewal (ACME) and monitor expiry.",
		Snippets: []model.Snippet{
			{Software: "certbot", Config: "certbot renew --deploy-hook 'systemctl reload nginx postfix dovecot prosody'"},
		},
		References: []model.Reference{
			{Title: "RFC 5280 §4.1.2.5 (Validity)", URL: "https://www.rfc-editor.org/rfc/rfc5280#section-4.1.2.5"},
		},
		DefaultSeverity: model.SeverityCritical,
		Tags:            []string{"certificate", "CWE-298"},
	}
	ruleNotYetValid = model.Rule{
		ID:    "cert/not-yet-valid",
		Title: "Certificate is not yet valid",
		Why:   "The certificate's validity starts in the future: clients reject it. Usually a wrong clock on the issuing side or a certificate deployed too early.",
		Fix:   "Deploy a certificate whose notBefore has passed, and check the server's and the CA's clocks.",
		References: []model.Reference{
			{Title: "RFC 5280 §4.1.2.5 (Validity)", URL: "https://www.rfc-editor.org/rfc/rfc5280#section-4.1.2.5"},
		},
		DefaultSeverity: model.SeverityHigh,
		Tags:            []string{"certificate", "CWE-298"},
	}
	ruleExpiringSoon = model.Rule{
		ID:    "cert/expiring-soon",
		Title: "Certificate expires soon",
		Why:   "A certificate close to expiry becomes an outage when renewal fails silently.",
		Fix:   "Renew now and check that automated renewal runs and reloads every service that uses the certificate.",
		References: []model.Reference{
			{Title: "RFC 5280 §4.1.2.5 (Validity)", URL: "https://www.rfc-editor.org/rfc/rfc5280#section-4.1.2.5"},
		},
		DefaultSeverity: model.SeverityMedium,
		Tags:            []string{"certificate", "availability"},
	}
	ruleUntrusted = model.Rule{
		ID:    "cert/untrusted",
		Title: "Certificate chain is not trusted",
		Why: "The chain does not lead to a trusted root (unknown CA, missing intermediate, or wrong chain). " +
			"Clients that verify refuse the connection; clients that do not are open to interception.",
		Fix: "Serve a certificate from a publicly trusted CA together with its intermediates (the full chain file), " +
			"or pass your private CA with --ca-file if the service is internal.",
		Snippets: []model.Snippet{
			{Software: "nginx", Config: "ssl_certificate /etc/letsencrypt/live/example.org/fullchain.pem;"},
			{Software: "Postfix", Config: "smtpd_tls_chain_files = /etc/letsencrypt/live/example.org/privkey.pem, /etc/letsencrypt/live/example.org/fullchain.pem"},
			{Software: "Dovecot", Config: "ssl_cert = </etc/letsencrypt/live/example.org/fullchain.pem"},
			{Software: "Prosody", Config: "certificate = \"/etc/prosody/certs/example.org.crt\" -- must contain the full chain"},
		},
		References: []model.Reference{
			{Title: "RFC 5280 §6 (Certification Path Validation)", URL: "https://www.rfc-editor.org/rfc/rfc5280#section-6"},
		},
		DefaultSeverity: model.SeverityHigh,
		Tags:            []string{"certificate", "CWE-295"},
	}
	ruleSelfSigned = model.Rule{
		ID:    "cert/self-signed",
		Title: "Self-signed certificate",
		Why:   "A self-signed certificate proves nothing about the server's identity to anyone who has not pinned it; verifying clients refuse it.",
		Fix:   "Replace it with a certificate from a publicly trusted CA (e.g. via ACME), or from your private CA for internal services.",
		References: []model.Reference{
			{Title: "RFC 6125 (Service identity)", URL: "https://www.rfc-editor.org/rfc/rfc6125"},
		},
		DefaultSeverity: model.SeverityHigh,
		Tags:            []string{"certificate", "CWE-295"},
	}
	ruleHostnameMismatch = model.Rule{
		ID:    "cert/hostname-mismatch",
		Title: "Certificate does not match the host name",
		Why:   "The certificate is not valid for the name clients connect to, so verifying clients refuse it and users learn to ignore warnings.",
		Fix:   "Issue a certificate whose subjectAltName covers every name the service is reached under (including SRV/MX targets and the XMPP domain).",
		References: []model.Reference{
			{Title: "RFC 6125 §6 (Verifying service identity)", URL: "https://www.rfc-editor.org/rfc/rfc6125#section-6"},
			{Title: "RFC 9525 (Service identity in TLS)", URL: "https://www.rfc-editor.org/rfc/rfc9525"},
		},
		DefaultSeverity: model.SeverityHigh,
		Tags:            []string{"certificate", "CWE-297"},
	}
)

// certValidityCheck judges the leaf's validity window against the evaluation time.
func certValidityCheck() Check {
	return Check{
		Name:  "cert-validity",
		Rules: []model.Rule{ruleExpired, ruleNotYetValid, ruleExpiringSoon},
		Run: func(in *Input, r *Reporter) {
			cf := in.Obs.Certificates
			if cf == nil || len(cf.Chain) == 0 {
				return
			}
			leaf := cf.Chain[0]
			ev := map[string]string{
				"subject":    leaf.Subject,
				"not_before": leaf.NotBefore.Format(time.RFC3339),
				"not_after":  leaf.NotAfter.Format(time.RFC3339),
				"sha256":     leaf.SHA256,
			}
			switch {
			case in.Now.After(leaf.NotAfter):
				days := int(in.Now.Sub(leaf.NotAfter).Hours() / 24)
				r.Raise(ruleExpired.ID, "leaf", fmt.Sprintf("The certificate expired on %s (%d days ago).", leaf.NotAfter.Format("2006-01-02"), days), ev)
			case in.Now.Before(leaf.NotBefore):
				r.Raise(ruleNotYetValid.ID, "leaf", fmt.Sprintf("The certificate is valid only from %s.", leaf.NotBefore.Format(time.RFC3339)), ev)
			default:
				left := leaf.NotAfter.Sub(in.Now)
				days := int(math.Floor(left.Hours() / 24))
				if warn := in.Thresholds.ExpiryWarningDays; warn > 0 && left < time.Duration(warn)*24*time.Hour {
					ev["days_left"] = fmt.Sprint(days)
					r.Raise(ruleExpiringSoon.ID, "leaf", fmt.Sprintf("The certificate expires on %s, in %d days (warning threshold %d days).", leaf.NotAfter.Format("2006-01-02"), days, warn), ev)
				}
			}
		},
	}
}

// certTrustCheck judges the chain's trust and the name match. A self-signed leaf is reported
// as cert/self-signed rather than also as cert/untrusted.
func certTrustCheck() Check {
	return Check{
		Name:  "cert-trust",
		Rules: []model.Rule{ruleUntrusted, ruleSelfSigned, ruleHostnameMismatch},
		Run: func(in *Input, r *Reporter) {
			cf := in.Obs.Certificates
			if cf == nil || len(cf.Chain) == 0 {
				return
			}
			leaf := cf.Chain[0]
			ev := map[string]string{"subject": leaf.Subject, "issuer": leaf.Issuer, "sha256": leaf.SHA256}
			if !cf.Trusted {
				ev["verify_error"] = cf.TrustError
				if leaf.SelfSigned {
					r.Raise(ruleSelfSigned.ID, "leaf", fmt.Sprintf("The server presents a self-signed certificate (%s).", leaf.Subject), ev)
				} else {
					r.Raise(ruleUntrusted.ID, "leaf", "The certificate chain does not verify: "+cf.TrustError, ev)
				}
			}
			// A client reaching an address it scanned (an IP or CIDR target) has no name to
			// expect: the IP-SAN fact is kept, but a mismatch is no finding.
			if cf.NameChecked != "" && !cf.NameMatches && !isIPLiteral(in.Obs.Endpoint.Name) {
				nev := map[string]string{"name": cf.NameChecked, "subject": leaf.Subject, "sha256": leaf.SHA256}
				if len(leaf.DNSNames) > 0 {
					nev["dns_names"] = joinCap(leaf.DNSNames, 10)
				}
				r.Raise(ruleHostnameMismatch.ID, cf.NameChecked, fmt.Sprintf("The certificate is not valid for %s.", cf.NameChecked), nev)
			}
		},
	}
}

func joinCap(ss []string, n int) string {
	out := ""
	for i, s := range ss {
		if i == n {
			return out + fmt.Sprintf(", … (%d more)", len(ss)-n)
		}
		if i > 0 {
			out += ", "
		}
		out += s
	}
	return out
}

// isIPLiteral reports whether name is empty or an address literal rather than a DNS name.
func isIPLiteral(name string) bool {
	if name == "" {
		return true
	}
	_, err := netip.ParseAddr(name)
	return err == nil
}
