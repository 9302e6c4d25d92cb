package checks

import (
	"fmt"
	"sort"

	"github.com/rampart-scan/rampart/model"
)

func cve(id string) model.Reference {
	return model.Reference{Title: id, URL: "https://www.cve.org/CVERecord?id=" + id}
}

// upgradeSnippets tell each server how to pick up a fixed TLS library.
var upgradeSnippets = []model.Snippet{
	{Software: "nginx", Config: "# Debian: install the fixed library, then restart (a reload keeps the old library mapped)\napt-get install --only-upgrade openssl libssl3\nsystemctl restart nginx"},
	{Software: "Postfix", Config: "apt-get install --only-upgrade openssl libssl3\nsystemctl restart postfix"},
	{Software: "Dovecot", Config: "apt-get install --only-upgrade openssl libssl3\nsystemctl restart dovecot"},
	{Software: "Prosody", Config: "apt-get install --only-upgrade openssl libssl3 lua-sec\nsystemctl restart prosody"},
}

var (
	ruleHeartbleed = model.Rule{
		ID:    "vuln/heartbleed",
		Title: "Heartbleed: the server returns its memory in heartbeat responses",
		Why: "The server answered a TLS heartbeat request that claimed 16384 bytes of payload while carrying 16 with more " +
			"bytes than were sent: it copies memory past the request (OpenSSL 1.0.1 to 1.0.1f, CVE-2014-0160). Anyone can " +
			"read up to 64 KiB of process memory per request, without logging in and without leaving a trace: private " +
			"keys, session keys, passwords and messages of other users. " +
			"How it was tested: in every supported version from SSL 3.0 to TLS 1.2 (one connection each) a hello offering " +
			"the heartbeat extension, then after ServerHelloDone one over-long heartbeat request followed by close_notify. " +
			"Not vulnerable means every version ignored or refused the request or answered with no more than was sent. " +
			"Cost: one connection per supported version up to TLS 1.2.",
		Fix: "Upgrade OpenSSL (1.0.1g or later; every current release is fixed) and restart every service linked to it. " +
			"Then treat the private key as stolen: issue a new key and certificate, revoke the old one, and rotate " +
			"passwords and session secrets that crossed the service.",
		Snippets:        upgradeSnippets,
		References:      []model.Reference{cve("CVE-2014-0160"), {Title: "RFC 6520 (TLS heartbeat extension)", URL: "https://www.rfc-editor.org/rfc/rfc6520"}, {Title: "heartbleed.com", URL: "https://heartbleed.com/"}},
		DefaultSeverity: model.SeverityCritical,
		Tags:            []string{"tls", "vulnerability", "CWE-125", "CWE-200"},
	}
	ruleCCSInjection = model.Rule{
		ID:    "vuln/ccs-injection",
		Title: "CCS injection: the server accepts ChangeCipherSpec before the key exchange",
		Why: "The server accepted a ChangeCipherSpec sent right after its ServerHelloDone, before any key exchange, and then " +
			"failed to decrypt the next record with keys derived from an empty master secret (OpenSSL before 0.9.8za, " +
			"1.0.0m and 1.0.1h, CVE-2014-0224). An attacker on the path can make both ends use keys it knows and read or " +
			"change the session. " +
			"How it was tested: in the newest supported version up to TLS 1.2 (one connection) two ChangeCipherSpec records " +
			"after the server's first flight; bad_record_mac or decryption_failed in answer means the first was accepted. " +
			"Not vulnerable means the server refused it (unexpected_message or another alert) or closed the connection. " +
			"Cost: one connection.",
		Fix:             "Upgrade OpenSSL (0.9.8za, 1.0.0m, 1.0.1h or later; every current release is fixed) and restart the services.",
		Snippets:        upgradeSnippets,
		References:      []model.Reference{cve("CVE-2014-0224"), {Title: "OpenSSL security advisory 2014-06-05", URL: "https://www.openssl.org/news/secadv/20140605.txt"}},
		DefaultSeverity: model.SeverityHigh,
		Tags:            []string{"tls", "vulnerability", "CWE-696"},
	}
	ruleTicketbleed = model.Rule{
		ID:    "vuln/ticketbleed",
		Title: "Ticketbleed: the server leaks memory in the session ID of a resumed session",
		Why: "Offered a session ticket with a 16-byte session ID, the server echoed a longer session ID that begins with the " +
			"one sent: the rest is uninitialised memory (F5 BIG-IP, CVE-2016-9244), which can hold session keys of other " +
			"connections. " +
			"How it was tested: a full TLS ≤ 1.2 handshake to obtain a ticket (one connection), then a hello offering that " +
			"ticket with a 16-byte session ID (one connection). Not vulnerable means the server resumed and echoed exactly " +
			"the 16 bytes sent. Cost: two connections; none when the server speaks only TLS 1.3.",
		Fix: "Apply the vendor's fix (F5 BIG-IP 12.1.2 HF1, 11.6.1 HF2 or later), or disable session tickets on the client " +
			"SSL profile until then.",
		References:      []model.Reference{cve("CVE-2016-9244"), {Title: "filippo.io/Ticketbleed", URL: "https://filippo.io/Ticketbleed/"}, {Title: "RFC 5077 (session tickets)", URL: "https://www.rfc-editor.org/rfc/rfc5077"}},
		DefaultSeverity: model.SeverityHigh,
		Tags:            []string{"tls", "vulnerability", "CWE-200", "CWE-908"},
	}
	ruleROBOT = model.Rule{
		ID:    "vuln/robot",
		Title: "ROBOT: the server is a Bleichenbacher padding oracle for RSA key exchange",
		Why: "The server answers RSA key exchanges differently depending on whether their PKCS#1 v1.5 padding is valid, and " +
			"does so consistently. With a few hundred thousand to millions of queries an attacker can decrypt recorded " +
			"sessions that used RSA key exchange, or sign with the server's key (Return Of Bleichenbacher's Oracle Threat; " +
			"F5, Citrix, Radware, Cisco, wolfSSL, Bouncy Castle, Erlang and others). " +
			"How it was tested: as SSLyze does, offering only RSA key exchange suites, five handshakes send five " +
			"ClientKeyExchange variants (valid padding, wrong first bytes, misplaced zero separator, no separator, wrong " +
			"premaster version) followed by ChangeCipherSpec and a garbage Finished, and compare the answers (alert, close, " +
			"reset, silence); if identical, five more without ChangeCipherSpec/Finished. Differences are confirmed by a " +
			"second identical round; inconsistent rounds give inconclusive. A strong oracle answers differently for wrong " +
			"first bytes than for other padding errors. Not vulnerable means identical answers to all five in both flows. " +
			"Cost: 10 connections, 15 when an oracle is seen; none without an RSA key exchange suite.",
		Fix: "Disable RSA key exchange (TLS_RSA_* suites) and keep ECDHE; also apply the vendor's fix for the oracle, since " +
			"the same key may be usable elsewhere.",
		Snippets: []model.Snippet{
			{Software: "nginx", Config: "ssl_ciphers ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL;"},
			{Software: "Postfix", Config: "smtpd_tls_exclude_ciphers = aNULL, kRSA\nsmtp_tls_exclude_ciphers = aNULL, kRSA"},
			{Software: "Dovecot", Config: "ssl_cipher_list = ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL"},
			{Software: "Prosody", Config: "ssl = { ciphers = \"ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL\" }"},
		},
		References: []model.Reference{
			{Title: "robotattack.org", URL: "https://robotattack.org/"},
			cve("CVE-2017-6168"), cve("CVE-2017-17382"), cve("CVE-2017-17427"), cve("CVE-2017-13099"),
			cve("CVE-2017-13098"), cve("CVE-2017-1000385"), cve("CVE-2017-12373"), cve("CVE-2016-6883"),
		},
		DefaultSeverity: model.SeverityHigh,
		Tags:            []string{"tls", "vulnerability", "CWE-203", "CWE-327"},
	}
	ruleInsecureReneg = model.Rule{
		ID:    "vuln/insecure-renegotiation",
		Title: "The server does not support secure renegotiation (RFC 5746)",
		Why: "The server's hello carries no renegotiation_info extension in answer to TLS_EMPTY_RENEGOTIATION_INFO_SCSV. " +
			"Without RFC 5746 an attacker on the path can splice its own plaintext in front of a client's session through " +
			"a renegotiation (CVE-2009-3555), e.g. a command executed with the victim's credentials. " +
			"How it was tested: one hello in the newest supported version up to TLS 1.2, offering the SCSV. Not vulnerable " +
			"means the server hello carries renegotiation_info. Cost: one connection (shared with the compression test).",
		Fix:             "Upgrade the TLS library: every release since 2010 implements RFC 5746.",
		Snippets:        upgradeSnippets,
		References:      []model.Reference{cve("CVE-2009-3555"), {Title: "RFC 5746 (TLS renegotiation indication extension)", URL: "https://www.rfc-editor.org/rfc/rfc5746"}},
		DefaultSeverity: model.SeverityHigh,
		Tags:            []string{"tls", "vulnerability", "CWE-300"},
	}
	ruleClientReneg = model.Rule{
		ID:    "vuln/client-renegotiation",
		Title: "The server accepts client-initiated renegotiation",
		Why: "After a completed TLS 1.2 handshake the server answered a new ClientHello from the client with a new handshake. " +
			"Each renegotiation costs the server a full key exchange for a few bytes from the client, which makes CPU " +
			"exhaustion cheap (CVE-2011-1473); with insecure renegotiation it is also the way into CVE-2009-3555. " +
			"How it was tested: a minimal TLS 1.2 client (ECDHE, AES-128-GCM) completes a handshake, sends one encrypted " +
			"ClientHello (with renegotiation_info when the server supports RFC 5746) and reads the next record; the " +
			"renegotiation is never completed. Not vulnerable means the server refused with an alert or closed the " +
			"connection. Cost: one connection.",
		Fix: "Disable client-initiated renegotiation (the default of OpenSSL 3, nginx and most current servers).",
		Snippets: []model.Snippet{
			{Software: "Postfix", Config: "tls_ssl_options = NO_RENEGOTIATION"},
			{Software: "Prosody", Config: "ssl = { options = { \"no_renegotiation\" } }"},
			{Software: "Dovecot", Config: "# Dovecot has no option: use OpenSSL 3, which refuses client-initiated renegotiation by default"},
			{Software: "nginx", Config: "# nginx refuses client-initiated renegotiation since 0.8.23: upgrade if it is older"},
		},
		References:      []model.Reference{cve("CVE-2011-1473"), cve("CVE-2009-3555")},
		DefaultSeverity: model.SeverityLow,
		Tags:            []string{"tls", "vulnerability", "dos", "CWE-400"},
	}
	ruleCRIME = model.Rule{
		ID:    "vuln/crime-compression",
		Title: "CRIME: the server compresses TLS records (DEFLATE)",
		Why: "Offered DEFLATE and null compression, the server chose DEFLATE. Compressing secrets together with data an " +
			"attacker can inject makes the ciphertext length reveal the secrets (CRIME, CVE-2012-4929): session cookies, " +
			"tokens, passwords in a protocol's own framing. " +
			"How it was tested: one hello in the newest supported version up to TLS 1.2 (shared with the renegotiation " +
			"test). Not vulnerable means the server chose null compression. Cost: one connection.",
		Fix: "Disable TLS compression (OpenSSL 1.1.0 and later have it off by default).",
		Snippets: []model.Snippet{
			{Software: "Postfix", Config: "tls_ssl_options = NO_COMPRESSION"},
			{Software: "Dovecot", Config: "ssl_options = no_compression"},
			{Software: "Prosody", Config: "ssl = { options = { \"no_compression\" } }"},
			{Software: "nginx", Config: "# nginx disables TLS compression itself since 1.3.2 / 1.2.2: upgrade if older"},
		},
		References:      []model.Reference{cve("CVE-2012-4929")},
		DefaultSeverity: model.SeverityHigh,
		Tags:            []string{"tls", "vulnerability", "CWE-200"},
	}
	ruleEarlyData = model.Rule{
		ID:    "vuln/early-data",
		Title: "The server accepts TLS 1.3 0-RTT early data, which can be replayed",
		Why: "The server accepted TLS 1.3 0-RTT early data on a resumed session. Early data is sent before the " +
			"handshake completes and is not protected against replay: an attacker who recorded it can send it again, " +
			"and a request that changes state (a message sent, a login, a command) is then executed twice (RFC 8446 §8, " +
			"§E.5). " +
			"How it was tested: a minimal TLS 1.3 client (TLS_AES_128_GCM_SHA256, X25519, P-256 or P-384) completes a handshake " +
			"and reads the first session ticket (one connection); when the ticket allows early data, a second connection " +
			"resumes it offering early_data, sends no early data, and reads the server's EncryptedExtensions. Not " +
			"vulnerable means the ticket carries no early_data extension, or the server declined early data on " +
			"resumption. Cost: one connection, two when the ticket allows early data; none without TLS 1.3.",
		Fix: "Disable 0-RTT, or accept it only for idempotent requests with replay protection.",
		Snippets: []model.Snippet{
			{Software: "nginx", Config: "ssl_early_data off;  # the default"},
			{Software: "Prosody", Config: "-- LuaSec does not enable early data; if a TLS terminator in front of Prosody does, turn it off there"},
		},
		References:      []model.Reference{{Title: "RFC 8446 §8 (0-RTT and anti-replay)", URL: "https://www.rfc-editor.org/rfc/rfc8446#section-8"}, {Title: "RFC 8470 (Using early data in HTTP)", URL: "https://www.rfc-editor.org/rfc/rfc8470"}},
		DefaultSeverity: model.SeverityMedium,
		Tags:            []string{"tls", "vulnerability", "CWE-294"},
	}
	ruleVulnInconclusive = model.Rule{
		ID:    "vuln/probe-inconclusive",
		Title: "A vulnerability probe could not decide",
		Why: "An active vulnerability probe ran (or could not run) without reaching a verdict; the finding's detail names " +
			"the probe and its message says why. It is neither a pass nor a failure: the endpoint was not shown safe " +
			"from that attack.",
		Fix:             "Read the reason; re-run the scan when it was a network problem, or test the endpoint by other means.",
		DefaultSeverity: model.SeverityInfo,
		Tags:            []string{"tls", "vulnerability", "inconclusive"},
	}
)

// VulnCheck raises the vulnerability probes' verdicts (model.VulnFacts): one rule per probe
// for "vulnerable", vuln/probe-inconclusive (detail: the probe) for "inconclusive".
func VulnCheck() Check {
	return Check{
		Name:  "vuln",
		Rules: []model.Rule{ruleHeartbleed, ruleCCSInjection, ruleTicketbleed, ruleROBOT, ruleInsecureReneg, ruleClientReneg, ruleCRIME, ruleEarlyData, ruleVulnInconclusive},
		Run: func(in *Input, r *Reporter) {
			v := in.Obs.Vulns
			if v == nil {
				return
			}
			for _, p := range []struct {
				probe string
				rule  string
				pv    *model.ProbeVerdict
			}{
				{"heartbleed", ruleHeartbleed.ID, v.Heartbleed},
				{"ccs-injection", ruleCCSInjection.ID, v.CCSInjection},
				{"ticketbleed", ruleTicketbleed.ID, v.Ticketbleed},
				{"robot", ruleROBOT.ID, v.ROBOT},
				{"secure-renegotiation", ruleInsecureReneg.ID, v.SecureRenegotiation},
				{"client-renegotiation", ruleClientReneg.ID, v.ClientRenegotiation},
				{"compression", ruleCRIME.ID, v.Compression},
				{"early-data", ruleEarlyData.ID, v.EarlyData},
			} {
				if p.pv == nil {
					continue
				}
				ev := vulnEvidence(p.probe, p.pv)
				switch p.pv.Verdict {
				case model.VerdictVulnerable:
					r.Raise(p.rule, "", p.pv.Reason, ev)
				case model.VerdictInconclusive:
					r.Raise(ruleVulnInconclusive.ID, p.probe, fmt.Sprintf("%s: %s", p.probe, p.pv.Reason), ev)
				}
			}
		},
	}
}

func vulnEvidence(probe string, pv *model.ProbeVerdict) map[string]string {
	ev := map[string]string{"probe": probe, "verdict": pv.Verdict, "connections": fmt.Sprint(pv.Connections)}
	keys := make([]string, 0, len(pv.Detail))
	for k := range pv.Detail {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		ev["detail."+k] = pv.Detail[k]
	}
	return ev
}
