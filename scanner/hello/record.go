package hello

import (
	"errors"
	"fmt"
	"io"
)

// AlertError is a TLS alert the server sent instead of (or after) its hello.
type AlertError struct {
	Level       uint8
	Description uint8
}

// Alert descriptions the engine interprets.
const (
	alertHandshakeFailure   uint8 = 40
	alertIllegalParameter   uint8 = 47
	alertProtocolVersion    uint8 = 70
	alertInsufficientSecure uint8 = 71
	alertInternalError      uint8 = 80
)

func (e *AlertError) Error() string {
	return fmt.Sprintf("alert %d (%s)", e.Description, alertName(e.Description))
}

func alertName(d uint8) string {
	switch d {
	case 0:
		return "close_notify"
	case 10:
		return "unexpected_message"
	case 20:
		return "bad_record_mac"
	case 22:
		return "record_overflow"
	case 40:
		return "handshake_failure"
	case 47:
		return "illegal_parameter"
	case 50:
		return "decode_error"
	case 51:
		return "decrypt_error"
	case 70:
		return "protocol_version"
	case 71:
		return "insufficient_security"
	case 80:
		return "internal_error"
	case 86:
		return "inappropriate_fallback"
	case 109:
		return "missing_extension"
	case 110:
		return "unsupported_extension"
	case 112:
		return "unrecognized_name"
	case 120:
		return "no_application_protocol"
	}
	return "unknown"
}

// Errors of the record layer. ErrClosed means the peer closed before sending anything, which
// servers use as a refusal; the others mean the server misbehaved.
var (
	ErrClosed       = errors.New("connection closed by server before any reply")
	ErrNotTLS       = errors.New("reply is not a TLS record")
	ErrTruncated    = errors.New("connection closed in the middle of a record")
	ErrTooLarge     = errors.New("handshake larger than the read limit")
	ErrBadRecord    = errors.New("malformed record")
	ErrUnexpected   = errors.New("unexpected record type")
	ErrBadHandshake = errors.New("malformed handshake message")
)

// maxRecord is the largest record body accepted: 2^14 plus the expansion TLS 1.2 allows.
const maxRecord = maxPlaintext + 2048

// handshakeReader reads TLS records from r and yields handshake messages, reassembling
// messages split across records and splitting records that hold several messages. It never
// reads more than limit bytes in total.
type handshakeReader struct {
	r     io.Reader
	limit int
	read  int
	hdr   [5]byte
	buf   []byte // handshake bytes received and not yet consumed
	any   bool   // some byte was received
	// Version is the record-layer version of the last record read.
	Version uint16
}

func newHandshakeReader(r io.Reader, limit int) *handshakeReader {
	return &handshakeReader{r: r, limit: limit}
}

// readFull reads exactly len(p) bytes, counting them against the limit.
func (h *handshakeReader) readFull(p []byte) error {
	if h.read+len(p) > h.limit {
		return ErrTooLarge
	}
	n, err := io.ReadFull(h.r, p)
	h.read += n
	if n > 0 {
		h.any = true
	}
	if err != nil {
		if errors.Is(err, io.EOF) && n == 0 && !h.any {
			return ErrClosed
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return ErrTruncated
		}
		return err
	}
	return nil
}

// nextRecord reads one record. Alerts come back as *AlertError.
func (h *handshakeReader) nextRecord() (uint8, []byte, error) {
	if err := h.readFull(h.hdr[:]); err != nil {
		return 0, nil, err
	}
	typ, major := h.hdr[0], h.hdr[1]
	h.Version = uint16(h.hdr[1])<<8 | uint16(h.hdr[2])
	n := int(h.hdr[3])<<8 | int(h.hdr[4])
	if typ < recordChangeCipherSpec || typ > recordApplicationData || major != 3 {
		return 0, nil, fmt.Errorf("%w: header % x", ErrNotTLS, h.hdr[:])
	}
	if n > maxRecord {
		return 0, nil, fmt.Errorf("%w: record of %d bytes", ErrBadRecord, n)
	}
	body := make([]byte, n)
	if err := h.readFull(body); err != nil {
		return 0, nil, err
	}
	if typ == recordAlert {
		if len(body) < 2 {
			return 0, nil, fmt.Errorf("%w: short alert", ErrBadRecord)
		}
		return typ, body, &AlertError{Level: body[0], Description: body[1]}
	}
	return typ, body, nil
}

// Next returns the next handshake message: its type and body.
func (h *handshakeReader) Next() (uint8, []byte, error) {
	for {
		if len(h.buf) >= 4 {
			n := int(h.buf[1])<<16 | int(h.buf[2])<<8 | int(h.buf[3])
			if n > h.limit {
				return 0, nil, fmt.Errorf("%w: handshake message of %d bytes", ErrTooLarge, n)
			}
			if len(h.buf) >= 4+n {
				typ, body := h.buf[0], h.buf[4:4+n:4+n]
				h.buf = h.buf[4+n:]
				return typ, body, nil
			}
		}
		typ, body, err := h.nextRecord()
		if err != nil {
			return 0, nil, err
		}
		switch typ {
		case recordHandshake:
			if len(body) == 0 {
				return 0, nil, fmt.Errorf("%w: empty handshake record", ErrBadRecord)
			}
			h.buf = append(h.buf, body...)
		case recordChangeCipherSpec:
			// TLS 1.3 middlebox compatibility; carries no handshake data.
		default:
			return 0, nil, fmt.Errorf("%w: %d before the server hello flight ended", ErrUnexpected, typ)
		}
	}
}
