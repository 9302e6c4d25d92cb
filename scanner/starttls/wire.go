package starttls

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// wire is a bounded, buffered reader and a writer over the connection. It never reads more
// than budget bytes in total, never returns a line longer than maxLineLen, and exposes how
// many bytes it holds unread, so the dialogue can prove nothing is left over when it hands
// the connection to TLS. It implements io.ByteReader, which makes encoding/xml read from it
// directly instead of adding a buffer of its own.
type wire struct {
	rw     io.ReadWriter
	buf    []byte
	r, w   int // unread bytes are buf[r:w]
	budget int // bytes still allowed to be read from rw
	limit  int // the whole budget, for messages
	err    error
}

func newWire(rw io.ReadWriter, budget int) *wire {
	return &wire{rw: rw, buf: make([]byte, 4096), budget: budget, limit: budget}
}

// buffered is the number of bytes read from the connection but not consumed.
func (w *wire) buffered() int { return w.w - w.r }

// fill reads at least one more byte into the buffer.
func (w *wire) fill() error {
	if w.err != nil {
		return w.err
	}
	if w.r == w.w {
		w.r, w.w = 0, 0
	}
	if w.r > 0 && w.w == len(w.buf) {
		copy(w.buf, w.buf[w.r:w.w])
		w.w -= w.r
		w.r = 0
	}
	space := len(w.buf) - w.w
	if space > w.budget {
		space = w.budget
	}
	if space <= 0 {
		w.err = fmt.Errorf("%w: more than the %d-byte dialogue budget", ErrLimit, w.limit)
		return w.err
	}
	for range 100 { // a reader that returns 0, nil forever must not spin
		n, err := w.rw.Read(w.buf[w.w : w.w+space])
		w.w += n
		w.budget -= n
		if n > 0 {
			return nil
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			w.err = err
			return err
		}
	}
	w.err = io.ErrNoProgress
	return w.err
}

// ReadByte returns the next byte.
func (w *wire) ReadByte() (byte, error) {
	if w.r == w.w {
		if err := w.fill(); err != nil {
			return 0, err
		}
	}
	b := w.buf[w.r]
	w.r++
	return b, nil
}

// peekByte returns the next byte without consuming it.
func (w *wire) peekByte() (byte, error) {
	if w.r == w.w {
		if err := w.fill(); err != nil {
			return 0, err
		}
	}
	return w.buf[w.r], nil
}

// Read reads from the buffer, filling it from the connection when empty.
func (w *wire) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if w.r == w.w {
		if err := w.fill(); err != nil {
			return 0, err
		}
	}
	n := copy(p, w.buf[w.r:w.w])
	w.r += n
	return n, nil
}

// readFull reads exactly n bytes (n is checked against the budget by fill).
func (w *wire) readFull(n int) ([]byte, error) {
	if n < 0 {
		return nil, fmt.Errorf("%w: negative length", ErrProtocol)
	}
	if n > w.budget+w.buffered() {
		return nil, fmt.Errorf("%w: %d-byte message exceeds the dialogue budget", ErrLimit, n)
	}
	out := make([]byte, 0, n)
	for len(out) < n {
		if w.r == w.w {
			if err := w.fill(); err != nil {
				return nil, err
			}
		}
		k := min(n-len(out), w.w-w.r)
		out = append(out, w.buf[w.r:w.r+k]...)
		w.r += k
	}
	return out, nil
}

// readLine returns the next line without its line ending (LF or CRLF).
func (w *wire) readLine() (string, error) {
	var line []byte
	for {
		if w.r == w.w {
			if err := w.fill(); err != nil {
				return "", err
			}
		}
		chunk := w.buf[w.r:w.w]
		if i := bytes.IndexByte(chunk, '\n'); i >= 0 {
			if len(line)+i > maxLineLen {
				return "", fmt.Errorf("%w: line longer than %d bytes", ErrLimit, maxLineLen)
			}
			line = append(line, chunk[:i]...)
			w.r += i + 1
			return string(bytes.TrimSuffix(line, []byte("\r"))), nil
		}
		if len(line)+len(chunk) > maxLineLen {
			return "", fmt.Errorf("%w: line longer than %d bytes", ErrLimit, maxLineLen)
		}
		line = append(line, chunk...)
		w.r = w.w
	}
}

// send writes s in one call.
func (w *wire) send(s string) error {
	if _, err := io.WriteString(w.rw, s); err != nil {
		return fmt.Errorf("send: %w", err)
	}
	return nil
}

// sendBytes writes b in one call.
func (w *wire) sendBytes(b []byte) error {
	if _, err := w.rw.Write(b); err != nil {
		return fmt.Errorf("send: %w", err)
	}
	return nil
}
