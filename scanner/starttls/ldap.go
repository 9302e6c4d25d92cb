package starttls

import (
	"fmt"
	"strconv"
)

// LDAP StartTLS (RFC 4511 §4.14, RFC 4513 §3). The client sends an ExtendedRequest naming
// 1.3.6.1.4.1.1466.20037; the ExtendedResponse's resultCode 0 is the go-ahead. The response is
// parsed as BER with definite lengths in short or long form (Active Directory always uses the
// four-byte long form). Nothing is advertised first, so Offered follows the answer.

// ldapStartTLSOID is the StartTLS extended operation.
const ldapStartTLSOID = "1.3.6.1.4.1.1466.20037"

// ldapStartTLSRequest is LDAPMessage{messageID 1, extendedReq{requestName OID}}.
var ldapStartTLSRequest = func() []byte {
	oid := []byte(ldapStartTLSOID)
	ext := append([]byte{0x80, byte(len(oid))}, oid...)   // [0] requestName
	op := append([]byte{0x77, byte(len(ext))}, ext...)    // [APPLICATION 23]
	body := append([]byte{0x02, 0x01, 0x01}, op...)       // messageID 1
	return append([]byte{0x30, byte(len(body))}, body...) // LDAPMessage SEQUENCE
}()

// maxLDAPMessage bounds the response the server may send.
const maxLDAPMessage = 16 << 10

// LDAP result codes worth naming (RFC 4511 Appendix A).
var ldapResultNames = map[int]string{
	0: "success", 1: "operationsError", 2: "protocolError", 12: "unavailableCriticalExtension",
	13: "confidentialityRequired", 51: "busy", 52: "unavailable", 53: "unwillingToPerform",
	80: "other",
}

func ldapDialogue(s *session) error {
	if err := s.w.sendBytes(ldapStartTLSRequest); err != nil {
		return err
	}
	msg, err := readBERMessage(s.w)
	if err != nil {
		return fmt.Errorf("extended response: %w", err)
	}
	res, err := parseLDAPExtendedResponse(msg)
	if err != nil {
		return fmt.Errorf("extended response: %w", err)
	}
	if res.messageID == 0 {
		// An unsolicited notification (e.g. notice of disconnection, RFC 4511 §4.4.1).
		s.facts.ReplyCode, s.facts.ReplyText = strconv.Itoa(res.code), clean(res.diagnostic, maxGreeting)
		return fmt.Errorf("server sent an unsolicited notification (result %d) instead of an answer", res.code)
	}
	if res.messageID != 1 {
		return fmt.Errorf("%w: response to message %d, expected 1", ErrProtocol, res.messageID)
	}
	if res.code != 0 {
		code := strconv.Itoa(res.code)
		if n, ok := ldapResultNames[res.code]; ok {
			code += " " + n
		}
		return s.refused(code, res.diagnostic)
	}
	s.facts.Offered = true
	return nil
}

// readBERMessage reads one complete BER TLV (definite length) from the wire.
func readBERMessage(w *wire) ([]byte, error) {
	hdr, err := w.readFull(2)
	if err != nil {
		return nil, err
	}
	if hdr[0] != 0x30 {
		return nil, fmt.Errorf("%w: LDAP message does not start with a SEQUENCE (0x%02x)", ErrProtocol, hdr[0])
	}
	n := int(hdr[1])
	lenBytes := []byte{}
	if n&0x80 != 0 {
		k := n & 0x7f
		if k == 0 || k > 4 {
			return nil, fmt.Errorf("%w: unsupported BER length form 0x%02x", ErrProtocol, hdr[1])
		}
		lenBytes, err = w.readFull(k)
		if err != nil {
			return nil, err
		}
		n = 0
		for _, b := range lenBytes {
			n = n<<8 | int(b)
		}
	}
	if n > maxLDAPMessage {
		return nil, fmt.Errorf("%w: %d-byte LDAP message", ErrLimit, n)
	}
	body, err := w.readFull(n)
	if err != nil {
		return nil, err
	}
	out := append(append(hdr, lenBytes...), body...)
	return out, nil
}

// berTLV is one decoded element.
type berTLV struct {
	tag   byte
	value []byte
}

// parseBER splits one TLV off b, returning it and the rest. Only single-byte tags and
// definite lengths of up to four length bytes are accepted: LDAP needs nothing else.
func parseBER(b []byte) (berTLV, []byte, error) {
	if len(b) < 2 {
		return berTLV{}, nil, fmt.Errorf("%w: truncated BER element", ErrProtocol)
	}
	tag, l := b[0], int(b[1])
	if tag&0x1f == 0x1f {
		return berTLV{}, nil, fmt.Errorf("%w: multi-byte BER tag", ErrProtocol)
	}
	off := 2
	if l&0x80 != 0 {
		k := l & 0x7f
		if k == 0 || k > 4 || len(b) < 2+k {
			return berTLV{}, nil, fmt.Errorf("%w: bad BER length", ErrProtocol)
		}
		l = 0
		for _, c := range b[2 : 2+k] {
			l = l<<8 | int(c)
		}
		off += k
	}
	if l < 0 || l > len(b)-off {
		return berTLV{}, nil, fmt.Errorf("%w: BER length %d beyond the data", ErrProtocol, l)
	}
	return berTLV{tag: tag, value: b[off : off+l]}, b[off+l:], nil
}

// berInt decodes a small two's-complement INTEGER or ENUMERATED.
func berInt(v []byte) (int, error) {
	if len(v) == 0 || len(v) > 4 {
		return 0, fmt.Errorf("%w: INTEGER of %d bytes", ErrProtocol, len(v))
	}
	n := int(int8(v[0]))
	for _, c := range v[1:] {
		n = n<<8 | int(c)
	}
	return n, nil
}

// ldapResult is the part of an ExtendedResponse the dialogue needs.
type ldapResult struct {
	messageID  int
	code       int
	diagnostic string
}

// parseLDAPExtendedResponse decodes LDAPMessage{messageID, ExtendedResponse{resultCode,
// matchedDN, diagnosticMessage, …}}.
func parseLDAPExtendedResponse(msg []byte) (ldapResult, error) {
	var r ldapResult
	seq, _, err := parseBER(msg)
	if err != nil {
		return r, err
	}
	if seq.tag != 0x30 {
		return r, fmt.Errorf("%w: LDAPMessage is not a SEQUENCE", ErrProtocol)
	}
	id, rest, err := parseBER(seq.value)
	if err != nil {
		return r, err
	}
	if id.tag != 0x02 {
		return r, fmt.Errorf("%w: messageID is not an INTEGER", ErrProtocol)
	}
	if r.messageID, err = berInt(id.value); err != nil {
		return r, err
	}
	op, _, err := parseBER(rest)
	if err != nil {
		return r, err
	}
	if op.tag != 0x78 { // [APPLICATION 24] ExtendedResponse
		return r, fmt.Errorf("%w: protocolOp 0x%02x is not an ExtendedResponse", ErrProtocol, op.tag)
	}
	code, rest, err := parseBER(op.value)
	if err != nil {
		return r, err
	}
	if code.tag != 0x0a {
		return r, fmt.Errorf("%w: resultCode is not ENUMERATED", ErrProtocol)
	}
	if r.code, err = berInt(code.value); err != nil {
		return r, err
	}
	dn, rest, err := parseBER(rest)
	if err != nil || dn.tag != 0x04 {
		return r, fmt.Errorf("%w: matchedDN missing", ErrProtocol)
	}
	diag, _, err := parseBER(rest)
	if err != nil || diag.tag != 0x04 {
		return r, fmt.Errorf("%w: diagnosticMessage missing", ErrProtocol)
	}
	r.diagnostic = string(diag.value)
	return r, nil
}
