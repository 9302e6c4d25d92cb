package handshake

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"math/big"

	"golang.org/x/crypto/cryptobyte"

	"github.com/rampart-scan/rampart/model"
	"github.com/rampart-scan/rampart/scanner/hello"
)

// The features probe: one TLS ≤1.2 ClientHello offering every extension whose answer is a
// fact (and DEFLATE compression, which no TLS library will offer any more), then the server's
// first flight read up to ServerHelloDone. Everything in that flight is plaintext, so the
// handshake need not finish. Suite enumeration is not done here (scanner/hello does it).

// Extension numbers used in the features hello.
const (
	extServerName       = 0
	extStatusRequest    = 5
	extSupportedGroups  = 10
	extPointFormats     = 11
	extSignatureAlgs    = 13
	extHeartbeat        = 15
	extALPN             = 16
	extSCT              = 18
	extEncryptThenMAC   = 22
	extExtendedMaster   = 23
	extSessionTicket    = 35
	extSupportedVersion = 43
	extRenegotiation    = 0xff01
)

// Handshake message types read from the server's flight.
const (
	typeServerHello       = 2
	typeCertificate       = 11
	typeServerKeyExchange = 12
	typeCertificateReq    = 13
	typeServerHelloDone   = 14
	typeCertificateStatus = 22
)

// Bounds on what a server may send in its first flight.
const (
	maxRecord       = 16384 + 2048
	maxHandshakeMsg = 1 << 17 // a Certificate message larger than this is an error
	maxFlight       = 1 << 18
)

// helloParams describe a raw ClientHello.
type helloParams struct {
	version     uint16 // legacy_version, e.g. 0x0303
	serverName  string
	suites      []uint16
	compression bool // offer DEFLATE before null
	alpn        []string
	extensions  bool     // offer the fact-finding extensions
	sessionID   []byte   // session to resume (at most 32 bytes)
	groups      []uint16 // supported_groups; nil means x25519, P-256, P-384, P-521, x448
}

// featureSuites are TLS ≤1.2 suites a real server may pick: AEAD and CBC, ECDHE, DHE, RSA.
var featureSuites = []uint16{
	0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0x009e, 0x009f, 0xccaa,
	0xc009, 0xc013, 0xc00a, 0xc014, 0xc023, 0xc027, 0xc024, 0xc028,
	0x0033, 0x0039, 0x0067, 0x006b, 0x009c, 0x009d, 0x002f, 0x0035, 0x003c, 0x003d,
	0xc012, 0x0016, 0x000a, 0xc011, 0xc007, 0x0005, 0x0004,
}

// dheSuites are the DHE suites offered to learn the server's DH group size.
var dheSuites = []uint16{0x009e, 0x009f, 0xccaa, 0x0033, 0x0039, 0x0067, 0x006b, 0x0016, 0x00a2, 0x00a3, 0x0032, 0x0038, 0x0040, 0x006a, 0x0013}

func isDHE(s uint16) bool {
	for _, d := range dheSuites {
		if d == s {
			return true
		}
	}
	return false
}

var sigAlgs = []uint16{0x0403, 0x0503, 0x0603, 0x0804, 0x0805, 0x0806, 0x0807, 0x0401, 0x0501, 0x0601, 0x0203, 0x0201}

func buildHello(p helloParams) ([]byte, error) {
	random := make([]byte, 32)
	if _, err := rand.Read(random); err != nil {
		return nil, fmt.Errorf("client random: %w", err)
	}
	var b cryptobyte.Builder
	b.AddUint8(22)      // handshake record
	b.AddUint16(0x0301) // record version, as clients send it
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
		b.AddUint8(1) // ClientHello
		b.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) {
			b.AddUint16(p.version)
			b.AddBytes(random)
			b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(p.sessionID) })
			b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
				for _, s := range p.suites {
					b.AddUint16(s)
				}
			})
			b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) {
				if p.compression {
					b.AddUint8(1)
				}
				b.AddUint8(0)
			})
			b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
				ext := func(typ uint16, body func(b *cryptobyte.Builder)) {
					b.AddUint16(typ)
					b.AddUint16LengthPrefixed(body)
				}
				empty := func(*cryptobyte.Builder) {}
				if p.serverName != "" {
					ext(extServerName, func(b *cryptobyte.Builder) {
						b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
							b.AddUint8(0)
							b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes([]byte(p.serverName)) })
						})
					})
				}
				ext(extSupportedGroups, func(b *cryptobyte.Builder) {
					b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
						groups := p.groups
						if groups == nil {
							groups = []uint16{29, 23, 24, 25, 30}
						}
						for _, g := range groups {
							b.AddUint16(g)
						}
					})
				})
				ext(extPointFormats, func(b *cryptobyte.Builder) {
					b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddUint8(0) })
				})
				ext(extSignatureAlgs, func(b *cryptobyte.Builder) {
					b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
						for _, s := range sigAlgs {
							b.AddUint16(s)
						}
					})
				})
				ext(extRenegotiation, func(b *cryptobyte.Builder) { b.AddUint8(0) })
				if len(p.alpn) > 0 {
					ext(extALPN, func(b *cryptobyte.Builder) {
						b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
							for _, a := range p.alpn {
								b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes([]byte(a)) })
							}
						})
					})
				}
				if p.extensions {
					ext(extStatusRequest, func(b *cryptobyte.Builder) {
						b.AddUint8(1) // ocsp
						b.AddUint16(0)
						b.AddUint16(0)
					})
					ext(extSCT, empty)
					ext(extExtendedMaster, empty)
					ext(extEncryptThenMAC, empty)
					ext(extSessionTicket, empty)
					ext(extHeartbeat, func(b *cryptobyte.Builder) { b.AddUint8(1) }) // peer_allowed_to_send
				}
			})
		})
	})
	out, err := b.Bytes()
	if err != nil {
		return nil, fmt.Errorf("build ClientHello: %w", err)
	}
	return out, nil
}

// flight is what the server's first flight showed.
type flight struct {
	version      uint16 // negotiated (supported_versions wins)
	sessionID    []byte
	suite        uint16
	compression  uint8
	extensions   []uint16
	alpn         string
	ocspAck      bool
	certs        [][]byte
	ocsp         []byte
	dheBits      int
	curve        uint16 // the named group of an ECDHE ServerKeyExchange
	sctExt       []byte
	tls13        bool
	alert        uint8
	alertPresent bool
	done         bool // ServerHelloDone seen
	ccs          bool // ChangeCipherSpec seen: the server resumed
	// sentinel is the TLS 1.3 downgrade marker at the end of ServerHello.random (RFC 8446
	// §4.1.3): model.SentinelTLS12 or model.SentinelTLS11, "" when absent.
	sentinel string
}

func (f *flight) has(ext uint16) bool {
	for _, e := range f.extensions {
		if e == ext {
			return true
		}
	}
	return false
}

// errAlert is returned when the server answered with an alert.
type errAlert struct{ level, desc uint8 }

func (e errAlert) Error() string { return "server sent alert " + alertName(e.desc) }

// readFlight reads records from r until ServerHelloDone, a TLS 1.3 ServerHello, an alert or a
// bound is hit. A partial flight is returned along with the error.
func readFlight(r io.Reader) (*flight, error) {
	f := &flight{}
	var hs []byte // handshake byte stream
	total := 0
	hdr := make([]byte, 5)
	for {
		if _, err := io.ReadFull(r, hdr); err != nil {
			return f, fmt.Errorf("read record header: %w", err)
		}
		typ, n := hdr[0], int(hdr[3])<<8|int(hdr[4])
		if hdr[1] != 3 {
			return f, fmt.Errorf("not a TLS record (type %d, version %#x%02x)", typ, hdr[1], hdr[2])
		}
		if n > maxRecord {
			return f, fmt.Errorf("record of %d bytes exceeds %d", n, maxRecord)
		}
		total += n + 5
		if total > maxFlight {
			return f, fmt.Errorf("server flight exceeds %d bytes", maxFlight)
		}
		body := make([]byte, n)
		if _, err := io.ReadFull(r, body); err != nil {
			return f, fmt.Errorf("read record body: %w", err)
		}
		switch typ {
		case 21: // alert
			if len(body) >= 2 {
				f.alert, f.alertPresent = body[1], true
				return f, errAlert{body[0], body[1]}
			}
			return f, errors.New("malformed alert record")
		case 22:
			hs = append(hs, body...)
		case 20: // ChangeCipherSpec: the rest is encrypted (an abbreviated, resumed handshake)
			f.ccs = true
			return f, errors.New("change_cipher_spec before ServerHelloDone")
		default:
			return f, fmt.Errorf("unexpected record type %d in the server's first flight", typ)
		}
		for len(hs) >= 4 {
			mlen := int(hs[1])<<16 | int(hs[2])<<8 | int(hs[3])
			if mlen > maxHandshakeMsg {
				return f, fmt.Errorf("handshake message type %d of %d bytes exceeds %d", hs[0], mlen, maxHandshakeMsg)
			}
			if len(hs) < 4+mlen {
				break
			}
			mtype, msg := hs[0], hs[4:4+mlen]
			hs = hs[4+mlen:]
			if err := f.handle(mtype, msg); err != nil {
				return f, err
			}
			if f.done || f.tls13 {
				return f, nil
			}
		}
	}
}

func (f *flight) handle(typ uint8, msg []byte) error {
	s := cryptobyte.String(msg)
	switch typ {
	case typeServerHello:
		return f.parseServerHello(s)
	case typeCertificate:
		var list cryptobyte.String
		if !s.ReadUint24LengthPrefixed(&list) {
			return errors.New("malformed Certificate message")
		}
		for !list.Empty() {
			var c cryptobyte.String
			if !list.ReadUint24LengthPrefixed(&c) {
				return errors.New("malformed certificate entry")
			}
			f.certs = append(f.certs, append([]byte(nil), c...))
		}
	case typeCertificateStatus:
		var st uint8
		var resp cryptobyte.String
		if !s.ReadUint8(&st) || st != 1 || !s.ReadUint24LengthPrefixed(&resp) {
			return errors.New("malformed CertificateStatus message")
		}
		f.ocsp = append([]byte(nil), resp...)
	case typeServerKeyExchange:
		if isDHE(f.suite) {
			var p cryptobyte.String
			if !s.ReadUint16LengthPrefixed(&p) {
				return errors.New("malformed DHE ServerKeyExchange")
			}
			f.dheBits = new(big.Int).SetBytes(p).BitLen()
		} else if st, ok := hello.LookupSuite(f.suite); ok && st.Kx == "ECDHE" {
			var curveType uint8
			if s.ReadUint8(&curveType) && curveType == 3 { // named_curve
				_ = s.ReadUint16(&f.curve)
			}
		}
	case typeServerHelloDone:
		f.done = true
	case typeCertificateReq:
	default:
		return fmt.Errorf("unexpected handshake message type %d", typ)
	}
	return nil
}

func (f *flight) parseServerHello(s cryptobyte.String) error {
	var sid, exts cryptobyte.String
	var random []byte
	if !s.ReadUint16(&f.version) || !s.ReadBytes(&random, 32) || !s.ReadUint8LengthPrefixed(&sid) ||
		!s.ReadUint16(&f.suite) || !s.ReadUint8(&f.compression) {
		return errors.New("malformed ServerHello")
	}
	if tail := random[24:]; string(tail[:7]) == "DOWNGRD" {
		switch tail[7] {
		case 1:
			f.sentinel = model.SentinelTLS12
		case 0:
			f.sentinel = model.SentinelTLS11
		}
	}
	f.sessionID = append([]byte(nil), sid...)
	if s.Empty() {
		return nil
	}
	if !s.ReadUint16LengthPrefixed(&exts) {
		return errors.New("malformed ServerHello extensions")
	}
	for !exts.Empty() {
		var typ uint16
		var body cryptobyte.String
		if !exts.ReadUint16(&typ) || !exts.ReadUint16LengthPrefixed(&body) {
			return errors.New("malformed ServerHello extension")
		}
		if len(f.extensions) < 64 {
			f.extensions = append(f.extensions, typ)
		}
		switch typ {
		case extALPN:
			var list, proto cryptobyte.String
			if body.ReadUint16LengthPrefixed(&list) && list.ReadUint8LengthPrefixed(&proto) {
				f.alpn = clip(string(proto), 64)
			}
		case extStatusRequest:
			f.ocspAck = true
		case extSCT:
			f.sctExt = append([]byte(nil), body...)
		case extSupportedVersion:
			var v uint16
			if body.ReadUint16(&v) {
				f.version = v
				f.tls13 = v == 0x0304
			}
		}
	}
	return nil
}

// countSCTs counts the entries of a SignedCertificateTimestampList (RFC 6962 §3.3).
func countSCTs(b []byte) int {
	s := cryptobyte.String(b)
	var list cryptobyte.String
	if !s.ReadUint16LengthPrefixed(&list) {
		return 0
	}
	n := 0
	for !list.Empty() {
		var sct cryptobyte.String
		if !list.ReadUint16LengthPrefixed(&sct) {
			break
		}
		n++
	}
	return n
}
