package handshake

import (
	"context"
	"crypto/tls"
	"net"
	"reflect"
	"testing"
	"time"

	"github.com/rampart-scan/rampart/model"
	"github.com/rampart-scan/rampart/scanner/certs/certtest"
	"github.com/rampart-scan/rampart/scanner/hello"
)

// serveTLS accepts connections on addr with cfg until the test ends.
func serveTLS(t *testing.T, addr string, cfg *tls.Config) string {
	t.Helper()
	ln := listen(t, addr)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				tc := tls.Server(c, cfg)
				_ = tc.SetDeadline(time.Now().Add(5 * time.Second))
				if tc.Handshake() == nil {
					_, _ = tc.Read(make([]byte, 1))
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// auditHandshake is what the audit does before the inspection: one crypto/tls handshake
// (TLS 1.0 and up) with a session cache, waiting for TLS 1.3 tickets.
func auditHandshake(t *testing.T, addr, sni string, alpn []string) *Modern {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cache := NewSessionCache()
	tc := tls.Client(c, &tls.Config{ServerName: sni, InsecureSkipVerify: true, NextProtos: alpn, MinVersion: tls.VersionTLS10, ClientSessionCache: cache})
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	AwaitTickets(tc, c, TicketWait(3*time.Second), cache)
	return &Modern{State: tc.ConnectionState(), Cache: cache}
}

// comparable strips what depends on how facts were obtained (which probes, how many
// connections), leaving the facts themselves.
func comparable(f *model.HandshakeFacts) model.HandshakeFacts {
	g := *f
	g.Probes, g.Connections = nil, 0
	g.Chains = nil
	for _, c := range f.Chains {
		c.Probes = nil
		g.Chains = append(g.Chains, c)
	}
	return g
}

// TestInspectWithKnownFacts checks that reusing the audit's modern handshake and the
// engine's facts changes no fact, only the connections: the modern probe, and the DHE and
// certificate-type probes the engine settles, are left out.
func TestInspectWithKnownFacts(t *testing.T) {
	l := newLab(t)
	rs := certtest.TLS(l.rsa, l.pki.Inter)
	tests := []struct {
		name  string
		addr  func(t *testing.T) string
		saved int      // connections saved
		gone  []string // probes left out
	}{
		{"rsa-and-ecdsa-tls10-to-13", func(t *testing.T) string { return l.goServer(t, "127.0.31.11", []string{"h2"}) },
			// The modern probe is the audit's; the RSA chain and the DHE answer are the
			// engine's; no session probe either way (Go issues TLS 1.2 tickets).
			3, []string{ProbeDHE, ProbeRSA, ProbeSession}},
		{"rsa-only-tls12", func(t *testing.T) string {
			return serveTLS(t, "127.0.31.12", &tls.Config{MinVersion: tls.VersionTLS11, MaxVersion: tls.VersionTLS12, Certificates: []tls.Certificate{rs}})
		}, 3, []string{ProbeECDSA, ProbeDHE}},
		{"rsa-only-tls10", func(t *testing.T) string {
			return serveTLS(t, "127.0.31.13", &tls.Config{MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS10, Certificates: []tls.Certificate{rs}})
		}, 3, []string{ProbeECDSA, ProbeDHE}}, // the modern client (TLS 1.2+) would fail: not made
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			addr := tc.addr(t)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			opts := Options{ServerName: "chat.example.org", ALPN: []string{"h2"}, Timeout: 3 * time.Second, NoAnalysis: true}
			base, err := Inspect(ctx, dialer(addr), opts)
			if err != nil {
				t.Fatal(err)
			}
			eng, err := hello.Scan(ctx, hello.DialFunc(dialer(addr)), hello.Options{ServerName: opts.ServerName, ALPN: opts.ALPN, Timeout: 3 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			calls := 0
			opts.Modern = auditHandshake(t, addr, opts.ServerName, opts.ALPN)
			opts.Engine = func(context.Context) *model.TLSEngineFacts { calls++; return eng }
			got, err := Inspect(ctx, dialer(addr), opts)
			if err != nil {
				t.Fatal(err)
			}
			logProbes(t, got.Probes)
			if a, b := comparable(base), comparable(got); !reflect.DeepEqual(a, b) {
				t.Errorf("facts differ:\n without %+v\n with    %+v", a, b)
			}
			if base.Connections-got.Connections != tc.saved {
				t.Errorf("%d connections, %d without the known facts: want %d fewer", got.Connections, base.Connections, tc.saved)
			}
			for _, p := range got.Probes {
				for _, g := range tc.gone {
					if p.Name == g {
						t.Errorf("probe %s still made", g)
					}
				}
			}
			if calls > 1 {
				t.Errorf("engine facts asked for %d times", calls)
			}
		})
	}
}

// TestEngineSettles covers the decisions taken from engine facts alone.
func TestEngineSettles(t *testing.T) {
	v := func(id uint16, supported bool, suites ...model.EngineSuite) model.EngineVersion {
		return model.EngineVersion{VersionID: id, Supported: supported, Suites: suites}
	}
	dhe := func(id uint16, bits int) model.EngineSuite { return model.EngineSuite{ID: id, DHBits: bits} }
	tests := []struct {
		name      string
		versions  []model.EngineVersion
		refusesEC bool
		dheBits   int
		dheOK     bool
	}{
		{"tls12 with two equal DHE primes", []model.EngineVersion{v(0x0300, false), v(0x0301, false), v(0x0302, false), v(0x0303, true, dhe(0x009e, 2048), dhe(0x0033, 2048), dhe(0xc02b, 0))},
			false, 2048, true},
		{"DHE primes differ by suite", []model.EngineVersion{v(0x0300, false), v(0x0301, false), v(0x0302, false), v(0x0303, true, dhe(0x009e, 2048), dhe(0x0033, 1024))},
			true, 0, false},
		{"a DHE prime unread", []model.EngineVersion{v(0x0300, false), v(0x0301, false), v(0x0302, false), v(0x0303, true, dhe(0x009e, 0))},
			true, 0, false},
		{"no DHE suite", []model.EngineVersion{v(0x0300, false), v(0x0301, true, dhe(0x002f, 0)), v(0x0302, false), v(0x0303, false)},
			true, 0, true},
		// SSL 3.0 alone: the zcrypto client (TLS 1.0 and up) fails, the raw DHE hello is
		// answered in SSL 3.0.
		{"ssl3 only with DHE", []model.EngineVersion{v(0x0300, true, dhe(0x0033, 1024)), v(0x0301, false), v(0x0302, false), v(0x0303, false)},
			true, 1024, true},
		{"SSL 3.0 missing from the facts", []model.EngineVersion{v(0x0301, false), v(0x0302, false), v(0x0303, true, dhe(0x0033, 2048))},
			true, 0, false},
		{"nothing spoken below TLS 1.3", []model.EngineVersion{v(0x0300, false), v(0x0301, false), v(0x0302, false), v(0x0303, false), v(0x0304, true, dhe(0x1301, 0))},
			true, 0, true},
		{"TLS 1.1 missing from the facts", []model.EngineVersion{v(0x0301, false), v(0x0303, true, dhe(0x002f, 0))},
			false, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := &model.TLSEngineFacts{Versions: tc.versions}
			in := &inspector{opts: Options{Engine: func(context.Context) *model.TLSEngineFacts { return e }}}
			if got := in.engineRefuses(context.Background(), ecdsaSuites); got != tc.refusesEC {
				t.Errorf("engineRefuses(ECDSA) = %v", got)
			}
			bits, ok := in.engineDHE(context.Background())
			if bits != tc.dheBits || ok != tc.dheOK {
				t.Errorf("engineDHE = %d, %v; want %d, %v", bits, ok, tc.dheBits, tc.dheOK)
			}
		})
	}
	// An error in a version settles nothing.
	e := &model.TLSEngineFacts{Versions: []model.EngineVersion{{VersionID: 0x0300}, {VersionID: 0x0301}, {VersionID: 0x0302, Error: "timeout"}, {VersionID: 0x0303}}}
	in := &inspector{opts: Options{Engine: func(context.Context) *model.TLSEngineFacts { return e }}}
	if in.engineRefuses(context.Background(), rsaSuites) {
		t.Error("an engine error settled the RSA probe")
	}
	if (&inspector{}).engineRefuses(context.Background(), rsaSuites) {
		t.Error("no engine facts settled the RSA probe")
	}
}
