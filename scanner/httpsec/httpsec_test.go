package httpsec

import (
	"bufio"
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rampart-scan/rampart/model"
	"github.com/rampart-scan/rampart/scanner/certs/certtest"
	"github.com/rampart-scan/rampart/scanner/netx"
)

const testName = "chat.example.org"

func serverCert() tls.Certificate {
	return certtest.TLS(certtest.Issue(certtest.Spec{CN: testName, DNS: []string{testName}}, nil))
}

// tlsListener listens with TLS on a loopback address of its own.
func tlsListener(t *testing.T, ip string) net.Listener {
	t.Helper()
	ln, err := tls.Listen("tcp", ip+":0", &tls.Config{Certificates: []tls.Certificate{serverCert()}, NextProtos: []string{"http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	return ln
}

// dialTo dials addr through a netx.Dialer, as the audit does.
func dialTo(t *testing.T, addr string) DialFunc {
	t.Helper()
	ap := netip.MustParseAddrPort(addr)
	d := netx.New(netx.Options{Timeout: 2 * time.Second})
	return func(ctx context.Context) (net.Conn, error) { return d.Dial(ctx, ap) }
}

// serveHTTP runs handler over TLS on ip.
func serveHTTP(t *testing.T, ip string, h http.HandlerFunc) string {
	t.Helper()
	ln := tlsListener(t, ip)
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 2 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String()
}

const page = "<html><body>" + "Rampart test page with enough text to be worth compressing. " + "</body></html>"

func TestProbeServers(t *testing.T) {
	gzipIfAsked := func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			w.Header().Set("Content-Encoding", "gzip")
			w.Header().Set("Vary", "Accept-Encoding")
		}
	}
	tests := []struct {
		name    string
		ip      string
		handler http.HandlerFunc
		check   func(t *testing.T, f *model.HTTPSecurityFacts)
	}{
		{name: "good headers", ip: "127.0.47.1", handler: func(w http.ResponseWriter, _ *http.Request) {
			h := w.Header()
			h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains; preload")
			h.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'")
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("X-Frame-Options", "DENY")
			h.Set("Referrer-Policy", "no-referrer")
			h.Set("Permissions-Policy", "camera=()")
			h.Set("Cross-Origin-Opener-Policy", "same-origin")
			h.Set("Server", "test\x01server")
			_, _ = io.WriteString(w, page)
		}, check: func(t *testing.T, f *model.HTTPSecurityFacts) {
			if f.Status != 200 || f.Connections != 1 || f.Error != "" {
				t.Errorf("status %d connections %d error %q", f.Status, f.Connections, f.Error)
			}
			if h := f.HSTS; h == nil || !h.Valid || h.MaxAge != 63072000 || !h.IncludeSubDomains || !h.Preload || len(h.Problems) != 0 {
				t.Errorf("HSTS %+v", f.HSTS)
			}
			if len(f.Headers) != len(SecurityHeaders) || f.Headers["X-Frame-Options"] != "DENY" {
				t.Errorf("headers %v", f.Headers)
			}
			if f.Server != `test\x01server` {
				t.Errorf("server %q not escaped", f.Server)
			}
			if f.Compression == nil || f.Compression.Encoding != "" || f.Compression.Compared {
				t.Errorf("compression %+v", f.Compression)
			}
			if f.Host != testName+":"+f.Host[strings.LastIndexByte(f.Host, ':')+1:] {
				t.Errorf("host %q", f.Host)
			}
		}},
		{name: "no HSTS, no headers", ip: "127.0.47.2", handler: func(w http.ResponseWriter, _ *http.Request) {
			_, _ = io.WriteString(w, page)
		}, check: func(t *testing.T, f *model.HTTPSecurityFacts) {
			if f.Status != 200 || f.HSTS != nil || len(f.Headers) != 0 {
				t.Errorf("facts %+v", f)
			}
		}},
		{name: "short max-age", ip: "127.0.47.3", handler: func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Strict-Transport-Security", `max-age="300"`)
		}, check: func(t *testing.T, f *model.HTTPSecurityFacts) {
			if h := f.HSTS; h == nil || !h.Valid || h.MaxAge != 300 || h.IncludeSubDomains {
				t.Errorf("HSTS %+v", f.HSTS)
			}
		}},
		{name: "duplicate HSTS headers", ip: "127.0.47.4", handler: func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Add("Strict-Transport-Security", "max-age=31536000")
			w.Header().Add("Strict-Transport-Security", "max-age=0")
			w.Header().Add("X-Frame-Options", "DENY")
			w.Header().Add("X-Frame-Options", "SAMEORIGIN")
		}, check: func(t *testing.T, f *model.HTTPSecurityFacts) {
			h := f.HSTS
			if h == nil || !h.Valid || h.MaxAge != 31536000 || len(h.Values) != 2 || len(h.Problems) != 1 || !strings.Contains(h.Problems[0], "differ") {
				t.Errorf("HSTS %+v", h)
			}
			if !slices.Equal(f.HeadersRepeated, []string{"X-Frame-Options"}) {
				t.Errorf("repeated %v", f.HeadersRepeated)
			}
		}},
		{name: "malformed HSTS", ip: "127.0.47.5", handler: func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Strict-Transport-Security", "max-age=1000; max-age=2000")
		}, check: func(t *testing.T, f *model.HTTPSecurityFacts) {
			if h := f.HSTS; h == nil || h.Valid || h.MaxAge != -1 || len(h.Problems) == 0 {
				t.Errorf("HSTS %+v", f.HSTS)
			}
		}},
		{name: "gzip when asked", ip: "127.0.47.6", handler: func(w http.ResponseWriter, r *http.Request) {
			gzipIfAsked(w, r)
			_, _ = io.WriteString(w, page)
		}, check: func(t *testing.T, f *model.HTTPSecurityFacts) {
			c := f.Compression
			if f.Connections != 2 || c == nil || c.Encoding != "gzip" || !c.Compared || c.WithoutOffer != "" || c.Offered != AcceptEncoding {
				t.Errorf("connections %d compression %+v", f.Connections, c)
			}
		}},
		{name: "gzip always", ip: "127.0.47.7", handler: func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Encoding", "GZIP, identity")
		}, check: func(t *testing.T, f *model.HTTPSecurityFacts) {
			if c := f.Compression; c == nil || c.Encoding != "gzip" || !c.Compared || c.WithoutOffer != "gzip" {
				t.Errorf("compression %+v", c)
			}
		}},
		{name: "redirect not followed", ip: "127.0.47.8", handler: func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/" {
				t.Errorf("redirect followed to %s", r.URL.Path)
			}
			http.Redirect(w, r, "/login\r", http.StatusFound)
		}, check: func(t *testing.T, f *model.HTTPSecurityFacts) {
			if f.Status != 302 || f.Location != "/login" || f.Connections != 1 {
				t.Errorf("status %d location %q connections %d", f.Status, f.Location, f.Connections)
			}
		}},
		{name: "early hints before the response", ip: "127.0.47.9", handler: func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Link", "</style.css>; rel=preload")
			w.WriteHeader(http.StatusEarlyHints)
			w.Header().Set("Strict-Transport-Security", "max-age=100")
			w.WriteHeader(http.StatusNoContent)
		}, check: func(t *testing.T, f *model.HTTPSecurityFacts) {
			if f.Status != 204 || f.HSTS == nil || f.HSTS.MaxAge != 100 {
				t.Errorf("status %d HSTS %+v", f.Status, f.HSTS)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			addr := serveHTTP(t, tc.ip, tc.handler)
			f := Probe(context.Background(), dialTo(t, addr), Options{ServerName: testName, Timeout: 3 * time.Second})
			tc.check(t, f)
		})
	}
}

// rawServer accepts TLS connections on ip and hands each, after the request head was read,
// to serve.
func rawServer(t *testing.T, ip string, serve func(c net.Conn)) string {
	t.Helper()
	ln := tlsListener(t, ip)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					line, err := br.ReadString('\n')
					if err != nil || line == "\r\n" {
						break
					}
				}
				serve(c)
			}()
		}
	}()
	return ln.Addr().String()
}

func TestProbeHostile(t *testing.T) {
	done := make(chan struct{})
	t.Cleanup(func() { close(done) })
	tests := []struct {
		name    string
		ip      string
		serve   func(c net.Conn)
		timeout time.Duration
		wantErr string // "" means the probe succeeds
		status  int
	}{
		{name: "huge headers", ip: "127.0.48.1", timeout: 5 * time.Second, wantErr: "larger than", serve: func(c net.Conn) {
			_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\n")
			line := "X-Filler: " + strings.Repeat("a", 1000) + "\r\n"
			for range 200 {
				if _, err := io.WriteString(c, line); err != nil {
					return
				}
			}
		}},
		{name: "endless body", ip: "127.0.48.2", timeout: 5 * time.Second, status: 200, serve: func(c net.Conn) {
			_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nStrict-Transport-Security: max-age=5\r\n\r\n")
			chunk := strings.Repeat("x", 16<<10)
			for {
				select {
				case <-done:
					return
				default:
				}
				if _, err := io.WriteString(c, chunk); err != nil {
					return
				}
			}
		}},
		{name: "stall", ip: "127.0.48.3", timeout: 700 * time.Millisecond, wantErr: "timed out", serve: func(net.Conn) {
			<-done
		}},
		{name: "drip feed", ip: "127.0.48.4", timeout: 700 * time.Millisecond, wantErr: "timed out", serve: func(c net.Conn) {
			for _, b := range []byte("HTTP/1.1 200 OK\r\nX-Slow: " + strings.Repeat("a", 1000)) {
				select {
				case <-done:
					return
				case <-time.After(50 * time.Millisecond):
				}
				if _, err := c.Write([]byte{b}); err != nil {
					return
				}
			}
		}},
		{name: "garbage", ip: "127.0.48.5", timeout: 2 * time.Second, wantErr: "reading the response", serve: func(c net.Conn) {
			_, _ = c.Write([]byte("\x00\xffSSH-2.0-nope\r\n\r\n"))
		}},
		{name: "endless interim responses", ip: "127.0.48.6", timeout: 2 * time.Second, status: 103, serve: func(c net.Conn) {
			for range 10 {
				if _, err := io.WriteString(c, "HTTP/1.1 103 Early Hints\r\n\r\n"); err != nil {
					return
				}
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			addr := rawServer(t, tc.ip, tc.serve)
			start := time.Now()
			f := Probe(context.Background(), dialTo(t, addr), Options{ServerName: testName, Timeout: tc.timeout})
			if el := time.Since(start); el > tc.timeout+time.Second {
				t.Errorf("took %v with a %v timeout", el, tc.timeout)
			}
			if tc.wantErr == "" {
				if f.Error != "" || f.Status != tc.status {
					t.Errorf("error %q status %d", f.Error, f.Status)
				}
				return
			}
			if !strings.Contains(f.Error, tc.wantErr) || f.Status != 0 {
				t.Errorf("error %q status %d, want an error containing %q", f.Error, f.Status, tc.wantErr)
			}
		})
	}
}

func TestProbeNotTLS(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.48.7:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_, _ = io.WriteString(c, "220 mail.example.org ESMTP\r\n")
			_ = c.Close()
		}
	}()
	f := Probe(context.Background(), dialTo(t, ln.Addr().String()), Options{Timeout: time.Second})
	if !strings.Contains(f.Error, "TLS handshake") || f.Host != "127.0.48.7:"+f.Host[strings.LastIndexByte(f.Host, ':')+1:] {
		t.Errorf("error %q host %q", f.Error, f.Host)
	}
}

func TestProbeRejectsBadPath(t *testing.T) {
	dialled := false
	dial := func(context.Context) (net.Conn, error) { dialled = true; return nil, io.EOF }
	for _, p := range []string{"index.html", "/a b", "/a\r\nX-Injected: 1"} {
		f := Probe(context.Background(), dial, Options{Path: p})
		if f.Error != "invalid request path" || dialled {
			t.Errorf("path %q: error %q dialled %v", p, f.Error, dialled)
		}
	}
}

func TestProbeCancelled(t *testing.T) {
	addr := rawServer(t, "127.0.48.8", func(net.Conn) { time.Sleep(3 * time.Second) })
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	f := Probe(ctx, dialTo(t, addr), Options{ServerName: testName, Timeout: 5 * time.Second})
	if time.Since(start) > 2*time.Second || f.Error == "" || !strings.Contains(f.Error, "canceled") {
		t.Errorf("after %v: %q", time.Since(start), f.Error)
	}
}

// TestProbeLegacyServer reaches the HTTP layer of a TLS 1.0 server with only an RSA key
// exchange CBC suite, which crypto/tls no longer offers by default.
func TestProbeLegacyServer(t *testing.T) {
	ln, err := tls.Listen("tcp", "127.0.48.9:0", &tls.Config{
		Certificates: []tls.Certificate{certtest.TLS(certtest.Issue(certtest.Spec{CN: testName, Key: certtest.Key(certtest.RSA2048, 0)}, nil))},
		MinVersion:   tls.VersionTLS10, MaxVersion: tls.VersionTLS10,
		CipherSuites: []uint16{tls.TLS_RSA_WITH_AES_128_CBC_SHA},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Strict-Transport-Security", "max-age=600")
	}), ReadHeaderTimeout: 2 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	f := Probe(context.Background(), dialTo(t, ln.Addr().String()), Options{ServerName: testName, Timeout: 3 * time.Second})
	if f.Error != "" || f.Status != 200 || f.HSTS == nil || f.HSTS.MaxAge != 600 {
		t.Errorf("facts %+v", f)
	}
}

func TestProbeDialFails(t *testing.T) {
	dial := func(context.Context) (net.Conn, error) { return nil, io.ErrUnexpectedEOF }
	f := Probe(context.Background(), dial, Options{ServerName: testName})
	if f.Connections != 0 || f.Status != 0 || !strings.HasPrefix(f.Error, "connect: ") || f.Compression != nil {
		t.Errorf("facts %+v", f)
	}
}
