// Package starttls speaks the plaintext part of a STARTTLS protocol up to the point where the
// TLS ClientHello goes out, and records what the server said on the way as
// model.StartTLSFacts: whether STARTTLS was offered, required or refused, the greeting, the
// capabilities and any clear-text authentication advertised before TLS.
//
// Each protocol is one file holding one dialogue function; registry.go maps dialogue names
// (services.Service.StartTLS) to them. Everything the server sends is treated as hostile:
// every read is bounded in line length, line count and total bytes, and a stalled server ends
// in an error when the connection's deadline or the context expires.
package starttls

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"

	"github.com/rampart-scan/rampart/model"
)

// Sentinel errors. Negotiate wraps them, so test with errors.Is.
var (
	// ErrNotOffered: the dialogue completed and the server did not advertise STARTTLS.
	ErrNotOffered = errors.New("STARTTLS not offered")
	// ErrRefused: the server answered the STARTTLS request with an error.
	ErrRefused = errors.New("STARTTLS refused")
	// ErrUnknownProtocol: no dialogue is registered under the name.
	ErrUnknownProtocol = errors.New("unknown STARTTLS protocol")
	// ErrLimit: the server sent more than the dialogue allows (line, line count or bytes).
	ErrLimit = errors.New("server reply exceeds limit")
	// ErrProtocol: the server's bytes do not follow the protocol.
	ErrProtocol = errors.New("protocol violation")
	// ErrUnexpectedData: the server sent plaintext after agreeing to start TLS.
	ErrUnexpectedData = errors.New("plaintext after STARTTLS acceptance")
)

// Options tune a dialogue. The zero value works for every protocol except XMPP, which needs
// Domain.
type Options struct {
	// Domain is the service domain: the XMPP stream header's to= (RFC 6120 §4.7.2). It is also
	// the name the caller should send as SNI after the dialogue.
	Domain string
	// From is the XMPP server-to-server stream header's from= (our own domain); empty omits it.
	From string
	// HeloName is the client's name in SMTP EHLO / LMTP LHLO. Default DefaultHeloName. It is
	// deliberately not Domain: many MTAs reject a client that greets with the server's own name.
	HeloName string
	// Force sends the STARTTLS request even when the server did not advertise it (zgrab2's
	// "starttls override"); a server that then accepts is recorded with Offered false.
	Force bool
	// MaxBytes caps the plaintext bytes read from the server in the whole dialogue.
	// Default DefaultMaxBytes.
	MaxBytes int
}

// Defaults for Options and the reader's limits.
const (
	DefaultHeloName = "rampart.invalid"
	DefaultMaxBytes = 64 << 10
	maxLineLen      = 8 << 10 // one reply line
	maxReplyLines   = 512     // lines in one multi-line reply
	maxGreeting     = 512     // bytes of the greeting kept as a fact
	maxCapLen       = 160     // bytes of one capability kept as a fact
	maxCaps         = 64      // capabilities kept as facts
)

// dialogue runs one protocol's plaintext phase, filling s.facts. It returns nil only when the
// server agreed to start TLS and nothing it sent is left unread.
type dialogue func(s *session) error

// session is the state one dialogue works on.
type session struct {
	w     *wire
	opts  Options
	facts *model.StartTLSFacts
}

// Protocols lists the dialogue names Negotiate accepts, sorted.
func Protocols() []string {
	out := make([]string, 0, len(dialogues))
	for name := range dialogues {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// Negotiate runs the plaintext dialogue of proto on conn. After a nil error the server has
// agreed to start TLS and conn is positioned for the ClientHello. The facts are never nil
// (except for an unknown protocol): on error they hold what was seen, with Outcome saying how
// far the dialogue got. When the server does not advertise STARTTLS the error wraps
// ErrNotOffered; when it refuses, ErrRefused. If ctx ends first, conn is closed and the error
// wraps ctx.Err(). What the protocol expects after the handshake (a new EHLO, a new XMPP
// stream header, reading Sieve's fresh capability list) is the caller's to do.
func Negotiate(ctx context.Context, conn net.Conn, proto string, opts Options) (*model.StartTLSFacts, error) {
	run, ok := dialogues[proto]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownProtocol, proto)
	}
	if opts.HeloName == "" {
		opts.HeloName = DefaultHeloName
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	facts := &model.StartTLSFacts{Protocol: proto, Outcome: model.StartTLSFailed}
	if err := ctx.Err(); err != nil {
		return facts, fmt.Errorf("starttls %s: %w", proto, err)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	s := &session{w: newWire(conn, opts.MaxBytes), opts: opts, facts: facts}
	err := run(s)
	if err == nil {
		facts.Outcome = model.StartTLSAccepted
		if n := s.w.buffered(); n > 0 {
			facts.UnexpectedBytes = n
			err = fmt.Errorf("%w: %d bytes", ErrUnexpectedData, n)
		}
	}
	if !stop() {
		// ctx ended during the dialogue and the conn was closed under us: whatever error the
		// dialogue saw, the cause is the context.
		return facts, fmt.Errorf("starttls %s: %w", proto, ctx.Err())
	}
	if err != nil {
		switch {
		case errors.Is(err, ErrNotOffered):
			facts.Outcome = model.StartTLSNotOffered
		case errors.Is(err, ErrRefused):
			facts.Outcome = model.StartTLSRefused
		case errors.Is(err, ErrUnexpectedData):
		default:
			facts.Outcome = model.StartTLSFailed
		}
		return facts, fmt.Errorf("starttls %s: %w", proto, err)
	}
	return facts, nil
}

// refused records the server's answer to the STARTTLS request and returns ErrRefused.
func (s *session) refused(code, text string) error {
	s.facts.ReplyCode = clean(code, 32)
	s.facts.ReplyText = clean(text, maxGreeting)
	if text != "" {
		return fmt.Errorf("%w: %s %s", ErrRefused, s.facts.ReplyCode, s.facts.ReplyText)
	}
	return fmt.Errorf("%w: %s", ErrRefused, s.facts.ReplyCode)
}

// notOffered returns ErrNotOffered unless Options.Force asks to try anyway (then nil).
func (s *session) notOffered(why string) error {
	if s.opts.Force {
		return nil
	}
	return fmt.Errorf("%w (%s)", ErrNotOffered, why)
}

// setGreeting records the server's first words.
func (s *session) setGreeting(g string) { s.facts.Greeting = clean(g, maxGreeting) }

// addCap records one advertised capability (bounded in size and count).
func (s *session) addCap(c string) {
	if len(s.facts.Capabilities) >= maxCaps || c == "" {
		return
	}
	s.facts.Capabilities = append(s.facts.Capabilities, clean(c, maxCapLen))
}

// addPlainAuth records a clear-text authentication method once.
func (s *session) addPlainAuth(m string) {
	m = clean(m, maxCapLen)
	for _, have := range s.facts.PlaintextAuth {
		if have == m {
			return
		}
	}
	if len(s.facts.PlaintextAuth) < maxCaps {
		s.facts.PlaintextAuth = append(s.facts.PlaintextAuth, m)
	}
}

// addSASL records the clear-text mechanisms among a list of SASL mechanism names.
func (s *session) addSASL(mechs []string) {
	for _, m := range mechs {
		if isClearTextMech(m) {
			s.addPlainAuth(normMech(m))
		}
	}
}

// hint records a software hint found in any of texts, unless one is already known.
func (s *session) hint(texts ...string) {
	if s.facts.Software != "" {
		return
	}
	if h := softwareHint(texts...); h != "" {
		s.facts.Software = h
	}
}
