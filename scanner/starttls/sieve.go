package starttls

import (
	"fmt"
	"strconv"
	"strings"
)

// ManageSieve (RFC 5804). On connect the server sends its capabilities, one per line as
// quoted strings ("IMPLEMENTATION" "Dovecot Pigeonhole", "SASL" "PLAIN LOGIN", "STARTTLS"),
// closed by an OK/NO/BYE response. STARTTLS answered OK is the go-ahead.

func sieveDialogue(s *session) error {
	lines, status, err := readSieveResponse(s.w)
	if err != nil {
		return fmt.Errorf("greeting: %w", err)
	}
	if status[0] != "OK" {
		s.facts.ReplyCode, s.facts.ReplyText = status[0], clean(strings.Join(status[1:], " "), maxGreeting)
		return fmt.Errorf("greeting: server answered %s", status[0])
	}
	s.setGreeting(strings.Join(status[1:], " "))
	offered := false
	for _, l := range lines {
		if len(l) == 0 {
			continue
		}
		name := strings.ToUpper(l[0])
		s.addCap(strings.Join(l, " "))
		switch name {
		case "STARTTLS":
			offered = true
		case "SASL":
			if len(l) > 1 {
				s.addSASL(strings.Fields(l[1]))
			}
		case "IMPLEMENTATION":
			if len(l) > 1 {
				s.facts.Software = clean(l[1], maxCapLen)
			}
		}
	}
	s.hint(s.facts.Greeting)
	s.facts.Offered = offered
	if !offered {
		if err := s.notOffered("no STARTTLS capability"); err != nil {
			return err
		}
	}
	if err := s.w.send("STARTTLS\r\n"); err != nil {
		return err
	}
	_, status, err = readSieveResponse(s.w)
	if err != nil {
		return fmt.Errorf("STARTTLS: %w", err)
	}
	if status[0] != "OK" {
		return s.refused(status[0], strings.Join(status[1:], " "))
	}
	return nil
}

// readSieveResponse reads data lines until the OK/NO/BYE response line. Each line is split
// into its atoms and strings; status is the response line's words (status[0] is OK, NO or BYE).
func readSieveResponse(w *wire) (lines [][]string, status []string, err error) {
	for range maxReplyLines {
		words, err := readSieveLine(w)
		if err != nil {
			return lines, nil, err
		}
		if len(words) > 0 {
			switch strings.ToUpper(words[0]) {
			case "OK", "NO", "BYE":
				words[0] = strings.ToUpper(words[0])
				return lines, words, nil
			}
		}
		lines = append(lines, words)
	}
	return lines, nil, fmt.Errorf("%w: more than %d lines in one response", ErrLimit, maxReplyLines)
}

// readSieveLine reads one line of quoted strings, literals ({n} or {n+} then CRLF then n
// bytes) and atoms, returning them unquoted.
func readSieveLine(w *wire) ([]string, error) {
	var words []string
	for range maxReplyLines {
		l, err := w.readLine()
		if err != nil {
			return nil, err
		}
		n, err := splitSieveWords(l, &words)
		if err != nil {
			return nil, err
		}
		if n < 0 {
			return words, nil
		}
		lit, err := w.readFull(n)
		if err != nil {
			return nil, err
		}
		words = append(words, string(lit))
	}
	return nil, fmt.Errorf("%w: too many literals in one line", ErrLimit)
}

// splitSieveWords appends the words of l to words. When l ends with a literal announcement
// it returns the literal's length (else -1); the literal's bytes and the line's remainder
// follow on the wire.
func splitSieveWords(l string, words *[]string) (int, error) {
	for i := 0; i < len(l); {
		switch c := l[i]; {
		case c == ' ':
			i++
		case c == '"':
			var b strings.Builder
			j := i + 1
			for ; j < len(l) && l[j] != '"'; j++ {
				if l[j] == '\\' && j+1 < len(l) {
					j++
				}
				b.WriteByte(l[j])
			}
			if j >= len(l) {
				return 0, fmt.Errorf("%w: unterminated string", ErrProtocol)
			}
			*words = append(*words, b.String())
			i = j + 1
		case c == '{':
			end := strings.IndexByte(l[i:], '}')
			if end < 0 || i+end != len(l)-1 {
				return 0, fmt.Errorf("%w: bad literal", ErrProtocol)
			}
			num := strings.TrimSuffix(l[i+1:i+end], "+")
			n, err := strconv.Atoi(num)
			if err != nil || n < 0 || len(num) > 9 {
				return 0, fmt.Errorf("%w: bad literal length", ErrProtocol)
			}
			return n, nil
		default:
			j := i
			for j < len(l) && l[j] != ' ' && l[j] != '"' && l[j] != '{' {
				j++
			}
			*words = append(*words, l[i:j])
			i = j
		}
	}
	return -1, nil
}
