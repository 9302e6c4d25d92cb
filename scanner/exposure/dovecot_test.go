package exposure

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rampart-scan/rampart/internal/testenv"
	"github.com/rampart-scan/rampart/model"
)

// TestRealDovecot identifies a real Dovecot's IMAP, POP3 and ManageSieve listeners (each
// offering STARTTLS) from their greetings and capability lists.
func TestRealDovecot(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real servers")
	}
	bin := testenv.LookPath(t, "dovecot", "dovecot-imapd")
	testenv.NeedRoot(t) // dovecot switches to its dovecot and dovenull users
	t.Parallel()
	dir := t.TempDir()
	for _, d := range []string{dir, filepath.Dir(dir)} {
		if err := os.Chmod(d, 0o755); err != nil { // readable by the login processes
			t.Fatal(err)
		}
	}
	for _, d := range []string{"run", "state"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cert := selfSigned(t)
	key, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	writePEM := func(name, typ string, der []byte, mode os.FileMode) {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), mode); err != nil {
			t.Fatal(err)
		}
	}
	writePEM("cert.pem", "CERTIFICATE", cert.Certificate[0], 0o644)
	writePEM("key.pem", "PRIVATE KEY", key, 0o600)

	const host = "127.0.42.1"
	imap := netip.AddrPortFrom(netip.MustParseAddr(host), freePort(t, host))
	protocols := []string{"imap"}
	listeners := fmt.Sprintf("service imap-login {\n  inet_listener imap {\n    port = %d\n  }\n  inet_listener imaps {\n    port = 0\n  }\n}\n", imap.Port())
	extra := map[string]netip.AddrPort{}
	for _, x := range []struct{ proto, binary, block string }{
		{"pop3", "pop3-login", "service pop3-login {\n  inet_listener pop3 {\n    port = %d\n  }\n  inet_listener pop3s {\n    port = 0\n  }\n}\n"},
		{"sieve", "managesieve-login", "service managesieve-login {\n  inet_listener sieve {\n    port = %d\n  }\n}\n"},
	} {
		if _, err := os.Stat(filepath.Join("/usr/lib/dovecot", x.binary)); err != nil {
			if testenv.Strict() {
				t.Errorf("dovecot %s not installed", x.proto)
			}
			continue
		}
		a := netip.AddrPortFrom(netip.MustParseAddr(host), freePort(t, host))
		protocols = append(protocols, x.proto)
		listeners += fmt.Sprintf(x.block, a.Port())
		extra[x.proto] = a
	}
	conf := filepath.Join(dir, "dovecot.conf")
	cfg := fmt.Sprintf(`base_dir = %[1]s/run
state_dir = %[1]s/state
log_path = %[1]s/dovecot.log
protocols = %[2]s
listen = %[3]s
ssl = yes
ssl_cert = <%[1]s/cert.pem
ssl_key = <%[1]s/key.pem
disable_plaintext_auth = yes
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
%[4]s`, dir, strings.Join(protocols, " "), host, listeners)
	if err := os.WriteFile(conf, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-F", "-c", conf)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	waitListening(t, filepath.Join(dir, "dovecot.log"), imap)
	for _, a := range extra {
		waitListening(t, filepath.Join(dir, "dovecot.log"), a)
	}

	opts := IdentifyOptions{BannerWait: time.Second, ProbeWait: time.Second, Budget: 8 * time.Second}
	cases := []struct {
		name    string
		addr    netip.AddrPort
		service string
		product string
	}{
		{"imap", imap, model.SvcIMAP, "Dovecot"},
		{"pop3", extra["pop3"], model.SvcPOP3, "Dovecot"},
		{"sieve", extra["sieve"], model.SvcSieve, "Dovecot"}, // "Dovecot (Debian) Pigeonhole"
	}
	for _, tc := range cases {
		if !tc.addr.IsValid() {
			continue
		}
		f := Identify(context.Background(), testDialer(), tc.addr, opts)
		t.Logf("%s: %+v", tc.name, f)
		if f.Service != tc.service || !strings.HasPrefix(f.Product, tc.product) || f.StartTLS == nil || !*f.StartTLS || f.TLS {
			t.Errorf("%s: service=%q product=%q starttls=%s tls=%v", tc.name, f.Service, f.Product, showBool(f.StartTLS), f.TLS)
		}
	}
}

func waitListening(t *testing.T, logPath string, a netip.AddrPort) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", a.String(), 200*time.Millisecond); err == nil {
			_ = c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	log, _ := os.ReadFile(logPath)
	t.Fatalf("%s not listening:\n%s", a, log)
}
