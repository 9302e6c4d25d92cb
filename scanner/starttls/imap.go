package starttls

import (
	"fmt"
	"strconv"
	"strings"
)

// IMAP (RFC 3501 §6.2.1, RFC 9051, RFC 2595). The greeting is "* OK", "* PREAUTH" (already
// authenticated: STARTTLS is no longer allowed) or "* BYE". The client asks for CAPABILITY,
// then sends STARTTLS if listed; the tagged OK is the go-ahead. LOGIN is usable in clear
// unless LOGINDISABLED is listed; AUTH=PLAIN and friends are clear-text SASL mechanisms.

func imapDialogue(s *session) error {
	g, err := s.w.readLine()
	if err != nil {
		return fmt.Errorf("greeting: %w", err)
	}
	s.setGreeting(g)
	s.hint(g)
	kind, rest := imapUntagged(g)
	switch kind {
	case "OK":
	case "PREAUTH":
		return fmt.Errorf("%w (PREAUTH greeting: STARTTLS is not allowed once authenticated)", ErrNotOffered)
	case "BYE":
		s.facts.ReplyCode, s.facts.ReplyText = "BYE", clean(rest, maxGreeting)
		return fmt.Errorf("greeting: server said BYE")
	default:
		return fmt.Errorf("%w: not an IMAP greeting: %q", ErrProtocol, clean(g, 64))
	}
	if err := s.w.send("a001 CAPABILITY\r\n"); err != nil {
		return err
	}
	var caps []string
	status, text, err := readIMAPTagged(s.w, "a001", func(line string) {
		if k, r := imapUntagged(line); k == "CAPABILITY" {
			caps = append(caps, strings.Fields(r)...)
		}
	})
	if err != nil {
		return fmt.Errorf("CAPABILITY: %w", err)
	}
	if status != "OK" {
		return fmt.Errorf("CAPABILITY: server answered %s %s", status, clean(text, 128))
	}
	if len(caps) == 0 {
		// Some servers put the list only in the greeting's response code.
		caps = imapGreetingCaps(rest)
	}
	offered, loginDisabled := false, false
	for _, c := range caps {
		s.addCap(c)
		u := strings.ToUpper(c)
		switch {
		case u == "STARTTLS":
			offered = true
		case u == "LOGINDISABLED":
			loginDisabled = true
		case strings.HasPrefix(u, "AUTH="):
			s.addSASL([]string{u[len("AUTH="):]})
		}
	}
	if !loginDisabled {
		s.addPlainAuth("LOGIN")
	}
	s.facts.Offered = offered
	if !offered {
		if err := s.notOffered("no STARTTLS capability"); err != nil {
			return err
		}
	}
	if err := s.w.send("a002 STARTTLS\r\n"); err != nil {
		return err
	}
	status, text, err = readIMAPTagged(s.w, "a002", nil)
	if err != nil {
		return fmt.Errorf("STARTTLS: %w", err)
	}
	if status != "OK" {
		return s.refused(status, text)
	}
	return nil
}

// imapUntagged splits "* KIND rest" into KIND (upper-cased) and rest; kind is "" otherwise.
func imapUntagged(l string) (string, string) {
	if !strings.HasPrefix(l, "* ") {
		return "", ""
	}
	kind, rest, _ := strings.Cut(l[2:], " ")
	return strings.ToUpper(kind), rest
}

// imapGreetingCaps extracts the list from "[CAPABILITY …] text".
func imapGreetingCaps(rest string) []string {
	if !strings.HasPrefix(strings.ToUpper(rest), "[CAPABILITY ") {
		return nil
	}
	end := strings.IndexByte(rest, ']')
	if end < 0 {
		return nil
	}
	return strings.Fields(rest[len("[CAPABILITY "):end])
}

// readIMAPTagged reads lines until the tagged status line of tag, passing every untagged line
// to each (which may be nil). A line ending in a literal "{n}" is followed by n raw bytes,
// which are skipped. It returns the status (OK, NO, BAD) and the rest of the tagged line.
func readIMAPTagged(w *wire, tag string, each func(string)) (string, string, error) {
	for range maxReplyLines {
		l, err := w.readLine()
		if err != nil {
			return "", "", err
		}
		if t, rest, ok := strings.Cut(l, " "); ok && t == tag {
			status, text, _ := strings.Cut(rest, " ")
			status = strings.ToUpper(status)
			switch status {
			case "OK", "NO", "BAD":
				return status, text, nil
			}
			return "", "", fmt.Errorf("%w: bad tagged status %q", ErrProtocol, clean(status, 32))
		}
		if !strings.HasPrefix(l, "* ") && !strings.HasPrefix(l, "+") {
			return "", "", fmt.Errorf("%w: unexpected line %q", ErrProtocol, clean(l, 64))
		}
		if k, _ := imapUntagged(l); k == "BYE" {
			return "", "", fmt.Errorf("server said %q", clean(l, 128))
		}
		for k, cont := 0, l; ; k++ {
			n, ok := imapLiteral(cont)
			if !ok {
				break
			}
			if k >= maxReplyLines {
				return "", "", fmt.Errorf("%w: too many literals in one response", ErrLimit)
			}
			if _, err := w.readFull(n); err != nil {
				return "", "", err
			}
			// The response goes on after the literal; keep the first line for each.
			if cont, err = w.readLine(); err != nil {
				return "", "", err
			}
		}
		if each != nil {
			each(l)
		}
	}
	return "", "", fmt.Errorf("%w: more than %d lines before the tagged reply", ErrLimit, maxReplyLines)
}

// imapLiteral recognises a line ending in "{n}" (or "{n+}") and returns n.
func imapLiteral(l string) (int, bool) {
	if !strings.HasSuffix(l, "}") {
		return 0, false
	}
	i := strings.LastIndexByte(l, '{')
	if i < 0 {
		return 0, false
	}
	num := strings.TrimSuffix(l[i+1:len(l)-1], "+")
	n, err := strconv.Atoi(num)
	if err != nil || n < 0 || len(num) > 9 {
		return 0, false
	}
	return n, true
}
