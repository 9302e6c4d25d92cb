package starttls

import (
	"encoding/binary"
	"fmt"
	"strconv"
)

// MySQL / MariaDB. The server speaks first with the Initial Handshake (protocol 10); its
// capability flags include CLIENT_SSL when TLS is available. The client then sends the
// 32-byte SSLRequest packet (sequence 1) and starts TLS; the server sends nothing in
// between. An error packet (0xff) instead of a handshake (e.g. 1129 host blocked, 1130 host
// not allowed) ends the dialogue.

const (
	mysqlClientLongPassword = 0x00000001
	mysqlClientProtocol41   = 0x00000200
	mysqlClientSSL          = 0x00000800
	mysqlClientSecureConn   = 0x00008000
	mysqlClientPluginAuth   = 0x00080000

	maxMySQLPacket = 16 << 10
)

func mysqlDialogue(s *session) error {
	payload, seq, err := readMySQLPacket(s.w)
	if err != nil {
		return fmt.Errorf("handshake: %w", err)
	}
	g, err := parseMySQLGreeting(payload)
	if err != nil {
		if g.errCode != 0 {
			s.facts.ReplyCode, s.facts.ReplyText = strconv.Itoa(g.errCode), clean(g.errMsg, maxGreeting)
		}
		return fmt.Errorf("handshake: %w", err)
	}
	s.setGreeting("protocol " + strconv.Itoa(g.protocol) + ", server " + g.version)
	s.facts.Software = clean(g.version, maxCapLen)
	s.addCap(fmt.Sprintf("capabilities=0x%08x", g.caps))
	s.facts.Offered = g.caps&mysqlClientSSL != 0
	if !s.facts.Offered {
		if err := s.notOffered("no CLIENT_SSL capability"); err != nil {
			return err
		}
	}
	pkt := make([]byte, 4+32)
	pkt[0], pkt[1], pkt[2], pkt[3] = 32, 0, 0, seq+1
	binary.LittleEndian.PutUint32(pkt[4:], mysqlClientLongPassword|mysqlClientProtocol41|mysqlClientSSL|mysqlClientSecureConn|mysqlClientPluginAuth)
	binary.LittleEndian.PutUint32(pkt[8:], 16<<20) // max packet size
	pkt[12] = 0x21                                 // utf8_general_ci
	return s.w.sendBytes(pkt)
}

// readMySQLPacket reads one packet: 3-byte little-endian length, sequence byte, payload.
func readMySQLPacket(w *wire) ([]byte, byte, error) {
	h, err := w.readFull(4)
	if err != nil {
		return nil, 0, err
	}
	n := int(h[0]) | int(h[1])<<8 | int(h[2])<<16
	if n == 0 || n > maxMySQLPacket {
		return nil, 0, fmt.Errorf("%w: packet length %d", ErrLimit, n)
	}
	p, err := w.readFull(n)
	return p, h[3], err
}

// mysqlGreeting is the part of the Initial Handshake the dialogue records.
type mysqlGreeting struct {
	protocol int
	version  string
	caps     uint32
	errCode  int
	errMsg   string
}

// parseMySQLGreeting decodes a HandshakeV10 (or V9) payload, or an error packet.
func parseMySQLGreeting(p []byte) (mysqlGreeting, error) {
	var g mysqlGreeting
	if len(p) == 0 {
		return g, fmt.Errorf("%w: empty handshake", ErrProtocol)
	}
	if p[0] == 0xff {
		if len(p) >= 3 {
			g.errCode = int(binary.LittleEndian.Uint16(p[1:3]))
			msg := p[3:]
			if len(msg) > 0 && msg[0] == '#' && len(msg) >= 6 { // "#HY000" SQL state
				msg = msg[6:]
			}
			g.errMsg = string(msg)
		}
		return g, fmt.Errorf("server sent error %d: %s", g.errCode, clean(g.errMsg, 256))
	}
	g.protocol = int(p[0])
	if g.protocol != 10 && g.protocol != 9 {
		return g, fmt.Errorf("%w: handshake protocol %d", ErrProtocol, g.protocol)
	}
	rest := p[1:]
	end := -1
	for i, c := range rest {
		if c == 0 {
			end = i
			break
		}
	}
	if end < 0 {
		return g, fmt.Errorf("%w: unterminated server version", ErrProtocol)
	}
	g.version = clean(string(rest[:end]), maxCapLen)
	rest = rest[end+1:]
	if g.protocol == 9 {
		return g, nil // protocol 9 predates capability flags and SSL
	}
	// connection id (4), auth-plugin-data-part-1 (8), filler (1), capability flags lower (2)
	if len(rest) < 4+8+1+2 {
		return g, fmt.Errorf("%w: truncated handshake", ErrProtocol)
	}
	g.caps = uint32(binary.LittleEndian.Uint16(rest[13:15]))
	// character set (1), status (2), capability flags upper (2)
	if len(rest) >= 15+1+2+2 {
		g.caps |= uint32(binary.LittleEndian.Uint16(rest[18:20])) << 16
	}
	return g, nil
}
