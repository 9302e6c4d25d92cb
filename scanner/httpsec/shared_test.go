package httpsec

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// countingListener counts the TCP connections a server accepted.
type countingListener struct {
	net.Listener
	n atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

// dialShared makes the handshake the audit's modern probe makes (SNI, ALPN h2 and http/1.1)
// and returns the connection for Options.Conn.
func dialShared(t *testing.T, addr string) *tls.Conn {
	t.Helper()
	raw, err := dialTo(t, addr)(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	tc := tls.Client(raw, &tls.Config{ServerName: testName, InsecureSkipVerify: true, NextProtos: []string{"h2", "http/1.1"}})
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	return tc
}

// TestProbeSharedConnection sends the first request over the caller's connection in the
// protocol it negotiated, and opens a connection only for the compression comparison.
func TestProbeSharedConnection(t *testing.T) {
	handler := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Strict-Transport-Security", "max-age=31536000")
		if r.Header.Get("Accept-Encoding") == AcceptEncoding {
			w.Header().Set("Content-Encoding", "gzip")
		}
		if _, port, _ := net.SplitHostPort(r.Host); r.Host != testName+":"+port {
			w.WriteHeader(http.StatusMisdirectedRequest) // the Host (:authority) must be the name
		}
		_, _ = w.Write([]byte(page))
	}
	for _, tc := range []struct {
		name, ip string
		h2       bool
		want     string
	}{
		{"http/1.1", "127.0.46.1", false, "HTTP/1.1"},
		{"h2", "127.0.46.2", true, "HTTP/2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", tc.ip+":0")
			if err != nil {
				t.Fatal(err)
			}
			cl := &countingListener{Listener: ln}
			srv := httptest.NewUnstartedServer(http.HandlerFunc(handler))
			srv.Listener = cl
			srv.EnableHTTP2 = tc.h2
			srv.TLS = &tls.Config{Certificates: []tls.Certificate{serverCert()}}
			srv.StartTLS()
			defer srv.Close()
			addr := ln.Addr().String()
			conn := dialShared(t, addr)
			wantALPN := "http/1.1"
			if tc.h2 {
				wantALPN = "h2"
			}
			if got := conn.ConnectionState().NegotiatedProtocol; got != wantALPN {
				t.Fatalf("test server negotiated %q, want %q", got, wantALPN)
			}
			f := Probe(context.Background(), dialTo(t, addr), Options{ServerName: testName, Timeout: 2 * time.Second, Conn: conn})
			if f.Error != "" || f.Status != 200 || !f.SharedConnection || f.Protocol != tc.want {
				t.Fatalf("facts %+v", f)
			}
			if f.HSTS == nil || f.HSTS.MaxAge != 31536000 {
				t.Errorf("HSTS %+v", f.HSTS)
			}
			// The compressed answer asks again without compression, on a connection of its own.
			if c := f.Compression; c == nil || c.Encoding != "gzip" || !c.Compared || c.WithoutOffer != "" {
				t.Errorf("compression %+v", f.Compression)
			}
			if f.Connections != 1 || cl.n.Load() != 2 {
				t.Errorf("probe opened %d connections, server accepted %d; want 1 and 2 (the shared one and the comparison)", f.Connections, cl.n.Load())
			}
		})
	}
}

// TestProbeSharedConnectionFallback: a shared connection the server has already closed costs a
// new connection, not the facts; one on which the server answers garbage is not retried.
func TestProbeSharedConnectionFallback(t *testing.T) {
	addr := serveHTTP(t, "127.0.46.3", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("X-Frame-Options", "DENY")
	})
	conn := dialShared(t, addr)
	_ = conn.Close() // as a server that hangs up after the handshake would
	f := Probe(context.Background(), dialTo(t, addr), Options{ServerName: testName, Timeout: 2 * time.Second, Conn: conn})
	if f.Error != "" || f.Status != 200 || f.SharedConnection || f.Connections != 1 || f.Headers["X-Frame-Options"] != "DENY" {
		t.Fatalf("facts %+v", f)
	}

	// A server that answers the shared request with something that is not HTTP.
	ln := tlsListener(t, "127.0.46.4")
	cl := &countingListener{Listener: ln}
	go func() {
		for {
			c, err := cl.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 4096)
				_, _ = c.Read(buf)
				_, _ = c.Write([]byte("SSH-2.0-OpenSSH_9.2\r\n\r\n"))
			}()
		}
	}()
	conn = dialShared(t, ln.Addr().String())
	f = Probe(context.Background(), dialTo(t, ln.Addr().String()), Options{ServerName: testName, Timeout: 2 * time.Second, Conn: conn})
	if f.Error == "" || !f.SharedConnection || f.Connections != 0 || cl.n.Load() != 1 {
		t.Fatalf("facts %+v, server accepted %d", f, cl.n.Load())
	}
}
