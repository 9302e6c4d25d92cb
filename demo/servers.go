package demo

import (
	"bufio"
	"crypto/tls"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"
)

// connTimeout bounds every lab connection, so a stuck client cannot pin a goroutine.
const connTimeout = 10 * time.Second

// server accepts connections on one listener and hands each to handle.
type server struct {
	ln     net.Listener
	wg     sync.WaitGroup
	handle func(net.Conn)
}

func listen(addr string, handle func(net.Conn)) (*server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("demo server on %s: %w", addr, err)
	}
	s := &server{ln: ln, handle: handle}
	s.wg.Add(1)
	go s.serve()
	return s, nil
}

func (s *server) serve() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(connTimeout))
			s.handle(c)
		}()
	}
}

func (s *server) Close() error {
	err := s.ln.Close()
	s.wg.Wait()
	return err
}

// tlsHandler completes a TLS handshake and then answers one line, like a quiet service.
func tlsHandler(cfg *tls.Config) func(net.Conn) {
	return func(c net.Conn) {
		tc := tls.Server(c, cfg)
		if err := tc.Handshake(); err != nil {
			return
		}
		_, _ = io.WriteString(tc, "rampart demo service\r\n")
		_ = tc.CloseWrite()
	}
}

// smtpHandler is an SMTP server offering STARTTLS, and (a deliberate fault) plaintext
// AUTH PLAIN LOGIN before it.
func smtpHandler(host string, cfg *tls.Config) func(net.Conn) {
	return func(c net.Conn) {
		r := bufio.NewReader(io.LimitReader(c, 64<<10))
		fmt.Fprintf(c, "220 %s ESMTP rampart-demo\r\n", host)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			cmd := strings.ToUpper(strings.TrimSpace(line))
			switch {
			case strings.HasPrefix(cmd, "EHLO"):
				fmt.Fprintf(c, "250-%s\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-AUTH PLAIN LOGIN\r\n250-STARTTLS\r\n250 8BITMIME\r\n", host)
			case strings.HasPrefix(cmd, "HELO"):
				fmt.Fprintf(c, "250 %s\r\n", host)
			case cmd == "STARTTLS":
				fmt.Fprint(c, "220 2.0.0 Ready to start TLS\r\n")
				_ = tls.Server(c, cfg).Handshake()
				return
			case cmd == "QUIT":
				fmt.Fprint(c, "221 2.0.0 Bye\r\n")
				return
			default:
				fmt.Fprint(c, "502 5.5.2 Error: command not recognized\r\n")
			}
		}
	}
}

// xmppHandler is an XMPP client-to-server listener offering (not requiring) STARTTLS.
func xmppHandler(domain string, cfg *tls.Config) func(net.Conn) {
	return func(c net.Conn) {
		dec := xml.NewDecoder(io.LimitReader(c, 64<<10))
		// Wait for the client's stream header.
		for {
			tok, err := dec.Token()
			if err != nil {
				return
			}
			if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "stream" {
				break
			}
		}
		fmt.Fprintf(c, `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' from='%s' id='demo1' version='1.0'>`, domain)
		fmt.Fprint(c, `<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-1</mechanism></mechanisms></stream:features>`)
		for {
			tok, err := dec.Token()
			if err != nil {
				return
			}
			if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "starttls" {
				break
			}
		}
		fmt.Fprint(c, `<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>`)
		_ = tls.Server(c, cfg).Handshake()
	}
}

// redisHandler is a plaintext, unauthenticated Redis look-alike: the exposed cache.
func redisHandler(c net.Conn) {
	r := bufio.NewReader(io.LimitReader(c, 64<<10))
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		switch l := strings.ToUpper(strings.TrimSpace(line)); {
		case l == "PING" || strings.HasPrefix(l, "*1") && strings.Contains(l, "PING"):
			fmt.Fprint(c, "+PONG\r\n")
		case strings.HasPrefix(l, "*") || strings.HasPrefix(l, "$"):
			// RESP framing lines of a multi-bulk command; the command follows.
		case l == "INFO" || l == "INFO SERVER":
			fmt.Fprint(c, "$40\r\n# Server\r\nredis_version:7.0.15\r\nmode:lab\r\n\r\n")
		case l == "":
		default:
			fmt.Fprintf(c, "-ERR unknown command '%s'\r\n", sanitizeLine(l))
		}
	}
}

func sanitizeLine(s string) string {
	if len(s) > 40 {
		s = s[:40]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return '?'
		}
		return r
	}, s)
}

// sshHandler announces itself like an OpenSSH server, as an exposure scan sees one.
func sshHandler(c net.Conn) {
	fmt.Fprint(c, "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n")
	buf := make([]byte, 256)
	_, _ = c.Read(buf) // the client's banner; then hang up like a server refusing the exchange
}

// httpsHandler completes TLS and answers each HTTP/1.1 request with a small page carrying
// headers (the security headers a web front end should send, or not).
func httpsHandler(cfg *tls.Config, headers map[string]string) func(net.Conn) {
	return func(c net.Conn) {
		tc := tls.Server(c, cfg)
		if err := tc.Handshake(); err != nil {
			return
		}
		r := bufio.NewReader(io.LimitReader(tc, 64<<10))
		for {
			// Read one request head; only "/" exists, like a front end without delegation.
			path := ""
			for {
				line, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if strings.TrimSpace(line) == "" {
					break
				}
				if path == "" {
					if f := strings.Fields(line); len(f) >= 2 {
						path = f[1]
					}
				}
			}
			if path == "" {
				continue
			}
			status, body := "200 OK", "<!doctype html><title>rampart demo</title><p>demo service</p>\n"
			if path != "/" {
				status, body = "404 Not Found", "<!doctype html><title>not found</title>\n"
			}
			var b strings.Builder
			b.WriteString("HTTP/1.1 " + status + "\r\nContent-Type: text/html; charset=utf-8\r\n")
			for k, v := range headers {
				fmt.Fprintf(&b, "%s: %s\r\n", k, v)
			}
			fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(body), body)
			if _, err := io.WriteString(tc, b.String()); err != nil {
				return
			}
		}
	}
}

// goodWebHeaders are what a well-configured messaging web front end sends.
var goodWebHeaders = map[string]string{
	"Strict-Transport-Security":  "max-age=63072000; includeSubDomains",
	"Content-Security-Policy":    "default-src 'self'; frame-ancestors 'none'",
	"X-Content-Type-Options":     "nosniff",
	"X-Frame-Options":            "DENY",
	"Referrer-Policy":            "no-referrer",
	"Permissions-Policy":         "camera=(), microphone=()",
	"Cross-Origin-Opener-Policy": "same-origin",
}
