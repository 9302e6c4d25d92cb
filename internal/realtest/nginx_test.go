package realtest

import (
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/rampart-scan/rampart/internal/testenv"
)

// ffdhe2048 is the RFC 7919 group, so the DHE suites are offered with a well-known prime.
const ffdhe2048 = "FFFFFFFFFFFFFFFFADF85458A2BB4A9AAFDC5620273D3CF1D8B9C583CE2D3695A9E13641146433FBCC939DCE249B3EF9" +
	"7D2FE363630C75D8F681B202AEC4617AD3DF1ED5D5FD65612433F51F5F066ED0856365553DED1AF3B557135E7F57C935984F0C70E0E68B77E2A" +
	"689DAF3EFE8721DF158A136ADE73530ACCA4F483A797ABC0AB182B324FB61D108A94BB2C8E3FBB96ADAB760D7F4681D4F42A3DE394DF4AE56E" +
	"DE76372BB190B07A7C8EE0A6D709E02FCE1CDF7E2ECC03404CD28342F619172FE9CE98583FF8E4F1232EEF28183C3FE3B1B4C6FAD733BB5FCB" +
	"C2EC22005C58EF1837D1683B2C6F34A26C1B2EFFA886B423861285C97FFFFFFFFFFFFFFFF"

// Mozilla's intermediate configuration (v5.7) suites; with an RSA certificate only the RSA
// ones can be negotiated, in this order because nginx prefers the server's order.
const mozillaIntermediate = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:" +
	"ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:" +
	"DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305"

var mozillaRSA = []string{"ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-RSA-CHACHA20-POLY1305",
	"DHE-RSA-AES128-GCM-SHA256", "DHE-RSA-AES256-GCM-SHA384", "DHE-RSA-CHACHA20-POLY1305"}

// OpenSSL 3's default TLS 1.3 suites, in its order (the server's, under server preference).
var tls13Default = []string{"TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_GCM_SHA256"}

func writeDHParams(t *testing.T, path string) {
	t.Helper()
	p, _ := new(big.Int).SetString(ffdhe2048, 16)
	der, err := asn1.Marshal(struct{ P, G *big.Int }{p, big.NewInt(2)})
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, string(pem.EncodeToMemory(&pem.Block{Type: "DH PARAMETERS", Bytes: der})), 0o644)
}

// TestNginx audits Debian's nginx with Mozilla's intermediate configuration (TLS 1.2 and 1.3,
// server order, X25519/P-256/P-384, ffdhe2048 for DHE, HSTS and the security headers) by its name, resolved through
// an in-test DNS server, and compares the result with the configuration and with sslscan.
func TestNginx(t *testing.T) {
	bin := testenv.LookPath(t, "nginx", "nginx")
	sslscan := testenv.LookPath(t, "sslscan", "sslscan")
	testenv.NeedRoot(t) // nginx's master opens its error log under /var/log before reading -g/-c
	const host = "127.0.92.1"
	dir := serverDir(t)
	p := newPKI(t, dir, host)
	writeDHParams(t, filepath.Join(dir, "dh.pem"))
	port := testenv.FreePort(t, host)
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	conf := filepath.Join(dir, "nginx.conf")
	writeFile(t, conf, fmt.Sprintf(`daemon off;
master_process off;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path %[1]s/body;
  proxy_temp_path %[1]s/proxy;
  fastcgi_temp_path %[1]s/fastcgi;
  uwsgi_temp_path %[1]s/uwsgi;
  scgi_temp_path %[1]s/scgi;
  server {
    listen %[2]s ssl http2;
    server_name www.realtest.test;
    ssl_certificate %[3]s;
    ssl_certificate_key %[4]s;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_ciphers %[5]s;
    ssl_prefer_server_ciphers on;
    ssl_ecdh_curve X25519:prime256v1:secp384r1;
    ssl_dhparam %[1]s/dh.pem;
    ssl_session_timeout 1d;
    ssl_session_cache shared:realtest:1m;
    add_header Strict-Transport-Security "max-age=63072000; includeSubDomains" always;
    add_header X-Content-Type-Options nosniff always;
    add_header X-Frame-Options DENY always;
    add_header Content-Security-Policy "default-src 'none'" always;
    add_header Cross-Origin-Opener-Policy same-origin always;
    add_header Permissions-Policy "camera=()" always;
    add_header Referrer-Policy no-referrer always;
    location / { return 200 "ok\n"; }
  }
}
`, dir, addr, p.certFile, p.keyFile, mozillaIntermediate), 0o644)
	cmd := exec.Command(bin, "-c", conf, "-p", dir, "-e", filepath.Join(dir, "error.log"))
	stop := func() { _ = cmd.Process.Signal(syscall.SIGQUIT) }
	testenv.StartServer(t, cmd, stop, filepath.Join(dir, "error.log"), addr)

	const name = "www.realtest.test"
	resolver := nameServer(t, "127.0.92.53", map[string]string{name: host})
	r, took := scan(t, "--resolver", resolver, "--ca-file", p.caFile, fmt.Sprintf("https://%s:%d", name, port))
	e := only(t, r)
	o := e.Observation
	if o.Endpoint.Name != name || o.Endpoint.Addr.String() != addr || o.Endpoint.Service != "https" {
		t.Fatalf("endpoint = %+v", o.Endpoint)
	}
	if o.TLS == nil || !o.TLS.Speaks || o.TLS.Handshake == nil {
		t.Fatalf("TLS facts = %+v", o.TLS)
	}
	if h := o.TLS.Handshake; h.Version != "TLS 1.3" || h.CipherSuite != "TLS_AES_256_GCM_SHA384" || h.ALPN != "h2" || h.ServerName != name {
		t.Errorf("modern handshake = %+v", h)
	}
	checkEngine(t, o.TLS.Engine, truth{
		suites:     map[string][]string{"TLS 1.2": mozillaRSA, "TLS 1.3": tls13Default},
		preference: "server", groups: []string{"x25519", "secp256r1", "secp384r1"}, groupsVer: "TLS 1.3",
	})
	if dh := o.TLS.Engine.DH; len(dh) == 0 || dh[0].PrimeBits != 2048 || dh[0].Known != "ffdhe2048 (RFC 7919)" {
		t.Errorf("DH parameters = %+v, want ffdhe2048", dh)
	}
	// The HTTP layer is read over the modern handshake's own connection, in HTTP/2 as it
	// negotiated: no connection of its own (nginx does not compress "ok", so no comparison).
	if h := o.HTTP; h == nil || h.Error != "" || !h.SharedConnection || h.Protocol != "HTTP/2" || h.Connections != 0 ||
		h.Status != 200 || h.HSTS == nil || h.HSTS.MaxAge != 63072000 || !h.HSTS.IncludeSubDomains || h.Headers["X-Frame-Options"] != "DENY" {
		t.Errorf("HTTP facts = %+v", o.HTTP)
	}
	p.checkChain(t, o.Certificates, name)
	// The private CA runs no OCSP responder, so nothing is stapled: the only finding.
	checkFindings(t, e, "tls/no-ocsp-stapling")

	ss, theirs := testenv.RunSSLScan(t, sslscan, addr)
	compareSSLScan(t, o.TLS.Engine, ss)
	t.Logf("rampart scan process %v (%s); sslscan %v", took.Round(time.Millisecond), costs(o), theirs.Round(time.Millisecond))
}
