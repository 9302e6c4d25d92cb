package exposure

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rampart-scan/rampart/model"
	"github.com/rampart-scan/rampart/scanner/netx"
)

func testDialer() *netx.Dialer { return netx.New(netx.Options{Timeout: 2 * time.Second}) }

var fastIdent = IdentifyOptions{BannerWait: 300 * time.Millisecond, ProbeWait: 500 * time.Millisecond, Budget: 10 * time.Second}

func b(v bool) *bool { return &v }

func TestIdentifyFakes(t *testing.T) {
	t.Parallel()
	esBody := `{"name":"n1","cluster_name":"prod-logs","cluster_uuid":"abc","version":{"number":"8.11.1"},"tagline":"You Know, for Search"}`
	cases := []struct {
		name     string
		handle   func(t testing.TB) func(net.Conn)
		service  string
		product  string
		version  string
		tls      bool
		auth     *bool
		starttls *bool
		extra    map[string]string
	}{
		{"ssh", func(testing.TB) func(net.Conn) {
			return lineServer("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n", func(string) string { return "" })
		}, model.SvcSSH, "OpenSSH", "9.2p1", false, nil, nil, map[string]string{"protocol": "2.0"}},
		{"smtp-starttls", func(testing.TB) func(net.Conn) {
			return lineServer("220-mx.test ESMTP Postfix (Debian)\r\n220 mx.test ESMTP\r\n", func(l string) string {
				switch {
				case strings.HasPrefix(l, "EHLO"):
					return "250-mx.test\r\n250-PIPELINING\r\n250-STARTTLS\r\n250 8BITMIME\r\n"
				case l == "QUIT":
					return "221 bye\r\n"
				}
				return ""
			})
		}, model.SvcSMTP, "Postfix", "", false, nil, b(true), nil},
		{"smtp-plain", func(testing.TB) func(net.Conn) {
			return lineServer("220 mx.test ESMTP Exim 4.96\r\n", func(l string) string {
				if strings.HasPrefix(l, "EHLO") {
					return "250-mx.test Hello\r\n250-SIZE 52428800\r\n250 HELP\r\n"
				}
				return "221 bye\r\n"
			})
		}, model.SvcSMTP, "Exim", "4.96", false, nil, b(false), nil},
		{"ftp-named", func(testing.TB) func(net.Conn) {
			return lineServer("220 (vsFTPd 3.0.3)\r\n", func(l string) string {
				if l == "FEAT" {
					return "211-Features:\r\n EPSV\r\n PASV\r\n211 End\r\n"
				}
				return "221 Goodbye.\r\n"
			})
		}, model.SvcFTP, "vsFTPd", "3.0.3", false, nil, b(false), nil},
		{"ftp-anonymous-greeting", func(testing.TB) func(net.Conn) {
			return lineServer("220 Welcome\r\n", func(l string) string {
				switch {
				case strings.HasPrefix(l, "EHLO"):
					return "500 Unknown command.\r\n"
				case l == "FEAT":
					return "211-Features:\r\n AUTH TLS\r\n PBSZ\r\n211 End\r\n"
				}
				return "221 Goodbye.\r\n"
			})
		}, model.SvcFTP, "", "", false, nil, b(true), nil},
		{"imap-capability-in-greeting", func(testing.TB) func(net.Conn) {
			return lineServer("* OK [CAPABILITY IMAP4rev1 SASL-IR STARTTLS AUTH=PLAIN] Dovecot ready.\r\n", func(l string) string {
				return "* BYE\r\na2 OK\r\n"
			})
		}, model.SvcIMAP, "Dovecot", "", false, nil, b(true), nil},
		{"imap-asked", func(testing.TB) func(net.Conn) {
			return lineServer("* OK ready\r\n", func(l string) string {
				if strings.HasPrefix(l, "a1 CAPABILITY") {
					return "* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\na1 OK done\r\n"
				}
				return "* BYE\r\na2 OK\r\n"
			})
		}, model.SvcIMAP, "", "", false, nil, b(false), nil},
		{"pop3", func(testing.TB) func(net.Conn) {
			return lineServer("+OK POP3 ready\r\n", func(l string) string {
				if l == "CAPA" {
					return "+OK\r\nUSER\r\nSTLS\r\n.\r\n"
				}
				return "+OK bye\r\n"
			})
		}, model.SvcPOP3, "", "", false, nil, b(true), nil},
		{"mysql", func(testing.TB) func(net.Conn) {
			return func(c net.Conn) {
				_, _ = c.Write(mysqlGreeting("8.0.35", 0xffff))
				_, _ = io.Copy(io.Discard, c)
			}
		}, model.SvcMySQL, "MySQL", "8.0.35", false, nil, b(true), nil},
		{"mariadb-no-ssl", func(testing.TB) func(net.Conn) {
			return func(c net.Conn) {
				_, _ = c.Write(mysqlGreeting("5.5.5-10.11.6-MariaDB-0+deb12u1", 0xf7ff))
				_, _ = io.Copy(io.Discard, c)
			}
		}, model.SvcMySQL, "MariaDB", "10.11.6-MariaDB-0+deb12u1", false, nil, b(false), nil},
		{"vnc-no-auth", func(testing.TB) func(net.Conn) {
			return func(c net.Conn) {
				_, _ = io.WriteString(c, "RFB 003.008\n")
				buf := make([]byte, 12)
				if _, err := io.ReadFull(c, buf); err != nil {
					return
				}
				_, _ = c.Write([]byte{2, 1, 2})
				_, _ = io.Copy(io.Discard, c)
			}
		}, model.SvcVNC, "", "003.008", false, b(false), b(false), map[string]string{"security_types": "1,2"}},
		{"telnet", func(testing.TB) func(net.Conn) {
			return func(c net.Conn) {
				_, _ = c.Write([]byte{0xff, 0xfd, 0x18, 0xff, 0xfd, 0x20, 0xff, 0xfb, 0x01})
				_, _ = io.Copy(io.Discard, c)
			}
		}, model.SvcTelnet, "", "", false, nil, b(false), nil},
		{"irc-silent", func(testing.TB) func(net.Conn) {
			return lineServer("", func(l string) string {
				switch {
				case strings.HasPrefix(l, "CAP LS"):
					return ":irc.test CAP * LS :multi-prefix sasl tls\r\n"
				case strings.HasPrefix(l, "PING"):
					return ":irc.test 451 * PING :You have not registered\r\n"
				}
				return ""
			})
		}, model.SvcIRC, "", "", false, nil, b(true), nil},
		{"xmpp", func(testing.TB) func(net.Conn) {
			return func(c net.Conn) {
				buf := make([]byte, 1024)
				n, _ := c.Read(buf)
				if !bytes.Contains(buf[:n], []byte("<stream:stream")) {
					return
				}
				_, _ = io.WriteString(c, "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='1' from='chat.test' version='1.0'>"+
					"<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>")
				_, _ = io.Copy(io.Discard, c)
			}
		}, model.SvcXMPP, "", "", false, nil, b(true), map[string]string{"starttls_required": "true"}},
		{"http-nginx", func(testing.TB) func(net.Conn) {
			return httpServer(map[string]string{"*": httpResp("200 OK", "Server: nginx/1.22.1\r\nContent-Type: text/html\r\n", "<html>hello</html>")})
		}, model.SvcHTTP, "nginx", "1.22.1", false, nil, nil, nil},
		{"https", func(t testing.TB) func(net.Conn) {
			return tlsWrap(t, httpServer(map[string]string{"*": httpResp("200 OK", "Server: Apache/2.4.57\r\n", "ok")}))
		}, model.SvcHTTP, "Apache", "2.4.57", true, nil, nil, nil},
		{"imaps", func(t testing.TB) func(net.Conn) {
			return tlsWrap(t, lineServer("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready\r\n", func(string) string { return "* BYE\r\n" }))
		}, model.SvcIMAP, "", "", true, nil, nil, nil},
		{"redis-open", func(testing.TB) func(net.Conn) {
			return lineServer("", func(l string) string {
				switch {
				case l == "PING":
					return "+PONG\r\n"
				case l == "INFO server":
					body := "# Server\r\nredis_version:7.0.15\r\nredis_mode:standalone\r\n"
					return "$" + strconv.Itoa(len(body)) + "\r\n" + body + "\r\n"
				}
				return ""
			})
		}, model.SvcRedis, "Redis", "7.0.15", false, b(false), b(false), nil},
		{"redis-auth", func(testing.TB) func(net.Conn) {
			return lineServer("", func(l string) string {
				if l == "PING" {
					return "-NOAUTH Authentication required.\r\n"
				}
				return ""
			})
		}, model.SvcRedis, "Redis", "", false, b(true), b(false), nil},
		{"memcached", func(testing.TB) func(net.Conn) {
			return lineServer("", func(l string) string {
				if l == "version" {
					return "VERSION 1.6.21\r\n"
				}
				return "ERROR\r\n"
			})
		}, model.SvcMemcached, "Memcached", "1.6.21", false, b(false), b(false), nil},
		{"postgres", func(testing.TB) func(net.Conn) {
			return binaryServer(func(in []byte) []byte {
				if bytes.Equal(in, sslRequest) {
					return []byte("N")
				}
				return nil
			})
		}, model.SvcPostgres, "PostgreSQL", "", false, nil, b(false), nil},
		{"mongodb", func(testing.TB) func(net.Conn) {
			return binaryServer(func(in []byte) []byte {
				if isMongoHello(in) {
					return mongoReply()
				}
				return nil
			})
		}, model.SvcMongoDB, "MongoDB", "", false, nil, nil, map[string]string{"maxWireVersion": "21", "isWritablePrimary": "true"}},
		{"elasticsearch", func(testing.TB) func(net.Conn) {
			return httpServer(map[string]string{"*": httpResp("200 OK", "Content-Type: application/json\r\nX-elastic-product: Elasticsearch\r\n", esBody)})
		}, model.SvcElasticsearch, "Elasticsearch", "8.11.1", false, b(false), nil, map[string]string{"cluster_name": "prod-logs"}},
		{"elasticsearch-secured", func(testing.TB) func(net.Conn) {
			return httpServer(map[string]string{"*": httpResp("401 Unauthorized", "WWW-Authenticate: Basic realm=\"security\", charset=\"UTF-8\"\r\nContent-Type: application/json\r\n",
				`{"error":{"type":"security_exception","reason":"missing authentication credentials"},"status":401}`)})
		}, model.SvcElasticsearch, "Elasticsearch", "", false, b(true), nil, nil},
		{"docker", func(testing.TB) func(net.Conn) {
			return httpServer(map[string]string{
				"/version": httpResp("200 OK", "Api-Version: 1.43\r\nServer: Docker/24.0.5 (linux)\r\nContent-Type: application/json\r\n", `{"Version":"24.0.5","ApiVersion":"1.43","Os":"linux"}`),
				"*":        httpResp("404 Not Found", "Api-Version: 1.43\r\nServer: Docker/24.0.5 (linux)\r\nContent-Type: application/json\r\n", `{"message":"page not found"}`),
			})
		}, model.SvcDocker, "Docker", "24.0.5", false, b(false), nil, map[string]string{"api_version": "1.43"}},
		{"etcd", func(testing.TB) func(net.Conn) {
			return httpServer(map[string]string{
				"/version": httpResp("200 OK", "Content-Type: application/json\r\n", `{"etcdserver":"3.5.9","etcdcluster":"3.5.0"}`),
				"*":        httpResp("404 Not Found", "Content-Type: text/plain\r\n", "404 page not found\n"),
			})
		}, model.SvcEtcd, "etcd", "3.5.9", false, nil, nil, nil},
		{"kubernetes-anonymous-version", func(t testing.TB) func(net.Conn) {
			return tlsWrap(t, httpServer(map[string]string{
				"/version": httpResp("200 OK", "Content-Type: application/json\r\n", `{"major":"1","minor":"28","gitVersion":"v1.28.2","platform":"linux/amd64"}`),
				"*":        httpResp("403 Forbidden", "Content-Type: application/json\r\n", `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Forbidden","code":403}`),
			}))
		}, model.SvcKubernetes, "Kubernetes", "v1.28.2", true, nil, nil, nil},
		{"kubernetes-locked", func(t testing.TB) func(net.Conn) {
			return httpServer(map[string]string{"*": httpResp("401 Unauthorized", "Content-Type: application/json\r\n", `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Unauthorized","code":401}`)})
		}, model.SvcKubernetes, "Kubernetes", "", false, b(true), nil, nil},
		{"ldap", func(testing.TB) func(net.Conn) {
			return binaryServer(func(in []byte) []byte {
				if !bytes.Equal(in, ldapAnonymousBind) {
					return nil
				}
				return []byte{0x30, 0x0c, 0x02, 0x01, 0x01, 0x61, 0x07, 0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00}
			})
		}, model.SvcLDAP, "", "", false, b(false), nil, map[string]string{"anonymous_bind_result": "0"}},
		{"rdp", func(testing.TB) func(net.Conn) {
			return binaryServer(func(in []byte) []byte {
				if !bytes.Equal(in, rdpConnectionRequest) {
					return nil
				}
				return []byte{0x03, 0x00, 0x00, 0x13, 0x0e, 0xd0, 0x00, 0x00, 0x12, 0x34, 0x00, 0x02, 0x1f, 0x08, 0x00, 0x02, 0x00, 0x00, 0x00}
			})
		}, model.SvcRDP, "", "", false, nil, nil, map[string]string{"selected_protocol": "hybrid", "nla": "true"}},
		{"nntp", func(testing.TB) func(net.Conn) {
			return lineServer("200 news.test InterNetNews NNRP server INN 2.7.1 ready (posting ok)\r\n", func(l string) string {
				if l == "CAPABILITIES" {
					return "101 Capability list:\r\nVERSION 2\r\nREADER\r\nSTARTTLS\r\n.\r\n"
				}
				return "205 bye\r\n"
			})
		}, model.SvcNNTP, "", "", false, nil, b(true), nil},
		{"sieve", func(testing.TB) func(net.Conn) {
			return func(c net.Conn) {
				_, _ = io.WriteString(c, "\"IMPLEMENTATION\" \"Dovecot Pigeonhole\"\r\n\"SIEVE\" \"fileinto reject\"\r\n")
				time.Sleep(50 * time.Millisecond) // the rest of the list in a second segment
				_, _ = io.WriteString(c, "\"SASL\" \"\"\r\n\"STARTTLS\"\r\n\"VERSION\" \"1.0\"\r\nOK \"ready\"\r\n")
				_, _ = io.Copy(io.Discard, io.LimitReader(c, 1024))
			}
		}, model.SvcSieve, "Dovecot Pigeonhole", "", false, nil, b(true), nil},
		{"sip", func(testing.TB) func(net.Conn) {
			return func(c net.Conn) {
				buf := make([]byte, 2048)
				n, _ := c.Read(buf)
				if !bytes.HasPrefix(buf[:n], []byte("OPTIONS sip:")) {
					return
				}
				_, _ = io.WriteString(c, "SIP/2.0 200 OK\r\nVia: SIP/2.0/TCP rampart.invalid;branch=z9hG4bK-rampart-probe\r\nServer: Asterisk PBX 20.5.0\r\nContent-Length: 0\r\n\r\n")
				_, _ = io.Copy(io.Discard, io.LimitReader(c, 1024))
			}
		}, model.SvcSIP, "Asterisk PBX 20.5.0", "", false, nil, b(false), map[string]string{"status": "200"}},
		{"mqtt-auth", func(testing.TB) func(net.Conn) {
			return binaryServer(func(in []byte) []byte {
				if len(in) < 2 || in[0] != 0x10 || !bytes.Contains(in, []byte("MQTT")) {
					return nil
				}
				return []byte{0x20, 0x02, 0x00, 0x05}
			})
		}, model.SvcMQTT, "", "", false, b(true), b(false), map[string]string{"connack_code": "5"}},
	}
	d := testDialer()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := serve(t, tc.handle(t))
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			start := time.Now()
			f := Identify(ctx, d, srv.addr(), fastIdent)
			t.Logf("%s in %v: %+v", tc.name, time.Since(start), f)
			if f.Service != tc.service || f.Product != tc.product || f.Version != tc.version || f.TLS != tc.tls {
				t.Errorf("got service=%q product=%q version=%q tls=%v, want %q %q %q %v (probes %v, error %q)",
					f.Service, f.Product, f.Version, f.TLS, tc.service, tc.product, tc.version, tc.tls, f.Probes, f.Error)
			}
			if !eqBool(f.AuthRequired, tc.auth) {
				t.Errorf("AuthRequired = %s, want %s", showBool(f.AuthRequired), showBool(tc.auth))
			}
			if !eqBool(f.StartTLS, tc.starttls) {
				t.Errorf("StartTLS = %s, want %s", showBool(f.StartTLS), showBool(tc.starttls))
			}
			for k, v := range tc.extra {
				if f.Extra[k] != v {
					t.Errorf("Extra[%s] = %q, want %q", k, f.Extra[k], v)
				}
			}
			if f.Banner == "" {
				t.Error("no banner kept")
			}
			if f.State != model.PortOpen || f.Port != srv.addr().Port() {
				t.Errorf("state/port = %s/%d", f.State, f.Port)
			}
		})
	}
}

func eqBool(a, b *bool) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

func showBool(p *bool) string {
	if p == nil {
		return "nil"
	}
	if *p {
		return "true"
	}
	return "false"
}

// TestIdentifyHostile: servers that never speak, flood, or close at once end within the
// budget, with no service claimed.
func TestIdentifyHostile(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		handle func(net.Conn)
	}{
		{"never-speaks", func(c net.Conn) { _, _ = io.Copy(io.Discard, c) }},
		{"floods", func(c net.Conn) {
			junk := bytes.Repeat([]byte{0x00, 0x17, 'A', 0xfe}, 4096)
			for {
				if _, err := c.Write(junk); err != nil {
					return
				}
			}
		}},
		{"closes-at-once", func(c net.Conn) { _ = c.Close() }},
		{"garbage-line", lineServer("\x1b[31mhello\x00\xff\r\n", func(string) string { return "" })},
		{"tls-then-silent", tlsWrap(t, func(c net.Conn) { _, _ = io.Copy(io.Discard, c) })},
		{"tls-then-floods", tlsWrap(t, func(c net.Conn) {
			junk := bytes.Repeat([]byte{0x01, 0x80}, 8192)
			for {
				if _, err := c.Write(junk); err != nil {
					return
				}
			}
		})},
		{"huge-http-header", func(c net.Conn) {
			_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nServer: "+strings.Repeat("\x1b", 100000))
		}},
	}
	d := testDialer()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := serve(t, tc.handle)
			opts := fastIdent
			opts.Budget = 6 * time.Second
			start := time.Now()
			f := Identify(context.Background(), d, srv.addr(), opts)
			took := time.Since(start)
			t.Logf("%s in %v: service=%q probes=%v banner=%.60q error=%q", tc.name, took, f.Service, f.Probes, f.Banner, f.Error)
			if took > opts.Budget+2*time.Second {
				t.Errorf("took %v, budget %v", took, opts.Budget)
			}
			wantTLS := strings.HasPrefix(tc.name, "tls-")
			if f.Service != "" || f.TLS != wantTLS {
				t.Errorf("claimed service %q tls=%v", f.Service, f.TLS)
			}
			if len(f.Banner) > 4*bannerKeep+4 {
				t.Errorf("banner not bounded: %d bytes", len(f.Banner))
			}
			if strings.ContainsAny(f.Banner, "\x00\x1b\r\n") {
				t.Errorf("banner not escaped: %q", f.Banner)
			}
		})
	}
}

// TestIdentifyCancelled: cancelling the context ends identification at once.
func TestIdentifyCancelled(t *testing.T) {
	t.Parallel()
	srv := serve(t, func(c net.Conn) { _, _ = io.Copy(io.Discard, c) })
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	_ = Identify(ctx, testDialer(), srv.addr(), IdentifyOptions{BannerWait: 5 * time.Second, ProbeWait: 5 * time.Second})
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("cancelled identification took %v", took)
	}
}

func TestIdentifyClosedPort(t *testing.T) {
	t.Parallel()
	ap := netip.AddrPortFrom(netip.MustParseAddr("127.0.33.1"), closedPort(t, "127.0.33.1"))
	f := Identify(context.Background(), testDialer(), ap, fastIdent)
	if f.State != model.PortClosed || f.Error == "" || f.Service != "" {
		t.Fatalf("closed port: %+v", f)
	}
}

// TestIdentifyWellKnownHTTPSPort: on 8443 the banner waits are cut short (nothing speaks
// first there), so identification takes well under one full banner wait.
func TestIdentifyWellKnownHTTPSPort(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.34.1:8443")
	if err != nil {
		t.Skipf("127.0.34.1:8443 unavailable: %v", err)
	}
	handle := tlsWrap(t, httpServer(map[string]string{"*": httpResp("200 OK", "Server: nginx/1.22.1\r\n", "ok")}))
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); handle(c) }()
		}
	}()
	t.Cleanup(func() { _ = ln.Close() })
	opts := IdentifyOptions{BannerWait: 2 * time.Second, ProbeWait: time.Second}
	start := time.Now()
	f := Identify(context.Background(), testDialer(), netip.MustParseAddrPort("127.0.34.1:8443"), opts)
	took := time.Since(start)
	if f.Service != model.SvcHTTP || !f.TLS || f.Product != "nginx" {
		t.Fatalf("got %+v", f)
	}
	if took >= opts.BannerWait {
		t.Fatalf("took %v, want under one banner wait (%v)", took, opts.BannerWait)
	}
}
