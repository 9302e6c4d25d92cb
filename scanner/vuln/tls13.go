package vuln

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"slices"

	"golang.org/x/crypto/cryptobyte"

	"github.com/rampart-scan/rampart/scanner/hello"
)

// The minimal TLS 1.3 client of the 0-RTT probe: TLS_AES_128_GCM_SHA256 with X25519 or
// P-256, no server authentication (the probe asks about the server's ticket policy, not its
// identity), PSK resumption with early data.
const (
	suiteAES128GCMSHA256 uint16 = 0x1301

	extEarlyData     uint16 = 42
	extPreSharedKey  uint16 = 41
	hsNewTicket      uint8  = 4
	hsEncryptedExts  uint8  = 8
	maxInnerPlaintxt        = 1<<14 + 256
)

// tls13Keys is one direction's record protection.
type tls13Keys struct {
	aead cipher.AEAD
	iv   []byte
	seq  uint64
}

func newTLS13Keys(secret []byte) (*tls13Keys, error) {
	key, err := expandLabel(secret, "key", nil, 16)
	if err != nil {
		return nil, err
	}
	iv, err := expandLabel(secret, "iv", nil, 12)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("gcm: %w", err)
	}
	return &tls13Keys{aead: aead, iv: iv}, nil
}

func (k *tls13Keys) nonce() []byte {
	n := slices.Clone(k.iv)
	var seq [8]byte
	binary.BigEndian.PutUint64(seq[:], k.seq)
	for i := range seq {
		n[4+i] ^= seq[i]
	}
	k.seq++
	return n
}

// seal protects one inner plaintext of content type typ as an application_data record.
func (k *tls13Keys) seal(typ uint8, pt []byte) []byte {
	inner := append(slices.Clone(pt), typ)
	n := len(inner) + k.aead.Overhead()
	hdr := []byte{recApplicationData, 3, 3, byte(n >> 8), byte(n)}
	return k.aead.Seal(hdr, k.nonce(), inner, hdr)
}

// open removes the protection of one record and returns the content type and content.
func (k *tls13Keys) open(rec record) (uint8, []byte, error) {
	if len(rec.body) < k.aead.Overhead()+1 || len(rec.body) > maxInnerPlaintxt+k.aead.Overhead() {
		return 0, nil, fmt.Errorf("%w: encrypted record of %d bytes", errBadRecord, len(rec.body))
	}
	hdr := []byte{rec.typ, byte(rec.version >> 8), byte(rec.version), byte(len(rec.body) >> 8), byte(len(rec.body))}
	pt, err := k.aead.Open(nil, k.nonce(), rec.body, hdr)
	if err != nil {
		return 0, nil, fmt.Errorf("decrypt server record: %w", err)
	}
	i := len(pt) - 1
	for i >= 0 && pt[i] == 0 {
		i--
	}
	if i < 0 {
		return 0, nil, fmt.Errorf("%w: record without content type", errBadRecord)
	}
	return pt[i], pt[:i], nil
}

// expandLabel is HKDF-Expand-Label with SHA-256 (RFC 8446 §7.1).
func expandLabel(secret []byte, label string, context []byte, n int) ([]byte, error) {
	var b cryptobyte.Builder
	b.AddUint16(uint16(n))
	b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes([]byte("tls13 " + label)) })
	b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(context) })
	info, err := b.Bytes()
	if err != nil {
		return nil, fmt.Errorf("expand label: %w", err)
	}
	out, err := hkdf.Expand(sha256.New, secret, string(info), n)
	if err != nil {
		return nil, fmt.Errorf("expand label %s: %w", label, err)
	}
	return out, nil
}

// deriveSecret is Derive-Secret with SHA-256 over transcript.
func deriveSecret(secret []byte, label string, transcript []byte) ([]byte, error) {
	h := sha256.Sum256(transcript)
	return expandLabel(secret, label, h[:], sha256.Size)
}

func extract(secret, salt []byte) []byte {
	out, _ := hkdf.Extract(sha256.New, secret, salt) // SHA-256 extraction cannot fail
	return out
}

func finishedMAC(base, transcript []byte) ([]byte, error) {
	key, err := expandLabel(base, "finished", nil, sha256.Size)
	if err != nil {
		return nil, err
	}
	h := sha256.Sum256(transcript)
	m := hmac.New(sha256.New, key)
	m.Write(h[:])
	return m.Sum(nil), nil
}

// tls13Client drives one TLS 1.3 connection.
type tls13Client struct {
	s          *session
	transcript []byte
	keys       map[uint16]*ecdh.PrivateKey
	early      []byte // early secret
	hsSecret   []byte
	cHS, sHS   []byte
	master     []byte
	// hsBuf holds decrypted handshake bytes not yet consumed.
	hsBuf []byte
}

// hello13 builds a TLS 1.3 ClientHello with X25519, P-256 and P-384 shares (a server that
// accepts only P-384 answers without a HelloRetryRequest, which this client does not
// handle); extra extensions are appended (pre_shared_key must be the last one).
func (c *tls13Client) hello13(serverName string, extra []extension) ([]byte, error) {
	c.keys = map[uint16]*ecdh.PrivateKey{}
	ch := &hello.ClientHello{
		Version:           hello.VersionTLS12,
		Suites:            []uint16{suiteAES128GCMSHA256},
		SupportedVersions: []uint16{hello.VersionTLS13},
		SendKeyShare:      true,
		Groups:            []uint16{29, 23, 24},
		SigSchemes:        commonSigSchemes,
		SessionID:         make([]byte, 32),
	}
	if _, err := rand.Read(ch.Random[:]); err != nil {
		return nil, fmt.Errorf("client random: %w", err)
	}
	if _, err := rand.Read(ch.SessionID); err != nil {
		return nil, fmt.Errorf("session id: %w", err)
	}
	for _, g := range []struct {
		id    uint16
		curve ecdh.Curve
	}{{29, ecdh.X25519()}, {23, ecdh.P256()}, {24, ecdh.P384()}} {
		k, err := g.curve.GenerateKey(rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("key share: %w", err)
		}
		c.keys[g.id] = k
		ch.KeyShares = append(ch.KeyShares, hello.KeyShare{Group: g.id, Data: k.PublicKey().Bytes()})
	}
	if serverName != "" && net.ParseIP(serverName) == nil {
		ch.ServerName = serverName
	}
	msg, err := ch.Marshal()
	if err != nil {
		return nil, fmt.Errorf("client hello: %w", err)
	}
	if len(extra) == 0 {
		return msg, nil
	}
	return rewriteHello(msg, nil, extra)
}

// serverHello reads the ServerHello and derives the handshake secrets; psk is nil for a
// full handshake.
func (c *tls13Client) serverHello(psk []byte) (*hello.ServerHello, error) {
	typ, body, raw, err := c.s.rr.handshake()
	if err != nil {
		return nil, err
	}
	if typ != hsServerHello {
		return nil, fmt.Errorf("%w: message %d instead of the server hello", errBadHS, typ)
	}
	sh, err := hello.ParseServerHello(body)
	if err != nil {
		return nil, fmt.Errorf("server hello: %w", err)
	}
	if sh.HelloRetryRequest {
		return sh, errors.New("the server asked for another key share (HelloRetryRequest): it takes neither X25519 nor P-256")
	}
	if sh.Version() != hello.VersionTLS13 || sh.Suite != suiteAES128GCMSHA256 {
		return sh, fmt.Errorf("the server chose %s suite %#04x, not TLS 1.3 with TLS_AES_128_GCM_SHA256", hello.VersionName(sh.Version()), sh.Suite)
	}
	c.transcript = append(c.transcript, raw...)
	share, err := serverShare(body)
	if err != nil {
		return sh, err
	}
	priv, ok := c.keys[sh.KeyShareGroup]
	if !ok {
		return sh, fmt.Errorf("the server chose group %d, which was not offered", sh.KeyShareGroup)
	}
	peer, err := priv.Curve().NewPublicKey(share)
	if err != nil {
		return sh, fmt.Errorf("server key share: %w", err)
	}
	shared, err := priv.ECDH(peer)
	if err != nil {
		return sh, fmt.Errorf("ECDH: %w", err)
	}
	if psk == nil {
		psk = make([]byte, sha256.Size)
	}
	c.early = extract(psk, nil)
	derived, err := deriveSecret(c.early, "derived", nil)
	if err != nil {
		return sh, err
	}
	c.hsSecret = extract(shared, derived)
	if c.cHS, err = deriveSecret(c.hsSecret, "c hs traffic", c.transcript); err != nil {
		return sh, err
	}
	if c.sHS, err = deriveSecret(c.hsSecret, "s hs traffic", c.transcript); err != nil {
		return sh, err
	}
	d2, err := deriveSecret(c.hsSecret, "derived", nil)
	if err != nil {
		return sh, err
	}
	c.master = extract(make([]byte, sha256.Size), d2)
	return sh, nil
}

// serverShare extracts the key_share of a TLS 1.3 ServerHello body.
func serverShare(body []byte) ([]byte, error) {
	s := cryptobyte.String(body)
	var sid, exts cryptobyte.String
	if !s.Skip(2+32) || !s.ReadUint8LengthPrefixed(&sid) || !s.Skip(3) || !s.ReadUint16LengthPrefixed(&exts) {
		return nil, fmt.Errorf("%w: server hello", errBadHS)
	}
	for !exts.Empty() {
		var typ, group uint16
		var data, share cryptobyte.String
		if !exts.ReadUint16(&typ) || !exts.ReadUint16LengthPrefixed(&data) {
			return nil, fmt.Errorf("%w: server hello extensions", errBadHS)
		}
		if typ == 51 {
			if !data.ReadUint16(&group) || !data.ReadUint16LengthPrefixed(&share) || len(share) == 0 {
				return nil, fmt.Errorf("%w: key share", errBadHS)
			}
			return []byte(share), nil
		}
	}
	return nil, fmt.Errorf("%w: no key share in the server hello", errBadHS)
}

// nextEncrypted returns the next handshake message protected by keys, skipping
// middlebox-compatibility ChangeCipherSpec records. Alerts end it as *unexpectedRecord.
func (c *tls13Client) nextEncrypted(keys *tls13Keys) (uint8, []byte, []byte, error) {
	for {
		if len(c.hsBuf) >= 4 {
			n := int(c.hsBuf[1])<<16 | int(c.hsBuf[2])<<8 | int(c.hsBuf[3])
			if n > maxFlight {
				return 0, nil, nil, fmt.Errorf("%w: handshake message of %d bytes", errTooLarge, n)
			}
			if len(c.hsBuf) >= 4+n {
				raw := c.hsBuf[: 4+n : 4+n]
				c.hsBuf = c.hsBuf[4+n:]
				return raw[0], raw[4:], raw, nil
			}
		}
		rec, err := c.s.rr.next()
		if err != nil {
			return 0, nil, nil, err
		}
		switch rec.typ {
		case recChangeCipherSpec:
			continue
		case recApplicationData:
		default:
			return 0, nil, nil, &unexpectedRecord{rec: rec}
		}
		typ, pt, err := keys.open(rec)
		if err != nil {
			return 0, nil, nil, err
		}
		switch typ {
		case recHandshake:
			c.hsBuf = append(c.hsBuf, pt...)
		case recApplicationData:
			continue // a greeting the server sent right after its Finished (SMTPS, IMAPS …)
		case recAlert:
			return 0, nil, nil, &unexpectedRecord{rec: record{typ: recAlert, body: pt}}
		default:
			return 0, nil, nil, fmt.Errorf("%w: encrypted content type %d during the handshake", errBadRecord, typ)
		}
	}
}
