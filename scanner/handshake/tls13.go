package handshake

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/cryptobyte"
)

// A minimal TLS 1.3 client that goes only as far as the server's Certificate message, with a
// signature_algorithms list of our choosing. Neither crypto/tls nor zcrypto lets a client
// restrict its TLS 1.3 signature algorithms, and that restriction is the only way to make a
// TLS 1.3 server reveal each of its certificates (RSA and ECDSA served side by side). Nothing
// is verified: the handshake is abandoned once the certificates are read.

// Signature-scheme sets offered to steer the server's certificate choice.
var (
	ecdsaSchemes = []uint16{0x0403, 0x0503, 0x0603}
	rsaSchemes   = []uint16{0x0804, 0x0805, 0x0806, 0x0809, 0x080a, 0x080b, 0x0401, 0x0501, 0x0601}
)

// tls13Result is what the server's encrypted first flight showed.
type tls13Result struct {
	suite uint16
	group uint16
	alpn  string
	certs [][]byte
	ocsp  []byte
}

type tls13Hello struct {
	raw     []byte // the handshake message (no record header)
	x25519  *ecdh.PrivateKey
	p256    *ecdh.PrivateKey
	schemes []uint16
}

func buildTLS13Hello(serverName string, schemes []uint16, alpn []string) (*tls13Hello, error) {
	h := &tls13Hello{schemes: schemes}
	var err error
	if h.x25519, err = ecdh.X25519().GenerateKey(rand.Reader); err != nil {
		return nil, fmt.Errorf("x25519 key: %w", err)
	}
	if h.p256, err = ecdh.P256().GenerateKey(rand.Reader); err != nil {
		return nil, fmt.Errorf("p256 key: %w", err)
	}
	random := make([]byte, 64)
	if _, err := rand.Read(random); err != nil {
		return nil, fmt.Errorf("random: %w", err)
	}
	var b cryptobyte.Builder
	b.AddUint8(1)
	b.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) {
		b.AddUint16(0x0303)
		b.AddBytes(random[:32])
		b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(random[32:]) }) // compat session ID
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddUint16(0x1301) })    // mandatory suite
		b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddUint8(0) })
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
			ext := func(typ uint16, body func(b *cryptobyte.Builder)) {
				b.AddUint16(typ)
				b.AddUint16LengthPrefixed(body)
			}
			if serverName != "" {
				ext(extServerName, func(b *cryptobyte.Builder) {
					b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
						b.AddUint8(0)
						b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes([]byte(serverName)) })
					})
				})
			}
			ext(extSupportedVersion, func(b *cryptobyte.Builder) {
				b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddUint16(0x0304) })
			})
			ext(extSupportedGroups, func(b *cryptobyte.Builder) {
				b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddUint16(29); b.AddUint16(23) })
			})
			ext(extSignatureAlgs, func(b *cryptobyte.Builder) {
				b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
					for _, s := range schemes {
						b.AddUint16(s)
					}
				})
			})
			ext(51, func(b *cryptobyte.Builder) { // key_share
				b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
					b.AddUint16(29)
					b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(h.x25519.PublicKey().Bytes()) })
					b.AddUint16(23)
					b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(h.p256.PublicKey().Bytes()) })
				})
			})
			ext(45, func(b *cryptobyte.Builder) { // psk_key_exchange_modes: psk_dhe_ke
				b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddUint8(1) })
			})
			ext(extStatusRequest, func(b *cryptobyte.Builder) { b.AddUint8(1); b.AddUint16(0); b.AddUint16(0) })
			ext(extSCT, func(*cryptobyte.Builder) {})
			if len(alpn) > 0 {
				ext(extALPN, func(b *cryptobyte.Builder) {
					b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
						for _, a := range alpn {
							b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes([]byte(a)) })
						}
					})
				})
			}
		})
	})
	raw, err := b.Bytes()
	if err != nil {
		return nil, fmt.Errorf("build TLS 1.3 ClientHello: %w", err)
	}
	h.raw = raw
	return h, nil
}

// record wraps the hello in a handshake record.
func (h *tls13Hello) record() []byte {
	out := []byte{22, 3, 1, byte(len(h.raw) >> 8), byte(len(h.raw))}
	return append(out, h.raw...)
}

// hkdfExpandLabel is HKDF-Expand-Label of RFC 8446 §7.1 with SHA-256.
func hkdfExpandLabel(secret []byte, label string, context []byte, n int) ([]byte, error) {
	var b cryptobyte.Builder
	b.AddUint16(uint16(n))
	b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes([]byte("tls13 " + label)) })
	b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(context) })
	info, err := b.Bytes()
	if err != nil {
		return nil, err
	}
	return hkdf.Expand(sha256.New, secret, string(info), n)
}

// serverHandshakeKeys derives the server handshake traffic key and IV (RFC 8446 §7.1).
func serverHandshakeKeys(shared, transcript []byte) (key, iv []byte, err error) {
	zeros := make([]byte, 32)
	early, err := hkdf.Extract(sha256.New, zeros, nil)
	if err != nil {
		return nil, nil, err
	}
	empty := sha256.Sum256(nil)
	derived, err := hkdfExpandLabel(early, "derived", empty[:], 32)
	if err != nil {
		return nil, nil, err
	}
	hs, err := hkdf.Extract(sha256.New, shared, derived)
	if err != nil {
		return nil, nil, err
	}
	th := sha256.Sum256(transcript)
	secret, err := hkdfExpandLabel(hs, "s hs traffic", th[:], 32)
	if err != nil {
		return nil, nil, err
	}
	if key, err = hkdfExpandLabel(secret, "key", nil, 16); err != nil {
		return nil, nil, err
	}
	if iv, err = hkdfExpandLabel(secret, "iv", nil, 12); err != nil {
		return nil, nil, err
	}
	return key, iv, nil
}

// readTLS13Certificates sends nothing; it reads the server's answer to h from r: ServerHello,
// then the encrypted EncryptedExtensions and Certificate messages.
func readTLS13Certificates(r io.Reader, h *tls13Hello) (*tls13Result, error) {
	res := &tls13Result{}
	hdr := make([]byte, 5)
	readRecord := func() (byte, []byte, []byte, error) {
		if _, err := io.ReadFull(r, hdr); err != nil {
			return 0, nil, nil, fmt.Errorf("read record header: %w", err)
		}
		n := int(binary.BigEndian.Uint16(hdr[3:]))
		if hdr[1] != 3 || n > maxRecord {
			return 0, nil, nil, fmt.Errorf("bad record header %x", hdr)
		}
		body := make([]byte, n)
		if _, err := io.ReadFull(r, body); err != nil {
			return 0, nil, nil, fmt.Errorf("read record body: %w", err)
		}
		return hdr[0], append([]byte(nil), hdr...), body, nil
	}

	// ServerHello, in plaintext (possibly split over records).
	var hs []byte
	msgLen := func(b []byte) int { return 4 + (int(b[1])<<16 | int(b[2])<<8 | int(b[3])) }
	for len(hs) < 4 || len(hs) < msgLen(hs) {
		typ, _, body, err := readRecord()
		if err != nil {
			return res, err
		}
		switch typ {
		case 21:
			if len(body) >= 2 {
				return res, errAlert{body[0], body[1]}
			}
			return res, errors.New("malformed alert")
		case 22:
			hs = append(hs, body...)
			if len(hs) > maxHandshakeMsg {
				return res, errors.New("ServerHello too large")
			}
		default:
			return res, fmt.Errorf("unexpected record type %d before ServerHello", typ)
		}
	}
	shLen := msgLen(hs)
	if hs[0] != typeServerHello {
		return res, fmt.Errorf("expected ServerHello, got handshake type %d", hs[0])
	}
	sh := hs[:shLen]
	rest := hs[shLen:]
	share, err := res.parseServerHello13(sh[4:])
	if err != nil {
		return res, err
	}
	var shared []byte
	switch res.group {
	case 29:
		pub, err := ecdh.X25519().NewPublicKey(share)
		if err != nil {
			return res, fmt.Errorf("server x25519 share: %w", err)
		}
		shared, err = h.x25519.ECDH(pub)
		if err != nil {
			return res, fmt.Errorf("x25519: %w", err)
		}
	case 23:
		pub, err := ecdh.P256().NewPublicKey(share)
		if err != nil {
			return res, fmt.Errorf("server P-256 share: %w", err)
		}
		shared, err = h.p256.ECDH(pub)
		if err != nil {
			return res, fmt.Errorf("P-256: %w", err)
		}
	default:
		return res, fmt.Errorf("server chose group %d", res.group)
	}
	key, iv, err := serverHandshakeKeys(shared, append(append([]byte(nil), h.raw...), sh...))
	if err != nil {
		return res, fmt.Errorf("key schedule: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return res, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return res, err
	}
	if len(rest) != 0 {
		return res, errors.New("plaintext handshake data after ServerHello")
	}

	// Encrypted handshake messages until Certificate.
	var seq uint64
	var plain []byte
	total := 0
	for {
		typ, rh, body, err := readRecord()
		if err != nil {
			return res, err
		}
		total += len(body)
		if total > maxFlight {
			return res, fmt.Errorf("server flight exceeds %d bytes", maxFlight)
		}
		switch typ {
		case 20:
			continue // middlebox-compatibility ChangeCipherSpec
		case 21:
			if len(body) >= 2 {
				return res, errAlert{body[0], body[1]}
			}
			return res, errors.New("malformed alert")
		case 23:
		default:
			return res, fmt.Errorf("unexpected record type %d", typ)
		}
		nonce := make([]byte, 12)
		copy(nonce, iv)
		for i := 0; i < 8; i++ {
			nonce[4+i] ^= byte(seq >> (56 - 8*i))
		}
		seq++
		pt, err := aead.Open(nil, nonce, body, rh)
		if err != nil {
			return res, fmt.Errorf("decrypt handshake record: %w", err)
		}
		// Strip padding and the inner content type.
		i := len(pt) - 1
		for i >= 0 && pt[i] == 0 {
			i--
		}
		if i < 0 {
			return res, errors.New("empty inner record")
		}
		if pt[i] == 21 && i >= 2 {
			return res, errAlert{pt[0], pt[1]}
		}
		if pt[i] != 22 {
			return res, fmt.Errorf("unexpected inner content type %d", pt[i])
		}
		plain = append(plain, pt[:i]...)
		for len(plain) >= 4 {
			mlen := int(plain[1])<<16 | int(plain[2])<<8 | int(plain[3])
			if mlen > maxHandshakeMsg {
				return res, fmt.Errorf("handshake message type %d of %d bytes exceeds %d", plain[0], mlen, maxHandshakeMsg)
			}
			if len(plain) < 4+mlen {
				break
			}
			mtype, msg := plain[0], plain[4:4+mlen]
			plain = plain[4+mlen:]
			switch mtype {
			case 8: // EncryptedExtensions
				res.parseEncryptedExtensions(msg)
			case 13: // CertificateRequest
			case 11:
				return res, res.parseCertificate13(msg)
			default:
				return res, fmt.Errorf("unexpected handshake message %d before Certificate", mtype)
			}
		}
	}
}

func (res *tls13Result) parseServerHello13(msg []byte) (share []byte, err error) {
	s := cryptobyte.String(msg)
	var vers uint16
	var sid, exts cryptobyte.String
	var comp uint8
	if !s.ReadUint16(&vers) || !s.Skip(32) || !s.ReadUint8LengthPrefixed(&sid) || !s.ReadUint16(&res.suite) ||
		!s.ReadUint8(&comp) || !s.ReadUint16LengthPrefixed(&exts) {
		return nil, errors.New("malformed ServerHello")
	}
	tls13 := false
	for !exts.Empty() {
		var typ uint16
		var body cryptobyte.String
		if !exts.ReadUint16(&typ) || !exts.ReadUint16LengthPrefixed(&body) {
			return nil, errors.New("malformed ServerHello extension")
		}
		switch typ {
		case extSupportedVersion:
			var v uint16
			tls13 = body.ReadUint16(&v) && v == 0x0304
		case 51:
			var ks cryptobyte.String
			if !body.ReadUint16(&res.group) || !body.ReadUint16LengthPrefixed(&ks) {
				return nil, errors.New("malformed key_share")
			}
			share = append([]byte(nil), ks...)
		}
	}
	if !tls13 {
		return nil, errors.New("server did not negotiate TLS 1.3")
	}
	if res.suite != 0x1301 {
		return nil, fmt.Errorf("server chose suite %#04x, not the one offered", res.suite)
	}
	if share == nil {
		return nil, errors.New("HelloRetryRequest or no key share (neither x25519 nor P-256 accepted)")
	}
	return share, nil
}

func (res *tls13Result) parseEncryptedExtensions(msg []byte) {
	s := cryptobyte.String(msg)
	var exts cryptobyte.String
	if !s.ReadUint16LengthPrefixed(&exts) {
		return
	}
	for !exts.Empty() {
		var typ uint16
		var body cryptobyte.String
		if !exts.ReadUint16(&typ) || !exts.ReadUint16LengthPrefixed(&body) {
			return
		}
		if typ == extALPN {
			var list, proto cryptobyte.String
			if body.ReadUint16LengthPrefixed(&list) && list.ReadUint8LengthPrefixed(&proto) {
				res.alpn = clip(string(proto), 64)
			}
		}
	}
}

func (res *tls13Result) parseCertificate13(msg []byte) error {
	s := cryptobyte.String(msg)
	var ctx, list cryptobyte.String
	if !s.ReadUint8LengthPrefixed(&ctx) || !s.ReadUint24LengthPrefixed(&list) {
		return errors.New("malformed Certificate message")
	}
	for !list.Empty() {
		var cert, exts cryptobyte.String
		if !list.ReadUint24LengthPrefixed(&cert) || !list.ReadUint16LengthPrefixed(&exts) {
			return errors.New("malformed certificate entry")
		}
		first := len(res.certs) == 0
		res.certs = append(res.certs, append([]byte(nil), cert...))
		for first && !exts.Empty() {
			var typ uint16
			var body cryptobyte.String
			if !exts.ReadUint16(&typ) || !exts.ReadUint16LengthPrefixed(&body) {
				break
			}
			if typ == extStatusRequest {
				var st uint8
				var resp cryptobyte.String
				if body.ReadUint8(&st) && st == 1 && body.ReadUint24LengthPrefixed(&resp) {
					res.ocsp = append([]byte(nil), resp...)
				}
			}
		}
	}
	return nil
}
