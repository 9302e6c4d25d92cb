package starttls

import (
	"fmt"
	"strings"
)

// POP3 (RFC 1939, RFC 2449 CAPA, RFC 2595 STLS). Greeting "+OK …"; CAPA lists STLS, USER
// (clear-text USER/PASS) and "SASL mech…"; STLS answered "+OK" is the go-ahead.

func pop3Dialogue(s *session) error {
	g, err := s.w.readLine()
	if err != nil {
		return fmt.Errorf("greeting: %w", err)
	}
	s.setGreeting(g)
	s.hint(g)
	if !strings.HasPrefix(g, "+OK") {
		if strings.HasPrefix(g, "-ERR") {
			s.facts.ReplyCode, s.facts.ReplyText = "-ERR", clean(strings.TrimSpace(g[4:]), maxGreeting)
			return fmt.Errorf("greeting: server answered -ERR")
		}
		return fmt.Errorf("%w: not a POP3 greeting: %q", ErrProtocol, clean(g, 64))
	}
	if err := s.w.send("CAPA\r\n"); err != nil {
		return err
	}
	st, err := s.w.readLine()
	if err != nil {
		return fmt.Errorf("CAPA: %w", err)
	}
	offered := false
	switch {
	case strings.HasPrefix(st, "+OK"):
		lines, err := readDotTerminated(s.w)
		if err != nil {
			return fmt.Errorf("CAPA: %w", err)
		}
		for _, l := range lines {
			s.addCap(l)
			f := strings.Fields(l)
			if len(f) == 0 {
				continue
			}
			switch strings.ToUpper(f[0]) {
			case "STLS":
				offered = true
			case "USER":
				s.addPlainAuth("USER")
			case "SASL":
				s.addSASL(f[1:])
			case "IMPLEMENTATION":
				s.hint(l)
			}
		}
	case strings.HasPrefix(st, "-ERR"):
		// A server without CAPA cannot advertise STLS (RFC 2595 §4 ties STLS to CAPA).
	default:
		return fmt.Errorf("%w: bad CAPA status %q", ErrProtocol, clean(st, 64))
	}
	s.facts.Offered = offered
	if !offered {
		if err := s.notOffered("no STLS capability"); err != nil {
			return err
		}
	}
	if err := s.w.send("STLS\r\n"); err != nil {
		return err
	}
	st, err = s.w.readLine()
	if err != nil {
		return fmt.Errorf("STLS: %w", err)
	}
	switch {
	case strings.HasPrefix(st, "+OK"):
		return nil
	case strings.HasPrefix(st, "-ERR"):
		return s.refused("-ERR", strings.TrimSpace(st[4:]))
	}
	return fmt.Errorf("%w: bad STLS status %q", ErrProtocol, clean(st, 64))
}

// readDotTerminated reads a multi-line body ending in a line holding a single "."
// (dot-stuffed lines lose their first dot), as POP3 CAPA and NNTP CAPABILITIES send it.
func readDotTerminated(w *wire) ([]string, error) {
	var out []string
	for range maxReplyLines {
		l, err := w.readLine()
		if err != nil {
			return out, err
		}
		if l == "." {
			return out, nil
		}
		out = append(out, strings.TrimPrefix(l, "."))
	}
	return out, fmt.Errorf("%w: more than %d lines in one reply", ErrLimit, maxReplyLines)
}
