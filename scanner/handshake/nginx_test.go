package handshake

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/rampart-scan/rampart/internal/testenv"
	"github.com/rampart-scan/rampart/scanner/certs"
	"github.com/rampart-scan/rampart/scanner/certs/certtest"
)

// TestNginx runs nginx with an RSA and an ECDSA certificate side by side for one name, a
// different default certificate for clients without SNI, a stapled OCSP response from a file,
// HTTP/2, session tickets off and a shared session cache.
func TestNginx(t *testing.T) {
	bin := testenv.LookPath(t, "nginx", "nginx")
	l := newLab(t)
	dir := t.TempDir()
	rsaCrt, rsaKey, err := certtest.WritePEM(dir, "rsa", l.rsa, l.pki.Inter)
	if err != nil {
		t.Fatal(err)
	}
	ecCrt, ecKey, err := certtest.WritePEM(dir, "ec", l.ecdsa, l.pki.Inter)
	if err != nil {
		t.Fatal(err)
	}
	defCrt, defKey, err := certtest.WritePEM(dir, "default", l.defaultCert)
	if err != nil {
		t.Fatal(err)
	}
	staple := filepath.Join(dir, "ocsp.der")
	if err := os.WriteFile(staple, l.staple, 0o600); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.34.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()

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
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_tickets off;
    ssl_session_cache shared:rampart:1m;
    server {
        listen %[2]s ssl http2 default_server;
        server_name _;
        ssl_certificate %[3]s;
        ssl_certificate_key %[4]s;
        return 204;
    }
    server {
        listen %[2]s ssl http2;
        server_name chat.example.org;
        ssl_certificate %[5]s;
        ssl_certificate_key %[6]s;
        ssl_certificate %[7]s;
        ssl_certificate_key %[8]s;
        ssl_stapling on;
        ssl_stapling_file %[9]s;
        return 204;
    }
}
`, dir, addr, defCrt, defKey, rsaCrt, rsaKey, ecCrt, ecKey, staple)
	confFile := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(confFile, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-p", dir, "-c", confFile, "-e", filepath.Join(dir, "error.log"))
	out, _ := os.Create(filepath.Join(dir, "stdout.log"))
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
	up := false
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			_ = c.Close()
			up = true
			break
		}
	}
	if !up {
		t.Fatal("nginx did not start")
	}

	f, err := Inspect(context.Background(), dialer(addr), Options{ServerName: "chat.example.org", ALPN: []string{"h2", "http/1.1"}, Timeout: 5 * time.Second,
		Certs: certs.Options{Roots: l.pki.Pool(), NoLint: true}})
	if err != nil {
		t.Fatal(err)
	}
	logProbes(t, f.Probes)
	if f.MaxVersion != "TLS 1.3" || !slices.Equal(f.ALPN, []string{"h2", "http/1.1"}) {
		t.Errorf("max %q alpn %v", f.MaxVersion, f.ALPN)
	}
	if x := f.TLS12; x == nil || !x.SecureRenegotiation || !x.ExtendedMasterSecret || x.SessionTicket || !x.OCSPStapling || x.Compression != 0 {
		t.Errorf("TLS 1.2 features %+v", x)
	}
	if f.OCSP == nil || f.OCSP.Status != "good" {
		t.Errorf("OCSP %+v", f.OCSP)
	}
	if f.SessionIDResumption != "resumed" || f.Fallback != "rejected" {
		t.Errorf("session-ID resumption %q, fallback %q %s", f.SessionIDResumption, f.Fallback, f.FallbackDetail)
	}
	t.Logf("ticket issued %v, ticket resumption %q (TLS 1.3 stateful tickets)", f.TicketIssued, f.TicketResumption)
	got := map[string]bool{}
	for _, c := range f.Chains {
		key := c.KeyType
		if !c.SNI {
			key += "/no-sni"
		}
		got[key] = true
		if c.SNI && (!c.Analysis.Trusted || !c.Analysis.NameMatches || !c.Analysis.ChainComplete) {
			t.Errorf("%s analysis %+v", key, c.Analysis)
		}
		if !c.SNI && c.Analysis.NameMatches {
			t.Errorf("default certificate matches the name: %+v", c.Analysis)
		}
	}
	if len(f.Chains) != 3 || !got["RSA"] || !got["ECDSA"] || !got["ECDSA/no-sni"] {
		t.Errorf("chains %v", got)
	}
}
