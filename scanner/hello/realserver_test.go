package hello

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rampart-scan/rampart/internal/testenv"
	"github.com/rampart-scan/rampart/model"
)

// freePort returns a TCP port that is free on addr.
func freePort(t testing.TB, addr string) int {
	t.Helper()
	ln, err := net.Listen("tcp", addr+":0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startServer runs a real TLS server and waits until it accepts connections.
func startServer(t testing.TB, addr string, bin string, args ...string) {
	t.Helper()
	var out bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
	})
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		select {
		case <-done:
			t.Fatalf("%s exited: %s", bin, out.String())
		default:
		}
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(30 * time.Millisecond)
	}
	t.Fatalf("%s did not listen on %s: %s", bin, addr, out.String())
}

// countingProxy forwards connections from a new loopback listener to target and counts them,
// so a peer scanner's connections can be counted like ours.
func countingProxy(t testing.TB, listenAddr, target string) (string, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	ln := listen(t, listenAddr)
	serve(t, ln, func(c net.Conn) {
		n.Add(1)
		u, err := net.Dial("tcp", target)
		if err != nil {
			return
		}
		defer u.Close()
		var wg sync.WaitGroup
		wg.Go(func() { _, _ = io.Copy(u, c); _ = u.(*net.TCPConn).CloseWrite() })
		_, _ = io.Copy(c, u)
		_ = c.(*net.TCPConn).CloseWrite()
		wg.Wait()
	})
	return ln.Addr().String(), &n
}

// dhParamsPEM writes PKCS #3 DH parameters (p, g=2).
func dhParamsPEM(t testing.TB, path string, p *big.Int) {
	t.Helper()
	der, err := asn1.Marshal(struct{ P, G *big.Int }{p, big.NewInt(2)})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "DH PARAMETERS", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

func primeByName(t testing.TB, name string) *big.Int {
	for _, p := range wellKnownPrimes {
		if p.Name == name {
			n, _ := new(big.Int).SetString(p.Hex, 16)
			return n
		}
	}
	t.Fatalf("no prime %s", name)
	return nil
}

// truth is the configured behaviour of a real server.
type truth struct {
	suites     map[uint16][]string // version → OpenSSL names in the server's order
	preference string              // for every version with ≥ 2 suites
	groups     []string            // as a set
	groupsVer  string
	dh         []model.DHParams // Version, PrimeBits and Known are compared
	sigalgs    []string         // TLS 1.2 signature schemes, as a set; nil: not configured
	chainKeys  []string         // leaf key types of the chains kept, as a set; nil: one RSA chain
}

func checkTruth(t *testing.T, f *model.TLSEngineFacts, want truth) {
	t.Helper()
	for _, ev := range f.Versions {
		w, ok := want.suites[ev.VersionID]
		if ev.Supported != ok || ev.Error != "" {
			t.Errorf("%s: supported=%v error=%q, want supported=%v", ev.Version, ev.Supported, ev.Error, ok)
		}
		var got []string
		for _, s := range ev.Suites {
			got = append(got, s.OpenSSLName)
		}
		if want.preference == "client" {
			got, w = slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(w))
		}
		if !slices.Equal(got, w) {
			t.Errorf("%s suites = %v, want %v", ev.Version, got, w)
		}
		if len(w) >= 2 && ev.Preference != want.preference {
			t.Errorf("%s preference = %q, want %q", ev.Version, ev.Preference, want.preference)
		}
	}
	gs := groupNames(f)
	if !slices.Equal(slices.Sorted(slices.Values(gs)), slices.Sorted(slices.Values(want.groups))) || f.GroupsVersion != want.groupsVer || f.GroupsError != "" {
		t.Errorf("groups = %v via %q (error %q), want %v via %q", gs, f.GroupsVersion, f.GroupsError, want.groups, want.groupsVer)
	}
	if want.sigalgs != nil {
		got := slices.Sorted(slices.Values(f.SignatureAlgorithms))
		if !slices.Equal(got, slices.Sorted(slices.Values(want.sigalgs))) || f.SignatureAlgorithmsError != "" {
			t.Errorf("signature algorithms = %v (error %q), want %v", got, f.SignatureAlgorithmsError, want.sigalgs)
		}
	}
	var dh []string
	for _, d := range f.DH {
		dh = append(dh, fmt.Sprintf("%s/%d/%s", d.Version, d.PrimeBits, d.Known))
	}
	var wdh []string
	for _, d := range want.dh {
		wdh = append(wdh, fmt.Sprintf("%s/%d/%s", d.Version, d.PrimeBits, d.Known))
	}
	if !slices.Equal(dh, wdh) {
		t.Errorf("DH = %v, want %v", dh, wdh)
	}
}

// compareSSLScan checks that sslscan saw the same protocols and suites.
func compareSSLScan(t *testing.T, f *model.TLSEngineFacts, s testenv.SSLScan) {
	t.Helper()
	for _, ev := range f.Versions {
		if ev.VersionID == VersionSSL20 || ev.VersionID == VersionSSL30 {
			// sslscan's Debian build links an OpenSSL without SSLv2/3 and reports them disabled.
			if ev.Supported {
				t.Logf("%s: engine supported, sslscan %v", ev.Version, s.Protocols[ev.Version])
			}
			continue
		}
		if s.Protocols[ev.Version] != ev.Supported {
			t.Errorf("%s: engine supported=%v, sslscan %v", ev.Version, ev.Supported, s.Protocols[ev.Version])
		}
		var ids []uint16
		for _, su := range ev.Suites {
			ids = append(ids, su.ID)
		}
		if !slices.Equal(slices.Sorted(slices.Values(ids)), slices.Sorted(slices.Values(s.Suites[ev.Version]))) {
			t.Errorf("%s: engine suites %04x, sslscan %04x", ev.Version, ids, s.Suites[ev.Version])
		}
	}
	if sg := s.Groups[f.GroupsVersion]; len(sg) > 0 {
		for _, id := range sg {
			gr, _ := LookupGroup(id)
			if g := gr.Name; !slices.Contains(groupNames(f), g) {
				t.Errorf("sslscan found group %s via %s, engine did not (%v)", g, f.GroupsVersion, groupNames(f))
			}
		}
	}
}

// TestRealServers scans Debian's openssl s_server and gnutls-serv in deliberate
// configurations; results must equal the configuration exactly and agree with sslscan.
func TestRealServers(t *testing.T) {
	opensslBin := testenv.LookPath(t, "openssl", "openssl")
	gnutlsBin := testenv.LookPath(t, "gnutls-serv", "gnutls-bin")
	sslscanBin := testenv.LookPath(t, "sslscan", "sslscan")
	dir := t.TempDir()
	rsaCrt, rsaKey := writePEM(t, dir, "rsa", testCert(t, 2048))
	ecCrt, ecKey := writePEM(t, dir, "ec", testCert(t, 0))
	ffdhe := filepath.Join(dir, "ffdhe2048.pem")
	dhParamsPEM(t, ffdhe, primeByName(t, "ffdhe2048 (RFC 7919)"))
	oakley := filepath.Join(dir, "oakley2.pem")
	dhParamsPEM(t, oakley, primeByName(t, "MODP 1024 / Oakley group 2 (RFC 2409)"))
	custom := filepath.Join(dir, "custom1024.pem")
	cp, err := rand.Prime(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	dhParamsPEM(t, custom, cp)

	const mozilla = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:" +
		"ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:" +
		"DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305"
	mozillaRSA := []string{"ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-RSA-CHACHA20-POLY1305",
		"DHE-RSA-AES128-GCM-SHA256", "DHE-RSA-AES256-GCM-SHA384", "DHE-RSA-CHACHA20-POLY1305"}
	tls13Default := []string{"TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_GCM_SHA256"}
	ffdheDH := []model.DHParams{{Version: "TLS 1.2", PrimeBits: 2048, Known: "ffdhe2048 (RFC 7919)"}}

	type server struct {
		name string
		bin  string
		args func(addr string, port int) []string
		want truth
	}
	ossl := func(extra ...string) func(string, int) []string {
		return func(addr string, port int) []string {
			return append([]string{"s_server", "-accept", fmt.Sprintf("%s:%d", addr, port), "-www", "-quiet"}, extra...)
		}
	}
	servers := []server{
		{"tls13-only", opensslBin, ossl("-cert", ecCrt, "-key", ecKey, "-tls1_3", "-serverpref",
			"-ciphersuites", "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256", "-groups", "X25519:P-384:ffdhe2048"),
			truth{suites: map[uint16][]string{VersionTLS13: {"TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"}},
				preference: "server", groups: []string{"x25519", "secp384r1", "ffdhe2048"}, groupsVer: "TLS 1.3"}},
		{"mozilla-intermediate", opensslBin, ossl("-cert", rsaCrt, "-key", rsaKey, "-no_tls1", "-no_tls1_1", "-serverpref",
			"-cipher", mozilla, "-groups", "X25519:P-256:P-384", "-dhparam", ffdhe,
			"-sigalgs", "rsa_pss_rsae_sha256:rsa_pss_rsae_sha384:rsa_pkcs1_sha256"),
			truth{suites: map[uint16][]string{VersionTLS12: mozillaRSA, VersionTLS13: tls13Default},
				preference: "server", groups: []string{"x25519", "secp256r1", "secp384r1"}, groupsVer: "TLS 1.3", dh: ffdheDH,
				sigalgs: []string{"rsa_pss_rsae_sha256", "rsa_pss_rsae_sha384", "rsa_pkcs1_sha256"}}},
		{"mozilla-client-order", opensslBin, ossl("-cert", rsaCrt, "-key", rsaKey, "-no_tls1", "-no_tls1_1",
			"-cipher", mozilla, "-groups", "X25519:P-256:P-384", "-dhparam", ffdhe),
			truth{suites: map[uint16][]string{VersionTLS12: mozillaRSA, VersionTLS13: tls13Default},
				preference: "client", groups: []string{"x25519", "secp256r1", "secp384r1"}, groupsVer: "TLS 1.3", dh: ffdheDH}},
		{"legacy-tls10-rsa-kex", opensslBin, ossl("-cert", rsaCrt, "-key", rsaKey, "-tls1", "-serverpref",
			"-cipher", "AES128-SHA:DHE-RSA-AES256-SHA:ECDHE-RSA-AES128-SHA:CAMELLIA256-SHA:@SECLEVEL=0", "-groups", "P-256", "-dhparam", oakley),
			truth{suites: map[uint16][]string{VersionTLS10: {"AES128-SHA", "DHE-RSA-AES256-SHA", "ECDHE-RSA-AES128-SHA", "CAMELLIA256-SHA"}},
				preference: "server", groups: []string{"secp256r1"}, groupsVer: "TLS 1.0",
				dh: []model.DHParams{{Version: "TLS 1.0", PrimeBits: 1024, Known: "MODP 1024 / Oakley group 2 (RFC 2409)"}}}},
		{"dhe-1024-custom", opensslBin, ossl("-cert", rsaCrt, "-key", rsaKey, "-no_tls1_3", "-serverpref",
			"-cipher", "DHE-RSA-AES256-GCM-SHA384:DHE-RSA-AES128-GCM-SHA256:@SECLEVEL=0", "-dhparam", custom),
			truth{suites: map[uint16][]string{VersionTLS12: {"DHE-RSA-AES256-GCM-SHA384", "DHE-RSA-AES128-GCM-SHA256"}},
				preference: "server", dh: []model.DHParams{{Version: "TLS 1.2", PrimeBits: 1024}}}},
		{"rsa-and-ecdsa", opensslBin, ossl("-cert", rsaCrt, "-key", rsaKey, "-dcert", ecCrt, "-dkey", ecKey, "-no_tls1_3", "-serverpref",
			"-cipher", "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-SHA", "-groups", "P-384:P-256",
			"-sigalgs", "ECDSA+SHA256:ECDSA+SHA384:RSA-PSS+SHA256"),
			truth{suites: map[uint16][]string{VersionTLS12: {"ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES128-SHA"}},
				preference: "server", groups: []string{"secp384r1", "secp256r1"}, groupsVer: "TLS 1.2",
				sigalgs: []string{"ecdsa_secp256r1_sha256", "ecdsa_secp384r1_sha384", "rsa_pss_rsae_sha256"}, chainKeys: []string{"ECDSA", "RSA"}}},
		{"gnutls-3des-rc4", gnutlsBin, func(addr string, port int) []string {
			return []string{"-p", fmt.Sprint(port), "--x509certfile", rsaCrt, "--x509keyfile", rsaKey, "--http",
				"--priority", "NONE:+VERS-TLS1.2:+VERS-TLS1.1:+ECDHE-RSA:+RSA:+AES-128-GCM:+3DES-CBC:+ARCFOUR-128:+SHA1:+AEAD:+COMP-NULL:+SIGN-ALL:+GROUP-SECP256R1:%SERVER_PRECEDENCE"}
		}, truth{suites: map[uint16][]string{
			VersionTLS11: {"ECDHE-RSA-DES-CBC3-SHA", "ECDHE-RSA-RC4-SHA", "DES-CBC3-SHA", "RC4-SHA"},
			VersionTLS12: {"ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-DES-CBC3-SHA", "ECDHE-RSA-RC4-SHA", "AES128-GCM-SHA256", "DES-CBC3-SHA", "RC4-SHA"}},
			preference: "server", groups: []string{"secp256r1"}, groupsVer: "TLS 1.2"}},
	}
	for i, sv := range servers {
		t.Run(sv.name, func(t *testing.T) {
			addr := fmt.Sprintf("127.0.6.%d", i+1)
			if sv.bin == gnutlsBin {
				addr = "127.0.0.1" // gnutls-serv cannot bind one address; it listens on every one
			}
			port := freePort(t, addr)
			target := fmt.Sprintf("%s:%d", addr, port)
			startServer(t, target, sv.bin, sv.args(addr, port)...)

			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			// Exhaustive (every version suite by suite) and the default (TLS 1.0/1.1 confirmed
			// from TLS 1.2) must both equal the truth.
			exhaustive, err := Scan(ctx, (&counter{addr: target}).dial, Options{ServerName: "localhost", Timeout: 5 * time.Second,
				Exhaustive: true, SignatureAlgorithms: sv.want.sigalgs != nil})
			if err != nil {
				t.Fatal(err)
			}
			checkTruth(t, exhaustive, sv.want)
			start := time.Now()
			f, err := Scan(ctx, (&counter{addr: target}).dial, Options{ServerName: "localhost", Timeout: 5 * time.Second,
				SignatureAlgorithms: sv.want.sigalgs != nil})
			ours := time.Since(start)
			if err != nil {
				t.Fatal(err)
			}
			checkTruth(t, f, sv.want)
			// Every (EC)DHE flight's certificates were read: each distinct chain is kept once.
			wantKeys := sv.want.chainKeys
			if wantKeys == nil && (len(sv.want.suites) > 1 || sv.want.suites[VersionTLS13] == nil) {
				wantKeys = []string{"RSA"} // (TLS 1.3 certificates are encrypted: none kept)
			}
			var keys []string
			for _, chain := range f.Chains {
				c, err := x509.ParseCertificate(chain[0])
				if err != nil {
					t.Fatalf("kept chain: %v", err)
				}
				keys = append(keys, c.PublicKeyAlgorithm.String())
			}
			slices.Sort(keys)
			if !slices.Equal(keys, wantKeys) {
				t.Errorf("chains kept with leaf keys %v, want %v", keys, wantKeys)
			}

			proxy, peerConns := countingProxy(t, fmt.Sprintf("127.0.7.%d", i+1), target)
			ss, theirs := testenv.RunSSLScan(t, sslscanBin, proxy)
			compareSSLScan(t, f, ss)
			t.Logf("engine: %d connections (%d exhaustive), %v; sslscan: %d connections, %v (ratio conns %.2f, time %.3f)",
				f.Connections, exhaustive.Connections, ours.Round(time.Millisecond), peerConns.Load(), theirs.Round(time.Millisecond),
				float64(f.Connections)/float64(peerConns.Load()), ours.Seconds()/theirs.Seconds())
			if 2*int64(f.Connections) > peerConns.Load() {
				t.Errorf("engine used %d connections, more than half of sslscan's %d", f.Connections, peerConns.Load())
			}
		})
	}
}
