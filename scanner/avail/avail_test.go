package avail

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rampart-scan/rampart/scanner/netx"
)

func listen(t *testing.T, addr string, handle func(net.Conn)) netip.AddrPort {
	t.Helper()
	ln, err := net.Listen("tcp", addr+":0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); handle(c) }()
		}
	}()
	return netip.MustParseAddrPort(ln.Addr().String())
}

func tlsHandshake(ctx context.Context, c net.Conn) error {
	return tls.Client(c, &tls.Config{InsecureSkipVerify: true}).HandshakeContext(ctx) //nolint:gosec // test
}

func selfSigned(t *testing.T) tls.Certificate {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "a.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// flaky fails every other dial after the first with a fixed error.
type flaky struct {
	d *netx.Dialer
	n atomic.Int64
}

func (f *flaky) Dial(ctx context.Context, a netip.AddrPort) (net.Conn, error) {
	if f.n.Add(1)%2 == 0 {
		return nil, errors.New("connection reset by peer")
	}
	return f.d.Dial(ctx, a)
}

func TestMeasure(t *testing.T) {
	t.Parallel()
	d := netx.New(netx.Options{Timeout: time.Second})
	cert := selfSigned(t)
	tlsAddr := listen(t, "127.0.31.1", func(c net.Conn) {
		_ = tls.Server(c, &tls.Config{Certificates: []tls.Certificate{cert}}).Handshake()
	})
	silent := listen(t, "127.0.31.2", func(c net.Conn) { _, _ = io.Copy(io.Discard, c) })
	closed := func() netip.AddrPort {
		ln, _ := net.Listen("tcp", "127.0.31.3:0")
		a := netip.MustParseAddrPort(ln.Addr().String())
		_ = ln.Close()
		return a
	}()
	shortHS := func(ctx context.Context, c net.Conn) error {
		ctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer cancel()
		return tlsHandshake(ctx, c)
	}

	cases := []struct {
		name       string
		d          Dialer
		addr       netip.AddrPort
		opts       Options
		successes  int
		errorRate  float64
		errStage   string
		handshakes bool
	}{
		{"connect-only", d, silent, Options{Attempts: 4}, 4, 0, "", false},
		{"tls-handshake", d, tlsAddr, Options{Attempts: 3, Handshake: tlsHandshake}, 3, 0, "", true},
		{"tls-handshake-helper", d, tlsAddr, Options{Attempts: 2, Handshake: TLSHandshake("a.test")}, 2, 0, "", true},
		{"tls-helper-on-plaintext", d, silent, Options{Attempts: 2, Handshake: func(ctx context.Context, c net.Conn) error {
			ctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
			defer cancel()
			return TLSHandshake("")(ctx, c)
		}}, 0, 1, "handshake", false},
		{"closed-port", d, closed, Options{Attempts: 3}, 0, 1, "connect", false},
		{"handshake-times-out", d, silent, Options{Attempts: 2, Handshake: shortHS}, 0, 1, "handshake", false},
		{"half-fail", &flaky{d: d}, silent, Options{Attempts: 4, Interval: time.Millisecond}, 2, 0.5, "connect", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := MeasureWith(context.Background(), tc.d, tc.addr, tc.opts)
			t.Logf("%+v", f)
			if f.Attempts != tc.opts.Attempts || f.Successes != tc.successes || f.ErrorRate != tc.errorRate || f.Interrupted {
				t.Fatalf("attempts=%d successes=%d rate=%v interrupted=%v", f.Attempts, f.Successes, f.ErrorRate, f.Interrupted)
			}
			if tc.errStage == "" && len(f.Errors) != 0 || tc.errStage != "" && (len(f.Errors) != 1 || f.Errors[0].Stage != tc.errStage ||
				f.Errors[0].Count != tc.opts.Attempts-tc.successes) {
				t.Errorf("errors = %+v", f.Errors)
			}
			if tc.successes > 0 || tc.errStage == "handshake" {
				if f.ConnectMin <= 0 || f.ConnectMin > f.ConnectMedian || f.ConnectMedian > f.ConnectMax {
					t.Errorf("connect latency min/med/max = %v/%v/%v", f.ConnectMin, f.ConnectMedian, f.ConnectMax)
				}
			}
			if tc.handshakes != (f.HandshakeMedian > 0) {
				t.Errorf("handshake median %v", f.HandshakeMedian)
			}
			if f.Handshake != (tc.opts.Handshake != nil) {
				t.Errorf("Handshake = %v", f.Handshake)
			}
		})
	}
}

func TestMeasureCancelled(t *testing.T) {
	t.Parallel()
	d := netx.New(netx.Options{Timeout: time.Second})
	addr := listen(t, "127.0.31.4", func(c net.Conn) { _, _ = io.Copy(io.Discard, c) })
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	start := time.Now()
	f := MeasureWith(ctx, d, addr, Options{Attempts: 100, Interval: 50 * time.Millisecond})
	if time.Since(start) > time.Second || !f.Interrupted || f.Attempts == 0 || f.Attempts >= 100 || f.ErrorRate != 0 {
		t.Fatalf("cancelled measure: %+v after %v", f, time.Since(start))
	}
}

func TestStats(t *testing.T) {
	t.Parallel()
	ms := time.Millisecond
	cases := []struct {
		in          []time.Duration
		lo, med, hi time.Duration
	}{
		{nil, 0, 0, 0},
		{[]time.Duration{5 * ms}, 5 * ms, 5 * ms, 5 * ms},
		{[]time.Duration{9 * ms, 1 * ms, 5 * ms}, 1 * ms, 5 * ms, 9 * ms},
		{[]time.Duration{4 * ms, 1 * ms, 2 * ms, 8 * ms}, 1 * ms, 3 * ms, 8 * ms},
	}
	for _, tc := range cases {
		lo, med, hi := stats(tc.in)
		if lo != tc.lo || med != tc.med || hi != tc.hi {
			t.Errorf("stats(%v) = %v %v %v", tc.in, lo, med, hi)
		}
	}
}
