package realtest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rampart-scan/rampart/internal/testenv"
	"github.com/rampart-scan/rampart/model"
)

// starttlsCase is one mail or chat server behind STARTTLS: how the full audit must see it.
type starttlsCase struct {
	target   string   // rampart's target
	name     string   // endpoint name the certificate is checked against
	service  string   // service the endpoint is audited as
	sslscan  []string // sslscan flags selecting the same dialogue
	sslAddr  string   // what sslscan connects to
	engine   truth
	starttls model.StartTLSFacts // Protocol, Outcome, Offered, Required, PlaintextAuth, Software are compared
	findings []string
	// inconclusive is the probe a vuln/probe-inconclusive finding must name.
	inconclusive string
	check        func(t *testing.T, o model.Observation)
}

// dnsHost is the address part of host:port.
func dnsHost(addr string) string {
	h, _, _ := net.SplitHostPort(addr)
	return h
}

func (c starttlsCase) run(t *testing.T, p *pki, sslscanBin string) {
	t.Helper()
	// The target is a name, resolved by an in-test DNS server, so the certificate is checked
	// against it (rampart checks no name for a bare-address target).
	resolver := nameServer(t, "127.0.96.53", map[string]string{c.name: dnsHost(c.sslAddr)})
	r, took := scan(t, "--ca-file", p.caFile, "--resolver", resolver, c.target)
	e := only(t, r)
	o := e.Observation
	if o.Endpoint.Service != c.service || o.Endpoint.Name != c.name || o.Endpoint.Addr.String() != c.sslAddr {
		t.Fatalf("endpoint = %+v", o.Endpoint)
	}
	s, w := o.StartTLS, c.starttls
	if s == nil || s.Protocol != w.Protocol || s.Outcome != model.StartTLSAccepted || !s.Offered || s.Required != w.Required ||
		!slices.Equal(s.PlaintextAuth, w.PlaintextAuth) || s.Software != w.Software || s.UnexpectedBytes != 0 {
		t.Errorf("STARTTLS facts = %+v, want %+v", s, w)
	}
	if o.TLS == nil || !o.TLS.Speaks || o.TLS.Handshake == nil {
		t.Fatalf("TLS facts = %+v", o.TLS)
	}
	checkEngine(t, o.TLS.Engine, c.engine)
	p.checkChain(t, o.Certificates, c.name)
	checkFindings(t, e, c.findings...)
	for _, f := range e.Findings {
		if f.RuleID == "vuln/probe-inconclusive" && (c.inconclusive == "" || !strings.HasPrefix(f.Message, c.inconclusive+":")) {
			t.Errorf("inconclusive probe: %s, want %q", f.Message, c.inconclusive)
		}
	}
	if c.check != nil {
		c.check(t, o)
	}

	ss, theirs := testenv.RunSSLScan(t, sslscanBin, c.sslAddr, c.sslscan...)
	compareSSLScan(t, o.TLS.Engine, ss)
	t.Logf("rampart scan process %v (%s); sslscan %v", took.Round(time.Millisecond), costs(o), theirs.Round(time.Millisecond))
}

// TestPostfixSMTP audits Debian's Postfix through SMTP STARTTLS: TLS 1.2 only, three ECDHE
// suites in the server's order, X25519 and P-384.
func TestPostfixSMTP(t *testing.T) {
	bin := testenv.LookPath(t, "postfix", "postfix")
	sslscan := testenv.LookPath(t, "sslscan", "sslscan")
	testenv.NeedRoot(t) // postfix -c with a private config directory is for root
	pfUser, err := user.Lookup("postfix")
	if err != nil {
		t.Fatalf("Debian's postfix package creates the postfix user: %v", err)
	}
	uid, _ := strconv.Atoi(pfUser.Uid)
	const host = "127.0.0.1" // Postfix binds only addresses configured on an interface
	dir := serverDir(t)
	p := newPKI(t, dir, host)
	port := testenv.FreePort(t, host)
	writeFile(t, filepath.Join(dir, "main.cf"), fmt.Sprintf(`compatibility_level = 3.6
queue_directory = %[1]s/queue
data_directory = %[1]s/data
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = mx.realtest.test
mydestination =
local_recipient_maps =
maillog_file_prefixes = %[1]s
maillog_file = %[1]s/maillog
smtpd_banner = $myhostname ESMTP $mail_name
smtpd_tls_chain_files = %[1]s/key.pem, %[1]s/chain.pem
smtpd_tls_security_level = may
smtpd_tls_protocols = !SSLv2, !SSLv3, !TLSv1, !TLSv1.1, !TLSv1.3
smtpd_tls_ciphers = high
tls_high_cipherlist = ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-SHA
tls_preempt_cipherlist = yes
smtpd_tls_eecdh_grade = auto
tls_eecdh_auto_curves = X25519 secp384r1
`, dir), 0o644)
	writeFile(t, filepath.Join(dir, "master.cf"), fmt.Sprintf(`127.0.0.1:%d inet n - n - - smtpd
anvil unix - - n - 1 anvil
proxymap unix - - n - - proxymap
tlsmgr unix - - n 1000? 1 tlsmgr
postlog unix-dgram n - n - 1 postlogd
`, port), 0o644)
	for _, d := range []string{"queue", "data"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chown(filepath.Join(dir, "data"), uid, -1); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "-c", dir, "check").CombinedOutput(); err != nil {
		t.Fatalf("postfix check: %v\n%s", err, out)
	}
	stop := func() { _ = exec.Command(bin, "-c", dir, "stop").Run() }
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	testenv.StartServer(t, exec.Command(bin, "-c", dir, "start-fg"), stop, filepath.Join(dir, "maillog"), addr)

	starttlsCase{
		target: fmt.Sprintf("smtp://mx.realtest.test:%d", port), name: "mx.realtest.test", service: "smtp",
		sslscan: []string{"--starttls-smtp"}, sslAddr: addr,
		engine: truth{suites: map[string][]string{"TLS 1.2": {"ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-RSA-CHACHA20-POLY1305", "ECDHE-RSA-AES128-SHA"}},
			preference: "server", groups: []string{"x25519", "secp384r1"}, groupsVer: "TLS 1.2"},
		starttls: model.StartTLSFacts{Protocol: "smtp", Offered: true, Software: "Postfix"},
		// All true of this configuration: TLS 1.3 is off, a CBC suite is on, nothing is
		// stapled (no OCSP responder), and the client-renegotiation probe needs an
		// ECDHE AES-128-GCM suite this server does not have.
		findings:     []string{"tls/no-tls13", "vuln/lucky13", "tls/no-ocsp-stapling", "vuln/probe-inconclusive"},
		inconclusive: "client-renegotiation",
	}.run(t, p, sslscan)
}

// TestDovecotIMAP audits Debian's Dovecot through IMAP STARTTLS: TLS 1.2 and 1.3 with two
// suites each in the server's order, P-384 and P-256, and clear-text login allowed before
// TLS (disable_plaintext_auth = no), which must be reported.
func TestDovecotIMAP(t *testing.T) {
	bin := testenv.LookPath(t, "dovecot", "dovecot-imapd")
	sslscan := testenv.LookPath(t, "sslscan", "sslscan")
	testenv.NeedRoot(t) // dovecot drops to its dovecot/dovenull users
	const host = "127.0.94.1"
	dir := serverDir(t)
	p := newPKI(t, dir, host)
	port := testenv.FreePort(t, host)
	for _, d := range []string{"run", "state"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	conf := filepath.Join(dir, "dovecot.conf")
	writeFile(t, conf, fmt.Sprintf(`base_dir = %[1]s/run
state_dir = %[1]s/state
log_path = %[1]s/dovecot.log
protocols = imap
listen = %[2]s
ssl = yes
ssl_cert = <%[1]s/chain.pem
ssl_key = <%[1]s/key.pem
ssl_min_protocol = TLSv1.2
ssl_cipher_list = ECDHE-RSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-GCM-SHA256
ssl_cipher_suites = TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256
ssl_curve_list = P-384:P-256
ssl_prefer_server_ciphers = yes
disable_plaintext_auth = no
auth_mechanisms = plain login
passdb {
  driver = static
  args = password=unused
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=/nonexistent
}
default_internal_user = dovecot
default_login_user = dovenull
service imap-login {
  inet_listener imap {
    port = %[3]d
  }
  inet_listener imaps {
    port = 0
  }
}
`, dir, host, port), 0o644)
	cmd := exec.Command(bin, "-F", "-c", conf)
	stop := func() { _ = cmd.Process.Signal(syscall.SIGTERM) }
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	testenv.StartServer(t, cmd, stop, filepath.Join(dir, "dovecot.log"), addr)

	starttlsCase{
		target: fmt.Sprintf("imap://imap.realtest.test:%d", port), name: "imap.realtest.test", service: "imap",
		sslscan: []string{"--starttls-imap"}, sslAddr: addr,
		engine: truth{suites: map[string][]string{
			"TLS 1.2": {"ECDHE-RSA-CHACHA20-POLY1305", "ECDHE-RSA-AES128-GCM-SHA256"},
			"TLS 1.3": {"TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_GCM_SHA256"}},
			preference: "server", groups: []string{"secp384r1", "secp256r1"}, groupsVer: "TLS 1.3"},
		starttls: model.StartTLSFacts{Protocol: "imap", Offered: true, Software: "Dovecot", PlaintextAuth: []string{"PLAIN", "LOGIN"}},
		// Dovecot answers a resumed ticket with a session ID of its own, so the Ticketbleed
		// probe cannot tell (an honest inconclusive); nothing is stapled.
		findings:     []string{"starttls/plaintext-auth", "tls/no-ocsp-stapling", "vuln/probe-inconclusive"},
		inconclusive: "ticketbleed",
	}.run(t, p, sslscan)
}

// TestProsodyXMPP audits Debian's Prosody through XMPP client STARTTLS (required) for the
// domain chat.realtest.test, resolved through an in-test DNS server: TLS 1.2 and 1.3, two
// TLS 1.2 suites in the server's order, one TLS 1.3 suite, P-384 only.
func TestProsodyXMPP(t *testing.T) {
	bin := testenv.LookPath(t, "prosody", "prosody")
	sslscan := testenv.LookPath(t, "sslscan", "sslscan")
	const host, domain = "127.0.95.1", "chat.realtest.test"
	dir := serverDir(t)
	p := newPKI(t, dir, host)
	c2s, s2s := testenv.FreePort(t, host), testenv.FreePort(t, host)
	for _, d := range []string{"data", "certs"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	conf := filepath.Join(dir, "prosody.cfg.lua")
	writeFile(t, conf, fmt.Sprintf(`pidfile = "%[1]s/prosody.pid"
run_as_root = true
data_path = "%[1]s/data"
certificates = "%[1]s/certs"
interfaces = { "%[2]s" }
local_interfaces = { "%[2]s" }
c2s_ports = { %[3]d }
s2s_ports = { %[4]d }
modules_enabled = { "tls", "saslauth", "disco" }
log = { { levels = { min = "info" }, to = "file", filename = "%[1]s/prosody.log" } }
authentication = "internal_hashed"
c2s_require_encryption = true
s2s_require_encryption = true
ssl = {
  certificate = "%[1]s/chain.pem";
  key = "%[1]s/key.pem";
  protocol = "tlsv1_2+";
  ciphers = "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256";
  ciphersuites = "TLS_AES_128_GCM_SHA256";
  curveslist = { "secp384r1" };
  options = { "cipher_server_preference", "no_compression" };
}
VirtualHost "%[5]s"
-- sslscan's XMPP dialogue names the address it connects to as the stream's domain.
VirtualHost "%[2]s"
`, dir, host, c2s, s2s, domain), 0o644)
	cmd := exec.Command(bin, "-F", "--config", conf)
	stop := func() { _ = cmd.Process.Signal(syscall.SIGTERM) }
	addr := net.JoinHostPort(host, strconv.Itoa(c2s))
	testenv.StartServer(t, cmd, stop, filepath.Join(dir, "prosody.log"), addr)

	starttlsCase{
		target: fmt.Sprintf("xmpp://%s:%d", domain, c2s), name: domain, service: "xmpp-client",
		sslscan: []string{"--starttls-xmpp", "--sni-name=" + domain}, sslAddr: addr,
		engine: truth{suites: map[string][]string{
			"TLS 1.2": {"ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-RSA-AES128-GCM-SHA256"},
			"TLS 1.3": {"TLS_AES_128_GCM_SHA256"}},
			preference: "server", groups: []string{"secp384r1"}, groupsVer: "TLS 1.3"},
		starttls: model.StartTLSFacts{Protocol: "xmpp-client", Offered: true, Required: true},
		findings: []string{"tls/no-ocsp-stapling"},
		check: func(t *testing.T, o model.Observation) {
			if x := o.Certificates.XMPP; x == nil || x.Domain != domain || x.Service != "xmpp-client" || !x.Matches || x.MatchedBy != "DNS-ID" {
				t.Errorf("XMPP identity = %+v, want %s matched by its DNS-ID", x, domain)
			}
			if s := o.StartTLS; !strings.Contains(s.Greeting, "from="+domain) {
				t.Errorf("stream greeting %q is not from %s", s.Greeting, domain)
			}
		},
	}.run(t, p, sslscan)
}
