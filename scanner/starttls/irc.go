package starttls

import (
	"fmt"
	"strings"
)

// IRC STARTTLS (IRCv3 "tls" extension; deprecated by IRCv3 in favour of direct TLS on 6697
// and the "sts" policy capability). The client asks CAP LS 302 (the list may span several
// "CAP * LS * :…" lines), then sends STARTTLS before registering; numeric 670 (RPL_STARTTLS)
// is the go-ahead and 691 (ERR_STARTTLS) a refusal. A server without CAP answers 421 or stays
// silent about CAP; PINGs are answered so the server keeps talking.

func ircDialogue(s *session) error {
	if err := s.w.send("CAP LS 302\r\n"); err != nil {
		return err
	}
	offered, done := false, false
	var caps []string
	for range maxReplyLines {
		m, err := readIRCMessage(s.w)
		if err != nil {
			return fmt.Errorf("CAP LS: %w", err)
		}
		switch m.command {
		case "PING":
			if err := s.w.send("PONG :" + m.trailing() + "\r\n"); err != nil {
				return err
			}
			continue
		case "NOTICE":
			if s.facts.Greeting == "" {
				s.setGreeting(m.trailing())
			}
			s.hint(m.trailing())
			continue
		case "CAP":
			// params: <target> LS [*] :caps
			if len(m.params) >= 3 && strings.EqualFold(m.params[1], "LS") {
				caps = append(caps, strings.Fields(m.trailing())...)
				done = !(len(m.params) >= 4 && m.params[2] == "*")
			}
		case "421": // ERR_UNKNOWNCOMMAND: no CAP support
			done = true
		case "ERROR":
			return fmt.Errorf("server closed the link: %q", clean(m.trailing(), 128))
		default:
			if s.facts.Greeting == "" {
				s.setGreeting(m.raw)
			}
		}
		if done {
			break
		}
	}
	if !done {
		return fmt.Errorf("%w: no end of CAP LS within %d messages", ErrLimit, maxReplyLines)
	}
	for _, c := range caps {
		s.addCap(c)
		name, value, _ := strings.Cut(c, "=")
		switch strings.ToLower(name) {
		case "tls":
			offered = true
		case "sasl":
			s.addSASL(strings.Split(value, ","))
		}
	}
	s.facts.Offered = offered
	if !offered {
		if err := s.notOffered("no tls capability"); err != nil {
			return err
		}
	}
	if err := s.w.send("STARTTLS\r\n"); err != nil {
		return err
	}
	for range maxReplyLines {
		m, err := readIRCMessage(s.w)
		if err != nil {
			return fmt.Errorf("STARTTLS: %w", err)
		}
		switch m.command {
		case "670":
			return nil
		case "691", "421", "451":
			return s.refused(m.command, m.trailing())
		case "PING":
			if err := s.w.send("PONG :" + m.trailing() + "\r\n"); err != nil {
				return err
			}
		case "ERROR":
			return fmt.Errorf("server closed the link: %q", clean(m.trailing(), 128))
		}
	}
	return fmt.Errorf("%w: no answer to STARTTLS within %d messages", ErrLimit, maxReplyLines)
}

// ircMessage is one parsed line: [@tags] [:prefix] COMMAND params… [:trailing].
type ircMessage struct {
	raw     string
	command string
	params  []string // the trailing parameter, if any, is the last element
}

func (m ircMessage) trailing() string {
	if len(m.params) == 0 {
		return ""
	}
	return m.params[len(m.params)-1]
}

// readIRCMessage reads and parses one message, skipping empty lines.
func readIRCMessage(w *wire) (ircMessage, error) {
	for range maxReplyLines {
		l, err := w.readLine()
		if err != nil {
			return ircMessage{}, err
		}
		if strings.TrimSpace(l) == "" {
			continue
		}
		return parseIRCMessage(l)
	}
	return ircMessage{}, fmt.Errorf("%w: too many empty lines", ErrLimit)
}

// parseIRCMessage parses one line (RFC 1459 §2.3.1 with IRCv3 message tags).
func parseIRCMessage(l string) (ircMessage, error) {
	m := ircMessage{raw: l}
	rest := l
	if strings.HasPrefix(rest, "@") {
		_, rest, _ = strings.Cut(rest, " ")
	}
	rest = strings.TrimLeft(rest, " ")
	if strings.HasPrefix(rest, ":") {
		_, rest, _ = strings.Cut(rest, " ")
	}
	rest = strings.TrimLeft(rest, " ")
	cmd, rest, _ := strings.Cut(rest, " ")
	if cmd == "" {
		return m, fmt.Errorf("%w: IRC line without a command: %q", ErrProtocol, clean(l, 64))
	}
	m.command = strings.ToUpper(cmd)
	for rest != "" && len(m.params) < 32 {
		rest = strings.TrimLeft(rest, " ")
		if rest == "" {
			break
		}
		if rest[0] == ':' {
			m.params = append(m.params, rest[1:])
			break
		}
		var p string
		p, rest, _ = strings.Cut(rest, " ")
		m.params = append(m.params, p)
	}
	return m, nil
}
