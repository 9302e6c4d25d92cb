package exposure

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/rampart-scan/rampart/internal/testenv"
	"github.com/rampart-scan/rampart/model"
)

// TestRealProsody identifies a real Prosody's client port (on an unconventional port, so
// every earlier probe is tried first) as XMPP offering STARTTLS, with and without the
// domain's name.
func TestRealProsody(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real servers")
	}
	bin := testenv.LookPath(t, "prosody", "prosody")
	t.Parallel()
	dir := t.TempDir()
	for _, d := range []string{"data", "certs"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cert := selfSigned(t)
	key, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	for name, blk := range map[string]*pem.Block{
		"cert.pem": {Type: "CERTIFICATE", Bytes: cert.Certificate[0]},
		"key.pem":  {Type: "PRIVATE KEY", Bytes: key},
	} {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(blk), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	const host = "127.0.43.1"
	c2s := netip.AddrPortFrom(netip.MustParseAddr(host), freePort(t, host))
	s2s := freePort(t, host)
	conf := filepath.Join(dir, "prosody.cfg.lua")
	cfg := fmt.Sprintf(`pidfile = "%[1]s/prosody.pid"
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
ssl = { certificate = "%[1]s/cert.pem", key = "%[1]s/key.pem" }
VirtualHost "chat.exposure.test"
`, dir, host, c2s.Port(), s2s)
	if err := os.WriteFile(conf, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-F", "--config", conf)
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
	waitListening(t, filepath.Join(dir, "prosody.log"), c2s)

	for _, name := range []string{"chat.exposure.test", ""} {
		opts := IdentifyOptions{BannerWait: 500 * time.Millisecond, ProbeWait: time.Second, Budget: 15 * time.Second, ServerName: name}
		f := Identify(context.Background(), testDialer(), c2s, opts)
		t.Logf("name %q: %+v", name, f)
		if f.Service != model.SvcXMPP || f.TLS {
			t.Errorf("name %q: service=%q tls=%v probes=%v", name, f.Service, f.TLS, f.Probes)
		}
		if name != "" && (f.StartTLS == nil || !*f.StartTLS) {
			t.Errorf("name %q: StartTLS = %s", name, showBool(f.StartTLS))
		}
	}
}
