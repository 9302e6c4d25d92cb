// Package reporttest builds realistic scan results for the report writers' tests: a small
// messaging estate with certificate, TLS, STARTTLS, exposure and DNS findings, a waiver, drift
// against a previous scan, and (on request) server strings carrying HTML and script payloads.
package reporttest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"fmt"
	"math/big"
	"net/netip"
	"time"

	"github.com/rampart-scan/rampart/model"
)

// Payloads that a hostile server puts into its certificate subject and banner.
const (
	ScriptPayload = `<script>alert(1)</script>`
	ImgPayload    = `"><img src=x onerror=alert(2)>`
)

// Now is the fixed time of the fixture scan.
var Now = time.Date(2026, 11, 28, 6, 0, 0, 0, time.UTC)

// Catalogue is the rule catalogue of the fixture.
var Catalogue = map[string]model.Rule{
	"cert/expired": {
		ID: "cert/expired", Title: "Certificate has expired",
		Why:             "Clients refuse expired certificates or, worse, users learn to click through the warning.",
		Fix:             "Renew the certificate and reload the service; automate renewal with ACME.",
		Snippets:        []model.Snippet{{Software: "Prosody", Config: "certificates = \"/etc/prosody/certs\"\n-- then: prosodyctl --root cert import /etc/letsencrypt/live"}},
		References:      []model.Reference{{Title: "RFC 5280 §4.1.2.5", URL: "https://www.rfc-editor.org/rfc/rfc5280#section-4.1.2.5"}},
		DefaultSeverity: model.SeverityCritical, Tags: []string{"tls", "certificate", "CWE-298"},
	},
	"tls/deprecated-protocol": {
		ID: "tls/deprecated-protocol", Title: "Deprecated TLS protocol version accepted",
		Why:             "TLS 1.0 and 1.1 are deprecated by RFC 8996 and lack modern cipher suites.",
		Fix:             "Allow only TLS 1.2 and TLS 1.3.",
		Snippets:        []model.Snippet{{Software: "nginx", Config: "ssl_protocols TLSv1.2 TLSv1.3;"}, {Software: "Postfix", Config: "smtpd_tls_protocols = >=TLSv1.2"}},
		References:      []model.Reference{{Title: "RFC 8996", URL: "https://www.rfc-editor.org/rfc/rfc8996"}},
		DefaultSeverity: model.SeverityHigh, Tags: []string{"tls", "CWE-327"},
	},
	"tls/weak-cipher": {
		ID: "tls/weak-cipher", Title: "Weak cipher suite offered",
		Why:             "CBC suites with SHA-1 are fragile and offer no forward secrecy when RSA key exchange is used.",
		Fix:             "Offer only AEAD suites with ECDHE key exchange.",
		DefaultSeverity: model.SeverityMedium, Tags: []string{"tls", "CWE-326"},
	},
	"starttls/not-offered": {
		ID: "starttls/not-offered", Title: "STARTTLS not offered",
		Why:             "Without STARTTLS, mail to this server travels in clear text.",
		Fix:             "Enable STARTTLS with a valid certificate.",
		Snippets:        []model.Snippet{{Software: "Postfix", Config: "smtpd_tls_security_level = may\nsmtpd_tls_chain_files = /etc/ssl/private/mail.pem"}},
		DefaultSeverity: model.SeverityHigh, Tags: []string{"mail", "starttls", "CWE-319"},
	},
	"exposure/database-port": {
		ID: "exposure/database-port", Title: "Database port reachable from the scan origin",
		Why:             "Databases exposed to the network are brute-forced and exploited within hours.",
		Fix:             "Bind the database to localhost or a private network and filter the port.",
		DefaultSeverity: model.SeverityCritical, Tags: []string{"exposure", "CWE-668"},
	},
	"dns/no-mta-sts": {
		ID: "dns/no-mta-sts", Title: "No MTA-STS policy",
		Why:             "Without MTA-STS (or DANE) a network attacker can strip STARTTLS from mail delivery.",
		Fix:             "Publish an MTA-STS policy and the _mta-sts TXT record.",
		DefaultSeverity: model.SeverityLow, Tags: []string{"dns", "mail"},
	},
}

// Rule looks a fixture rule up.
func Rule(id string) (model.Rule, bool) {
	r, ok := Catalogue[id]
	return r, ok
}

// Options vary the fixture.
type Options struct {
	// Hostile puts script and markup payloads into a certificate subject, a banner, a SAN and
	// a finding message.
	Hostile bool
}

func finding(e model.Endpoint, rule, detail, msg string, ev map[string]string) model.Finding {
	r := Catalogue[rule]
	return model.Finding{
		RuleID: rule, Severity: r.DefaultSeverity, Title: r.Title, Message: msg,
		Asset: e.ID(), Detail: detail, Evidence: ev,
		Fingerprint: model.FindingFingerprint(rule, e.ID(), detail),
	}
}

// Cert builds a parsed certificate fact from a real self-signed certificate with the subject
// common name cn and the given SANs.
func Cert(cn string, sans []string, notBefore, notAfter time.Time) model.Certificate {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(0x5eed),
		Subject:      pkix.Name{CommonName: cn, Organization: []string{"Example Messaging"}},
		NotBefore:    notBefore, NotAfter: notAfter, DNSNames: sans,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		panic(err)
	}
	sum := sha256.Sum256(der)
	return model.Certificate{
		Subject: c.Subject.String(), Issuer: c.Issuer.String(), Serial: c.SerialNumber.Text(16),
		NotBefore: c.NotBefore, NotAfter: c.NotAfter, DNSNames: c.DNSNames,
		KeyType: "ECDSA", KeyBits: 256, SignatureAlgorithm: c.SignatureAlgorithm.String(),
		SelfSigned: true, SHA256: hex.EncodeToString(sum[:]),
	}
}

func issued(subject, issuer string, notAfter time.Time, ca bool, seed string) model.Certificate {
	sum := sha256.Sum256([]byte(seed))
	return model.Certificate{
		Subject: subject, Issuer: issuer, Serial: hex.EncodeToString(sum[:8]),
		NotBefore: Now.AddDate(0, -2, 0), NotAfter: notAfter,
		KeyType: "ECDSA", KeyBits: 256, SignatureAlgorithm: "ECDSA-SHA256", IsCA: ca,
		SHA256: hex.EncodeToString(sum[:]),
	}
}

// Scan builds the fixture scan.
func Scan(o Options) *model.ScanResult {
	xmpp4 := model.Endpoint{Name: "xmpp.example.org", Addr: netip.MustParseAddrPort("192.0.2.7:5222"), Service: "xmpp-client",
		Source: "targets.txt:1", Origin: []string{"target example.org (targets.txt:1)", "SRV _xmpp-client._tcp.example.org → xmpp.example.org:5222", "A xmpp.example.org → 192.0.2.7"}}
	xmpp6 := xmpp4
	xmpp6.Addr = netip.MustParseAddrPort("[2001:db8::7]:5222")
	xmpp6.Origin = []string{"target example.org (targets.txt:1)", "SRV _xmpp-client._tcp.example.org → xmpp.example.org:5222", "AAAA xmpp.example.org → 2001:db8::7"}
	smtp := model.Endpoint{Name: "mail.example.org", Addr: netip.MustParseAddrPort("192.0.2.25:25"), Service: "smtp", Source: "targets.txt:2"}
	pg := model.Endpoint{Addr: netip.MustParseAddrPort("203.0.113.9:5432"), Service: "postgresql", Source: "args:1"}
	mqtt := model.Endpoint{Addr: netip.MustParseAddrPort("203.0.113.9:1883"), Service: "mqtt", Source: "args:1"}
	imap := model.Endpoint{Name: "imap.example.org", Addr: netip.MustParseAddrPort("192.0.2.30:993"), Service: "imaps", Source: "targets.txt:3"}

	subject := "xmpp.example.org"
	banner := "220 mail.example.org ESMTP Postfix"
	if o.Hostile {
		subject = "evil " + ScriptPayload + ImgPayload
		banner = "220 " + ScriptPayload + " " + ImgPayload
	}
	expired := Now.AddDate(0, 0, -12)
	leaf4 := Cert(subject, []string{"xmpp.example.org", "example.org"}, expired.AddDate(0, -3, 0), expired)
	leaf4.SelfSigned = false
	leaf4.Issuer = "CN=R11,O=Let's Encrypt,C=US"
	inter := issued("CN=R11,O=Let's Encrypt,C=US", "CN=ISRG Root X1,O=Internet Security Research Group,C=US", Now.AddDate(1, 0, 0), true, "r11")
	leaf6 := issued("CN=xmpp.example.org", "CN=R11,O=Let's Encrypt,C=US", Now.AddDate(0, 2, 0), false, "xmpp6")
	leaf6.DNSNames = []string{"xmpp.example.org", "example.org"}
	mailLeaf := issued("CN=imap.example.org", "CN=R11,O=Let's Encrypt,C=US", Now.AddDate(0, 1, 14), false, "imap")
	mailLeaf.DNSNames = []string{"imap.example.org"}

	tls12 := &model.TLSFacts{Speaks: true, Handshake: &model.Handshake{Version: "TLS 1.2", VersionID: 0x0303,
		CipherSuite: "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", SuiteID: 0xc013, ServerName: "xmpp.example.org", Latency: 41 * time.Millisecond}}
	tls13 := &model.TLSFacts{Speaks: true, Handshake: &model.Handshake{Version: "TLS 1.3", VersionID: 0x0304,
		CipherSuite: "TLS_AES_128_GCM_SHA256", SuiteID: 0x1301, ALPN: "", ServerName: "xmpp.example.org", Latency: 35 * time.Millisecond}}
	imapTLS := &model.TLSFacts{Speaks: true, Handshake: &model.Handshake{Version: "TLS 1.3", VersionID: 0x0304,
		CipherSuite: "TLS_AES_256_GCM_SHA384", SuiteID: 0x1302, ALPN: "imap", ServerName: "imap.example.org", Latency: 28 * time.Millisecond}}

	obs := func(e model.Endpoint, st model.ProbeStatus, lat time.Duration) model.Observation {
		return model.Observation{Endpoint: e, Started: Now.Add(time.Second), Duration: 3 * lat, Status: st,
			Connect: &model.ConnectFacts{Reachable: st == model.StatusOK, Latency: lat}}
	}
	o4 := obs(xmpp4, model.StatusOK, 12*time.Millisecond)
	o4.TLS = tls12
	o4.TLS.Engine = engine()
	o4.TLS.Features = handshakeFeatures()
	o4.Availability = avail(20, 20, 12*time.Millisecond)
	leaf4.CurveName, leaf4.ExtKeyUsage, leaf4.EmbeddedSCTs = "P-256", []string{"serverAuth", "clientAuth"}, 2
	leaf4.Lints = []model.LintResult{{Name: "e_sub_cert_aia_does_not_contain_ocsp_url", Status: "error", Details: "no OCSP URL"}}
	o4.Certificates = &model.CertFacts{Chain: []model.Certificate{leaf4, inter}, Trusted: false,
		TrustError: "x509: certificate has expired or is not yet valid", NameChecked: "xmpp.example.org", NameMatches: true,
		Analyzed: true, ChainOrdered: true, ChainComplete: true,
		XMPP: &model.XMPPIdentity{Domain: "example.org", Service: "xmpp-client", Matches: true, MatchedBy: "DNS-ID"}}
	o6 := obs(xmpp6, model.StatusOK, 14*time.Millisecond)
	o6.TLS = tls13
	o6.Certificates = &model.CertFacts{Chain: []model.Certificate{leaf6, inter}, Trusted: true, NameChecked: "xmpp.example.org", NameMatches: true}
	oSMTP := obs(smtp, model.StatusOK, 18*time.Millisecond)
	oSMTP.StartTLS = &model.StartTLSFacts{Protocol: "smtp", Outcome: model.StartTLSNotOffered, Greeting: banner,
		Capabilities: []string{"PIPELINING", "SIZE 10240000", "AUTH PLAIN LOGIN", "8BITMIME"}, PlaintextAuth: []string{"PLAIN", "LOGIN"}, Software: "Postfix"}
	oSMTP.Availability = avail(20, 19, 18*time.Millisecond)
	oPG := obs(pg, model.StatusOK, 9*time.Millisecond)
	no := false
	oPG.Service = &model.ServiceFacts{Port: 5432, State: model.PortOpen, Service: model.SvcPostgres, Product: "PostgreSQL",
		Banner: `E\x00\x00\x00\x84SFATAL\x00VFATAL\x00C28000`, AuthRequired: nil, StartTLS: &no,
		Probes: []string{"banner", "tls", "postgres"}, Latency: 9 * time.Millisecond}
	oMQTT := obs(mqtt, model.StatusTimeout, 0)
	oMQTT.Error = "dial 203.0.113.9:1883: i/o timeout"
	oMQTT.Connect = &model.ConnectFacts{Reachable: false}
	oMQTT.Availability = &model.AvailabilityFacts{Attempts: 5, Successes: 0, ErrorRate: 1,
		Errors: []model.AttemptError{{Stage: "connect", Error: "i/o timeout", Count: 5}}}
	oIMAP := obs(imap, model.StatusOK, 11*time.Millisecond)
	oIMAP.TLS = imapTLS
	oIMAP.Certificates = &model.CertFacts{Chain: []model.Certificate{mailLeaf, inter}, Trusted: true, NameChecked: "imap.example.org", NameMatches: true}

	weak := finding(smtp, "tls/weak-cipher", "TLS_RSA_WITH_3DES_EDE_CBC_SHA", "The server offers TLS_RSA_WITH_3DES_EDE_CBC_SHA.", map[string]string{"suite": "TLS_RSA_WITH_3DES_EDE_CBC_SHA"})
	weak.Waived = true
	weak.Waiver = &model.Waiver{Rule: "tls/weak-cipher", Reason: "Legacy fax gateway needs 3DES until the Q1 migration", Owner: "mail-team", Expires: "2027-03-31"}

	certMsg := fmt.Sprintf("The certificate %q expired on %s.", leaf4.Subject, expired.Format("2006-01-02"))
	res := &model.ScanResult{
		SchemaVersion: model.SchemaVersion,
		Tool:          model.ToolInfo{Name: "rampart", Version: "0.4.0"},
		ID:            "scan-20261128-0600",
		Status:        model.ScanComplete,
		Started:       Now, Finished: Now.Add(47 * time.Second),
		Policy: "policies/default.yaml",
		Targets: []model.Target{
			{Raw: "example.org", Source: "targets.txt:1", File: "targets.txt", Line: 1, Kind: model.TargetDomain, Host: "example.org"},
			{Raw: "mail.example.org:25", Source: "targets.txt:2", File: "targets.txt", Line: 2, Kind: model.TargetHost, Host: "mail.example.org", Port: 25},
			{Raw: "imaps://imap.example.org", Source: "targets.txt:3", File: "targets.txt", Line: 3, Kind: model.TargetHost, Host: "imap.example.org", Service: "imaps"},
			{Raw: "203.0.113.9", Source: "args:1", Line: 1, Kind: model.TargetIP, Addr: netip.MustParseAddr("203.0.113.9")},
		},
		Discovery: []model.DiscoveryNote{{Target: "example.org", Source: "targets.txt:1", Kind: "empty", Detail: "no _sip._tcp SRV record"}},
		Endpoints: []model.EndpointResult{
			{Observation: o4, Findings: []model.Finding{
				finding(xmpp4, "cert/expired", "", certMsg, map[string]string{"not_after": expired.Format(time.RFC3339), "subject": leaf4.Subject}),
				finding(xmpp4, "tls/deprecated-protocol", "TLS 1.0", "The server accepts TLS 1.0.", map[string]string{"versions": "TLS 1.0, TLS 1.2"}),
			}},
			{Observation: o6, Findings: nil},
			{Observation: oSMTP, Findings: []model.Finding{
				finding(smtp, "starttls/not-offered", "", "The EHLO reply does not list STARTTLS.", map[string]string{"banner": banner, "ehlo": "250-mail.example.org\n250 PIPELINING"}),
				weak,
			}},
			{Observation: oPG, Findings: []model.Finding{
				finding(pg, "exposure/database-port", "postgresql", "PostgreSQL answers on 203.0.113.9:5432.", map[string]string{"service": "postgresql"}),
			}},
			{Observation: oMQTT},
			{Observation: oIMAP},
		},
		Domains: []model.DomainResult{{Observation: domainObs(), Findings: []model.Finding{{
			RuleID: "dns/no-mta-sts", Severity: model.SeverityLow, Title: Catalogue["dns/no-mta-sts"].Title,
			Message: "No _mta-sts.example.org TXT record.", Asset: "domain:example.org",
			Fingerprint: model.FindingFingerprint("dns/no-mta-sts", "domain:example.org", ""),
		}}}},
	}
	return res
}

// Drift builds the change since a previous scan of the fixture: the expired certificate is
// new, and a deprecated protocol on the IPv6 address was fixed.
func Drift(s *model.ScanResult) *model.Drift {
	xmpp6 := s.Endpoints[1].Observation.Endpoint
	fixed := finding(xmpp6, "tls/deprecated-protocol", "TLS 1.1", "The server accepts TLS 1.1.", nil)
	all := s.Findings()
	active := 0
	for _, f := range all {
		if !f.Waived {
			active++
		}
	}
	return &model.Drift{
		BaseScan: "scan-20261127-0600", HeadScan: s.ID, BaseTime: Now.AddDate(0, 0, -1), HeadTime: Now,
		NewFindings:       []model.Finding{all[0]},
		FixedFindings:     []model.Finding{fixed},
		UnchangedFindings: active - 1,
		EndpointsAppeared: []string{s.Endpoints[5].Observation.Endpoint.ID()},
		CertRotations: []model.CertRotation{{Endpoint: xmpp6.ID(), OldSHA256: "9f2c…", NewSHA256: s.Endpoints[1].Observation.Certificates.Chain[0].SHA256,
			OldExpiry: Now.AddDate(0, 0, -2), NewExpiry: Now.AddDate(0, 2, 0)}},
		PortsOpened: []string{"203.0.113.9:5432"},
		Changes:     []model.FactChange{{Endpoint: xmpp6.ID(), Fact: "tls.versions", Old: "TLS 1.1, TLS 1.2, TLS 1.3", New: "TLS 1.2, TLS 1.3"}},
	}
}

// Large builds a scan with n findings spread over n/10 endpoints, for size and load benchmarks.
func Large(n int) *model.ScanResult {
	s := Scan(Options{})
	s.Endpoints = nil
	s.Domains = nil
	rules := []string{"cert/expired", "tls/deprecated-protocol", "tls/weak-cipher", "starttls/not-offered", "exposure/database-port", "dns/no-mta-sts"}
	per := 10
	for i := 0; i*per < n; i++ {
		e := model.Endpoint{Name: fmt.Sprintf("host%04d.example.net", i), Service: "smtp", Source: "targets.txt:1",
			Addr: netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), 25)}
		er := model.EndpointResult{Observation: model.Observation{Endpoint: e, Status: model.StatusOK, Started: Now,
			Connect: &model.ConnectFacts{Reachable: true, Latency: time.Duration(5+i%40) * time.Millisecond}}}
		for j := 0; j < per && i*per+j < n; j++ {
			rule := rules[(i+j)%len(rules)]
			detail := fmt.Sprintf("detail-%d", j)
			er.Findings = append(er.Findings, finding(e, rule, detail, fmt.Sprintf("Finding %d of %s on %s.", j, rule, e.HostPort()), map[string]string{"n": fmt.Sprint(j)}))
		}
		s.Endpoints = append(s.Endpoints, er)
	}
	return s
}
