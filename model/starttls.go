package model

// StartTLSOutcome is how a STARTTLS dialogue ended.
type StartTLSOutcome string

// STARTTLS outcomes.
const (
	// StartTLSAccepted: the server agreed to begin TLS; the connection went on to the handshake.
	StartTLSAccepted StartTLSOutcome = "accepted"
	// StartTLSRefused: the client asked for TLS (the server advertised it, or the protocol has
	// no advertisement) and the server answered with an error (ReplyCode, ReplyText).
	StartTLSRefused StartTLSOutcome = "refused"
	// StartTLSNotOffered: the dialogue completed and the server did not advertise STARTTLS.
	StartTLSNotOffered StartTLSOutcome = "not-offered"
	// StartTLSFailed: the dialogue did not reach a conclusion (the server closed, stalled,
	// sent garbage, throttled, or rejected the stream); nothing is known about STARTTLS.
	StartTLSFailed StartTLSOutcome = "failed"
)

// StartTLSFacts is what the plaintext dialogue before a STARTTLS upgrade showed. Every string
// came from the server: the prober bounds its length and escapes control characters.
type StartTLSFacts struct {
	// Protocol is the dialogue that was spoken: smtp, lmtp, imap, pop3, sieve, xmpp-client,
	// xmpp-server, ldap, ftp, nntp, irc, postgres, mysql.
	Protocol string          `json:"protocol"`
	Outcome  StartTLSOutcome `json:"outcome"`
	// Offered is true when the server advertised STARTTLS before it was asked (EHLO keyword,
	// IMAP/Sieve/NNTP capability, POP3 STLS, XMPP <starttls/>, FTP AUTH TLS feature, IRC tls
	// capability, MySQL CLIENT_SSL flag). LDAP and PostgreSQL have no advertisement in the
	// dialogue: there Offered equals Outcome == accepted.
	Offered bool `json:"offered"`
	// Required is true when the server declared TLS mandatory before anything else
	// (XMPP <required/> inside <starttls/>). Only XMPP has this signal.
	Required bool `json:"required,omitempty"`
	// Greeting is the server's first words (banner, greeting line, stream header summary).
	Greeting string `json:"greeting,omitempty"`
	// Capabilities is what the server advertised before TLS (EHLO keywords, IMAP capabilities,
	// XMPP stream features, …), in the server's order.
	Capabilities []string `json:"capabilities,omitempty"`
	// PlaintextAuth lists the authentication methods advertised before TLS that send a
	// password or bearer token in clear (SASL PLAIN/LOGIN, IMAP LOGIN without LOGINDISABLED,
	// POP3 USER, NNTP AUTHINFO USER).
	PlaintextAuth []string `json:"plaintext_auth,omitempty"`
	// Software is a server-software hint from the greeting or capabilities (e.g. "Postfix",
	// "Dovecot", a Sieve IMPLEMENTATION string or a MySQL version).
	Software string `json:"software,omitempty"`
	// ReplyCode and ReplyText are the server's answer when STARTTLS (or the step before it)
	// was refused: "454", "NO", "failure", an LDAP result code, "N" for PostgreSQL, …
	ReplyCode string `json:"reply_code,omitempty"`
	ReplyText string `json:"reply_text,omitempty"`
	// UnexpectedBytes counts plaintext bytes the server sent after agreeing to start TLS and
	// before the ClientHello (a protocol violation, and the symptom of a STARTTLS injection
	// flaw when the server answers commands it should have discarded).
	UnexpectedBytes int `json:"unexpected_bytes,omitempty"`
}
