package starttls

import (
	"context"
	"errors"
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

// Real peers: each test starts Debian's server as its own child with a configuration written
// to a temporary directory, on loopback high ports, and stops it at the end. After Negotiate a
// full TLS handshake proves the connection was left exactly at the ClientHello.

// serverDir makes a temporary directory the servers' unprivileged users can traverse, holding
// the test certificate and key.
func serverDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{dir, filepath.Dir(dir)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	selfSigned(t)
	writeFile(t, filepath.Join(dir, "cert.pem"), string(certPEM), 0o644)
	writeFile(t, filepath.Join(dir, "key.pem"), string(keyPEM), 0o600)
	return dir
}

func writeFile(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
}

// negotiateReal dials addr (from local when set), runs Negotiate and returns the conn.
func negotiateReal(t *testing.T, addr, local, proto string, opts Options) (net.Conn, *model.StartTLSFacts, error) {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second}
	if local != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(local)}
	}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	_ = c.SetDeadline(time.Now().Add(15 * time.Second))
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	f, err := Negotiate(ctx, c, proto, opts)
	if f != nil {
		checkBounded(t, f)
		t.Logf("%s %s: %+v (err %v)", proto, addr, *f, err)
	}
	return c, f, err
}

func TestRealPostfix(t *testing.T) {
	bin := testenv.LookPath(t, "postfix", "postfix")
	testenv.NeedRoot(t) // postfix -c with a private config directory is for root, and chowns its data directory
	pfUser, err := user.Lookup("postfix")
	if err != nil {
		t.Fatalf("Debian's postfix package creates the postfix user: %v", err)
	}
	uid, _ := strconv.Atoi(pfUser.Uid)
	dir := serverDir(t)
	tlsPort, plainPort := testenv.FreePort(t, "127.0.0.1"), testenv.FreePort(t, "127.0.0.1")
	// Postfix only binds addresses configured on an interface, so both listeners are on
	// 127.0.0.1; the second one has TLS switched off.
	writeFile(t, filepath.Join(dir, "main.cf"), fmt.Sprintf(`compatibility_level = 3.6
queue_directory = %[1]s/queue
data_directory = %[1]s/data
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = mx.starttls.test
mydestination =
local_recipient_maps =
maillog_file_prefixes = %[1]s
maillog_file = %[1]s/maillog
smtpd_banner = $myhostname ESMTP $mail_name
smtpd_tls_chain_files = %[1]s/key.pem, %[1]s/cert.pem
smtpd_tls_security_level = may
`, dir), 0o644)
	writeFile(t, filepath.Join(dir, "master.cf"), fmt.Sprintf(`127.0.0.1:%d inet n - n - - smtpd
127.0.0.1:%d inet n - n - - smtpd -o smtpd_tls_security_level=none
anvil unix - - n - 1 anvil
proxymap unix - - n - - proxymap
tlsmgr unix - - n 1000? 1 tlsmgr
postlog unix-dgram n - n - 1 postlogd
`, tlsPort, plainPort), 0o644)
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
	tlsAddr, plainAddr := fmt.Sprintf("127.0.0.1:%d", tlsPort), fmt.Sprintf("127.0.0.1:%d", plainPort)
	testenv.StartServer(t, exec.Command(bin, "-c", dir, "start-fg"), stop, filepath.Join(dir, "maillog"), tlsAddr, plainAddr)

	t.Run("starttls", func(t *testing.T) {
		c, f, err := negotiateReal(t, tlsAddr, "", "smtp", Options{})
		if err != nil {
			t.Fatalf("Negotiate: %v", err)
		}
		wantEq(t, f.Outcome, model.StartTLSAccepted)
		want(t, f.Offered, "STARTTLS offered")
		wantEq(t, f.Software, "Postfix")
		wantEq(t, f.Greeting, "mx.starttls.test ESMTP Postfix")
		want(t, slices.Contains(f.Capabilities, "STARTTLS"), "STARTTLS in capabilities")
		wantList(t, f.PlaintextAuth, nil) // no SASL configured
		proveTLS(t, c, "mx.starttls.test")
	})
	t.Run("tls-off", func(t *testing.T) {
		_, f, err := negotiateReal(t, plainAddr, "", "smtp", Options{})
		if !errors.Is(err, ErrNotOffered) {
			t.Fatalf("err = %v, want ErrNotOffered", err)
		}
		wantEq(t, f.Outcome, model.StartTLSNotOffered)
		want(t, !f.Offered, "STARTTLS not offered")
	})
	t.Run("tls-off-forced", func(t *testing.T) {
		_, f, err := negotiateReal(t, plainAddr, "", "smtp", Options{Force: true})
		if !errors.Is(err, ErrRefused) {
			t.Fatalf("err = %v, want ErrRefused", err)
		}
		wantEq(t, f.ReplyCode, "502") // Postfix: "5.5.1 Error: command not implemented"
	})
}

// dovecotExtras are the Dovecot protocols beyond IMAP: name, Debian package, the binary that
// package installs, the listener block, and the dialogue that speaks it.
var dovecotExtras = []struct {
	protocol, pkg, binary, proto string
	listener                     string // %d is the port
}{
	{"pop3", "dovecot-pop3d", "pop3-login", "pop3", "service pop3-login {\n  inet_listener pop3 {\n    port = %d\n  }\n  inet_listener pop3s {\n    port = 0\n  }\n}\n"},
	{"sieve", "dovecot-managesieved", "managesieve-login", "sieve", "service managesieve-login {\n  inet_listener sieve {\n    port = %d\n  }\n}\n"},
	{"lmtp", "dovecot-lmtpd", "lmtp", "lmtp", "service lmtp {\n  inet_listener lmtp {\n    port = %d\n  }\n}\n"},
}

func TestRealDovecot(t *testing.T) {
	bin := testenv.LookPath(t, "dovecot", "dovecot-imapd")
	testenv.NeedRoot(t) // dovecot drops to its dovecot/dovenull users
	dir := serverDir(t)
	const host = "127.0.86.1"
	port := testenv.FreePort(t, host)
	for _, d := range []string{"run", "state"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// The other protocols run in the same server when their packages are installed; a missing
	// one is skipped (failed under RAMPART_REAL_SERVERS=1) in its own subtest below.
	protocols, listeners := []string{"imap"}, ""
	extraAddr := map[string]string{}
	for _, x := range dovecotExtras {
		if _, err := os.Stat(filepath.Join("/usr/lib/dovecot", x.binary)); err != nil {
			continue
		}
		p := testenv.FreePort(t, host)
		protocols = append(protocols, x.protocol)
		listeners += fmt.Sprintf(x.listener, p)
		extraAddr[x.protocol] = net.JoinHostPort(host, strconv.Itoa(p))
	}
	conf := filepath.Join(dir, "dovecot.conf")
	writeFile(t, conf, fmt.Sprintf(`base_dir = %[1]s/run
state_dir = %[1]s/state
log_path = %[1]s/dovecot.log
protocols = %[4]s
listen = %[2]s
ssl = yes
ssl_cert = <%[1]s/cert.pem
ssl_key = <%[1]s/key.pem
disable_plaintext_auth = yes
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
%[5]s`, dir, host, port, strings.Join(protocols, " "), listeners), 0o644)
	cmd := exec.Command(bin, "-F", "-c", conf)
	stop := func() {
		if cmd.Process != nil {
			_ = cmd.Process.Signal(syscall.SIGTERM)
		}
	}
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	addrs := []string{addr}
	for _, a := range extraAddr {
		addrs = append(addrs, a)
	}
	testenv.StartServer(t, cmd, stop, filepath.Join(dir, "dovecot.log"), addrs...)

	t.Run("imap-starttls-logindisabled", func(t *testing.T) {
		c, f, err := negotiateReal(t, addr, "127.0.0.1", "imap", Options{})
		if err != nil {
			t.Fatalf("Negotiate: %v", err)
		}
		wantEq(t, f.Outcome, model.StartTLSAccepted)
		want(t, f.Offered, "STARTTLS offered")
		wantEq(t, f.Software, "Dovecot")
		want(t, slices.Contains(f.Capabilities, "LOGINDISABLED"), "LOGINDISABLED advertised")
		wantList(t, f.PlaintextAuth, nil)
		proveTLS(t, c, "")
	})
	// Dovecot treats a client whose address equals the server's as secured and then allows
	// clear-text authentication (its documented disable_plaintext_auth exception): the same
	// server, reached from its own address, advertises AUTH=PLAIN and LOGIN before TLS.
	t.Run("imap-plaintext-auth-from-own-address", func(t *testing.T) {
		c, f, err := negotiateReal(t, addr, host, "imap", Options{})
		if err != nil {
			t.Fatalf("Negotiate: %v", err)
		}
		wantList(t, f.PlaintextAuth, []string{"PLAIN", "LOGIN"})
		proveTLS(t, c, "")
	})
	for _, x := range dovecotExtras {
		t.Run(x.protocol, func(t *testing.T) {
			testenv.LookPath(t, filepath.Join("/usr/lib/dovecot", x.binary), x.pkg)
			c, f, err := negotiateReal(t, extraAddr[x.protocol], "127.0.0.1", x.proto, Options{})
			if err != nil {
				t.Fatalf("Negotiate: %v", err)
			}
			want(t, f.Offered, "STARTTLS offered")
			want(t, strings.Contains(f.Software, "Dovecot"), "Dovecot named")
			wantList(t, f.PlaintextAuth, nil)
			proveTLS(t, c, "")
		})
	}
}

func TestRealProsody(t *testing.T) {
	bin := testenv.LookPath(t, "prosody", "prosody")
	dir := serverDir(t)
	const host = "127.0.87.1"
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
ssl = { certificate = "%[1]s/cert.pem", key = "%[1]s/key.pem" }
VirtualHost "chat.starttls.test"
VirtualHost "open.starttls.test"
  c2s_require_encryption = false
  allow_unencrypted_plain_auth = true
`, dir, host, c2s, s2s), 0o644)
	cmd := exec.Command(bin, "-F", "--config", conf)
	stop := func() {
		if cmd.Process != nil {
			_ = cmd.Process.Signal(syscall.SIGTERM)
		}
	}
	c2sAddr, s2sAddr := net.JoinHostPort(host, strconv.Itoa(c2s)), net.JoinHostPort(host, strconv.Itoa(s2s))
	testenv.StartServer(t, cmd, stop, filepath.Join(dir, "prosody.log"), c2sAddr, s2sAddr)

	t.Run("c2s-required", func(t *testing.T) {
		c, f, err := negotiateReal(t, c2sAddr, "", "xmpp-client", Options{Domain: "chat.starttls.test"})
		if err != nil {
			t.Fatalf("Negotiate: %v", err)
		}
		want(t, f.Offered && f.Required, "STARTTLS offered and required")
		wantList(t, f.PlaintextAuth, nil)
		want(t, strings.Contains(f.Greeting, "from=chat.starttls.test"), "stream from the domain")
		proveTLS(t, c, "chat.starttls.test")
	})
	t.Run("c2s-optional-plain", func(t *testing.T) {
		c, f, err := negotiateReal(t, c2sAddr, "", "xmpp-client", Options{Domain: "open.starttls.test"})
		if err != nil {
			t.Fatalf("Negotiate: %v", err)
		}
		want(t, f.Offered && !f.Required, "STARTTLS offered, not required")
		wantList(t, f.PlaintextAuth, []string{"PLAIN"})
		proveTLS(t, c, "open.starttls.test")
	})
	t.Run("s2s-required", func(t *testing.T) {
		c, f, err := negotiateReal(t, s2sAddr, "", "xmpp-server", Options{Domain: "chat.starttls.test", From: "scanner.starttls.test"})
		if err != nil {
			t.Fatalf("Negotiate: %v", err)
		}
		want(t, f.Offered && f.Required, "STARTTLS offered and required on s2s")
		proveTLS(t, c, "chat.starttls.test")
	})
	t.Run("unknown-host", func(t *testing.T) {
		_, f, err := negotiateReal(t, c2sAddr, "", "xmpp-client", Options{Domain: "nobody.test"})
		if err == nil || !strings.Contains(err.Error(), "host-unknown") {
			t.Fatalf("err = %v, want a host-unknown stream error", err)
		}
		wantEq(t, f.Outcome, model.StartTLSFailed)
	})
}

func TestRealPostgres(t *testing.T) {
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/postgres")
	if len(bins) == 0 {
		testenv.LookPath(t, "postgres", "postgresql") // skips, or fails under RAMPART_REAL_SERVERS=1
	}
	slices.Sort(bins)
	bin := bins[len(bins)-1]
	testenv.NeedRoot(t) // the server runs as the postgres user, which root switches to
	pgUser, err := user.Lookup("postgres")
	if err != nil {
		t.Fatalf("Debian's postgresql package creates the postgres user: %v", err)
	}
	uid, _ := strconv.Atoi(pgUser.Uid)
	gid, _ := strconv.Atoi(pgUser.Gid)
	asPostgres := &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
	dir := serverDir(t)
	data := filepath.Join(dir, "data")
	for _, p := range []string{dir, filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")} {
		if err := os.Chown(p, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	initdb := exec.Command(filepath.Join(filepath.Dir(bin), "initdb"), "-D", data, "-A", "trust", "-U", "postgres", "-N", "--locale=C", "-E", "UTF8")
	initdb.SysProcAttr = asPostgres
	if out, err := initdb.CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	const host = "127.0.88.1"
	port := testenv.FreePort(t, host)
	confPath := filepath.Join(data, "postgresql.conf")
	base, err := os.ReadFile(confPath)
	if err != nil {
		t.Fatal(err)
	}
	setSSL := func(on string) {
		conf := fmt.Sprintf("%s\nlisten_addresses = '%s'\nport = %d\nunix_socket_directories = '%s'\nssl = %s\nssl_cert_file = '%s/cert.pem'\nssl_key_file = '%s/key.pem'\n",
			base, host, port, dir, on, dir, dir)
		writeFile(t, confPath, conf, 0o600)
	}
	setSSL("on")
	cmd := exec.Command(bin, "-D", data)
	cmd.SysProcAttr = asPostgres
	stop := func() {
		if cmd.Process != nil {
			_ = cmd.Process.Signal(syscall.SIGINT) // fast shutdown
		}
	}
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	testenv.StartServer(t, cmd, stop, "", addr)

	t.Run("ssl-on", func(t *testing.T) {
		c, f, err := negotiateReal(t, addr, "", "postgres", Options{})
		if err != nil {
			t.Fatalf("Negotiate: %v", err)
		}
		want(t, f.Offered, "TLS accepted")
		proveTLS(t, c, "")
	})
	t.Run("ssl-off", func(t *testing.T) {
		setSSL("off")
		if err := cmd.Process.Signal(syscall.SIGHUP); err != nil { // ssl is reloadable
			t.Fatal(err)
		}
		var f *model.StartTLSFacts
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			_, f, err = negotiateReal(t, addr, "", "postgres", Options{})
			if errors.Is(err, ErrRefused) {
				break
			}
		}
		if !errors.Is(err, ErrRefused) {
			t.Fatalf("after reload with ssl = off: err = %v, want ErrRefused", err)
		}
		wantEq(t, f.ReplyCode, "N")
		wantEq(t, f.Outcome, model.StartTLSRefused)
	})
}

// startMariaDB runs mariadbd on host:port with its own empty data directory; without grant
// tables it still sends the handshake, which is all the dialogue needs.
func startMariaDB(t *testing.T, bin, dir, name, host string, port int, tlsOn bool) string {
	t.Helper()
	data := filepath.Join(dir, name)
	if err := os.Mkdir(data, 0o755); err != nil {
		t.Fatal(err)
	}
	args := []string{"--no-defaults", "--user=root", "--datadir=" + data, "--socket=" + data + "/sock",
		"--pid-file=" + data + "/pid", "--bind-address=" + host, "--port=" + strconv.Itoa(port),
		"--skip-grant-tables", "--log-error=" + data + "/err.log", "--innodb-buffer-pool-size=8M"}
	if tlsOn {
		args = append(args, "--ssl-cert="+dir+"/cert.pem", "--ssl-key="+dir+"/key.pem")
	}
	cmd := exec.Command(bin, args...)
	stop := func() {
		if cmd.Process != nil {
			_ = cmd.Process.Signal(syscall.SIGTERM)
		}
	}
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	testenv.StartServer(t, cmd, stop, data+"/err.log", addr)
	return addr
}

func TestRealMariaDB(t *testing.T) {
	bin := testenv.LookPath(t, "mariadbd", "mariadb-server-core")
	testenv.NeedRoot(t) // runs as root (--user=root): Debian creates the mysql user only in mariadb-server
	dir := serverDir(t)
	const host = "127.0.89.1"
	tlsAddr := startMariaDB(t, bin, dir, "tls", host, testenv.FreePort(t, host), true)
	plainAddr := startMariaDB(t, bin, dir, "plain", host, testenv.FreePort(t, host), false)

	t.Run("client-ssl", func(t *testing.T) {
		c, f, err := negotiateReal(t, tlsAddr, "", "mysql", Options{})
		if err != nil {
			t.Fatalf("Negotiate: %v", err)
		}
		want(t, f.Offered, "CLIENT_SSL offered")
		want(t, strings.Contains(f.Software, "MariaDB"), "MariaDB version recorded")
		proveTLS(t, c, "")
	})
	t.Run("no-ssl", func(t *testing.T) {
		_, f, err := negotiateReal(t, plainAddr, "", "mysql", Options{})
		if !errors.Is(err, ErrNotOffered) {
			t.Fatalf("err = %v, want ErrNotOffered", err)
		}
		want(t, !f.Offered, "CLIENT_SSL not offered")
	})
}

func TestRealSlapd(t *testing.T) {
	bin := testenv.LookPath(t, "slapd", "slapd")
	dir := serverDir(t)
	const host = "127.0.90.1"
	start := func(name string, tlsOn bool) string {
		conf := fmt.Sprintf("include /etc/ldap/schema/core.schema\npidfile %s/%s.pid\n", dir, name)
		if tlsOn {
			conf += fmt.Sprintf("TLSCertificateFile %[1]s/cert.pem\nTLSCertificateKeyFile %[1]s/key.pem\n", dir)
		}
		path := filepath.Join(dir, name+".conf")
		writeFile(t, path, conf, 0o644)
		addr := net.JoinHostPort(host, strconv.Itoa(testenv.FreePort(t, host)))
		cmd := exec.Command(bin, "-d", "0", "-f", path, "-h", "ldap://"+addr+"/")
		stop := func() {
			if cmd.Process != nil {
				_ = cmd.Process.Signal(syscall.SIGTERM)
			}
		}
		testenv.StartServer(t, cmd, stop, "", addr)
		return addr
	}
	tlsAddr, plainAddr := start("tls", true), start("plain", false)

	t.Run("starttls", func(t *testing.T) {
		c, f, err := negotiateReal(t, tlsAddr, "", "ldap", Options{})
		if err != nil {
			t.Fatalf("Negotiate: %v", err)
		}
		want(t, f.Offered, "StartTLS accepted")
		proveTLS(t, c, "")
	})
	t.Run("no-tls-configured", func(t *testing.T) {
		_, f, err := negotiateReal(t, plainAddr, "", "ldap", Options{})
		if !errors.Is(err, ErrRefused) {
			t.Fatalf("err = %v, want ErrRefused", err)
		}
		wantEq(t, f.ReplyCode, "2 protocolError")
		wantEq(t, f.ReplyText, "unsupported extended operation")
	})
}

func TestRealVsftpd(t *testing.T) {
	bin := testenv.LookPath(t, "vsftpd", "vsftpd")
	testenv.NeedRoot(t) // vsftpd refuses to start unprivileged
	dir := serverDir(t)
	empty := filepath.Join(dir, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	const host = "127.0.91.1"
	start := func(name string, tlsOn bool) string {
		port := testenv.FreePort(t, host)
		ssl := "NO"
		if tlsOn {
			ssl = "YES"
		}
		path := filepath.Join(dir, name+".conf")
		writeFile(t, path, fmt.Sprintf(`listen=YES
listen_ipv6=NO
listen_address=%s
listen_port=%d
background=NO
anonymous_enable=NO
local_enable=YES
secure_chroot_dir=%s
ssl_enable=%s
rsa_cert_file=%s/cert.pem
rsa_private_key_file=%s/key.pem
ftpd_banner=Rampart test FTP
`, host, port, empty, ssl, dir, dir), 0o600)
		cmd := exec.Command(bin, path)
		stop := func() {
			if cmd.Process != nil {
				_ = cmd.Process.Signal(syscall.SIGTERM)
			}
		}
		addr := net.JoinHostPort(host, strconv.Itoa(port))
		testenv.StartServer(t, cmd, stop, "", addr)
		return addr
	}
	tlsAddr, plainAddr := start("tls", true), start("plain", false)

	t.Run("auth-tls", func(t *testing.T) {
		c, f, err := negotiateReal(t, tlsAddr, "", "ftp", Options{})
		if err != nil {
			t.Fatalf("Negotiate: %v", err)
		}
		want(t, f.Offered, "AUTH TLS offered")
		wantEq(t, f.Greeting, "Rampart test FTP")
		want(t, slices.Contains(f.Capabilities, "AUTH TLS"), "AUTH TLS feature recorded")
		proveTLS(t, c, "")
	})
	t.Run("tls-off", func(t *testing.T) {
		_, f, err := negotiateReal(t, plainAddr, "", "ftp", Options{})
		if !errors.Is(err, ErrNotOffered) {
			t.Fatalf("err = %v, want ErrNotOffered", err)
		}
		want(t, !f.Offered, "AUTH TLS not offered")
	})
}
