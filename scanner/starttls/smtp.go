package starttls

import (
	"fmt"
	"strconv"
	"strings"
)

// SMTP, submission (RFC 3207) and LMTP (RFC 2033). The client waits for the whole greeting
// (servers such as Postfix postscreen drop clients that talk first), greets with EHLO (LHLO),
// reads the extension keywords and sends STARTTLS if STARTTLS is among them; 220 is the
// go-ahead. 421 at any step is the server shedding load.

func smtpDialogue(s *session) error { return mailDialogue(s, "EHLO") }

func lmtpDialogue(s *session) error { return mailDialogue(s, "LHLO") }

func mailDialogue(s *session, hello string) error {
	code, lines, err := readSMTPReply(s.w)
	if err != nil {
		return fmt.Errorf("greeting: %w", err)
	}
	s.setGreeting(strings.Join(lines, " / "))
	s.hint(lines...)
	if code != 220 {
		s.facts.ReplyCode, s.facts.ReplyText = strconv.Itoa(code), clean(strings.Join(lines, " "), maxGreeting)
		return fmt.Errorf("greeting: server answered %d, not 220", code)
	}
	if err := s.w.send(hello + " " + s.opts.HeloName + "\r\n"); err != nil {
		return err
	}
	code, lines, err = readSMTPReply(s.w)
	if err != nil {
		return fmt.Errorf("%s: %w", hello, err)
	}
	if code != 250 {
		s.facts.ReplyCode, s.facts.ReplyText = strconv.Itoa(code), clean(strings.Join(lines, " "), maxGreeting)
		if code/100 == 5 && !s.opts.Force {
			// No ESMTP: without extensions there is no STARTTLS.
			return fmt.Errorf("%w (%s answered %d)", ErrNotOffered, hello, code)
		}
		if code/100 != 5 {
			return fmt.Errorf("%s: server answered %d", hello, code)
		}
	}
	offered := false
	if code != 250 {
		lines = nil // a forced attempt after a rejected EHLO: no extensions to read
	}
	for i, l := range lines {
		if i == 0 {
			s.hint(l) // the server's own name and often its product
			continue
		}
		s.addCap(l)
		kw, params, _ := strings.Cut(l, " ")
		kw = strings.ToUpper(kw)
		switch {
		case kw == "STARTTLS":
			offered = true
		case kw == "AUTH":
			s.addSASL(strings.Fields(params))
		case strings.HasPrefix(kw, "AUTH="): // pre-RFC 4954 form: "AUTH=LOGIN PLAIN"
			s.addSASL(append([]string{strings.TrimPrefix(kw, "AUTH=")}, strings.Fields(params)...))
		}
	}
	s.facts.Offered = offered
	if !offered {
		if err := s.notOffered("no STARTTLS in the " + hello + " reply"); err != nil {
			return err
		}
	}
	if err := s.w.send("STARTTLS\r\n"); err != nil {
		return err
	}
	code, lines, err = readSMTPReply(s.w)
	if err != nil {
		return fmt.Errorf("STARTTLS: %w", err)
	}
	if code != 220 {
		return s.refused(strconv.Itoa(code), strings.Join(lines, " "))
	}
	return nil
}

// readSMTPReply reads one (possibly multi-line) reply: "250-…" lines then a "250 …" line.
// It returns the code and each line's text after the code. Every line must carry the same
// three-digit code (RFC 5321 §4.2.1).
func readSMTPReply(w *wire) (int, []string, error) {
	var lines []string
	code := -1
	for range maxReplyLines {
		l, err := w.readLine()
		if err != nil {
			return 0, lines, err
		}
		c, text, more, err := parseSMTPLine(l)
		if err != nil {
			return 0, lines, err
		}
		if code >= 0 && c != code {
			return 0, lines, fmt.Errorf("%w: reply code changed from %d to %d within one reply", ErrProtocol, code, c)
		}
		code = c
		lines = append(lines, text)
		if !more {
			return code, lines, nil
		}
	}
	return 0, lines, fmt.Errorf("%w: more than %d lines in one reply", ErrLimit, maxReplyLines)
}

// parseSMTPLine splits "250-text", "250 text" or "250" into code, text and continuation.
func parseSMTPLine(l string) (code int, text string, more bool, err error) {
	if len(l) < 3 || !isDigit(l[0]) || !isDigit(l[1]) || !isDigit(l[2]) || l[0] < '1' || l[0] > '5' {
		return 0, "", false, fmt.Errorf("%w: not a reply line: %q", ErrProtocol, clean(l, 64))
	}
	code = int(l[0]-'0')*100 + int(l[1]-'0')*10 + int(l[2]-'0')
	if len(l) == 3 {
		return code, "", false, nil
	}
	switch l[3] {
	case '-':
		return code, l[4:], true, nil
	case ' ':
		return code, l[4:], false, nil
	}
	return 0, "", false, fmt.Errorf("%w: bad separator after reply code: %q", ErrProtocol, clean(l, 64))
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
