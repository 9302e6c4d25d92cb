package starttls

import (
	"bytes"
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/rampart-scan/rampart/model"
)

// fuzzConn is a net.Conn that replays server bytes, at most chunk bytes per Read, and
// swallows whatever the client writes.
type fuzzConn struct {
	r     io.Reader
	chunk int
}

func (c *fuzzConn) Read(p []byte) (int, error) {
	if c.chunk > 0 && len(p) > c.chunk {
		p = p[:c.chunk]
	}
	return c.r.Read(p)
}
func (c *fuzzConn) Write(p []byte) (int, error)      { return len(p), nil }
func (c *fuzzConn) Close() error                     { return nil }
func (c *fuzzConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *fuzzConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c *fuzzConn) SetDeadline(time.Time) error      { return nil }
func (c *fuzzConn) SetReadDeadline(time.Time) error  { return nil }
func (c *fuzzConn) SetWriteDeadline(time.Time) error { return nil }

// rw is a wire source for parser fuzzing: reads from data, writes are discarded.
type rw struct{ io.Reader }

func (rw) Write(p []byte) (int, error) { return len(p), nil }

func wireOf(data []byte) *wire { return newWire(rw{bytes.NewReader(data)}, DefaultMaxBytes) }

// serverBytes concatenates what a scripted server sends.
func serverBytes(script []step) []byte {
	var b []byte
	for _, s := range script {
		b = append(b, s.send...)
	}
	return b
}

func FuzzNegotiate(f *testing.F) {
	protos := Protocols()
	for _, cases := range [][]dialogueCase{smtpCases(), imapCases(), pop3Cases(), sieveCases(), nntpCases(), ftpCases(), ircCases(), xmppCases(), ldapCases(), postgresCases(), mysqlCases()} {
		for _, tc := range cases {
			if strings.Contains(tc.name, "10MB") {
				continue
			}
			for i, p := range protos {
				if p == tc.proto {
					f.Add(serverBytes(tc.script), uint8(i), uint8(0))
					f.Add(serverBytes(tc.script), uint8(i), uint8(7))
				}
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, proto, chunk uint8) {
		p := protos[int(proto)%len(protos)]
		conn := &fuzzConn{r: bytes.NewReader(data), chunk: int(chunk)}
		facts, err := Negotiate(context.Background(), conn, p, Options{Domain: "chat.test"})
		if facts == nil {
			t.Fatal("nil facts")
		}
		if err == nil && facts.Outcome != model.StartTLSAccepted {
			t.Fatalf("nil error with outcome %s", facts.Outcome)
		}
		if err != nil && facts.Outcome == model.StartTLSAccepted && facts.UnexpectedBytes == 0 {
			t.Fatalf("error %v with outcome accepted", err)
		}
		checkBounded(t, facts)
	})
}

func FuzzSMTPReply(f *testing.F) {
	f.Add([]byte(smtpEHLO))
	f.Add([]byte("220 ok\r\n"))
	f.Add([]byte("250\n"))
	f.Add([]byte("250-a\r\n251 b\r\n"))
	f.Add([]byte("999 x\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		code, lines, err := readSMTPReply(wireOf(data))
		if err != nil {
			return
		}
		if code < 100 || code > 599 {
			t.Fatalf("code %d accepted", code)
		}
		if len(lines) == 0 || len(lines) > maxReplyLines {
			t.Fatalf("%d lines", len(lines))
		}
		for _, l := range lines {
			if len(l) > maxLineLen || strings.ContainsRune(l, '\n') {
				t.Fatalf("line %q escaped the framing", l)
			}
		}
	})
}

func FuzzIMAPCapability(f *testing.F) {
	f.Add([]byte("* CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED\r\na001 OK done\r\n"))
	f.Add([]byte("* ID (\"name\" {7}\r\nDovecot)\r\na001 OK\r\n"))
	f.Add([]byte("* OK [CAPABILITY IMAP4rev1 STARTTLS] hi\r\n"))
	f.Add([]byte("* X {4294967296}\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var caps []string
		status, _, err := readIMAPTagged(wireOf(data), "a001", func(l string) {
			if k, r := imapUntagged(l); k == "CAPABILITY" {
				caps = append(caps, strings.Fields(r)...)
			}
		})
		if err == nil && status != "OK" && status != "NO" && status != "BAD" {
			t.Fatalf("status %q", status)
		}
		_, rest := imapUntagged(string(data))
		for _, c := range imapGreetingCaps(rest) {
			if strings.ContainsAny(c, " ]") {
				t.Fatalf("capability %q holds a separator", c)
			}
		}
	})
}

func FuzzXMPPFeatures(f *testing.F) {
	f.Add([]byte(xmppStreamWith("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>")))
	f.Add([]byte(xmppStreamWith("<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms>")))
	f.Add([]byte("<stream:stream version='1.0'><stream:error><host-unknown/><text>no</text></stream:error>"))
	f.Add([]byte("<?xml version='1.0' encoding='latin1'?><stream:stream>"))
	f.Fuzz(func(t *testing.T, data []byte) {
		x := newXMPPReader(wireOf(data)) // the wire caps total bytes like an io.LimitReader
		if _, err := x.streamHeader(); err != nil {
			return
		}
		feats, err := x.features()
		if err != nil {
			return
		}
		if feats.required && !feats.starttls {
			// <required/> is only read inside <starttls/>.
			t.Fatal("required without starttls")
		}
		if len(feats.mechanisms) > maxCaps {
			t.Fatalf("%d mechanisms kept", len(feats.mechanisms))
		}
		_, _ = x.tlsVerdict()
	})
}

func FuzzLDAPResponse(f *testing.F) {
	f.Add([]byte(ldapResponse(0, "", false)))
	f.Add([]byte(ldapResponse(0, "", true)))
	f.Add([]byte(ldapResponse(2, "unsupported", false)))
	f.Add([]byte("\x30\x84\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = parseLDAPExtendedResponse(data)
		msg, err := readBERMessage(wireOf(data))
		if err != nil {
			return
		}
		if len(msg) > maxLDAPMessage+6 {
			t.Fatalf("%d-byte message accepted", len(msg))
		}
		if _, err := parseLDAPExtendedResponse(msg); err == nil && msg[0] != 0x30 {
			t.Fatal("non-SEQUENCE parsed")
		}
	})
}

func FuzzMySQLGreeting(f *testing.F) {
	f.Add([]byte(mysqlGreetingPacket("8.0.36", 0xffffffff))[4:])
	f.Add([]byte(mysqlErrorPacket(1130, "Host not allowed"))[4:])
	f.Add([]byte{9, 'x', 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := parseMySQLGreeting(data)
		if err == nil && g.protocol != 9 && g.protocol != 10 {
			t.Fatalf("protocol %d accepted", g.protocol)
		}
		if len(g.version) > maxCapLen+len("…") {
			t.Fatalf("version of %d bytes", len(g.version))
		}
	})
}

func FuzzSieveResponse(f *testing.F) {
	f.Add([]byte("\"IMPLEMENTATION\" \"Dovecot\"\r\n\"STARTTLS\"\r\nOK \"ready\"\r\n"))
	f.Add([]byte("\"IMPLEMENTATION\" {6}\r\nCyrus!\r\nOK\r\n"))
	f.Add([]byte("\"a\\\"b\" {2+}\r\nxy more\r\nNO\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		lines, status, err := readSieveResponse(wireOf(data))
		if err != nil {
			return
		}
		if len(status) == 0 || (status[0] != "OK" && status[0] != "NO" && status[0] != "BYE") {
			t.Fatalf("status %q", status)
		}
		if len(lines) > maxReplyLines {
			t.Fatalf("%d lines", len(lines))
		}
	})
}

func FuzzIRCMessage(f *testing.F) {
	f.Add(":irc.test CAP * LS * :multi-prefix tls")
	f.Add("@time=x :srv 670 * :go")
	f.Add("PING :123")
	f.Fuzz(func(t *testing.T, line string) {
		m, err := parseIRCMessage(line)
		if err != nil {
			return
		}
		if m.command == "" || len(m.params) > 32 {
			t.Fatalf("parsed %+v", m)
		}
	})
}

func FuzzClean(f *testing.F) {
	f.Add("evil\x1b[31m\x00red\xff", 16)
	f.Add("naïve ✓ \u200b\u202e", 512)
	f.Fuzz(func(t *testing.T, s string, max int) {
		if max < 0 || max > 4096 {
			return
		}
		out := clean(s, max)
		if !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8 %q", out)
		}
		if len(out) > max+len("…") {
			t.Fatalf("%d bytes > %d", len(out), max)
		}
		for _, r := range out {
			if r < 0x20 || r == 0x7f {
				t.Fatalf("control %U kept", r)
			}
		}
	})
}
