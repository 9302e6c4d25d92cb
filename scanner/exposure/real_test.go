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
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rampart-scan/rampart/internal/testenv"
	"github.com/rampart-scan/rampart/model"
)

// freePort finds a port nothing listens on at host.
func freePort(t *testing.T, host string) uint16 {
	t.Helper()
	ln, err := net.Listen("tcp", host+":0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return netip.MustParseAddrPort(ln.Addr().String()).Port()
}

// start runs a real server until the test ends and waits until addr accepts connections.
func start(t *testing.T, addr netip.AddrPort, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	out, err := os.Create(filepath.Join(t.TempDir(), "out.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", addr.String(), 200*time.Millisecond)
		if err == nil {
			_ = c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	log, _ := os.ReadFile(out.Name())
	t.Fatalf("%s did not listen on %s:\n%s", name, addr, log)
}

func startRedis(t *testing.T, host string, extra ...string) netip.AddrPort {
	bin := testenv.LookPath(t, "redis-server", "redis-server")
	addr := netip.AddrPortFrom(netip.MustParseAddr(host), freePort(t, host))
	args := append([]string{"--port", strconv.Itoa(int(addr.Port())), "--bind", host, "--save", "", "--appendonly", "no",
		"--dir", t.TempDir(), "--daemonize", "no"}, extra...)
	start(t, addr, bin, args...)
	return addr
}

func startSSHD(t *testing.T, host string) netip.AddrPort {
	bin := testenv.LookPath(t, "sshd", "openssh-server")
	keygen := testenv.LookPath(t, "ssh-keygen", "openssh-client")
	testenv.NeedRoot(t) // sshd insists on root-owned files and its privilege-separation dir
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		t.Fatalf("privilege separation dir: %v", err)
	}
	dir := t.TempDir()
	key := filepath.Join(dir, "host_ed25519")
	if out, err := exec.Command(keygen, "-q", "-t", "ed25519", "-N", "", "-f", key).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v: %s", err, out)
	}
	addr := netip.AddrPortFrom(netip.MustParseAddr(host), freePort(t, host))
	conf := filepath.Join(dir, "sshd_config")
	cfg := fmt.Sprintf("ListenAddress %s\nHostKey %s\nPidFile %s\nUsePAM no\nStrictModes no\nPasswordAuthentication no\n",
		host, key, filepath.Join(dir, "sshd.pid"))
	if err := os.WriteFile(conf, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	start(t, addr, bin, "-D", "-e", "-f", conf, "-p", strconv.Itoa(int(addr.Port())))
	return addr
}

// startNginx serves plain HTTP on the returned address and HTTPS (self-signed) on the second.
func startNginx(t *testing.T, host string) (netip.AddrPort, netip.AddrPort) {
	bin := testenv.LookPath(t, "nginx", "nginx")
	prefix := t.TempDir()
	addr := netip.AddrPortFrom(netip.MustParseAddr(host), freePort(t, host))
	tlsAddr := netip.AddrPortFrom(netip.MustParseAddr(host), freePort(t, host))
	cert := selfSigned(t)
	key, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	for name, blk := range map[string]*pem.Block{
		"cert.pem": {Type: "CERTIFICATE", Bytes: cert.Certificate[0]},
		"key.pem":  {Type: "PRIVATE KEY", Bytes: key},
	} {
		if err := os.WriteFile(filepath.Join(prefix, name), pem.EncodeToMemory(blk), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	conf := filepath.Join(prefix, "nginx.conf")
	cfg := fmt.Sprintf(`daemon off;
master_process off;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path %[1]s/body;
  proxy_temp_path %[1]s/proxy;
  fastcgi_temp_path %[1]s/fastcgi;
  uwsgi_temp_path %[1]s/uwsgi;
  scgi_temp_path %[1]s/scgi;
  server {
    listen %[2]s;
    location / { return 200 "rampart test\n"; }
  }
  server {
    listen %[3]s ssl;
    ssl_certificate %[1]s/cert.pem;
    ssl_certificate_key %[1]s/key.pem;
    location / { return 200 "rampart tls test\n"; }
  }
}
`, prefix, addr, tlsAddr)
	if err := os.WriteFile(conf, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	start(t, addr, bin, "-p", prefix, "-c", conf)
	return addr, tlsAddr
}

func startMemcached(t *testing.T, host string) netip.AddrPort {
	bin := testenv.LookPath(t, "memcached", "memcached")
	addr := netip.AddrPortFrom(netip.MustParseAddr(host), freePort(t, host))
	args := []string{"-l", host, "-p", strconv.Itoa(int(addr.Port())), "-U", "0", "-m", "16"}
	if os.Geteuid() == 0 {
		args = append(args, "-u", "root") // memcached refuses root without naming it
	}
	start(t, addr, bin, args...)
	return addr
}

func startMosquitto(t *testing.T, host string) netip.AddrPort {
	bin := testenv.LookPath(t, "mosquitto", "mosquitto")
	dir := t.TempDir()
	addr := netip.AddrPortFrom(netip.MustParseAddr(host), freePort(t, host))
	conf := filepath.Join(dir, "mosquitto.conf")
	cfg := fmt.Sprintf("listener %d %s\nallow_anonymous false\npersistence false\nlog_dest stderr\n", addr.Port(), host)
	if os.Geteuid() == 0 {
		cfg += "user root\n"
	}
	if err := os.WriteFile(conf, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	start(t, addr, bin, "-c", conf)
	return addr
}

// TestRealCacheAndBroker identifies a real memcached (no authentication) and a real
// Mosquitto broker that refuses anonymous clients.
func TestRealCacheAndBroker(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real servers")
	}
	t.Parallel()
	mc := startMemcached(t, "127.0.41.5")
	mq := startMosquitto(t, "127.0.41.6")
	opts := IdentifyOptions{BannerWait: 500 * time.Millisecond, ProbeWait: 500 * time.Millisecond, Budget: 8 * time.Second}
	ctx := context.Background()
	f := Identify(ctx, testDialer(), mc, opts)
	t.Logf("memcached: %+v", f)
	if f.Service != model.SvcMemcached || f.Version == "" || f.AuthRequired == nil || *f.AuthRequired {
		t.Errorf("memcached: %+v", f)
	}
	f = Identify(ctx, testDialer(), mq, opts)
	t.Logf("mosquitto: %+v", f)
	if f.Service != model.SvcMQTT || f.AuthRequired == nil || !*f.AuthRequired || f.StartTLS == nil || *f.StartTLS {
		t.Errorf("mosquitto: %+v", f)
	}
}

// TestRealServers scans real redis-server (open and with a password), OpenSSH, nginx and a
// port that accepts and never speaks, each on its own loopback address, and checks both the
// port states of the whole address × port grid and what identification says.
func TestRealServers(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real servers")
	}
	t.Parallel()
	redisOpen := startRedis(t, "127.0.41.1")
	redisAuth := startRedis(t, "127.0.41.2", "--requirepass", "s3cret-for-tests")
	nginx, nginxTLS := startNginx(t, "127.0.41.3")
	silent := serve(t, func(c net.Conn) { _, _ = c.Read(make([]byte, 1)) }).addr()
	open := []netip.AddrPort{redisOpen, redisAuth, nginx, nginxTLS, silent}
	if os.Geteuid() == 0 || testenv.Strict() {
		open = append(open, startSSHD(t, "127.0.41.4"))
	}

	var hosts []netip.Addr
	var ports []uint16
	isOpen := map[netip.AddrPort]bool{}
	for _, a := range open {
		hosts = append(hosts, a.Addr())
		ports = append(ports, a.Port())
		isOpen[a] = true
	}
	s := New(testDialer(), Options{Workers: 16, Identify: true,
		Ident: IdentifyOptions{BannerWait: 500 * time.Millisecond, ProbeWait: 500 * time.Millisecond, Budget: 8 * time.Second}})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := s.ScanAll(ctx, hosts, ports)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != len(hosts)*len(ports) {
		t.Fatalf("%d results for %d×%d", len(res), len(hosts), len(ports))
	}
	got := map[netip.AddrPort]*model.ServiceFacts{}
	for _, r := range res {
		want := model.PortClosed
		if isOpen[r.Addr] {
			want = model.PortOpen
		}
		if r.State != want {
			t.Errorf("%s: %s, want %s (%s)", r.Addr, r.State, want, r.Error)
		}
		if r.State == model.PortOpen {
			got[r.Addr] = r.Service
			t.Logf("%s: %+v", r.Addr, *r.Service)
		}
	}
	check := func(name string, a netip.AddrPort, ok func(f *model.ServiceFacts) bool) {
		f := got[a]
		if f == nil || !ok(f) {
			t.Errorf("%s at %s: %+v", name, a, f)
		}
	}
	check("redis without password", redisOpen, func(f *model.ServiceFacts) bool {
		return f.Service == model.SvcRedis && f.AuthRequired != nil && !*f.AuthRequired && f.Version != "" && !f.TLS
	})
	check("redis with password", redisAuth, func(f *model.ServiceFacts) bool {
		return f.Service == model.SvcRedis && f.AuthRequired != nil && *f.AuthRequired
	})
	check("nginx", nginx, func(f *model.ServiceFacts) bool {
		return f.Service == model.SvcHTTP && f.Product == "nginx" && f.HTTP != nil && f.HTTP.Status == 200 && !f.TLS
	})
	check("nginx over TLS", nginxTLS, func(f *model.ServiceFacts) bool {
		return f.Service == model.SvcHTTP && f.Product == "nginx" && f.HTTP != nil && f.HTTP.Status == 200 && f.TLS && strings.HasPrefix(f.TLSVersion, "TLS 1.")
	})
	check("silent port", silent, func(f *model.ServiceFacts) bool { return f.Service == "" && !f.TLS })
	if len(open) == 6 {
		check("sshd", open[5], func(f *model.ServiceFacts) bool {
			return f.Service == model.SvcSSH && f.Product == "OpenSSH" && f.Version != ""
		})
	}
}
