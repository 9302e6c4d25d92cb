package hello

import (
	"context"
	"io"
	"math/big"
	"net"
	"slices"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
)

// fakeServer is a scripted TLS server that negotiates like a real one (versions, suites,
// groups, preference) but only ever sends its first flight. It speaks what no library on
// this machine still speaks (SSL 2.0, SSL 3.0, export suites) so the engine's logic can be
// tested exactly.
type fakeServer struct {
	versions    []uint16 // SSL 3.0 … TLS 1.3 the server accepts
	suites      []uint16 // TLS ≤ 1.2 suites, server preference order
	suites13    []uint16 // TLS 1.3 suites, server preference order
	groups      []uint16 // server preference order
	clientOrder bool     // take the client's first acceptable suite/group instead
	dhPrime     *big.Int
	sslv2Kinds  []uint32
	recordSize  int // split the flight into records of this size (0: one record per message)
	maxSuites   int // refuse hellos offering more suites than this, like some appliances
}

type parsedHello struct {
	version  uint16
	sid      []byte
	suites   []uint16
	groups   []uint16
	versions []uint16
}

func parseClientHello(b []byte) (*parsedHello, bool) {
	s := cryptobyte.String(b)
	var typ uint8
	var body, sid, suites, comp, exts cryptobyte.String
	h := &parsedHello{}
	if !s.ReadUint8(&typ) || typ != typeClientHello || !s.ReadUint24LengthPrefixed(&body) ||
		!body.ReadUint16(&h.version) || !body.Skip(32) || !body.ReadUint8LengthPrefixed(&sid) ||
		!body.ReadUint16LengthPrefixed(&suites) || !body.ReadUint8LengthPrefixed(&comp) {
		return nil, false
	}
	h.sid = sid
	for !suites.Empty() {
		var id uint16
		if !suites.ReadUint16(&id) {
			return nil, false
		}
		h.suites = append(h.suites, id)
	}
	if body.Empty() {
		return h, true
	}
	if !body.ReadUint16LengthPrefixed(&exts) {
		return nil, false
	}
	for !exts.Empty() {
		var et uint16
		var data cryptobyte.String
		if !exts.ReadUint16(&et) || !exts.ReadUint16LengthPrefixed(&data) {
			return nil, false
		}
		var list cryptobyte.String
		switch et {
		case extSupportedGroups:
			if !data.ReadUint16LengthPrefixed(&list) {
				return nil, false
			}
			for !list.Empty() {
				var g uint16
				list.ReadUint16(&g)
				h.groups = append(h.groups, g)
			}
		case extSupportedVersions:
			if !data.ReadUint8LengthPrefixed(&list) {
				return nil, false
			}
			for !list.Empty() {
				var v uint16
				list.ReadUint16(&v)
				h.versions = append(h.versions, v)
			}
		}
	}
	return h, true
}

// choose picks from server (its order) and client (its order) the agreed element.
func (f *fakeServer) choose(server, client []uint16, ok func(uint16) bool) (uint16, bool) {
	a, b := server, client
	if f.clientOrder {
		a, b = client, server
	}
	for _, x := range a {
		if slices.Contains(b, x) && (ok == nil || ok(x)) {
			return x, true
		}
	}
	return 0, false
}

func alertRecord(desc uint8) []byte { return []byte{recordAlert, 3, 1, 0, 2, 2, desc} }

func (f *fakeServer) handle(c net.Conn) {
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	var hdr [5]byte
	if _, err := io.ReadFull(c, hdr[:2]); err != nil {
		return
	}
	if hdr[0]&0x80 != 0 { // SSL 2.0 CLIENT-HELLO
		n := int(hdr[0]&0x7f)<<8 | int(hdr[1])
		body := make([]byte, n)
		if _, err := io.ReadFull(c, body); err != nil || len(f.sslv2Kinds) == 0 {
			return
		}
		var b cryptobyte.Builder
		b.AddUint8(4)
		b.AddUint8(0)
		b.AddUint8(1)
		b.AddUint16(VersionSSL20)
		b.AddUint16(1)
		b.AddUint16(uint16(3 * len(f.sslv2Kinds)))
		b.AddUint16(16)
		b.AddUint8(0x30)
		for _, k := range f.sslv2Kinds {
			b.AddUint24(k)
		}
		b.AddBytes(make([]byte, 16))
		out := b.BytesOrPanic()
		_, _ = c.Write(append([]byte{0x80 | byte(len(out)>>8), byte(len(out))}, out...))
		return
	}
	if _, err := io.ReadFull(c, hdr[2:]); err != nil {
		return
	}
	rec := make([]byte, int(hdr[3])<<8|int(hdr[4]))
	if _, err := io.ReadFull(c, rec); err != nil {
		return
	}
	h, ok := parseClientHello(rec)
	if !ok {
		_, _ = c.Write(alertRecord(50))
		return
	}
	if f.maxSuites > 0 && len(h.suites) > f.maxSuites {
		_, _ = c.Write(alertRecord(alertHandshakeFailure))
		return
	}
	if slices.Contains(h.versions, VersionTLS13) && slices.Contains(f.versions, VersionTLS13) {
		suite, ok1 := f.choose(f.suites13, h.suites, nil)
		group, ok2 := f.choose(f.groups, h.groups, nil)
		if !ok1 || !ok2 {
			_, _ = c.Write(alertRecord(alertHandshakeFailure))
			return
		}
		sh := serverHello(VersionTLS12, suite, helloRetryRequestRandom, func(b *cryptobyte.Builder) {
			ext(b, extSupportedVersions, func(b *cryptobyte.Builder) { b.AddUint16(VersionTLS13) })
			ext(b, extKeyShare, func(b *cryptobyte.Builder) { b.AddUint16(group) })
		})
		f.send(c, handshake(typeServerHello, sh))
		return
	}
	v := uint16(0)
	for _, sv := range f.versions {
		if sv <= h.version && sv > v && sv != VersionTLS13 {
			v = sv
		}
	}
	if v == 0 {
		_, _ = c.Write(alertRecord(alertProtocolVersion))
		return
	}
	var curve uint16
	suite, ok := f.choose(f.suites, h.suites, func(id uint16) bool {
		s, known := LookupSuite(id)
		if !known || s.MinVersion > v {
			return false
		}
		if s.Kx == "ECDHE" {
			g, ok := f.choose(f.groups, h.groups, nil)
			curve = g
			return ok
		}
		return true
	})
	if !ok {
		_, _ = c.Write(alertRecord(alertHandshakeFailure))
		return
	}
	flight := handshake(typeServerHello, serverHello(v, suite, nil, nil))
	s, _ := LookupSuite(suite)
	if s.Kx == "DHE" || s.Kx == "ECDHE" {
		flight = append(flight, handshake(typeCertificate, make([]byte, 3000))...)
		var ske cryptobyte.Builder
		if s.Kx == "DHE" {
			ske.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(f.dhPrime.Bytes()) })
			ske.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddUint8(2) })
			ske.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddUint8(5) })
		} else {
			ske.AddUint8(3)
			ske.AddUint16(curve)
			ske.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(make([]byte, 32)) })
		}
		if v == VersionTLS12 {
			ske.AddUint16(0x0401)
		}
		ske.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(make([]byte, 64)) })
		flight = append(flight, handshake(typeServerKeyExchange, ske.BytesOrPanic())...)
		flight = append(flight, handshake(typeServerHelloDone, nil)...)
	}
	f.send(c, flight)
}

func (f *fakeServer) send(c net.Conn, flight []byte) {
	size := f.recordSize
	if size <= 0 {
		size = maxPlaintext
	}
	var out []byte
	for len(flight) > 0 {
		n := min(size, len(flight))
		out = append(out, recordHandshake, 3, 3, byte(n>>8), byte(n))
		out = append(out, flight[:n]...)
		flight = flight[n:]
	}
	_, _ = c.Write(out)
	// Wait for the client to hang up, as a server waiting for the next flight does.
	_, _ = io.Copy(io.Discard, c)
}

func ids(t *testing.T, names ...string) []uint16 {
	t.Helper()
	var out []uint16
	for _, n := range names {
		s, ok := SuiteByName(n)
		if !ok {
			t.Fatalf("unknown suite %s", n)
		}
		out = append(out, s.ID)
	}
	return out
}

func TestScanScriptedServers(t *testing.T) {
	modp1536 := primeByName(t, "MODP 1536 / group 5 (RFC 3526)")
	tests := []struct {
		name       string
		srv        fakeServer
		want       map[uint16][]string // version → suites in expected order
		preference string
		groups     []string // in order
		dh         string
		maxConns   int // the engine's exact cost for this server today: a regression guard
	}{
		{
			name: "ssl3-tls10-legacy-with-export",
			srv: fakeServer{versions: []uint16{VersionSSL30, VersionTLS10},
				suites:  ids(t, "TLS_RSA_WITH_RC4_128_SHA", "TLS_RSA_WITH_3DES_EDE_CBC_SHA", "TLS_RSA_EXPORT_WITH_RC4_40_MD5", "TLS_DHE_RSA_WITH_AES_128_CBC_SHA"),
				dhPrime: modp1536, recordSize: 700},
			want: map[uint16][]string{
				VersionSSL30: {"TLS_RSA_WITH_RC4_128_SHA", "TLS_RSA_WITH_3DES_EDE_CBC_SHA", "TLS_RSA_EXPORT_WITH_RC4_40_MD5", "TLS_DHE_RSA_WITH_AES_128_CBC_SHA"},
				VersionTLS10: {"TLS_RSA_WITH_RC4_128_SHA", "TLS_RSA_WITH_3DES_EDE_CBC_SHA", "TLS_RSA_EXPORT_WITH_RC4_40_MD5", "TLS_DHE_RSA_WITH_AES_128_CBC_SHA"},
			},
			preference: "server", dh: "MODP 1536 / group 5 (RFC 3526)", maxConns: 14,
		},
		{
			name: "suites-from-several-bundles-in-server-order",
			srv: fakeServer{versions: []uint16{VersionTLS12},
				suites: ids(t, "TLS_PSK_WITH_AES_128_GCM_SHA256", "TLS_RSA_WITH_CAMELLIA_256_CBC_SHA", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_RSA_WITH_AES_256_CBC_SHA"),
				groups: []uint16{24, 23}},
			want: map[uint16][]string{
				VersionTLS12: {"TLS_PSK_WITH_AES_128_GCM_SHA256", "TLS_RSA_WITH_CAMELLIA_256_CBC_SHA", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_RSA_WITH_AES_256_CBC_SHA"},
			},
			preference: "server", groups: []string{"secp384r1", "secp256r1"}, maxConns: 12,
		},
		{
			name: "client-order-everywhere",
			srv: fakeServer{versions: []uint16{VersionTLS12, VersionTLS13}, clientOrder: true,
				suites:   ids(t, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "TLS_RSA_WITH_AES_128_GCM_SHA256"),
				suites13: ids(t, "TLS_AES_128_GCM_SHA256", "TLS_CHACHA20_POLY1305_SHA256"),
				groups:   []uint16{0x11EC, 29, 256}},
			want: map[uint16][]string{
				// Client order: reported strongest first, then by ID.
				VersionTLS12: {"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"},
				VersionTLS13: {"TLS_AES_128_GCM_SHA256", "TLS_CHACHA20_POLY1305_SHA256"},
			},
			preference: "client", groups: []string{"X25519MLKEM768", "x25519", "ffdhe2048"}, maxConns: 13,
		},
		{
			// Client order, and the suite offered last (TLS_RSA_WITH_AES_128_CBC_SHA) is
			// accepted: each answer also proves the suites offered before it refused, so five
			// suites take five hellos and no refused one.
			name: "client-order-ends-on-the-last-suite-offered",
			srv: fakeServer{versions: []uint16{VersionTLS12}, clientOrder: true,
				suites: ids(t, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "TLS_RSA_WITH_AES_128_GCM_SHA256",
					"TLS_RSA_WITH_AES_256_CBC_SHA", "TLS_RSA_WITH_AES_128_CBC_SHA"),
				groups: []uint16{23}},
			want: map[uint16][]string{
				// Strongest first, then by ID.
				VersionTLS12: {"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_RSA_WITH_AES_128_CBC_SHA", "TLS_RSA_WITH_AES_256_CBC_SHA",
					"TLS_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"},
			},
			// SSLv2, TLS 1.3 and TLS 1.1 refused (TLS 1.1 settles the older ones), five TLS
			// 1.2 hellos, two for the curves.
			preference: "client", groups: []string{"secp256r1"}, maxConns: 10,
		},
		{
			name: "tls13-server-order-groups",
			srv: fakeServer{versions: []uint16{VersionTLS13},
				suites13: ids(t, "TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_AES_128_CCM_SHA256"),
				groups:   []uint16{0x11ED, 30, 258, 0x11EC}},
			want: map[uint16][]string{
				VersionTLS13: {"TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_AES_128_CCM_SHA256"},
			},
			preference: "server", groups: []string{"SecP384r1MLKEM1024", "x448", "ffdhe4096", "X25519MLKEM768"}, maxConns: 8,
		},
		{
			// TLS 1.1 is answered with SSL 3.0: the engine must not conclude from TLS 1.1 that
			// nothing older is spoken.
			name: "ssl3-and-tls12-with-a-hole",
			srv: fakeServer{versions: []uint16{VersionSSL30, VersionTLS12},
				suites: ids(t, "TLS_RSA_WITH_AES_128_CBC_SHA", "TLS_RSA_WITH_AES_256_GCM_SHA384")},
			want: map[uint16][]string{
				VersionSSL30: {"TLS_RSA_WITH_AES_128_CBC_SHA"},
				VersionTLS12: {"TLS_RSA_WITH_AES_128_CBC_SHA", "TLS_RSA_WITH_AES_256_GCM_SHA384"},
			},
			preference: "server", maxConns: 9,
		},
		{
			// Refuses any hello with more than 128 suites: the engine falls back to bundles.
			name: "appliance-refusing-large-hellos",
			srv: fakeServer{versions: []uint16{VersionTLS10, VersionTLS12}, maxSuites: 128,
				suites: ids(t, "TLS_RSA_WITH_CAMELLIA_128_CBC_SHA", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "TLS_RSA_WITH_AES_128_GCM_SHA256"),
				groups: []uint16{23}},
			want: map[uint16][]string{
				VersionTLS10: {"TLS_RSA_WITH_CAMELLIA_128_CBC_SHA", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"},
				VersionTLS12: {"TLS_RSA_WITH_CAMELLIA_128_CBC_SHA", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "TLS_RSA_WITH_AES_128_GCM_SHA256"},
			},
			preference: "server", groups: []string{"secp256r1"}, maxConns: 40,
		},
		{
			name: "downgrading-server-and-sslv2",
			srv: fakeServer{versions: []uint16{VersionTLS10, VersionTLS12},
				suites:     ids(t, "TLS_RSA_WITH_AES_128_CBC_SHA"),
				sslv2Kinds: []uint32{0x0700C0, 0x020080}},
			want: map[uint16][]string{
				VersionSSL20: {"SSL_CK_DES_192_EDE3_CBC_WITH_MD5", "SSL_CK_RC4_128_EXPORT40_WITH_MD5"},
				VersionTLS10: {"TLS_RSA_WITH_AES_128_CBC_SHA"},
				VersionTLS12: {"TLS_RSA_WITH_AES_128_CBC_SHA"},
			},
			maxConns: 8,
		},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ln := listen(t, "127.0.8."+string(rune('1'+i)))
			srv := tc.srv
			serve(t, ln, srv.handle)
			d := &counter{addr: ln.Addr().String()}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			f, err := Scan(ctx, d.dial, Options{Timeout: 3 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			for _, ev := range f.Versions {
				want, ok := tc.want[ev.VersionID]
				if ev.Supported != ok || ev.Error != "" {
					t.Errorf("%s supported=%v error=%q, want %v", ev.Version, ev.Supported, ev.Error, ok)
				}
				if got := suiteNames(ev); !slices.Equal(got, want) {
					t.Errorf("%s suites = %v, want %v", ev.Version, got, want)
				}
				if len(want) >= 2 && ev.VersionID != VersionSSL20 && ev.Preference != tc.preference {
					t.Errorf("%s preference %q, want %q", ev.Version, ev.Preference, tc.preference)
				}
			}
			if got := groupNames(f); !slices.Equal(got, tc.groups) || f.GroupsError != "" {
				t.Errorf("groups = %v (error %q), want %v", got, f.GroupsError, tc.groups)
			}
			var dh string
			if len(f.DH) > 0 {
				dh = f.DH[0].Known
			}
			if dh != tc.dh {
				t.Errorf("DH = %+v, want %q", f.DH, tc.dh)
			}
			if f.Connections > tc.maxConns {
				t.Errorf("%d connections, budget %d", f.Connections, tc.maxConns)
			}
			t.Logf("%d connections", f.Connections)
		})
	}
}

// TestSSLv2SettledByTLS13 pins the SSL 2.0 inference: a server that answers TLS 1.3 is not
// sent an SSL 2.0 hello (no TLS 1.3 implementation has SSL 2.0), the version is marked
// Inferred, and Exhaustive still asks. The scripted server here is the impossible case (TLS
// 1.3 and SSL 2.0 at once) so that the two modes must differ; a server without TLS 1.3 is
// always asked (downgrading-server-and-sslv2 above).
func TestSSLv2SettledByTLS13(t *testing.T) {
	ln := listen(t, "127.0.8.40")
	srv := &fakeServer{versions: []uint16{VersionTLS12, VersionTLS13},
		suites:   ids(t, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
		suites13: ids(t, "TLS_AES_128_GCM_SHA256"), groups: []uint16{29},
		sslv2Kinds: []uint32{0x0700C0}}
	serve(t, ln, srv.handle)
	for _, exhaustive := range []bool{false, true} {
		d := &counter{addr: ln.Addr().String()}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		f, err := Scan(ctx, d.dial, Options{Timeout: 3 * time.Second, Exhaustive: exhaustive})
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		ev := version(f, VersionSSL20)
		if exhaustive {
			if !ev.Supported || ev.Inferred || ev.Connections != 1 {
				t.Errorf("exhaustive: SSL 2.0 %+v, want probed (1 connection) and found", ev)
			}
		} else if ev.Supported || !ev.Inferred || ev.Connections != 0 || ev.Error != "" {
			t.Errorf("default: SSL 2.0 %+v, want inferred absent without a connection", ev)
		}
		if !version(f, VersionTLS13).Supported {
			t.Errorf("exhaustive=%v: TLS 1.3 not found", exhaustive)
		}
	}
}
