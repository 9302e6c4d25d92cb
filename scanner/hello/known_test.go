package hello

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/rampart-scan/rampart/model"
)

// TestScanWithKnown: what other handshakes proved is taken instead of asked where that
// cannot change a result (a server following the client's order, a suite whose key exchange
// facts match the engine's own), so the facts are the same with and without it and only the
// connection count drops; under a server's own order nothing is taken.
func TestScanWithKnown(t *testing.T) {
	suites := ids(t,
		"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
		"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "TLS_RSA_WITH_AES_256_GCM_SHA384", "TLS_RSA_WITH_AES_128_GCM_SHA256",
		"TLS_RSA_WITH_AES_256_CBC_SHA", "TLS_RSA_WITH_3DES_EDE_CBC_SHA", "TLS_RSA_WITH_AES_128_CBC_SHA")
	known := func() *Known {
		k := NewKnown()
		k.AddSuite(VersionTLS12, suites[0], 23) // ECDHE with the group the engine sees: taken
		k.AddSuite(VersionTLS12, suites[4], 0)  // RSA key exchange: taken
		k.AddSuite(VersionTLS12, suites[1], 29) // ECDHE with another group than the engine's: asked
		k.AddSuite(VersionTLS12, suites[2], 0)  // DHE (the prime is a fact): asked
		return k
	}
	for i, tc := range []struct {
		name  string
		srv   fakeServer
		saved int // connections the known answers must save at least
	}{
		{"client order", fakeServer{versions: []uint16{VersionTLS12, VersionTLS13}, clientOrder: true, suites: suites,
			suites13: ids(t, "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384"),
			groups:   []uint16{29, 23, 24, 25, 30, 256, 257}, dhPrime: primeByName(t, "MODP 1536 / group 5 (RFC 3526)")}, 1},
		{"server order", fakeServer{versions: []uint16{VersionTLS12, VersionTLS13}, suites: suites,
			suites13: ids(t, "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384"),
			groups:   []uint16{29, 23, 24, 25, 30, 256, 257}, dhPrime: primeByName(t, "MODP 1536 / group 5 (RFC 3526)")}, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ln := listen(t, "127.0.9."+string(rune('1'+i)))
			serve(t, ln, tc.srv.handle)
			run := func(k *Known) (*model.TLSEngineFacts, int64) {
				d := &counter{addr: ln.Addr().String()}
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer cancel()
				f, err := Scan(ctx, d.dial, Options{Timeout: 3 * time.Second, Known: k})
				if err != nil {
					t.Fatal(err)
				}
				return f, d.n.Load()
			}
			plain, n0 := run(nil)
			with, n1 := run(known())
			for i := range plain.Versions {
				a, b := plain.Versions[i], with.Versions[i]
				if a.Supported != b.Supported || a.Preference != b.Preference || a.Error != b.Error || !slices.Equal(suiteNames(a), suiteNames(b)) {
					t.Errorf("%s: without Known %v %q %v, with %v %q %v", a.Version, a.Supported, a.Preference, suiteNames(a), b.Supported, b.Preference, suiteNames(b))
				}
				for j := range min(len(a.Suites), len(b.Suites)) {
					if a.Suites[j].Group != b.Suites[j].Group || a.Suites[j].DHBits != b.Suites[j].DHBits {
						t.Errorf("%s %s: group %q/%d without Known, %q/%d with", a.Version, a.Suites[j].Name, a.Suites[j].Group, a.Suites[j].DHBits, b.Suites[j].Group, b.Suites[j].DHBits)
					}
				}
			}
			if !slices.Equal(groupNames(plain), groupNames(with)) || with.GroupsError != "" {
				t.Errorf("groups without Known %v, with %v (error %q)", groupNames(plain), groupNames(with), with.GroupsError)
			}
			if len(plain.DH) != len(with.DH) {
				t.Errorf("DH without Known %+v, with %+v", plain.DH, with.DH)
			}
			per := func(f *model.TLSEngineFacts) (out []int) {
				for _, v := range f.Versions {
					out = append(out, v.Connections)
				}
				return out
			}
			t.Logf("%d connections without Known, %d with (per version %v, %v)", n0, n1, per(plain), per(with))
			if tc.saved >= 0 && n1 > n0-int64(tc.saved) {
				t.Errorf("%d connections with Known, want at most %d", n1, n0-int64(tc.saved))
			}
			if tc.saved < 0 && n1 != n0 {
				t.Errorf("server order: %d connections with Known, %d without", n1, n0)
			}
		})
	}
}
