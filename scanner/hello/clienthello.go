package hello

import (
	"errors"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
)

// TLS extension code points used by the engine.
const (
	extServerName          uint16 = 0
	extStatusRequest       uint16 = 5
	extSupportedGroups     uint16 = 10
	extECPointFormats      uint16 = 11
	extSignatureAlgorithms uint16 = 13
	extHeartbeat           uint16 = 15
	extALPN                uint16 = 16
	extSCT                 uint16 = 18
	extPadding             uint16 = 21
	extEncryptThenMAC      uint16 = 22
	extExtendedMasterSec   uint16 = 23
	extSessionTicket       uint16 = 35
	extSupportedVersions   uint16 = 43
	extPSKModes            uint16 = 45
	extKeyShare            uint16 = 51
	extRenegotiationInfo   uint16 = 0xff01
)

// Record and handshake types.
const (
	recordChangeCipherSpec uint8 = 20
	recordAlert            uint8 = 21
	recordHandshake        uint8 = 22
	recordApplicationData  uint8 = 23

	typeClientHello       uint8 = 1
	typeServerHello       uint8 = 2
	typeCertificate       uint8 = 11
	typeServerKeyExchange uint8 = 12
	typeCertificateReq    uint8 = 13
	typeServerHelloDone   uint8 = 14
	typeCertificateStatus uint8 = 22
)

// scsvRenegotiation is TLS_EMPTY_RENEGOTIATION_INFO_SCSV (RFC 5746).
const scsvRenegotiation uint16 = 0x00ff

// maxPlaintext is the largest record fragment TLS allows (2^14).
const maxPlaintext = 1 << 14

// KeyShare is one TLS 1.3 key_share entry.
type KeyShare struct {
	Group uint16
	Data  []byte
}

// ClientHello describes a hand-built ClientHello. The zero value of every optional field
// leaves the matching extension out.
type ClientHello struct {
	// Version is the legacy_version field: the highest version for TLS ≤ 1.2 probes, 0x0303
	// when SupportedVersions carries TLS 1.3.
	Version   uint16
	Random    [32]byte
	SessionID []byte
	Suites    []uint16
	// RenegotiationSCSV appends TLS_EMPTY_RENEGOTIATION_INFO_SCSV to the suites.
	RenegotiationSCSV bool
	// NoExtensions sends a bare SSL 3.0-style hello without any extension block.
	NoExtensions bool
	ServerName   string
	Groups       []uint16
	PointFormats bool
	SigSchemes   []uint16
	ALPN         []string
	// SupportedVersions, when set, is sent in the supported_versions extension (TLS 1.3).
	SupportedVersions []uint16
	// SendKeyShare sends the key_share extension with KeyShares (possibly an empty list,
	// which makes a TLS 1.3 server answer HelloRetryRequest naming its chosen group).
	SendKeyShare bool
	KeyShares    []KeyShare
	// Pad adds a padding extension so the hello is never 256–511 bytes long, a length that
	// hangs some load balancers (RFC 7685).
	Pad bool
}

// errHelloTooLong is returned when a hello does not fit one record.
var errHelloTooLong = errors.New("client hello larger than one record")

// Marshal encodes the hello as a handshake message (without the record header).
func (h *ClientHello) Marshal() ([]byte, error) {
	out, err := h.marshal(0)
	if err != nil {
		return nil, err
	}
	// The record adds 5 bytes; keep the whole record out of 256–511 bytes.
	if n := len(out) + 5; h.Pad && !h.NoExtensions && n >= 256 && n < 512 {
		if out, err = h.marshal(512 - n - 4); err != nil { // 4 bytes of extension header
			return nil, err
		}
	}
	if len(out) > maxPlaintext {
		return nil, errHelloTooLong
	}
	return out, nil
}

func (h *ClientHello) marshal(pad int) ([]byte, error) {
	var b cryptobyte.Builder
	b.AddUint8(typeClientHello)
	b.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) {
		b.AddUint16(h.Version)
		b.AddBytes(h.Random[:])
		b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(h.SessionID) })
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
			for _, s := range h.Suites {
				b.AddUint16(s)
			}
			if h.RenegotiationSCSV {
				b.AddUint16(scsvRenegotiation)
			}
		})
		b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddUint8(0) }) // null compression
		if h.NoExtensions {
			return
		}
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { h.addExtensions(b, pad) })
	})
	out, err := b.Bytes()
	if err != nil {
		return nil, fmt.Errorf("marshal client hello: %w", err)
	}
	return out, nil
}

// addExtensions writes the extension list; pad > 0 appends a padding extension last.
func (h *ClientHello) addExtensions(b *cryptobyte.Builder, pad int) {
	if h.ServerName != "" {
		b.AddUint16(extServerName)
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
			b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
				b.AddUint8(0) // host_name
				b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes([]byte(h.ServerName)) })
			})
		})
	}
	if len(h.Groups) > 0 {
		b.AddUint16(extSupportedGroups)
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
			b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
				for _, g := range h.Groups {
					b.AddUint16(g)
				}
			})
		})
	}
	if h.PointFormats {
		b.AddUint16(extECPointFormats)
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
			b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) {
				b.AddUint8(0) // uncompressed
			})
		})
	}
	if len(h.SigSchemes) > 0 {
		b.AddUint16(extSignatureAlgorithms)
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
			b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
				for _, s := range h.SigSchemes {
					b.AddUint16(s)
				}
			})
		})
	}
	if len(h.ALPN) > 0 {
		b.AddUint16(extALPN)
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
			b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
				for _, p := range h.ALPN {
					b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes([]byte(p)) })
				}
			})
		})
	}
	if len(h.SupportedVersions) > 0 {
		b.AddUint16(extSupportedVersions)
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
			b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) {
				for _, v := range h.SupportedVersions {
					b.AddUint16(v)
				}
			})
		})
		b.AddUint16(extPSKModes)
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
			b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddUint8(1) }) // psk_dhe_ke
		})
	}
	if h.SendKeyShare {
		b.AddUint16(extKeyShare)
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
			b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
				for _, ks := range h.KeyShares {
					b.AddUint16(ks.Group)
					b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(ks.Data) })
				}
			})
		})
	}
	if pad > 0 {
		b.AddUint16(extPadding)
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(make([]byte, pad)) })
	}
}

// Record wraps a handshake message into TLS records of at most 2^14 bytes each.
func Record(recordVersion uint16, msg []byte) []byte {
	var out []byte
	for len(msg) > 0 {
		n := min(len(msg), maxPlaintext)
		out = append(out, recordHandshake, byte(recordVersion>>8), byte(recordVersion), byte(n>>8), byte(n))
		out = append(out, msg[:n]...)
		msg = msg[n:]
	}
	return out
}

// SSLv2ClientHello encodes an SSL 2.0 CLIENT-HELLO offering cipher kinds, with a two-byte
// record header, a 16-byte challenge and no session ID.
func SSLv2ClientHello(kinds []uint32, challenge [16]byte) ([]byte, error) {
	var b cryptobyte.Builder
	b.AddUint8(1) // MSG-CLIENT-HELLO
	b.AddUint16(VersionSSL20)
	b.AddUint16(uint16(3 * len(kinds)))
	b.AddUint16(0)  // session id length
	b.AddUint16(16) // challenge length
	for _, k := range kinds {
		b.AddUint24(k)
	}
	b.AddBytes(challenge[:])
	body, err := b.Bytes()
	if err != nil {
		return nil, fmt.Errorf("marshal SSLv2 client hello: %w", err)
	}
	if len(body) > 0x7fff {
		return nil, errHelloTooLong
	}
	return append([]byte{0x80 | byte(len(body)>>8), byte(len(body))}, body...), nil
}
