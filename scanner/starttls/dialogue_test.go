package starttls

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rampart-scan/rampart/model"
)

// dialogueCase is one scripted conversation and what Negotiate must conclude from it.
type dialogueCase struct {
	name    string
	proto   string
	opts    Options
	script  []step
	timeout time.Duration // ctx timeout; default 5s
	wantErr error         // nil, a sentinel, context.DeadlineExceeded or errAny
	outcome model.StartTLSOutcome
	// serverOK: the script must complete without error (the client said exactly what the
	// script expects, and nothing more).
	serverOK bool
	check    func(t *testing.T, f *model.StartTLSFacts)
}

const smtpEHLO = "250-mx.starttls.test Hello\r\n250-PIPELINING\r\n250-AUTH PLAIN LOGIN CRAM-MD5\r\n250-STARTTLS\r\n250 8BITMIME\r\n"

func smtpCases() []dialogueCase {
	greet := send("220-mx.starttls.test ESMTP Postfix (Debian/GNU)\r\n220 mx.starttls.test\r\n")
	return []dialogueCase{
		{name: "smtp/accepted", proto: "smtp", script: []step{greet, expect("EHLO rampart.invalid\r\n"), send(smtpEHLO), expect("STARTTLS\r\n"), send("220 2.0.0 Ready to start TLS\r\n"), tlsUp},
			outcome: model.StartTLSAccepted, serverOK: true, check: func(t *testing.T, f *model.StartTLSFacts) {
				want(t, f.Offered, "offered")
				wantList(t, f.PlaintextAuth, []string{"PLAIN", "LOGIN"})
				wantEq(t, f.Software, "Postfix")
				wantEq(t, f.Greeting, "mx.starttls.test ESMTP Postfix (Debian/GNU) / mx.starttls.test")
				wantList(t, f.Capabilities, []string{"PIPELINING", "AUTH PLAIN LOGIN CRAM-MD5", "STARTTLS", "8BITMIME"})
			}},
		{name: "smtp/helo-name", proto: "smtp", opts: Options{HeloName: "probe.example"}, script: []step{greet, expect("EHLO probe.example\r\n"), send("250-x\r\n250 STARTTLS\r\n"), expect("STARTTLS\r\n"), send("220 go\r\n"), tlsUp},
			outcome: model.StartTLSAccepted, serverOK: true},
		{name: "smtp/auth-equals-form", proto: "smtp", script: []step{greet, expect("EHLO"), send("250-x\r\n250-AUTH=LOGIN\r\n250 STARTTLS\r\n"), expect("STARTTLS"), send("220 go\r\n"), tlsUp},
			outcome: model.StartTLSAccepted, serverOK: true, check: func(t *testing.T, f *model.StartTLSFacts) { wantList(t, f.PlaintextAuth, []string{"LOGIN"}) }},
		{name: "smtp/not-offered", proto: "smtp", script: []step{greet, expect("EHLO"), send("250-x\r\n250 SIZE 1000\r\n"), eof},
			wantErr: ErrNotOffered, outcome: model.StartTLSNotOffered, serverOK: true, check: func(t *testing.T, f *model.StartTLSFacts) { want(t, !f.Offered, "not offered") }},
		{name: "smtp/force-unadvertised", proto: "smtp", opts: Options{Force: true}, script: []step{greet, expect("EHLO"), send("250 x\r\n"), expect("STARTTLS"), send("220 go\r\n"), tlsUp},
			outcome: model.StartTLSAccepted, serverOK: true, check: func(t *testing.T, f *model.StartTLSFacts) { want(t, !f.Offered, "not advertised") }},
		{name: "smtp/refused-454", proto: "smtp", script: []step{greet, expect("EHLO"), send(smtpEHLO), expect("STARTTLS"), send("454 4.7.0 TLS not available due to local problem\r\n"), eof},
			wantErr: ErrRefused, outcome: model.StartTLSRefused, serverOK: true, check: func(t *testing.T, f *model.StartTLSFacts) {
				want(t, f.Offered, "offered")
				wantEq(t, f.ReplyCode, "454")
				wantEq(t, f.ReplyText, "4.7.0 TLS not available due to local problem")
			}},
		{name: "smtp/ehlo-rejected", proto: "smtp", script: []step{greet, expect("EHLO"), send("502 5.5.1 command not implemented\r\n"), eof},
			wantErr: ErrNotOffered, outcome: model.StartTLSNotOffered, serverOK: true, check: func(t *testing.T, f *model.StartTLSFacts) { wantEq(t, f.ReplyCode, "502") }},
		{name: "smtp/throttled-421", proto: "smtp", script: []step{send("421 4.7.0 too many connections\r\n"), eof},
			wantErr: errAny, outcome: model.StartTLSFailed, serverOK: true, check: func(t *testing.T, f *model.StartTLSFacts) { wantEq(t, f.ReplyCode, "421") }},
		{name: "lmtp/accepted", proto: "lmtp", script: []step{send("220 lmtp.test LMTP Dovecot ready\r\n"), expect("LHLO rampart.invalid\r\n"), send("250-lmtp.test\r\n250-STARTTLS\r\n250 PIPELINING\r\n"), expect("STARTTLS"), send("220 2.0.0 Begin TLS\r\n"), tlsUp},
			outcome: model.StartTLSAccepted, serverOK: true, check: func(t *testing.T, f *model.StartTLSFacts) { wantEq(t, f.Software, "Dovecot") }},
		// Hostile servers.
		{name: "smtp/plaintext-after-go-ahead", proto: "smtp", script: []step{greet, expect("EHLO"), send(smtpEHLO), expect("STARTTLS"), send("220 go ahead\r\n250 injected\r\n"), stall},
			wantErr: ErrUnexpectedData, outcome: model.StartTLSAccepted, check: func(t *testing.T, f *model.StartTLSFacts) { wantEq(t, f.UnexpectedBytes, len("250 injected\r\n")) }},
		{name: "smtp/endless-ehlo", proto: "smtp", script: []step{greet, expect("EHLO"), {flood: "250-XEXTENSION with a long parameter list\r\n"}},
			wantErr: ErrLimit, outcome: model.StartTLSFailed},
		{name: "smtp/endless-line", proto: "smtp", script: []step{{flood: "220-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}},
			wantErr: ErrLimit, outcome: model.StartTLSFailed},
		{name: "smtp/10MB-one-line", proto: "smtp", script: []step{send("220 " + strings.Repeat("B", 10<<20) + "\r\n")},
			wantErr: ErrLimit, outcome: model.StartTLSFailed},
		{name: "smtp/stall", proto: "smtp", timeout: 300 * time.Millisecond, script: []step{send("220-still thinking\r\n"), stall},
			wantErr: context.DeadlineExceeded, outcome: model.StartTLSFailed},
		{name: "smtp/close-mid-reply", proto: "smtp", script: []step{greet, expect("EHLO"), send("250-x\r\n250-STAR"), hangup},
			wantErr: errAny, outcome: model.StartTLSFailed},
		{name: "smtp/garbage", proto: "smtp", script: []step{send("\x16\x03\x01\x00\x05hello\r\n")},
			wantErr: ErrProtocol, outcome: model.StartTLSFailed},
		{name: "smtp/code-changes-mid-reply", proto: "smtp", script: []step{send("220-a\r\n250 b\r\n")},
			wantErr: ErrProtocol, outcome: model.StartTLSFailed},
		{name: "smtp/control-characters-escaped", proto: "smtp", script: []step{send("220 evil\x1b[31m\x00red\xff\r\n"), expect("EHLO"), send("250 x\r\n"), eof},
			wantErr: ErrNotOffered, outcome: model.StartTLSNotOffered, check: func(t *testing.T, f *model.StartTLSFacts) { wantEq(t, f.Greeting, `evil\x1b[31m\x00red\xff`) }},
	}
}

func imapCases() []dialogueCase {
	return []dialogueCase{
		{name: "imap/accepted-logindisabled", proto: "imap", script: []step{
			send("* OK [CAPABILITY IMAP4rev1 SASL-IR STARTTLS LOGINDISABLED] Dovecot (Debian) ready.\r\n"), expect("a001 CAPABILITY\r\n"),
			send("* CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID STARTTLS LOGINDISABLED\r\na001 OK Pre-login capabilities listed, post-login capabilities have more.\r\n"),
			expect("a002 STARTTLS\r\n"), send("a002 OK Begin TLS negotiation now.\r\n"), tlsUp},
			outcome: model.StartTLSAccepted, serverOK: true, check: func(t *testing.T, f *model.StartTLSFacts) {
				want(t, f.Offered, "offered")
				wantList(t, f.PlaintextAuth, nil)
				wantEq(t, f.Software, "Dovecot")
				want(t, slices.Contains(f.Capabilities, "LOGINDISABLED"), "LOGINDISABLED recorded")
			}},
		{name: "imap/plaintext-login", proto: "imap", script: []step{
			send("* OK ready\r\n"), expect("a001 CAPABILITY"),
			send("* CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN AUTH=SCRAM-SHA-256\r\na001 OK done\r\n"),
			expect("a002 STARTTLS"), send("a002 OK go\r\n"), tlsUp},
			outcome: model.StartTLSAccepted, serverOK: true, check: func(t *testing.T, f *model.StartTLSFacts) { wantList(t, f.PlaintextAuth, []string{"PLAIN", "LOGIN"}) }},
		{name: "imap/capability-in-greeting-only", proto: "imap", script: []step{
			send("* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] hi\r\n"), expect("a001 CAPABILITY"), send("a001 OK nothing new\r\n"),
			expect("a002 STARTTLS"), send("a002 OK go\r\n"), tlsUp},
			outcome: model.StartTLSAccepted, serverOK: true},
		{name: "imap/literal-in-untagged", proto: "imap", script: []step{
			send("* OK hi\r\n"), expect("a001 CAPABILITY"),
			send("* ID (\"name\" {7}\r\nDovecot)\r\n* CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED\r\na001 OK done\r\n"),
			expect("a002 STARTTLS"), send("a002 OK go\r\n"), tlsUp},
			outcome: model.StartTLSAccepted, serverOK: true},
		{name: "imap/not-offered", proto: "imap", script: []step{send("* OK hi\r\n"), expect("a001 CAPABILITY"), send("* CAPABILITY IMAP4rev1\r\na001 OK done\r\n"), eof},
			wantErr: ErrNotOffered, outcome: model.StartTLSNotOffered, serverOK: true, check: func(t *testing.T, f *model.StartTLSFacts) { wantList(t, f.PlaintextAuth, []string{"LOGIN"}) }},
		{name: "imap/refused", proto: "imap", script: []step{send("* OK hi\r\n"), expect("a001"), send("* CAPABILITY IMAP4rev1 STARTTLS\r\na001 OK\r\n"), expect("a002 STARTTLS"), send("a002 NO [UNAVAILABLE] TLS is broken\r\n"), eof},
			wantErr: ErrRefused, outcome: model.StartTLSRefused, serverOK: true, check: func(t *testing.T, f *model.StartTLSFacts) {
				wantEq(t, f.ReplyCode, "NO")
				wantEq(t, f.ReplyText, "[UNAVAILABLE] TLS is broken")
			}},
		{name: "imap/preauth", proto: "imap", script: []step{send("* PREAUTH already logged in\r\n"), eof},
			wantErr: ErrNotOffered, outcome: model.StartTLSNotOffered, serverOK: true},
		{name: "imap/bye", proto: "imap", script: []step{send("* BYE go away\r\n"), eof},
			wantErr: errAny, outcome: model.StartTLSFailed, serverOK: true},
		{name: "imap/endless-untagged", proto: "imap", script: []step{send("* OK hi\r\n"), expect("a001"), {flood: "* OK still going\r\n"}},
			wantErr: ErrLimit, outcome: model.StartTLSFailed},
		{name: "imap/huge-literal", proto: "imap", script: []step{send("* OK hi\r\n"), expect("a001"), send("* X {999999999}\r\n"), stall},
			wantErr: ErrLimit, outcome: model.StartTLSFailed},
	}
}

func pop3Cases() []dialogueCase {
	return []dialogueCase{
		{name: "pop3/accepted", proto: "pop3", script: []step{send("+OK Dovecot ready.\r\n"), expect("CAPA\r\n"),
			send("+OK\r\nCAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nUSER\r\nSASL PLAIN LOGIN\r\nSTLS\r\n.\r\n"), expect("STLS\r\n"), send("+OK Begin TLS negotiation now.\r\n"), tlsUp},
			outcome: model.StartTLSAccepted, serverOK: true, check: func(t *testing.T, f *model.StartTLSFacts) {
				want(t, f.Offered, "offered")
				wantList(t, f.PlaintextAuth, []string{"USER", "PLAIN", "LOGIN"})
			}},
		{name: "pop3/no-capa", proto: "pop3", script: []step{send("+OK hi\r\n"), expect("CAPA"), send("-ERR unknown command\r\n"), eof},
			wantErr: ErrNotOffered, outcome: model.StartTLSNotOffered, serverOK: true},
		{name: "pop3/refused", proto: "pop3", script: []step{send("+OK hi\r\n"), expect("CAPA"), send("+OK\r\nSTLS\r\n.\r\n"), expect("STLS"), send("-ERR not now\r\n"), eof},
			wantErr: ErrRefused, outcome: model.StartTLSRefused, serverOK: true, check: func(t *testing.T, f *model.StartTLSFacts) { wantEq(t, f.ReplyCode, "-ERR") }},
		{name: "pop3/not-pop3", proto: "pop3", script: []step{send("SSH-2.0-OpenSSH_9.2\r\n")},
			wantErr: ErrProtocol, outcome: model.StartTLSFailed},
		{name: "pop3/endless-capa", proto: "pop3", script: []step{send("+OK hi\r\n"), expect("CAPA"), send("+OK\r\n"), {flood: "X-CAP\r\n"}},
			wantErr: ErrLimit, outcome: model.StartTLSFailed},
	}
}

func sieveCases() []dialogueCase {
	caps := "\"IMPLEMENTATION\" \"Dovecot Pigeonhole\"\r\n\"SIEVE\" \"fileinto reject envelope\"\r\n\"NOTIFY\" \"mailto\"\r\n\"SASL\" \"PLAIN LOGIN\"\r\n\"STARTTLS\"\r\n\"VERSION\" \"1.0\"\r\nOK \"Dovecot ready.\"\r\n"
	return []dialogueCase{
		{name: "sieve/accepted", proto: "sieve", script: []step{send(caps), expect("STARTTLS\r\n"), send("OK \"Begin TLS negotiation now.\"\r\n"), tlsUp},
			outcome: model.StartTLSAccepted, serverOK: true, check: func(t *testing.T, f *model.StartTLSFacts) {
				want(t, f.Offered, "offered")
				wantEq(t, f.Software, "Dovecot Pigeonhole")
				wantList(t, f.PlaintextAuth, []string{"PLAIN", "LOGIN"})
				wantEq(t, f.Greeting, "Dovecot ready.")
			}},
		{name: "sieve/literal", proto: "sieve", script: []step{send("\"IMPLEMENTATION\" {6}\r\nCyrus!\r\n\"STARTTLS\"\r\nOK\r\n"), expect("STARTTLS"), send("OK\r\n"), tlsUp},
			outcome: model.StartTLSAccepted, serverOK: true, check: func(t *testing.T, f *model.StartTLSFacts) { wantEq(t, f.Software, "Cyrus!") }},
		{name: "sieve/not-offered", proto: "sieve", script: []step{send("\"SASL\" \"PLAIN\"\r\nOK\r\n"), eof},
			wantErr: ErrNotOffered, outcome: model.StartTLSNotOffered, serverOK: true},
		{name: "sieve/refused", proto: "sieve", script: []step{send(caps), expect("STARTTLS"), send("NO \"no\"\r\n"), eof},
			wantErr: ErrRefused, outcome: model.StartTLSRefused, serverOK: true},
		{name: "sieve/unterminated-string", proto: "sieve", script: []step{send("\"IMPLEMENTATION \r\n")},
			wantErr: ErrProtocol, outcome: model.StartTLSFailed},
	}
}

func nntpCases() []dialogueCase {
	return []dialogueCase{
		{name: "nntp/accepted", proto: "nntp", script: []step{send("200 news.test InterNetNews server INN 2.7.1 ready (posting ok)\r\n"), expect("CAPABILITIES\r\n"),
			send("101 Capability list:\r\nVERSION 2\r\nIMPLEMENTATION INN 2.7.1\r\nAUTHINFO USER\r\nSTARTTLS\r\nREADER\r\n.\r\n"), expect("STARTTLS\r\n"), send("382 Begin TLS negotiation now\r\n"), tlsUp},
			outcome: model.StartTLSAccepted, serverOK: true, check: func(t *testing.T, f *model.StartTLSFacts) {
				wantList(t, f.PlaintextAuth, []string{"AUTHINFO USER"})
				wantEq(t, f.Software, "INN")
			}},
		{name: "nntp/not-offered", proto: "nntp", script: []step{send("201 ro\r\n"), expect("CAPABILITIES"), send("500 what?\r\n"), eof},
			wantErr: ErrNotOffered, outcome: model.StartTLSNotOffered, serverOK: true},
		{name: "nntp/refused", proto: "nntp", script: []step{send("200 hi\r\n"), expect("CAPABILITIES"), send("101 x\r\nSTARTTLS\r\n.\r\n"), expect("STARTTLS"), send("580 Can not initiate TLS negotiation\r\n"), eof},
			wantErr: ErrRefused, outcome: model.StartTLSRefused, serverOK: true, check: func(t *testing.T, f *model.StartTLSFacts) { wantEq(t, f.ReplyCode, "580") }},
		{name: "nntp/unavailable", proto: "nntp", script: []step{send("502 access denied\r\n"), eof},
			wantErr: errAny, outcome: model.StartTLSFailed, serverOK: true},
	}
}

func ftpCases() []dialogueCase {
	return []dialogueCase{
		{name: "ftp/accepted", proto: "ftp", script: []step{send("220-Welcome\r\n free text line\r\n220 ProFTPD Server ready.\r\n"), expect("FEAT\r\n"),
			send("211-Features:\r\n MDTM\r\n AUTH TLS\r\n PBSZ\r\n PROT\r\n211 End\r\n"), expect("AUTH TLS\r\n"), send("234 AUTH TLS successful\r\n"), tlsUp},
			outcome: model.StartTLSAccepted, serverOK: true, check: func(t *testing.T, f *model.StartTLSFacts) {
				want(t, f.Offered, "offered")
				wantEq(t, f.Software, "ProFTPD")
				wantList(t, f.Capabilities, []string{"MDTM", "AUTH TLS", "PBSZ", "PROT"})
			}},
		{name: "ftp/no-feat-tries-auth", proto: "ftp", script: []step{send("120 soon\r\n220 ready\r\n"), expect("FEAT"), send("500 unknown\r\n"), expect("AUTH TLS"), send("234 ok\r\n"), tlsUp},
			outcome: model.StartTLSAccepted, serverOK: true, check: func(t *testing.T, f *model.StartTLSFacts) { want(t, !f.Offered, "not advertised") }},
		{name: "ftp/no-feat-no-auth", proto: "ftp", script: []step{send("220 ready\r\n"), expect("FEAT"), send("500 unknown\r\n"), expect("AUTH TLS"), send("504 no\r\n"), eof},
			wantErr: ErrNotOffered, outcome: model.StartTLSNotOffered, serverOK: true},
		{name: "ftp/feat-without-auth", proto: "ftp", script: []step{send("220 ready\r\n"), expect("FEAT"), send("211-Features:\r\n MDTM\r\n211 End\r\n"), eof},
			wantErr: ErrNotOffered, outcome: model.StartTLSNotOffered, serverOK: true},
		{name: "ftp/refused", proto: "ftp", script: []step{send("220 ready\r\n"), expect("FEAT"), send("211-Features:\r\n AUTH TLS\r\n211 End\r\n"), expect("AUTH TLS"), send("534 policy\r\n"), eof},
			wantErr: ErrRefused, outcome: model.StartTLSRefused, serverOK: true, check: func(t *testing.T, f *model.StartTLSFacts) { wantEq(t, f.ReplyCode, "534") }},
	}
}

func ircCases() []dialogueCase {
	return []dialogueCase{
		{name: "irc/accepted", proto: "irc", script: []step{expect("CAP LS 302\r\n"),
			send(":irc.test NOTICE * :*** Looking up your hostname...\r\nPING :12345\r\n"), expect("PONG :12345\r\n"),
			send(":irc.test CAP * LS * :multi-prefix tls\r\n:irc.test CAP * LS :sasl=PLAIN,EXTERNAL sts=port=6697,duration=300\r\n"),
			expect("STARTTLS\r\n"), send(":irc.test 670 * :STARTTLS successful, proceed with TLS handshake\r\n"), tlsUp},
			outcome: model.StartTLSAccepted, serverOK: true, check: func(t *testing.T, f *model.StartTLSFacts) {
				want(t, f.Offered, "offered")
				wantList(t, f.PlaintextAuth, []string{"PLAIN"})
				wantEq(t, f.Greeting, "*** Looking up your hostname...")
				want(t, slices.Contains(f.Capabilities, "sts=port=6697,duration=300"), "sts recorded")
			}},
		{name: "irc/no-cap", proto: "irc", script: []step{expect("CAP"), send(":irc.test 421 * CAP :Unknown command\r\n"), eof},
			wantErr: ErrNotOffered, outcome: model.StartTLSNotOffered, serverOK: true},
		{name: "irc/refused", proto: "irc", script: []step{expect("CAP"), send(":irc.test CAP * LS :tls\r\n"), expect("STARTTLS"), send(":irc.test 691 * :STARTTLS failed\r\n"), eof},
			wantErr: ErrRefused, outcome: model.StartTLSRefused, serverOK: true, check: func(t *testing.T, f *model.StartTLSFacts) { wantEq(t, f.ReplyCode, "691") }},
		{name: "irc/endless-notices", proto: "irc", script: []step{expect("CAP"), {flood: ":irc.test NOTICE * :spam\r\n"}},
			wantErr: ErrLimit, outcome: model.StartTLSFailed},
	}
}

func xmppStreamWith(inner string) string {
	return "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='abc' from='chat.test' version='1.0' xml:lang='en'>" +
		"<stream:features>" + inner + "</stream:features>"
}

const xmppStartTLS = "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"

func xmppCases() []dialogueCase {
	hdr := until("to='chat.test' version='1.0' xml:lang='en'>")
	opts := Options{Domain: "chat.test"}
	return []dialogueCase{
		{name: "xmpp-client/required", proto: "xmpp-client", opts: opts, script: []step{hdr,
			send(xmppStreamWith("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='http://prosody.im' ver='x'/>")),
			until("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"), send("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"), tlsUp},
			outcome: model.StartTLSAccepted, serverOK: true, check: func(t *testing.T, f *model.StartTLSFacts) {
				want(t, f.Offered && f.Required, "offered and required")
				wantEq(t, f.Software, "Prosody")
				wantList(t, f.Capabilities, []string{"starttls(required)", "c"})
				wantEq(t, f.Greeting, "<stream:stream from=chat.test version=1.0 lang=en>")
			}},
		{name: "xmpp-client/optional-with-plain", proto: "xmpp-client", opts: opts, script: []step{hdr,
			send(xmppStreamWith("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-1</mechanism><mechanism>PLAIN</mechanism></mechanisms>")),
			until(xmppStartTLS), send("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'></proceed>"), tlsUp},
			outcome: model.StartTLSAccepted, serverOK: true, check: func(t *testing.T, f *model.StartTLSFacts) {
				want(t, f.Offered && !f.Required, "offered, not required")
				wantList(t, f.PlaintextAuth, []string{"PLAIN"})
				wantList(t, f.Capabilities, []string{"starttls", "mechanisms", "mechanism:SCRAM-SHA-1", "mechanism:PLAIN"})
			}},
		{name: "xmpp-client/split-segments", proto: "xmpp-client", opts: opts, script: []step{hdr,
			send("<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' from='chat.test' version='1.0'>"),
			send("\n<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-"), send("tls'><required/></starttls></stream:features>"),
			until(xmppStartTLS), send("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"), tlsUp},
			outcome: model.StartTLSAccepted, serverOK: true},
		{name: "xmpp-server/accepted", proto: "xmpp-server", opts: Options{Domain: "chat.test", From: "scanner.test"}, script: []step{
			until("xmlns='jabber:server' xmlns:db='jabber:server:dialback' from='scanner.test' to='chat.test' version='1.0'"),
			send("<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'><stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/><dialback xmlns='urn:xmpp:features:dialback'/></stream:features>"),
			until(xmppStartTLS), send("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"), tlsUp},
			outcome: model.StartTLSAccepted, serverOK: true, check: func(t *testing.T, f *model.StartTLSFacts) { want(t, f.Offered && !f.Required, "offered, not required") }},
		{name: "xmpp-client/not-offered", proto: "xmpp-client", opts: opts, script: []step{hdr, send(xmppStreamWith("<auth xmlns='http://jabber.org/features/iq-auth'/>")), eof},
			wantErr: ErrNotOffered, outcome: model.StartTLSNotOffered, serverOK: true, check: func(t *testing.T, f *model.StartTLSFacts) { wantList(t, f.PlaintextAuth, []string{"iq-auth"}) }},
		{name: "xmpp-client/failure", proto: "xmpp-client", opts: opts, script: []step{hdr, send(xmppStreamWith("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")), until(xmppStartTLS), send("<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:stream>"), eof},
			wantErr: ErrRefused, outcome: model.StartTLSRefused, serverOK: true, check: func(t *testing.T, f *model.StartTLSFacts) { wantEq(t, f.ReplyCode, "failure") }},
		{name: "xmpp-client/host-unknown", proto: "xmpp-client", opts: opts, script: []step{hdr,
			send("<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'><stream:error><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>"), eof},
			wantErr: errAny, outcome: model.StartTLSFailed, serverOK: true, check: func(t *testing.T, f *model.StartTLSFacts) { want(t, !f.Offered, "not offered") }},
		{name: "xmpp-client/old-stream", proto: "xmpp-client", opts: opts, script: []step{hdr, send("<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='1'>"), eof},
			wantErr: ErrNotOffered, outcome: model.StartTLSNotOffered, serverOK: true},
		{name: "xmpp-client/endless-features", proto: "xmpp-client", opts: opts, script: []step{hdr, send(xmppStreamWith("")[:len(xmppStreamWith(""))-len("</stream:features>")]), {flood: "<x xmlns='y'/>"}},
			wantErr: ErrLimit, outcome: model.StartTLSFailed},
		{name: "xmpp-client/deep-nesting", proto: "xmpp-client", opts: opts, script: []step{hdr, send(xmppStreamWith("")[:len(xmppStreamWith(""))-len("</stream:features>")] + strings.Repeat("<a>", 100)), stall},
			wantErr: ErrLimit, outcome: model.StartTLSFailed},
		{name: "xmpp-client/garbage", proto: "xmpp-client", opts: opts, script: []step{hdr, send("HTTP/1.1 400 Bad Request\r\n\r\n"), stall},
			wantErr: ErrProtocol, outcome: model.StartTLSFailed},
		{name: "xmpp-client/doctype", proto: "xmpp-client", opts: opts, script: []step{hdr, send("<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'aaaa'>]><stream:stream/>"), stall},
			wantErr: ErrProtocol, outcome: model.StartTLSFailed},
	}
}

// ldapResponse builds an ExtendedResponse with resultCode code; long uses the four-byte
// length form Active Directory sends, with the responseName echoed.
func ldapResponse(code byte, diag string, long bool) string {
	ln := func(n int) []byte {
		if long {
			return []byte{0x84, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}
		}
		return []byte{byte(n)}
	}
	res := []byte{0x0a, 0x01, code, 0x04, 0x00, 0x04, byte(len(diag))}
	res = append(res, diag...)
	if long {
		res = append(res, 0x8a, byte(len(ldapStartTLSOID)))
		res = append(res, ldapStartTLSOID...)
	}
	op := append(append([]byte{0x78}, ln(len(res))...), res...)
	body := append([]byte{0x02, 0x01, 0x01}, op...)
	return string(append(append([]byte{0x30}, ln(len(body))...), body...))
}

func ldapCases() []dialogueCase {
	// The request is written out byte by byte here, independently of ldapStartTLSRequest.
	req := step{raw: append([]byte{0x30, 0x1d, 0x02, 0x01, 0x01, 0x77, 0x18, 0x80, 0x16}, "1.3.6.1.4.1.1466.20037"...)}
	return []dialogueCase{
		{name: "ldap/openldap", proto: "ldap", script: []step{req, send(ldapResponse(0, "", false)), tlsUp},
			outcome: model.StartTLSAccepted, serverOK: true, check: func(t *testing.T, f *model.StartTLSFacts) { want(t, f.Offered, "offered") }},
		{name: "ldap/active-directory-long-form", proto: "ldap", script: []step{req, send(ldapResponse(0, "", true)), tlsUp},
			outcome: model.StartTLSAccepted, serverOK: true},
		{name: "ldap/protocol-error", proto: "ldap", script: []step{req, send(ldapResponse(2, "unsupported extended operation", false)), eof},
			wantErr: ErrRefused, outcome: model.StartTLSRefused, serverOK: true, check: func(t *testing.T, f *model.StartTLSFacts) {
				wantEq(t, f.ReplyCode, "2 protocolError")
				wantEq(t, f.ReplyText, "unsupported extended operation")
				want(t, !f.Offered, "not offered")
			}},
		{name: "ldap/not-a-sequence", proto: "ldap", script: []step{req, send("HTTP/1.0 400\r\n"), stall},
			wantErr: ErrProtocol, outcome: model.StartTLSFailed},
		{name: "ldap/huge-length", proto: "ldap", script: []step{req, send("\x30\x84\x7f\xff\xff\xff"), stall},
			wantErr: ErrLimit, outcome: model.StartTLSFailed},
		{name: "ldap/truncated", proto: "ldap", script: []step{req, send("\x30\x0c\x02\x01"), hangup},
			wantErr: errAny, outcome: model.StartTLSFailed},
	}
}

func postgresCases() []dialogueCase {
	req := step{raw: []byte{0, 0, 0, 8, 4, 0xd2, 0x16, 0x2f}}
	pgErr := "E" + string([]byte{0, 0, 0, 4 + 29}) + "SFATAL\x00MCannot do TLS today\x00\x00"
	return []dialogueCase{
		{name: "postgres/S", proto: "postgres", script: []step{req, send("S"), tlsUp},
			outcome: model.StartTLSAccepted, serverOK: true, check: func(t *testing.T, f *model.StartTLSFacts) { want(t, f.Offered, "offered") }},
		{name: "postgres/N", proto: "postgres", script: []step{req, send("N"), eof},
			wantErr: ErrRefused, outcome: model.StartTLSRefused, serverOK: true, check: func(t *testing.T, f *model.StartTLSFacts) { wantEq(t, f.ReplyCode, "N") }},
		{name: "postgres/error-response", proto: "postgres", script: []step{req, send(pgErr), eof},
			wantErr: ErrRefused, outcome: model.StartTLSRefused, serverOK: true, check: func(t *testing.T, f *model.StartTLSFacts) { wantEq(t, f.ReplyText, "Cannot do TLS today") }},
		{name: "postgres/injected-bytes", proto: "postgres", script: []step{req, send("SR\x00\x00"), stall},
			wantErr: ErrUnexpectedData, outcome: model.StartTLSAccepted, check: func(t *testing.T, f *model.StartTLSFacts) { wantEq(t, f.UnexpectedBytes, 3) }},
		{name: "postgres/garbage", proto: "postgres", script: []step{req, send("Z"), stall},
			wantErr: ErrProtocol, outcome: model.StartTLSFailed},
	}
}

// mysqlGreeting builds a HandshakeV10 packet.
func mysqlGreetingPacket(version string, caps uint32) string {
	p := []byte{10}
	p = append(p, version...)
	p = append(p, 0)
	p = append(p, 1, 0, 0, 0)    // connection id
	p = append(p, "abcdefgh"...) // auth data part 1
	p = append(p, 0)             // filler
	p = binary.LittleEndian.AppendUint16(p, uint16(caps))
	p = append(p, 0x21, 2, 0) // charset, status
	p = binary.LittleEndian.AppendUint16(p, uint16(caps>>16))
	p = append(p, 21)                    // auth data length
	p = append(p, make([]byte, 10)...)   // reserved
	p = append(p, "ijklmnopqrst\x00"...) // auth data part 2
	p = append(p, "mysql_native_password\x00"...)
	h := []byte{byte(len(p)), byte(len(p) >> 8), byte(len(p) >> 16), 0}
	return string(append(h, p...))
}

// mysqlErrorPacket builds an ERR packet as servers send it instead of a handshake.
func mysqlErrorPacket(code uint16, msg string) string {
	p := binary.LittleEndian.AppendUint16([]byte{0xff}, code)
	p = append(p, msg...)
	return string(append([]byte{byte(len(p)), byte(len(p) >> 8), 0, 0}, p...))
}

func mysqlCases() []dialogueCase {
	// SSLRequest: length 32, sequence 1, caps LONG_PASSWORD|PROTOCOL_41|SSL|SECURE_CONNECTION|PLUGIN_AUTH,
	// max packet 16 MiB, charset 0x21, 23 zero bytes.
	sslReq := append([]byte{32, 0, 0, 1, 0x01, 0x8a, 0x08, 0x00, 0, 0, 0, 1, 0x21}, make([]byte, 23)...)
	return []dialogueCase{
		{name: "mysql/ssl", proto: "mysql", script: []step{send(mysqlGreetingPacket("8.0.36-0+deb12u1", 0x000ffff7|0x0800)), {raw: sslReq}, tlsUp},
			outcome: model.StartTLSAccepted, serverOK: true, check: func(t *testing.T, f *model.StartTLSFacts) {
				want(t, f.Offered, "offered")
				wantEq(t, f.Software, "8.0.36-0+deb12u1")
			}},
		{name: "mysql/no-ssl", proto: "mysql", script: []step{send(mysqlGreetingPacket("5.5.5-10.11.6-MariaDB", 0x0000f7ff&^0x0800)), eof},
			wantErr: ErrNotOffered, outcome: model.StartTLSNotOffered, serverOK: true},
		{name: "mysql/host-not-allowed", proto: "mysql", script: []step{send(mysqlErrorPacket(1130, "Host '127.0.0.1' is not allowed to connect to this MySQL server")), eof},
			wantErr: errAny, outcome: model.StartTLSFailed, check: func(t *testing.T, f *model.StartTLSFacts) { wantEq(t, f.ReplyCode, "1130") }},
		{name: "mysql/huge-packet", proto: "mysql", script: []step{send("\xff\xff\xff\x00"), stall},
			wantErr: ErrLimit, outcome: model.StartTLSFailed},
		{name: "mysql/truncated", proto: "mysql", script: []step{send("\x05\x00\x00\x00\x0a8.0"), hangup},
			wantErr: errAny, outcome: model.StartTLSFailed},
	}
}

func TestNegotiateFakeServers(t *testing.T) {
	var all []dialogueCase
	for _, f := range []func() []dialogueCase{smtpCases, imapCases, pop3Cases, sieveCases, nntpCases, ftpCases, ircCases, xmppCases, ldapCases, postgresCases, mysqlCases} {
		all = append(all, f()...)
	}
	covered := map[string]bool{}
	for i, tc := range all {
		covered[tc.proto] = true
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			addr, srv := fakeServer(t, fmt.Sprintf("127.0.83.%d", 1+i%250), tc.script)
			conn := dial(t, addr)
			timeout := tc.timeout
			if timeout == 0 {
				timeout = 5 * time.Second
			}
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			facts, err := Negotiate(ctx, conn, tc.proto, tc.opts)
			switch {
			case tc.wantErr == nil && err != nil:
				t.Fatalf("Negotiate: %v", err)
			case tc.wantErr == errAny && err == nil:
				t.Fatal("Negotiate succeeded, want an error")
			case tc.wantErr != nil && tc.wantErr != errAny && !errors.Is(err, tc.wantErr):
				t.Fatalf("Negotiate error = %v, want %v", err, tc.wantErr)
			}
			if facts == nil {
				t.Fatal("nil facts")
			}
			wantEq(t, facts.Protocol, tc.proto)
			wantEq(t, facts.Outcome, tc.outcome)
			checkBounded(t, facts)
			if tc.check != nil {
				tc.check(t, facts)
			}
			if err == nil {
				proveEcho(t, conn)
			} else {
				_ = conn.Close()
			}
			if tc.serverOK {
				select {
				case serr := <-srv:
					if serr != nil {
						t.Fatalf("server script: %v", serr)
					}
				case <-time.After(10 * time.Second):
					t.Fatal("server script did not finish")
				}
			}
		})
	}
	for _, p := range Protocols() {
		if !covered[p] {
			t.Errorf("protocol %s has no fake-server case", p)
		}
	}
}

// checkBounded asserts the invariants every fact string keeps, whatever the server sent.
func checkBounded(t testing.TB, f *model.StartTLSFacts) {
	t.Helper()
	strs := append([]string{f.Greeting, f.Software, f.ReplyCode, f.ReplyText}, f.Capabilities...)
	strs = append(strs, f.PlaintextAuth...)
	for _, s := range strs {
		if len(s) > maxGreeting+len("…") {
			t.Errorf("fact of %d bytes exceeds the bound", len(s))
		}
		for _, r := range s {
			if r < 0x20 || r == 0x7f {
				t.Errorf("control character %U kept in fact %q", r, s)
			}
		}
	}
	if len(f.Capabilities) > maxCaps || len(f.PlaintextAuth) > maxCaps {
		t.Errorf("%d capabilities / %d auth methods exceed the bound", len(f.Capabilities), len(f.PlaintextAuth))
	}
}

func want(t testing.TB, ok bool, what string) {
	t.Helper()
	if !ok {
		t.Errorf("want %s", what)
	}
}

func wantEq[T comparable](t testing.TB, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("got %v, want %v", got, want)
	}
}

func wantList(t testing.TB, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestNegotiateUnknownProtocol(t *testing.T) {
	_, err := Negotiate(context.Background(), nil, "gopher", Options{})
	if !errors.Is(err, ErrUnknownProtocol) {
		t.Fatalf("err = %v, want ErrUnknownProtocol", err)
	}
}

func TestXMPPNeedsDomain(t *testing.T) {
	addr, _ := fakeServer(t, "127.0.83.251", []step{stall})
	f, err := Negotiate(context.Background(), dial(t, addr), "xmpp-client", Options{})
	if err == nil || !strings.Contains(err.Error(), "Options.Domain") {
		t.Fatalf("err = %v, want a missing-domain error", err)
	}
	wantEq(t, f.Outcome, model.StartTLSFailed)
}

func TestNegotiateCancelledContext(t *testing.T) {
	addr, _ := fakeServer(t, "127.0.83.252", []step{stall})
	conn := dial(t, addr)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(100 * time.Millisecond); cancel() }()
	start := time.Now()
	_, err := Negotiate(ctx, conn, "imap", Options{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("Negotiate took %v after cancel", d)
	}
	// The conn was closed for the caller.
	if _, err := conn.Write([]byte("x")); err == nil {
		t.Fatal("conn still writable after the context ended")
	}
}

func TestProtocolsMatchServiceRegistry(t *testing.T) {
	for _, name := range []string{"smtp", "lmtp", "imap", "pop3", "sieve", "xmpp-client", "xmpp-server", "ldap", "ftp", "nntp", "irc", "postgres", "mysql"} {
		if !slices.Contains(Protocols(), name) {
			t.Errorf("dialogue %s missing", name)
		}
	}
}
