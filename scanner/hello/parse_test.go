package hello

import (
	"bytes"
	"errors"
	"testing"

	"golang.org/x/crypto/cryptobyte"
)

// serverHello builds a ServerHello body for tests.
func serverHello(version, suite uint16, random []byte, exts func(b *cryptobyte.Builder)) []byte {
	var b cryptobyte.Builder
	b.AddUint16(version)
	if random == nil {
		random = make([]byte, 32)
	}
	b.AddBytes(random)
	b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(make([]byte, 32)) })
	b.AddUint16(suite)
	b.AddUint8(0)
	if exts != nil {
		b.AddUint16LengthPrefixed(exts)
	}
	return b.BytesOrPanic()
}

func ext(b *cryptobyte.Builder, typ uint16, body func(b *cryptobyte.Builder)) {
	b.AddUint16(typ)
	b.AddUint16LengthPrefixed(body)
}

func handshake(typ uint8, body []byte) []byte {
	n := len(body)
	return append([]byte{typ, byte(n >> 16), byte(n >> 8), byte(n)}, body...)
}

func TestParseServerHello(t *testing.T) {
	hrr := serverHello(VersionTLS12, 0x1302, helloRetryRequestRandom, func(b *cryptobyte.Builder) {
		ext(b, extSupportedVersions, func(b *cryptobyte.Builder) { b.AddUint16(VersionTLS13) })
		ext(b, extKeyShare, func(b *cryptobyte.Builder) { b.AddUint16(0x11EC) })
	})
	m, err := ParseServerHello(hrr)
	if err != nil || !m.HelloRetryRequest || m.Version() != VersionTLS13 || m.Suite != 0x1302 || m.KeyShareGroup != 0x11EC {
		t.Fatalf("HRR: %+v, %v", m, err)
	}
	tls12 := serverHello(VersionTLS12, 0xC02F, nil, func(b *cryptobyte.Builder) {
		ext(b, extRenegotiationInfo, func(b *cryptobyte.Builder) { b.AddUint8(0) })
		ext(b, extExtendedMasterSec, func(b *cryptobyte.Builder) {})
		ext(b, extALPN, func(b *cryptobyte.Builder) {
			b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
				b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes([]byte("xmpp-client")) })
			})
		})
	})
	m, err = ParseServerHello(tls12)
	if err != nil || m.HelloRetryRequest || m.Version() != VersionTLS12 || !m.SecureRenegotiation || !m.ExtendedMasterSec || m.ALPN != "xmpp-client" {
		t.Fatalf("TLS 1.2: %+v, %v", m, err)
	}
	bad := map[string][]byte{
		"empty":        {},
		"short random": {3, 3, 1, 2, 3},
		"dup extension": serverHello(VersionTLS12, 1, nil, func(b *cryptobyte.Builder) {
			ext(b, 23, func(*cryptobyte.Builder) {})
			ext(b, 23, func(*cryptobyte.Builder) {})
		}),
		"trailing": append(serverHello(VersionTLS12, 1, nil, func(*cryptobyte.Builder) {}), 0),
		"bad versions": serverHello(VersionTLS12, 1, nil, func(b *cryptobyte.Builder) {
			ext(b, extSupportedVersions, func(b *cryptobyte.Builder) { b.AddUint8(3) })
		}),
	}
	for name, body := range bad {
		if _, err := ParseServerHello(body); !errors.Is(err, ErrBadHandshake) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

// Records split one message over several records, and one record holds several messages.
func TestHandshakeReaderReassembly(t *testing.T) {
	sh := handshake(typeServerHello, serverHello(VersionTLS12, 0x009E, nil, nil))
	cert := handshake(typeCertificate, bytes.Repeat([]byte{7}, 40000))
	var ske cryptobyte.Builder
	ske.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes([]byte{0xff, 0xfb}) }) // p = 65531
	ske.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddUint8(2) })
	ske.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddUint8(9) })
	ske.AddUint16(0x0804)
	ske.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes([]byte{1, 2}) })
	stream := append(append(append(sh, cert...), handshake(typeServerKeyExchange, ske.BytesOrPanic())...), handshake(typeServerHelloDone, nil)...)
	var wire []byte
	// First record: the ServerHello plus the start of the certificate; then 1000-byte records.
	for off, n := 0, len(sh)+100; off < len(stream); off, n = off+n, 1000 {
		n = min(n, len(stream)-off)
		wire = append(wire, recordHandshake, 3, 3, byte(n>>8), byte(n))
		wire = append(wire, stream[off:off+n]...)
	}
	r := readServerFlight(bytes.NewReader(wire), 64<<10, 256<<10, true)
	if r.err != nil || r.kxErr != nil || r.sh == nil || r.sh.Suite != 0x009E || r.kx == nil || r.kx.P.Int64() != 65531 || r.kx.SigScheme != 0x0804 {
		t.Fatalf("result %+v", r)
	}
	// The same flight with a flight limit below the certificate's size stops with an error.
	r = readServerFlight(bytes.NewReader(wire), 64<<10, 20000, true)
	if r.sh == nil || !errors.Is(r.kxErr, ErrTooLarge) {
		t.Fatalf("limited: %+v", r)
	}
}

func TestReadServerFlightRefusals(t *testing.T) {
	alert := []byte{recordAlert, 3, 3, 0, 2, 2, alertProtocolVersion}
	r := readServerFlight(bytes.NewReader(alert), 1<<16, 1<<16, false)
	if a := r.alert(); a == nil || a.Description != alertProtocolVersion || r.err != nil {
		t.Errorf("alert: %+v", r)
	}
	r = readServerFlight(bytes.NewReader(nil), 1<<16, 1<<16, false)
	if !errors.Is(r.refused, ErrClosed) {
		t.Errorf("closed: %+v", r)
	}
	r = readServerFlight(bytes.NewReader([]byte("SSH-2.0-OpenSSH_9.2\r\n")), 1<<16, 1<<16, false)
	if !errors.Is(r.err, ErrNotTLS) {
		t.Errorf("ssh banner: %+v", r)
	}
}

func TestClientHelloPadding(t *testing.T) {
	for n := 1; n < 200; n++ {
		ch := &ClientHello{Version: VersionTLS12, Suites: make([]uint16, n), ServerName: "example.org", PointFormats: true, Pad: true}
		msg, err := ch.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if l := len(msg) + 5; l >= 256 && l < 512 {
			t.Errorf("%d suites: record of %d bytes", n, l)
		}
	}
}

func TestSSLv2RoundTrip(t *testing.T) {
	var b cryptobyte.Builder
	b.AddUint8(4)
	b.AddUint8(0)
	b.AddUint8(1)
	b.AddUint16(VersionSSL20)
	b.AddUint16(3) // certificate length
	b.AddUint16(6) // two cipher kinds
	b.AddUint16(16)
	b.AddBytes([]byte{0x30, 0x01, 0x02})
	b.AddBytes([]byte{0x01, 0x00, 0x80, 0x07, 0x00, 0xC0})
	b.AddBytes(make([]byte, 16))
	body := b.BytesOrPanic()
	rec := append([]byte{0x80 | byte(len(body)>>8), byte(len(body))}, body...)
	m, err := ParseSSLv2ServerHello(rec)
	if err != nil || len(m.Kinds) != 2 || m.Kinds[0] != 0x010080 || m.Kinds[1] != 0x0700C0 {
		t.Fatalf("%+v %v", m, err)
	}
	hello, err := SSLv2ClientHello([]uint32{0x010080}, [16]byte{})
	if err != nil || len(hello) != 2+9+3+16 || hello[0] != 0x80 || hello[2] != 1 {
		t.Fatalf("client hello % x, %v", hello, err)
	}
}
