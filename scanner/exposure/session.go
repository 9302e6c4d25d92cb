package exposure

import (
	"bytes"
	"errors"
	"io"
	"net"
	"sync/atomic"
	"time"
)

// maxReply bounds what one exchange keeps of a server's reply; a server that floods ends the
// exchange when it is reached.
const maxReply = 16 << 10

// bannerKeep is how much of what a server sent is kept as ServiceFacts.Banner.
const bannerKeep = 512

// errNoReply is an exchange that ended with the wait elapsed and nothing received.
var errNoReply = errors.New("no reply within the wait")

// session is one probe connection. Each exchange is bounded by a timer that closes the
// connection when it fires, so no read can outlive its wait whatever the server does.
type session struct {
	conn net.Conn
	dead bool // the connection was closed (wait elapsed, EOF or error)
}

// exchange writes send (if any) and reads until done reports the reply complete, maxReply
// bytes arrived, the server closed, or wait elapsed. What was read is returned in every case;
// the error is nil only when done was satisfied or the buffer filled.
func (s *session) exchange(send []byte, wait time.Duration, done func([]byte) bool) ([]byte, error) {
	if s.dead {
		return nil, net.ErrClosed
	}
	var fired atomic.Bool
	t := time.AfterFunc(wait, func() {
		fired.Store(true)
		_ = s.conn.Close()
	})
	defer func() {
		if !t.Stop() || fired.Load() {
			s.dead = true
		}
	}()
	if len(send) > 0 {
		if _, err := s.conn.Write(send); err != nil {
			s.dead = true
			return nil, err
		}
	}
	var buf []byte
	chunk := make([]byte, 4096)
	for len(buf) < maxReply {
		n, err := s.conn.Read(chunk[:min(len(chunk), maxReply-len(buf))])
		buf = append(buf, chunk[:n]...)
		if done != nil && len(buf) > 0 && done(buf) {
			return buf, nil
		}
		if err != nil {
			s.dead = true
			if fired.Load() {
				if len(buf) == 0 {
					return nil, errNoReply
				}
				return buf, errNoReply
			}
			if errors.Is(err, io.EOF) && len(buf) == 0 {
				return nil, io.ErrUnexpectedEOF
			}
			return buf, err
		}
	}
	return buf, nil
}

func (s *session) close() {
	s.dead = true
	_ = s.conn.Close()
}

// anyBytes is a done func satisfied by the first byte.
func anyBytes(b []byte) bool { return len(b) > 0 }

// hasLine is satisfied once a full line arrived.
func hasLine(b []byte) bool { return bytes.IndexByte(b, '\n') >= 0 }

// escape renders server bytes for people: printable ASCII as is, \r \n \t and every other
// byte as an escape, at most limit input bytes (with "…" when cut).
func escape(b []byte, limit int) string {
	cut := false
	if len(b) > limit {
		b, cut = b[:limit], true
	}
	var sb bytes.Buffer
	const hex = "0123456789abcdef"
	for _, c := range b {
		switch {
		case c == '\r':
			sb.WriteString(`\r`)
		case c == '\n':
			sb.WriteString(`\n`)
		case c == '\t':
			sb.WriteString(`\t`)
		case c == '\\':
			sb.WriteString(`\\`)
		case c >= 0x20 && c < 0x7f:
			sb.WriteByte(c)
		default:
			sb.WriteString(`\x`)
			sb.WriteByte(hex[c>>4])
			sb.WriteByte(hex[c&15])
		}
	}
	if cut {
		sb.WriteString("…")
	}
	return sb.String()
}

// clean bounds and escapes a short server string (product, version, header values).
func clean(s string) string { return escape([]byte(s), 128) }
