package exposure

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// nextHost hands each fake server its own loopback address.
var nextHost atomic.Uint32

func loopbackAddr() string {
	n := nextHost.Add(1)
	return fmt.Sprintf("127.0.%d.%d", 20+n/250, 1+n%250)
}

// fake is an in-process server on its own loopback address.
type fake struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func (f *fake) addr() netip.AddrPort { return netip.MustParseAddrPort(f.ln.Addr().String()) }

// serve starts a fake server running handle for each connection; cleanup closes everything.
func serve(t testing.TB, handle func(c net.Conn)) *fake {
	t.Helper()
	ln, err := net.Listen("tcp", loopbackAddr()+":0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	f := &fake{ln: ln}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		_ = ln.Close()
		f.mu.Lock()
		for _, c := range f.conns {
			_ = c.Close()
		}
		f.mu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			f.mu.Lock()
			f.conns = append(f.conns, c)
			f.mu.Unlock()
			wg.Go(func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				handle(c)
			})
		}
	})
	return f
}

// lineServer greets (if greeting != "") and answers each line with reply(line); an empty reply
// closes the connection.
func lineServer(greeting string, reply func(line string) string) func(net.Conn) {
	return func(c net.Conn) {
		if greeting != "" {
			_, _ = io.WriteString(c, greeting)
		}
		r := bufio.NewReader(io.LimitReader(c, 1<<16))
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			out := reply(strings.TrimRight(line, "\r\n"))
			if out == "" {
				return
			}
			if _, err := io.WriteString(c, out); err != nil {
				return
			}
		}
	}
}

// binaryServer reads one chunk and answers reply(chunk); nil closes.
func binaryServer(reply func(in []byte) []byte) func(net.Conn) {
	return func(c net.Conn) {
		buf := make([]byte, 4096)
		n, err := c.Read(buf)
		if err != nil {
			return
		}
		out := reply(buf[:n])
		if out == nil {
			return
		}
		_, _ = c.Write(out)
		_, _ = io.Copy(io.Discard, io.LimitReader(c, 1<<16))
	}
}

// httpServer answers GET requests with routes[path] (a full raw response); anything else
// gets a 400 like real web servers give.
func httpServer(routes map[string]string) func(net.Conn) {
	return func(c net.Conn) {
		r := bufio.NewReader(io.LimitReader(c, 1<<16))
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		fields := strings.Fields(line)
		if len(fields) < 3 || !strings.HasPrefix(fields[2], "HTTP/") {
			_, _ = io.WriteString(c, "HTTP/1.1 400 Bad Request\r\nServer: nginx\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
			return
		}
		for {
			l, err := r.ReadString('\n')
			if err != nil || l == "\r\n" {
				break
			}
		}
		resp, ok := routes[fields[1]]
		if !ok {
			resp = routes["*"]
		}
		_, _ = io.WriteString(c, resp)
	}
}

func httpResp(status, headers, body string) string {
	return "HTTP/1.1 " + status + "\r\n" + headers + fmt.Sprintf("Content-Length: %d\r\nConnection: close\r\n\r\n", len(body)) + body
}

// tlsWrap runs inner on the server side of a TLS connection.
func tlsWrap(t testing.TB, inner func(net.Conn)) func(net.Conn) {
	cfg := &tls.Config{Certificates: []tls.Certificate{selfSigned(t)}}
	return func(c net.Conn) {
		tc := tls.Server(c, cfg)
		if err := tc.Handshake(); err != nil {
			return
		}
		inner(tc)
	}
}

func selfSigned(t testing.TB) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "fake.test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		DNSNames:     []string{"fake.test"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// mysqlGreeting builds a protocol-10 handshake packet.
func mysqlGreeting(version string, caps uint16) []byte {
	p := []byte{0x0a}
	p = append(p, version...)
	p = append(p, 0)
	p = binary.LittleEndian.AppendUint32(p, 42)
	p = append(p, "abcdefgh"...)
	p = append(p, 0)
	p = binary.LittleEndian.AppendUint16(p, caps)
	p = append(p, 0x21, 0, 0)
	p = append(p, make([]byte, 13)...)
	hdr := []byte{byte(len(p)), byte(len(p) >> 8), byte(len(p) >> 16), 0}
	return append(hdr, p...)
}

// mongoReply builds an OP_MSG answer carrying {ok: 1.0, maxWireVersion: 21, isWritablePrimary: true}.
func mongoReply() []byte {
	var doc []byte
	doc = append(doc, 0x08)
	doc = append(doc, "isWritablePrimary\x00"...)
	doc = append(doc, 1)
	doc = append(doc, 0x10)
	doc = append(doc, "maxWireVersion\x00"...)
	doc = binary.LittleEndian.AppendUint32(doc, 21)
	doc = append(doc, 0x01)
	doc = append(doc, "ok\x00"...)
	doc = binary.LittleEndian.AppendUint64(doc, 0x3ff0000000000000)
	doc = append(doc, 0)
	bson := binary.LittleEndian.AppendUint32(nil, uint32(len(doc)+4))
	bson = append(bson, doc...)
	body := append(binary.LittleEndian.AppendUint32(nil, 0), 0)
	body = append(body, bson...)
	msg := binary.LittleEndian.AppendUint32(nil, uint32(16+len(body)))
	msg = binary.LittleEndian.AppendUint32(msg, 7)
	msg = binary.LittleEndian.AppendUint32(msg, 0x52414d50)
	msg = binary.LittleEndian.AppendUint32(msg, opMsg)
	return append(msg, body...)
}

func isMongoHello(b []byte) bool {
	return len(b) > 16 && binary.LittleEndian.Uint32(b[12:]) == opMsg && bytes.Contains(b, []byte("hello"))
}
