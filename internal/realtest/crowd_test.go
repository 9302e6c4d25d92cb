package realtest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/rampart-scan/rampart/model"
)

// gauge counts, for one listening address, the connections open at once. A connection is
// open from its accept until the client closes it: at every accept the connections whose
// client has already closed (the kernel's TCP state is no longer ESTABLISHED) are dropped
// first, so the count does not depend on how fast the handlers notice the close.
type gauge struct {
	mu    sync.Mutex
	open  map[net.Conn]struct{}
	peak  int
	total int
	all   *globalGauge
}

// globalGauge is the same count over every address.
type globalGauge struct {
	mu         sync.Mutex
	open, peak int
}

func (g *globalGauge) add(n int) {
	g.mu.Lock()
	g.open += n
	g.peak = max(g.peak, g.open)
	g.mu.Unlock()
}

// tcpState is the kernel's TCP state of c (1 is ESTABLISHED), read with TCP_INFO.
func tcpState(c net.Conn) (uint8, error) {
	rc, err := c.(*net.TCPConn).SyscallConn()
	if err != nil {
		return 0, err
	}
	var info [256]byte
	var serr error
	err = rc.Control(func(fd uintptr) {
		n := uint32(len(info))
		_, _, e := syscall.Syscall6(syscall.SYS_GETSOCKOPT, fd, syscall.IPPROTO_TCP, syscall.TCP_INFO,
			uintptr(unsafe.Pointer(&info[0])), uintptr(unsafe.Pointer(&n)), 0)
		if e != 0 {
			serr = e
		}
	})
	if err == nil {
		err = serr
	}
	return info[0], err
}

const tcpEstablished = 1

func (g *gauge) accepted(c net.Conn) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for o := range g.open {
		if st, err := tcpState(o); err != nil || st != tcpEstablished {
			g.drop(o)
		}
	}
	g.open[c] = struct{}{}
	g.all.add(1)
	g.total++
	g.peak = max(g.peak, len(g.open))
}

// drop forgets c; the caller holds g.mu.
func (g *gauge) drop(c net.Conn) {
	if _, ok := g.open[c]; ok {
		delete(g.open, c)
		g.all.add(-1)
	}
}

func (g *gauge) closed(c net.Conn) {
	g.mu.Lock()
	g.drop(c)
	g.mu.Unlock()
}

// crowdTLS serves TLS on ln, counting connections in g: it completes the handshake and then
// reads until the client closes.
func crowdTLS(ln net.Listener, cfg *tls.Config, g *gauge) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		g.accepted(c)
		go func() {
			defer func() { g.closed(c); _ = c.Close() }()
			_ = c.SetDeadline(time.Now().Add(30 * time.Second))
			tc := tls.Server(c, cfg)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if tc.HandshakeContext(ctx) != nil {
				return
			}
			_, _ = io.Copy(io.Discard, tc)
		}()
	}
}

func crowdCert(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "crowd.realtest.test"},
		DNSNames: []string{"crowd.realtest.test"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(0, 1, 0),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// TestCrowd audits 200 TLS endpoints, each on its own loopback address, in one run with
// -c 200 --per-address 2 --rate 0: every endpoint must be audited in full, and no address
// may ever have more than two connections open at once.
func TestCrowd(t *testing.T) {
	const n, perAddress = 200, 2
	cfg := &tls.Config{
		Certificates:     []tls.Certificate{crowdCert(t)},
		MinVersion:       tls.VersionTLS12,
		CipherSuites:     []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256},
		CurvePreferences: []tls.CurveID{tls.X25519, tls.CurveP256},
	}
	all := &globalGauge{}
	gauges := map[string]*gauge{}
	var targets strings.Builder
	for i := range n {
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.%d.%d:0", 100+i/250, 1+i%250))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = ln.Close() })
		g := &gauge{open: map[net.Conn]struct{}{}, all: all}
		gauges[ln.Addr().String()] = g
		go crowdTLS(ln, cfg, g)
		fmt.Fprintf(&targets, "imaps://%s\n", ln.Addr())
	}
	list := filepath.Join(t.TempDir(), "targets.txt")
	if err := os.WriteFile(list, []byte(targets.String()), 0o644); err != nil {
		t.Fatal(err)
	}

	r, took := scan(t, "-c", "200", "--per-address", fmt.Sprint(perAddress), "--rate", "0", "-q", "-f", list)
	if len(r.Endpoints) != n {
		t.Fatalf("%d endpoints audited, want %d", len(r.Endpoints), n)
	}
	want := truth{suites: map[string][]string{
		"TLS 1.2": {"ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305"},
		"TLS 1.3": {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"}},
		groups: []string{"x25519", "secp256r1"}, groupsVer: "TLS 1.3",
		// crypto/tls picks AES-GCM or ChaCha20 by the client's first suite, then in its own
		// order: with these two TLS 1.2 suites that is the client's order; among its three
		// TLS 1.3 suites AES-128-GCM wins whatever the order of the AES ones.
		prefs: map[string]string{"TLS 1.2": "client", "TLS 1.3": "server"}}
	seen := map[string]bool{}
	connsTotal, peaks := 0, map[int]int{}
	for _, e := range r.Endpoints {
		o := e.Observation
		a := o.Endpoint.Addr.String()
		g, ok := gauges[a]
		if !ok || seen[a] {
			t.Fatalf("unexpected or repeated endpoint %s", a)
		}
		seen[a] = true
		if o.Status != model.StatusOK || o.TLS == nil || !o.TLS.Speaks || o.TLS.Engine == nil || o.TLS.Features == nil || o.Certificates == nil {
			t.Errorf("%s: not audited in full: status %s (%s), TLS %+v", a, o.Status, o.Error, o.TLS)
			continue
		}
		// Go's server chooses by its own rules, not the client's order: compare as sets.
		f := *o.TLS.Engine
		f.Versions = slices.Clone(f.Versions)
		for i, v := range f.Versions {
			v.Suites = slices.Clone(v.Suites)
			slices.SortFunc(v.Suites, func(x, y model.EngineSuite) int { return strings.Compare(x.OpenSSLName, y.OpenSSLName) })
			f.Versions[i] = v
		}
		if !t.Failed() {
			checkEngine(t, &f, want)
		}
		g.mu.Lock()
		if g.peak > perAddress {
			t.Errorf("%s: %d connections open at once, --per-address %d", a, g.peak, perAddress)
		}
		connsTotal += g.total
		peaks[g.peak]++
		g.mu.Unlock()
	}
	t.Logf("%d endpoints in %v: %d connections (%.1f per endpoint), per-address peaks %v, at most %d connections open at once overall",
		n, took.Round(time.Millisecond), connsTotal, float64(connsTotal)/n, peaks, all.peak)
	if peaks[perAddress] == 0 {
		t.Errorf("no address ever had %d connections at once: the per-address allowance was not used (peaks %v)", perAddress, peaks)
	}
	if all.peak <= 2*perAddress {
		t.Errorf("at most %d connections open at once over %d endpoints: they were not audited concurrently", all.peak, n)
	}
}
