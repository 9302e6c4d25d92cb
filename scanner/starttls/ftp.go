package starttls

import (
	"fmt"
	"strconv"
	"strings"
)

// FTP (RFC 959, RFC 2389 FEAT, RFC 4217 AUTH TLS). Greeting 220 (possibly after 120 "ready in
// n minutes"); FEAT (211, feature lines indented by a space) lists "AUTH TLS"; AUTH TLS
// answered 234 is the go-ahead. A server without FEAT is asked AUTH TLS directly, since it
// has no other way to advertise it. FTP's USER/PASS is always clear text before AUTH, so no
// plaintext-auth fact is recorded from FEAT.

func ftpDialogue(s *session) error {
	code, lines, err := readFTPReply(s.w)
	if err != nil {
		return fmt.Errorf("greeting: %w", err)
	}
	if code == 120 {
		code, lines, err = readFTPReply(s.w)
		if err != nil {
			return fmt.Errorf("greeting: %w", err)
		}
	}
	s.setGreeting(strings.Join(lines, " / "))
	s.hint(lines...)
	if code != 220 {
		s.facts.ReplyCode, s.facts.ReplyText = strconv.Itoa(code), clean(strings.Join(lines, " "), maxGreeting)
		return fmt.Errorf("greeting: server answered %d", code)
	}
	if err := s.w.send("FEAT\r\n"); err != nil {
		return err
	}
	code, lines, err = readFTPReply(s.w)
	if err != nil {
		return fmt.Errorf("FEAT: %w", err)
	}
	offered, haveFeat := false, code == 211
	if haveFeat {
		for i, l := range lines {
			if i == 0 || i == len(lines)-1 || !strings.HasPrefix(l, " ") {
				continue // "Features:" and "End"
			}
			f := strings.TrimSpace(l)
			s.addCap(f)
			kw, params, _ := strings.Cut(f, " ")
			if strings.EqualFold(kw, "AUTH") {
				for _, m := range strings.FieldsFunc(strings.ToUpper(params), func(r rune) bool { return r == ';' || r == ' ' }) {
					if m == "TLS" || m == "TLS-C" {
						offered = true
					}
				}
			}
		}
	}
	s.facts.Offered = offered
	if !offered && haveFeat {
		if err := s.notOffered("no AUTH TLS feature"); err != nil {
			return err
		}
	}
	if err := s.w.send("AUTH TLS\r\n"); err != nil {
		return err
	}
	code, lines, err = readFTPReply(s.w)
	if err != nil {
		return fmt.Errorf("AUTH TLS: %w", err)
	}
	if code != 234 {
		if !haveFeat && code/100 == 5 {
			s.facts.ReplyCode, s.facts.ReplyText = strconv.Itoa(code), clean(strings.Join(lines, " "), maxGreeting)
			return fmt.Errorf("%w (no FEAT, AUTH TLS answered %d)", ErrNotOffered, code)
		}
		return s.refused(strconv.Itoa(code), strings.Join(lines, " "))
	}
	return nil
}

// readFTPReply reads one reply. Unlike SMTP, the lines between "NNN-" and the closing
// "NNN " may be free text (RFC 959 §4.2), so only the first and last lines are checked.
func readFTPReply(w *wire) (int, []string, error) {
	first, err := w.readLine()
	if err != nil {
		return 0, nil, err
	}
	code, text, more, err := parseSMTPLine(first)
	if err != nil {
		return 0, nil, err
	}
	lines := []string{text}
	if !more {
		return code, lines, nil
	}
	end := strconv.Itoa(code) + " "
	for range maxReplyLines {
		l, err := w.readLine()
		if err != nil {
			return 0, lines, err
		}
		if strings.HasPrefix(l, end) || l == end[:3] {
			return code, append(lines, strings.TrimPrefix(l, end)), nil
		}
		lines = append(lines, l)
	}
	return 0, lines, fmt.Errorf("%w: more than %d lines in one reply", ErrLimit, maxReplyLines)
}
