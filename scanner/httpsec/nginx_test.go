package httpsec

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rampart-scan/rampart/internal/testenv"
	"github.com/rampart-scan/rampart/scanner/certs/certtest"
)

// freeAddr reserves an ephemeral port on ip and releases it for a real server to bind.
func freeAddr(t *testing.T, ip string) string {
	t.Helper()
	ln, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

// TestNginx runs a real nginx with two HTTPS servers: a hardened one (HSTS with
// includeSubDomains, the security headers, gzip for HTML) and a bare one (none of that).
func TestNginx(t *testing.T) {
	bin := testenv.LookPath(t, "nginx", "nginx")
	dir := t.TempDir()
	crt, key, err := certtest.WritePEM(dir, "leaf", certtest.Issue(certtest.Spec{CN: testName, DNS: []string{testName}}, nil))
	if err != nil {
		t.Fatal(err)
	}
	hardened, bare := freeAddr(t, "127.0.49.1"), freeAddr(t, "127.0.49.1")
	body := strings.Repeat("Rampart nginx test page. ", 40)
	conf := fmt.Sprintf(`daemon off;
master_process off;
worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log info;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path %[1]s/body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;
    ssl_certificate %[4]s;
    ssl_certificate_key %[5]s;
    default_type text/html;
    server {
        listen %[2]s ssl;
        server_name %[7]s;
        gzip on;
        gzip_types text/html;
        add_header Strict-Transport-Security "max-age=31536000; includeSubDomains" always;
        add_header Content-Security-Policy "default-src 'self'; frame-ancestors 'none'" always;
        add_header X-Content-Type-Options nosniff always;
        add_header Referrer-Policy no-referrer always;
        add_header Permissions-Policy "geolocation=()" always;
        add_header Cross-Origin-Opener-Policy same-origin always;
        location = / { return 200 "%[6]s"; }
        location / { return 301 https://%[7]s/; }
    }
    server {
        listen %[3]s ssl;
        server_name %[7]s;
        gzip off;
        location / { return 200 "%[6]s"; }
    }
}
`, dir, hardened, bare, crt, key, body, testName)
	confFile := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(confFile, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-p", dir, "-c", confFile, "-e", filepath.Join(dir, "error.log"))
	out, err := os.Create(filepath.Join(dir, "stdout.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			o, _ := os.ReadFile(filepath.Join(dir, "stdout.log"))
			t.Logf("nginx logs:\n%s\n%s", b, o)
		}
	})
	for _, a := range []string{hardened, bare} {
		up := false
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			if c, err := net.DialTimeout("tcp", a, 200*time.Millisecond); err == nil {
				_ = c.Close()
				up = true
				break
			}
		}
		if !up {
			t.Fatal("nginx did not start")
		}
	}
	ctx := context.Background()
	opts := Options{ServerName: testName, Timeout: 5 * time.Second}

	f := Probe(ctx, dialTo(t, hardened), opts)
	t.Logf("hardened: %+v HSTS %+v compression %+v", f, f.HSTS, f.Compression)
	if f.Status != 200 || !strings.HasPrefix(f.Server, "nginx") || f.Error != "" {
		t.Errorf("status %d server %q error %q", f.Status, f.Server, f.Error)
	}
	if h := f.HSTS; h == nil || !h.Valid || h.MaxAge != 31536000 || !h.IncludeSubDomains || h.Preload {
		t.Errorf("HSTS %+v", f.HSTS)
	}
	if _, ok := f.Headers["X-Frame-Options"]; ok || len(f.Headers) != len(SecurityHeaders)-1 {
		t.Errorf("headers %v", f.Headers)
	}
	if c := f.Compression; c == nil || c.Encoding != "gzip" || !c.Compared || c.WithoutOffer != "" || f.Connections != 2 {
		t.Errorf("compression %+v connections %d", c, f.Connections)
	}

	r := Probe(ctx, dialTo(t, hardened), Options{ServerName: testName, Path: "/old", Timeout: 5 * time.Second})
	if r.Status != 301 || r.Location != "https://"+testName+"/" || r.HSTS == nil {
		t.Errorf("redirect: status %d location %q HSTS %+v", r.Status, r.Location, r.HSTS)
	}

	b := Probe(ctx, dialTo(t, bare), opts)
	if b.Status != 200 || b.HSTS != nil || len(b.Headers) != 0 || b.Compression == nil || b.Compression.Encoding != "" || b.Connections != 1 {
		t.Errorf("bare: %+v compression %+v", b, b.Compression)
	}
}
