package starttls

import (
	"fmt"
	"strings"
)

// NNTP (RFC 3977, RFC 4642 STARTTLS, RFC 4643 AUTHINFO). Greeting 200 or 201; CAPABILITIES
// (101, dot-terminated) lists STARTTLS, "AUTHINFO USER SASL" and "SASL mech…"; STARTTLS
// answered 382 is the go-ahead (502/580 refuse).

func nntpDialogue(s *session) error {
	g, err := s.w.readLine()
	if err != nil {
		return fmt.Errorf("greeting: %w", err)
	}
	s.setGreeting(g)
	s.hint(g)
	code, text, err := nntpStatus(g)
	if err != nil {
		return fmt.Errorf("greeting: %w", err)
	}
	if code != "200" && code != "201" {
		s.facts.ReplyCode, s.facts.ReplyText = code, clean(text, maxGreeting)
		return fmt.Errorf("greeting: server answered %s", code)
	}
	if err := s.w.send("CAPABILITIES\r\n"); err != nil {
		return err
	}
	st, err := s.w.readLine()
	if err != nil {
		return fmt.Errorf("CAPABILITIES: %w", err)
	}
	code, _, err = nntpStatus(st)
	if err != nil {
		return fmt.Errorf("CAPABILITIES: %w", err)
	}
	offered := false
	if code == "101" {
		lines, err := readDotTerminated(s.w)
		if err != nil {
			return fmt.Errorf("CAPABILITIES: %w", err)
		}
		for _, l := range lines {
			s.addCap(l)
			f := strings.Fields(strings.ToUpper(l))
			if len(f) == 0 {
				continue
			}
			switch f[0] {
			case "STARTTLS":
				offered = true
			case "AUTHINFO":
				for _, a := range f[1:] {
					if a == "USER" {
						s.addPlainAuth("AUTHINFO USER")
					}
				}
			case "SASL":
				s.addSASL(f[1:])
			case "IMPLEMENTATION":
				s.hint(l)
			}
		}
	}
	s.facts.Offered = offered
	if !offered {
		if err := s.notOffered("no STARTTLS capability"); err != nil {
			return err
		}
	}
	if err := s.w.send("STARTTLS\r\n"); err != nil {
		return err
	}
	st, err = s.w.readLine()
	if err != nil {
		return fmt.Errorf("STARTTLS: %w", err)
	}
	code, text, err = nntpStatus(st)
	if err != nil {
		return fmt.Errorf("STARTTLS: %w", err)
	}
	if code != "382" {
		return s.refused(code, text)
	}
	return nil
}

// nntpStatus splits a status line "NNN text".
func nntpStatus(l string) (string, string, error) {
	if len(l) < 3 || !isDigit(l[0]) || !isDigit(l[1]) || !isDigit(l[2]) || (len(l) > 3 && l[3] != ' ') {
		return "", "", fmt.Errorf("%w: not a status line: %q", ErrProtocol, clean(l, 64))
	}
	return l[:3], strings.TrimSpace(l[3:]), nil
}
