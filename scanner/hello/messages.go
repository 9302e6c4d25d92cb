package hello

import (
	"bytes"
	"fmt"
	"math/big"

	"golang.org/x/crypto/cryptobyte"
)

// helloRetryRequestRandom is the Random value that marks a HelloRetryRequest (RFC 8446 4.1.3).
var helloRetryRequestRandom = []byte{
	0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
	0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
}

// ServerHello is a parsed ServerHello or HelloRetryRequest.
type ServerHello struct {
	LegacyVersion uint16
	Random        []byte
	SessionID     []byte
	Suite         uint16
	Compression   uint8
	// HelloRetryRequest is true when Random is the HRR marker.
	HelloRetryRequest bool
	// SupportedVersion is the supported_versions extension's value (TLS 1.3), else 0.
	SupportedVersion uint16
	// KeyShareGroup is the group of the key_share extension: the selected group of an HRR,
	// or the group of the server's share in a TLS 1.3 ServerHello.
	KeyShareGroup       uint16
	ALPN                string
	SecureRenegotiation bool
	ExtendedMasterSec   bool
	EncryptThenMAC      bool
	SessionTicket       bool
	OCSPStapling        bool
	SCT                 bool
	Heartbeat           bool
	// Extensions lists the extension types in the order the server sent them.
	Extensions []uint16
}

// Version is the negotiated protocol version.
func (s *ServerHello) Version() uint16 {
	if s.SupportedVersion != 0 {
		return s.SupportedVersion
	}
	return s.LegacyVersion
}

// ParseServerHello parses the body of a ServerHello handshake message (without its 4-byte
// header).
func ParseServerHello(body []byte) (*ServerHello, error) {
	s := cryptobyte.String(body)
	m := &ServerHello{}
	var random, sid []byte
	if !s.ReadUint16(&m.LegacyVersion) || !s.ReadBytes(&random, 32) ||
		!readUint8Bytes(&s, &sid) || !s.ReadUint16(&m.Suite) || !s.ReadUint8(&m.Compression) {
		return nil, fmt.Errorf("%w: server hello too short", ErrBadHandshake)
	}
	m.Random = bytes.Clone(random)
	m.SessionID = bytes.Clone(sid)
	m.HelloRetryRequest = bytes.Equal(m.Random, helloRetryRequestRandom)
	if s.Empty() {
		return m, nil
	}
	var exts cryptobyte.String
	if !s.ReadUint16LengthPrefixed(&exts) || !s.Empty() {
		return nil, fmt.Errorf("%w: server hello extensions", ErrBadHandshake)
	}
	seen := map[uint16]bool{}
	for !exts.Empty() {
		var typ uint16
		var data cryptobyte.String
		if !exts.ReadUint16(&typ) || !exts.ReadUint16LengthPrefixed(&data) {
			return nil, fmt.Errorf("%w: server hello extension header", ErrBadHandshake)
		}
		if seen[typ] {
			return nil, fmt.Errorf("%w: duplicate extension %d", ErrBadHandshake, typ)
		}
		seen[typ] = true
		m.Extensions = append(m.Extensions, typ)
		ok := true
		switch typ {
		case extSupportedVersions:
			ok = data.ReadUint16(&m.SupportedVersion) && data.Empty()
		case extKeyShare:
			// HRR: just the selected group. ServerHello: group plus key_exchange.
			ok = data.ReadUint16(&m.KeyShareGroup)
			if ok && !m.HelloRetryRequest {
				var ke cryptobyte.String
				ok = data.ReadUint16LengthPrefixed(&ke)
			}
			ok = ok && data.Empty()
		case extALPN:
			var list, proto cryptobyte.String
			ok = data.ReadUint16LengthPrefixed(&list) && list.ReadUint8LengthPrefixed(&proto) &&
				list.Empty() && data.Empty() && len(proto) > 0
			m.ALPN = string(proto)
		case extRenegotiationInfo:
			var ri cryptobyte.String
			ok = data.ReadUint8LengthPrefixed(&ri) && data.Empty()
			m.SecureRenegotiation = true
		case extExtendedMasterSec:
			m.ExtendedMasterSec = true
		case extEncryptThenMAC:
			m.EncryptThenMAC = true
		case extSessionTicket:
			m.SessionTicket = true
		case extStatusRequest:
			m.OCSPStapling = true
		case extSCT:
			m.SCT = true
		case extHeartbeat:
			m.Heartbeat = true
		}
		if !ok {
			return nil, fmt.Errorf("%w: extension %d", ErrBadHandshake, typ)
		}
	}
	return m, nil
}

func readUint8Bytes(s *cryptobyte.String, out *[]byte) bool {
	var v cryptobyte.String
	if !s.ReadUint8LengthPrefixed(&v) {
		return false
	}
	*out = v
	return true
}

// KeyExchange is what a TLS ≤ 1.2 ServerKeyExchange revealed.
type KeyExchange struct {
	// DH parameters, for DHE suites.
	P, G *big.Int
	// Curve is the named group, for ECDHE suites.
	Curve uint16
	// SigScheme is the TLS 1.2 signature algorithm of the signed parameters, else 0.
	SigScheme uint16
}

// ParseServerKeyExchange parses a ServerKeyExchange body for a DHE (ecdhe false) or ECDHE
// suite. tls12 says whether the signature carries a SignatureAndHashAlgorithm. Anonymous
// suites send no signature; the signature is optional here for that reason.
func ParseServerKeyExchange(body []byte, ecdhe, tls12 bool) (*KeyExchange, error) {
	s := cryptobyte.String(body)
	kx := &KeyExchange{}
	if ecdhe {
		var curveType uint8
		var point cryptobyte.String
		if !s.ReadUint8(&curveType) {
			return nil, fmt.Errorf("%w: server key exchange too short", ErrBadHandshake)
		}
		if curveType != 3 {
			return nil, fmt.Errorf("%w: curve type %d is not named_curve", ErrBadHandshake, curveType)
		}
		if !s.ReadUint16(&kx.Curve) || !s.ReadUint8LengthPrefixed(&point) || len(point) == 0 {
			return nil, fmt.Errorf("%w: ECDH parameters", ErrBadHandshake)
		}
	} else {
		var p, g, y cryptobyte.String
		if !s.ReadUint16LengthPrefixed(&p) || !s.ReadUint16LengthPrefixed(&g) || !s.ReadUint16LengthPrefixed(&y) ||
			len(p) == 0 || len(g) == 0 || len(y) == 0 {
			return nil, fmt.Errorf("%w: DH parameters", ErrBadHandshake)
		}
		kx.P = new(big.Int).SetBytes(p)
		kx.G = new(big.Int).SetBytes(g)
	}
	if tls12 && len(s) >= 2 {
		if !s.ReadUint16(&kx.SigScheme) {
			return nil, fmt.Errorf("%w: signature algorithm", ErrBadHandshake)
		}
	}
	return kx, nil
}

// SSLv2ServerHello is a parsed SSL 2.0 SERVER-HELLO.
type SSLv2ServerHello struct {
	Version uint16
	// Kinds are the cipher kinds the server supports (all of them, in its order).
	Kinds       []uint32
	Certificate []byte
}

// ParseSSLv2ServerHello parses an SSL 2.0 record holding a SERVER-HELLO: the record header
// (two or three bytes) and the message.
func ParseSSLv2ServerHello(rec []byte) (*SSLv2ServerHello, error) {
	body, err := sslv2RecordBody(rec)
	if err != nil {
		return nil, err
	}
	s := cryptobyte.String(body)
	var typ, hit, certType uint8
	var ver, certLen, specLen, connLen uint16
	if !s.ReadUint8(&typ) || typ != 4 || !s.ReadUint8(&hit) || !s.ReadUint8(&certType) ||
		!s.ReadUint16(&ver) || !s.ReadUint16(&certLen) || !s.ReadUint16(&specLen) || !s.ReadUint16(&connLen) {
		return nil, fmt.Errorf("%w: not an SSLv2 server hello", ErrBadHandshake)
	}
	if specLen%3 != 0 {
		return nil, fmt.Errorf("%w: SSLv2 cipher specs length %d", ErrBadHandshake, specLen)
	}
	m := &SSLv2ServerHello{Version: ver}
	var cert, specs, conn []byte
	if !s.ReadBytes(&cert, int(certLen)) || !s.ReadBytes(&specs, int(specLen)) || !s.ReadBytes(&conn, int(connLen)) {
		return nil, fmt.Errorf("%w: SSLv2 server hello truncated", ErrBadHandshake)
	}
	m.Certificate = bytes.Clone(cert)
	ss := cryptobyte.String(specs)
	for !ss.Empty() {
		var k uint32
		if !ss.ReadUint24(&k) {
			return nil, fmt.Errorf("%w: SSLv2 cipher spec", ErrBadHandshake)
		}
		m.Kinds = append(m.Kinds, k)
	}
	return m, nil
}

// sslv2RecordBody strips an SSL 2.0 record header and checks the length.
func sslv2RecordBody(rec []byte) ([]byte, error) {
	s := cryptobyte.String(rec)
	var h1, h2 uint8
	if !s.ReadUint8(&h1) || !s.ReadUint8(&h2) {
		return nil, fmt.Errorf("%w: short SSLv2 record", ErrBadRecord)
	}
	var n int
	if h1&0x80 != 0 {
		n = int(h1&0x7f)<<8 | int(h2)
	} else {
		var pad uint8
		if !s.ReadUint8(&pad) {
			return nil, fmt.Errorf("%w: short SSLv2 record", ErrBadRecord)
		}
		n = int(h1&0x3f)<<8 | int(h2)
	}
	var body []byte
	if !s.ReadBytes(&body, n) {
		return nil, fmt.Errorf("%w: SSLv2 record truncated", ErrTruncated)
	}
	return body, nil
}
