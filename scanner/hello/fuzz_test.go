package hello

import (
	"bytes"
	"testing"
)

func FuzzParseServerHello(f *testing.F) {
	f.Add(serverHello(VersionTLS12, 0xC02F, nil, nil))
	f.Add(serverHello(VersionTLS12, 0x1301, helloRetryRequestRandom, nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseServerHello(b)
		if err == nil && m == nil {
			t.Fatal("nil hello without error")
		}
	})
}

func FuzzReadServerFlight(f *testing.F) {
	sh := handshake(typeServerHello, serverHello(VersionTLS12, 0x009E, nil, nil))
	f.Add(append([]byte{recordHandshake, 3, 3, 0, byte(len(sh))}, sh...))
	f.Add([]byte{recordAlert, 3, 3, 0, 2, 2, 40})
	f.Fuzz(func(t *testing.T, b []byte) {
		r := readServerFlight(bytes.NewReader(b), 4096, 8192, true)
		if r.sh == nil && r.err == nil && r.refused == nil {
			t.Fatal("no hello, no error, no refusal")
		}
	})
}

func FuzzParseServerKeyExchange(f *testing.F) {
	f.Add([]byte{0, 1, 23, 0, 1, 2, 0, 1, 5}, true, true)
	f.Add([]byte{3, 0, 23, 1, 4, 4, 1, 0, 0}, false, false)
	f.Fuzz(func(t *testing.T, b []byte, ecdhe, tls12 bool) {
		kx, err := ParseServerKeyExchange(b, ecdhe, tls12)
		if err == nil && kx == nil {
			t.Fatal("nil key exchange without error")
		}
	})
}

func FuzzParseSSLv2ServerHello(f *testing.F) {
	f.Add([]byte{0x80, 0x0d, 4, 0, 1, 0, 2, 0, 0, 0, 3, 0, 0, 1, 0, 0x80})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseSSLv2ServerHello(b)
		if err == nil && m == nil {
			t.Fatal("nil hello without error")
		}
	})
}
