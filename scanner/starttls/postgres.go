package starttls

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// PostgreSQL SSLRequest (protocol 3, "SSL Session Encryption"). The client sends the 8-byte
// SSLRequest; the server answers one byte: 'S' is the go-ahead, 'N' means no TLS. A server
// that predates SSLRequest answers with an ErrorResponse ('E'). Nothing is advertised first,
// so Offered follows the answer. Bytes after 'S' and before the ClientHello are what a
// man-in-the-middle injects against clients that read them as protected data
// (CVE-2021-23222); they are reported as unexpected data.

var pgSSLRequest = []byte{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f} // length 8, code 80877103

const maxPGError = 4096

func postgresDialogue(s *session) error {
	if err := s.w.sendBytes(pgSSLRequest); err != nil {
		return err
	}
	b, err := s.w.ReadByte()
	if err != nil {
		return fmt.Errorf("SSLRequest answer: %w", err)
	}
	switch b {
	case 'S':
		s.facts.Offered = true
		return nil
	case 'N':
		return s.refused("N", "server does not accept TLS")
	case 'E':
		msg, err := readPGError(s.w)
		if err != nil {
			return fmt.Errorf("SSLRequest answer: error response: %w", err)
		}
		return s.refused("E", msg)
	}
	return fmt.Errorf("%w: answer byte 0x%02x to SSLRequest", ErrProtocol, b)
}

// readPGError reads the body of an ErrorResponse (after its type byte) and returns its
// message field ('M'), or the whole text of a pre-protocol-3 error.
func readPGError(w *wire) (string, error) {
	lb, err := w.readFull(4)
	if err != nil {
		return "", err
	}
	n := int(binary.BigEndian.Uint32(lb))
	if n < 4 || n > maxPGError {
		// Very old servers send "E" followed by a plain NUL-terminated string.
		return "", fmt.Errorf("%w: error response length %d", ErrProtocol, n)
	}
	body, err := w.readFull(n - 4)
	if err != nil {
		return "", err
	}
	for _, f := range strings.Split(string(body), "\x00") {
		if strings.HasPrefix(f, "M") {
			return f[1:], nil
		}
	}
	return "", nil
}
