package starttls

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// step is one move of a scripted fake server.
type step struct {
	send  string // write these bytes
	line  string // read one line from the client; it must start with this
	until string // read from the client until what it sent contains this
	eof   bool   // the client must close without sending anything more
	raw   []byte // read len(raw) bytes from the client; they must equal raw
	tls   bool   // run a TLS server handshake and echo one line back
	flood string // write this line over and over until the client goes away
	stall bool   // say nothing until the client goes away
	close bool   // close the connection
}

func send(s string) step   { return step{send: s} }
func expect(s string) step { return step{line: s} }
func until(s string) step  { return step{until: s} }

var (
	tlsUp  = step{tls: true}
	eof    = step{eof: true}
	stall  = step{stall: true}
	hangup = step{close: true}
)

var (
	certOnce sync.Once
	testCert tls.Certificate
	certPEM  []byte
	keyPEM   []byte
)

// selfSigned returns a throw-away ECDSA certificate for the fake and real servers.
func selfSigned(t testing.TB) tls.Certificate {
	t.Helper()
	certOnce.Do(func() {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(1),
			Subject:      pkix.Name{CommonName: "starttls.test"},
			DNSNames:     []string{"starttls.test", "localhost"},
			NotBefore:    time.Now().Add(-time.Hour),
			NotAfter:     time.Now().Add(24 * time.Hour),
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			panic(err)
		}
		kder, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			panic(err)
		}
		certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
		keyPEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})
		testCert, err = tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			panic(err)
		}
	})
	return testCert
}

// bufConn reads through the script's bufio.Reader so nothing it buffered is lost when the
// TLS server takes over.
type bufConn struct {
	net.Conn
	r *bufio.Reader
}

func (c bufConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// fakeServer serves script once on a fresh 127.0.83.x port and reports the script's error.
func fakeServer(t *testing.T, host string, script []step) (string, <-chan error) {
	t.Helper()
	cert := selfSigned(t)
	ln, err := net.Listen("tcp", host+":0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	done := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		defer func() { _ = c.Close() }()
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		done <- runScript(c, cert, script)
	}()
	return ln.Addr().String(), done
}

func runScript(c net.Conn, cert tls.Certificate, script []step) error {
	br := bufio.NewReader(c)
	for i, st := range script {
		switch {
		case st.send != "":
			if _, err := io.WriteString(c, st.send); err != nil {
				return fmt.Errorf("step %d: %w", i, err)
			}
		case st.line != "":
			l, err := br.ReadString('\n')
			if err != nil {
				return fmt.Errorf("step %d: want %q: %w", i, st.line, err)
			}
			if !strings.HasPrefix(l, st.line) {
				return fmt.Errorf("step %d: client sent %q, want %q", i, l, st.line)
			}
		case st.until != "":
			var got []byte
			for !bytes.Contains(got, []byte(st.until)) {
				b, err := br.ReadByte()
				if err != nil {
					return fmt.Errorf("step %d: want %q, got %q: %w", i, st.until, got, err)
				}
				got = append(got, b)
			}
		case st.eof:
			if b, err := br.ReadByte(); err == nil {
				return fmt.Errorf("step %d: client sent 0x%02x, want it to close", i, b)
			}
		case st.raw != nil:
			got := make([]byte, len(st.raw))
			if _, err := io.ReadFull(br, got); err != nil {
				return fmt.Errorf("step %d: %w", i, err)
			}
			if !bytes.Equal(got, st.raw) {
				return fmt.Errorf("step %d: client sent %x, want %x", i, got, st.raw)
			}
		case st.tls:
			ts := tls.Server(bufConn{c, br}, &tls.Config{Certificates: []tls.Certificate{cert}})
			if err := ts.Handshake(); err != nil {
				return fmt.Errorf("step %d: TLS handshake: %w", i, err)
			}
			l, err := bufio.NewReader(ts).ReadString('\n')
			if err != nil {
				return fmt.Errorf("step %d: read over TLS: %w", i, err)
			}
			if _, err := io.WriteString(ts, "echo "+l); err != nil {
				return fmt.Errorf("step %d: write over TLS: %w", i, err)
			}
		case st.flood != "":
			for {
				if _, err := io.WriteString(c, st.flood); err != nil {
					return nil
				}
			}
		case st.stall:
			_, _ = io.Copy(io.Discard, br)
			return nil
		case st.close:
			return c.Close()
		}
	}
	return nil
}

// dial connects to a fake or real server.
func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// proveTLS completes a TLS handshake on conn and exchanges one line, proving Negotiate left
// the connection exactly where the ClientHello belongs.
func proveTLS(t *testing.T, conn net.Conn, serverName string) {
	t.Helper()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	tc := tls.Client(conn, &tls.Config{InsecureSkipVerify: true, ServerName: serverName}) //nolint:gosec // test peer with a throw-away certificate
	if err := tc.HandshakeContext(context.Background()); err != nil {
		t.Fatalf("TLS handshake after STARTTLS: %v", err)
	}
	if len(tc.ConnectionState().PeerCertificates) == 0 {
		t.Fatal("no peer certificate after handshake")
	}
}

// proveEcho does proveTLS and a round trip with the scripted fake server's echo.
func proveEcho(t *testing.T, conn net.Conn) {
	t.Helper()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	tc := tls.Client(conn, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // test peer
	if _, err := io.WriteString(tc, "ping\n"); err != nil {
		t.Fatalf("write over TLS: %v", err)
	}
	l, err := bufio.NewReader(tc).ReadString('\n')
	if err != nil || l != "echo ping\n" {
		t.Fatalf("echo over TLS = %q, %v", l, err)
	}
}

// errIs matches an expected outcome: nil, a sentinel, or errAny for "some error".
var errAny = errors.New("any error")
