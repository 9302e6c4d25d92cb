package exposure

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/rampart-scan/rampart/model"
)

// checkFacts asserts the invariants every classifier keeps on hostile input.
func checkFacts(t *testing.T, f *model.ServiceFacts) {
	t.Helper()
	for _, s := range []string{f.Product, f.Version, f.Banner} {
		if len(s) > 4*bannerKeep+8 {
			t.Fatalf("unbounded string of %d bytes", len(s))
		}
		if !utf8.ValidString(s) || strings.ContainsAny(s, "\x00\r\n\x1b") {
			t.Fatalf("unescaped string %q", s)
		}
	}
	if len(f.Extra) > 16 {
		t.Fatalf("%d extra facts", len(f.Extra))
	}
	for k, v := range f.Extra {
		if len(v) > 4*128+8 || strings.ContainsAny(v, "\x00\r\n") {
			t.Fatalf("extra %s unbounded or unescaped: %q", k, v)
		}
	}
	if f.HTTP != nil && strings.ContainsAny(f.HTTP.Server+f.HTTP.ContentType, "\x00\r\n") {
		t.Fatalf("unescaped HTTP facts %+v", f.HTTP)
	}
}

func FuzzClassifyBanner(f *testing.F) {
	for _, s := range []string{
		"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n", "220 mx ESMTP Postfix\r\n", "220 (vsFTPd 3.0.3)\r\n",
		"* OK [CAPABILITY IMAP4rev1 STARTTLS] hi\r\n", "+OK\r\n", "RFB 003.008\n", "\xff\xfd\x18",
		":irc.test NOTICE * :*** Looking up your hostname\r\n", "<?xml version='1.0'?><stream:stream>",
		"200 news ready\r\n", "\"IMPLEMENTATION\" \"x\"\r\n\"STARTTLS\"\r\nOK\r\n", "SIP/2.0 200 OK\r\nServer: x\r\n\r\n",
		string(mysqlGreeting("8.0.35", 0xffff)), "\x10\x00\x00\x00\xff\x15\x04#HY000nope",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var facts model.ServiceFacts
		classifyBanner(b, &facts)
		parseEHLO(b)
		parseFTPFeat(b)
		parsePOP3Capa(b)
		parseIMAPCapability(b)
		parseIRC(b, &facts)
		parseNNTPCapabilities(b)
		parseSieveCapabilities(b, &facts)
		sieveDone(b)
		parseSIP(b, &facts)
		smtpDone(b)
		pop3Done(b)
		if len(b) > 0 {
			bannerDone(b)
		}
		facts.Banner = escape(b, bannerKeep)
		checkFacts(t, &facts)
	})
}

func FuzzClassifyHTTP(f *testing.F) {
	f.Add([]byte(httpResp("200 OK", "Server: nginx/1.22.1\r\n", "hi")))
	f.Add([]byte(httpResp("200 OK", "Content-Type: application/json\r\n", `{"cluster_name":"x","cluster_uuid":"y","version":{"number":"8"}}`)))
	f.Add([]byte(httpResp("401 Unauthorized", "", `{"kind":"Status","apiVersion":"v1"}`)))
	f.Add([]byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var facts model.ServiceFacts
		httpDone(b)
		classifyHTTP(b, "/", &facts)
		checkFacts(t, &facts)
	})
}

func FuzzParseBinary(f *testing.F) {
	f.Add([]byte{0x30, 0x0c, 0x02, 0x01, 0x01, 0x61, 0x07, 0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00})
	f.Add([]byte{0x03, 0x00, 0x00, 0x13, 0x0e, 0xd0, 0x00, 0x00, 0x12, 0x34, 0x00, 0x02, 0x1f, 0x08, 0x00, 0x02, 0x00, 0x00, 0x00})
	f.Add([]byte{0x20, 0x02, 0x00, 0x00})
	f.Add([]byte("S"))
	f.Add([]byte{2, 1, 2})
	f.Add(mongoReply())
	f.Add([]byte("$10\r\nredis_version:7\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var facts model.ServiceFacts
		parseLDAPBind(b, &facts)
		ldapDone(b)
		parseRDP(b, &facts)
		parseMQTTConnack(b, &facts)
		parsePostgres(b, &facts)
		parseVNCSecurity(b, false, &facts)
		parseVNCSecurity(b, true, &facts)
		parseMongoReply(b, &facts)
		mongoDone(b)
		parseRedis(b, &facts)
		parseRedisInfo(b, &facts)
		redisInfoDone(b)
		parseMemcached(b, &facts)
		parseMySQLGreeting(b, &facts)
		parseXMPP(b, &facts)
		checkFacts(t, &facts)
	})
}
