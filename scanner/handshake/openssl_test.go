package handshake

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/rampart-scan/rampart/internal/testenv"
	"github.com/rampart-scan/rampart/model"
	"github.com/rampart-scan/rampart/scanner/certs"
	"github.com/rampart-scan/rampart/scanner/certs/certtest"
	"github.com/rampart-scan/rampart/scanner/hello"
)

// sServer starts `openssl s_server` on addr (a 127.x address) with args and returns host:port.
func sServer(t *testing.T, bin, ip string, args ...string) string {
	t.Helper()
	l, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	all := append([]string{"s_server", "-accept", addr, "-www", "-quiet"}, args...)
	cmd := exec.Command(bin, all...)
	cmd.Stdin = nil
	out, err := os.CreateTemp(t.TempDir(), "s_server-*.log")
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			b, _ := os.ReadFile(out.Name())
			t.Logf("s_server output:\n%s", b)
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			_ = c.Close()
			return addr
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("s_server did not start on %s", addr)
	return ""
}

func TestOpenSSLServer(t *testing.T) {
	bin := testenv.LookPath(t, "openssl", "openssl")
	l := newLab(t)
	dir := t.TempDir()
	rsaCrt, rsaKey, err := certtest.WritePEM(dir, "rsa", l.rsa)
	if err != nil {
		t.Fatal(err)
	}
	ecCrt, ecKey, err := certtest.WritePEM(dir, "ec", l.ecdsa)
	if err != nil {
		t.Fatal(err)
	}
	interCrt, _, err := certtest.WritePEM(dir, "inter", l.pki.Inter)
	if err != nil {
		t.Fatal(err)
	}
	ocspFile := filepath.Join(dir, "ocsp.der")
	if err := os.WriteFile(ocspFile, l.staple, 0o600); err != nil {
		t.Fatal(err)
	}
	opts := func(alpn ...string) Options {
		return Options{ServerName: "chat.example.org", ALPN: alpn, Timeout: 5 * time.Second,
			Certs: certs.Options{Roots: l.pki.Pool(), NoLint: true}}
	}

	t.Run("rsa and ecdsa side by side, stapling, alpn", func(t *testing.T) {
		addr := sServer(t, bin, "127.0.33.1",
			"-cert", rsaCrt, "-key", rsaKey, "-cert_chain", interCrt,
			"-dcert", ecCrt, "-dkey", ecKey, "-dcert_chain", interCrt,
			"-status_file", ocspFile, "-alpn", "h2,http/1.1")
		f, err := Inspect(context.Background(), dialer(addr), opts("h2", "http/1.1"))
		if err != nil {
			t.Fatal(err)
		}
		logProbes(t, f.Probes)
		if f.MaxVersion != "TLS 1.3" || !slices.Equal(f.ALPN, []string{"h2", "http/1.1"}) {
			t.Errorf("max %q alpn %v", f.MaxVersion, f.ALPN)
		}
		x := f.TLS12
		if x == nil || !x.SecureRenegotiation || !x.ExtendedMasterSecret || x.Heartbeat || x.Compression != 0 || !x.SessionTicket || !x.OCSPStapling {
			t.Errorf("TLS 1.2 features %+v", x)
		}
		if f.OCSP == nil || f.OCSP.Status != "good" {
			t.Errorf("OCSP %+v", f.OCSP)
		}
		if f.SessionIDResumption != "skipped" { // s_server issues TLS 1.2 tickets; see below for IDs
			t.Errorf("session-ID resumption %q", f.SessionIDResumption)
		}
		if f.TicketResumption != "resumed" || f.Fallback != "rejected" {
			t.Errorf("resumption %q fallback %q %s", f.TicketResumption, f.Fallback, f.FallbackDetail)
		}
		if !f.DHETested || f.DHEBits < 2048 {
			t.Errorf("DHE %v %d", f.DHETested, f.DHEBits)
		}
		keys := map[string]bool{}
		for _, c := range f.Chains {
			keys[c.KeyType] = true
			if !c.Analysis.Trusted || !c.Analysis.ChainComplete || !c.Analysis.ChainOrdered || !c.Analysis.NameMatches {
				t.Errorf("%s chain analysis %+v", c.KeyType, c.Analysis)
			}
		}
		if len(f.Chains) != 2 || !keys["RSA"] || !keys["ECDSA"] {
			t.Errorf("chains %d %v", len(f.Chains), keys)
		}
	})

	// With Learn, the features and session probes hand the engine the suites they saw, each
	// with the ECDHE group the engine itself would get, and the session probe prefers a
	// suite not known yet: two suites for the price of none, the same facts, no extra probe.
	t.Run("learn", func(t *testing.T) {
		// Without tickets, so that the session-ID test (and its session probe) runs.
		addr := sServer(t, bin, "127.0.33.2", "-no_ticket",
			"-cert", rsaCrt, "-key", rsaKey, "-cert_chain", interCrt,
			"-dcert", ecCrt, "-dkey", ecKey, "-dcert_chain", interCrt)
		plain, err := Inspect(context.Background(), dialer(addr), opts())
		if err != nil {
			t.Fatal(err)
		}
		o := opts()
		k := hello.NewKnown()
		o.Learn = k
		f, err := Inspect(context.Background(), dialer(addr), o)
		if err != nil {
			t.Fatal(err)
		}
		logProbes(t, f.Probes)
		suites := map[string]uint16{}
		for _, p := range f.Probes {
			if p.Name == ProbeFeatures || p.Name == ProbeSession {
				if st, ok := hello.SuiteByName(p.CipherSuite); ok {
					suites[p.Name] = st.ID
				}
			}
		}
		fs, ss := suites[ProbeFeatures], suites[ProbeSession]
		if fs == 0 || ss == 0 || fs == ss {
			t.Fatalf("features chose %#04x, session %#04x: want two different suites", fs, ss)
		}
		for _, id := range []uint16{fs, ss} {
			g, ok := k.Suite(0x0303, id)
			if st, _ := hello.LookupSuite(id); !ok || (st.Kx == "ECDHE") != (g == 23) {
				t.Errorf("known %#04x: group %d, known %v (want secp256r1 for ECDHE, the engine's first group)", id, g, ok)
			}
		}
		if f.SessionIDResumption != plain.SessionIDResumption || f.TicketResumption != plain.TicketResumption ||
			f.Fallback != plain.Fallback || len(f.Chains) != len(plain.Chains) || f.Connections != plain.Connections {
			t.Errorf("with Learn: session %q ticket %q fallback %q chains %d conns %d; without: %q %q %q %d %d",
				f.SessionIDResumption, f.TicketResumption, f.Fallback, len(f.Chains), f.Connections,
				plain.SessionIDResumption, plain.TicketResumption, plain.Fallback, len(plain.Chains), plain.Connections)
		}
	})

	// A server with its own order shows one certificate type to every client-like probe;
	// the other comes from the chains the engine read, not from a probe of its own.
	t.Run("engine chains", func(t *testing.T) {
		addr := sServer(t, bin, "127.0.33.4", "-serverpref",
			"-cert", rsaCrt, "-key", rsaKey, "-cert_chain", interCrt,
			"-dcert", ecCrt, "-dkey", ecKey, "-dcert_chain", interCrt)
		k := hello.NewKnown()
		ef, err := hello.Scan(context.Background(), hello.DialFunc(dialer(addr)), hello.Options{ServerName: "chat.example.org", Known: k})
		if err != nil {
			t.Fatal(err)
		}
		plain, err := Inspect(context.Background(), dialer(addr), opts())
		if err != nil {
			t.Fatal(err)
		}
		o := opts()
		o.Learn = k
		o.Engine = func(context.Context) *model.TLSEngineFacts { return ef }
		f, err := Inspect(context.Background(), dialer(addr), o)
		if err != nil {
			t.Fatal(err)
		}
		logProbes(t, f.Probes)
		keys, fromEngine := map[string]bool{}, false
		for _, c := range f.Chains {
			keys[c.KeyType] = true
			fromEngine = fromEngine || slices.Contains(c.Probes, ProbeEngine)
		}
		for _, p := range f.Probes {
			if p.Name == ProbeECDSA || p.Name == ProbeRSA {
				t.Errorf("probe %s made although the engine saw that chain", p.Name)
			}
		}
		if !keys["RSA"] || !keys["ECDSA"] || !fromEngine || len(f.Chains) != len(plain.Chains) {
			t.Errorf("chains: keys %v, from the engine %v, %d (without the engine %d)", keys, fromEngine, len(f.Chains), len(plain.Chains))
		}
		if f.Connections >= plain.Connections {
			t.Errorf("%d connections with the engine's facts, %d without", f.Connections, plain.Connections)
		}
	})

	// The fallback probe is left out where the engine shows there is nothing to fall back to
	// (no version below TLS 1.2, and TLS 1.3's downgrade sentinel on TLS 1.2 answers), and
	// made where there is (TLS 1.1 spoken) or when asked to (Exhaustive); likewise the
	// session-ID resumption test where the server issues TLS 1.2 tickets.
	t.Run("settled by the engine or by tickets", func(t *testing.T) {
		for _, tc := range []struct {
			name, ip string
			args     []string
			want     string // Fallback without Exhaustive
			sentinel string
		}{
			{"tls 1.2 and 1.3", "127.0.33.5", nil, "not-needed", "tls1.2"},
			{"tls 1.2 only", "127.0.33.6", []string{"-tls1_2"}, "not-needed", ""},
			{"tls 1.1 to 1.3", "127.0.33.7", []string{"-min_protocol", "TLSv1.1", "-cipher", "DEFAULT:@SECLEVEL=0"}, "rejected", "tls1.2"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				addr := sServer(t, bin, tc.ip, append([]string{"-cert", rsaCrt, "-key", rsaKey, "-cert_chain", interCrt}, tc.args...)...)
				ef, err := hello.Scan(context.Background(), hello.DialFunc(dialer(addr)), hello.Options{ServerName: "chat.example.org"})
				if err != nil {
					t.Fatal(err)
				}
				for _, v := range ef.Versions {
					if v.VersionID == 0x0302 && // TLS 1.1
						v.Supported != (tc.want == "rejected") {
						t.Fatalf("engine: TLS 1.1 supported %v; the case needs the opposite", v.Supported)
					}
				}
				var conns [2]int
				for i, exhaustive := range []bool{false, true} {
					o := opts()
					o.Exhaustive = exhaustive
					o.Engine = func(context.Context) *model.TLSEngineFacts { return ef }
					f, err := Inspect(context.Background(), dialer(addr), o)
					if err != nil {
						t.Fatal(err)
					}
					logProbes(t, f.Probes)
					conns[i] = f.Connections
					want := tc.want
					if exhaustive && want == "not-needed" {
						want = "rejected" // OpenSSL honours TLS_FALLBACK_SCSV…
						if tc.sentinel == "" {
							want = "inconclusive" // …but offering TLS 1.1 to a TLS 1.2-only server settles nothing
						}
					}
					if f.Fallback != want {
						t.Errorf("exhaustive=%v: fallback %q (%s), want %q", exhaustive, f.Fallback, f.FallbackDetail, want)
					}
					if f.TLS12 == nil || f.TLS12.DowngradeSentinel != tc.sentinel {
						t.Errorf("TLS 1.2 features %+v, want downgrade sentinel %q", f.TLS12, tc.sentinel)
					}
					// s_server issues TLS 1.2 tickets: session IDs are tested only when asked.
					if wantID := map[bool]string{false: "skipped", true: "resumed"}[exhaustive]; f.SessionIDResumption != wantID {
						t.Errorf("exhaustive=%v: session-ID resumption %q, want %q", exhaustive, f.SessionIDResumption, wantID)
					}
				}
				// Exhaustive adds the session probe and its resumption, and the fallback probe
				// where it was settled.
				if wantDiff := 2 + map[bool]int{true: 1, false: 0}[tc.want == "not-needed"]; conns[1]-conns[0] != wantDiff {
					t.Errorf("connections %d, exhaustive %d: want %d more when exhaustive", conns[0], conns[1], wantDiff)
				}
			})
		}
	})

	t.Run("tls 1.3 only, rsa and ecdsa side by side", func(t *testing.T) {
		addr := sServer(t, bin, "127.0.33.3", "-tls1_3",
			"-cert", rsaCrt, "-key", rsaKey, "-cert_chain", interCrt,
			"-dcert", ecCrt, "-dkey", ecKey, "-dcert_chain", interCrt, "-status_file", ocspFile)
		f, err := Inspect(context.Background(), dialer(addr), opts())
		if err != nil {
			t.Fatal(err)
		}
		logProbes(t, f.Probes)
		keys := map[string]bool{}
		for _, c := range f.Chains {
			keys[c.KeyType] = true
			if !c.Analysis.Trusted || !c.Analysis.ChainComplete {
				t.Errorf("%s analysis %+v", c.KeyType, c.Analysis)
			}
		}
		if f.TLS12 != nil || len(f.Chains) != 2 || !keys["RSA"] || !keys["ECDSA"] {
			t.Errorf("TLS 1.2 %v, chains %v", f.TLS12, keys)
		}
		if f.OCSP == nil || f.OCSP.Status != "good" {
			t.Errorf("OCSP %+v", f.OCSP)
		}
	})

	t.Run("tls 1.2 only, cbc, no tickets, no session cache, leaf without intermediate", func(t *testing.T) {
		addr := sServer(t, bin, "127.0.33.2",
			"-cert", rsaCrt, "-key", rsaKey, "-tls1_2", "-no_ticket", "-no_cache",
			"-cipher", "ECDHE-RSA-AES128-SHA:DHE-RSA-AES128-SHA")
		f, err := Inspect(context.Background(), dialer(addr), opts("imap"))
		if err != nil {
			t.Fatal(err)
		}
		logProbes(t, f.Probes)
		x := f.TLS12
		if x == nil || x.SessionTicket || !x.EncryptThenMAC || x.OCSPStapling || x.CipherSuite != "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA" {
			t.Errorf("TLS 1.2 features %+v", x)
		}
		if f.MaxVersion != "TLS 1.2" || f.TicketResumption != "no-ticket" || f.OCSP != nil || len(f.ALPN) != 0 {
			t.Errorf("facts %+v", f)
		}
		t.Logf("session-ID resumption %q", f.SessionIDResumption)
		if f.SessionIDResumption != "not-resumed" && f.SessionIDResumption != "no-session-id" {
			t.Errorf("session-ID resumption %q with the session cache off", f.SessionIDResumption)
		}
		if f.Fallback != "inconclusive" {
			t.Errorf("fallback %q %s (TLS 1.1 is not enabled, so nothing can be concluded)", f.Fallback, f.FallbackDetail)
		}
		if f.DHEBits < 2048 {
			t.Errorf("DHE bits %d", f.DHEBits)
		}
		if len(f.Chains) != 1 || f.Chains[0].Analysis.ChainComplete || f.Chains[0].Analysis.MissingIssuer == "" {
			t.Errorf("chains %+v", f.Chains)
		}
	})
}

func logProbes(t *testing.T, ps []model.HandshakeProbe) {
	t.Helper()
	for _, p := range ps {
		t.Logf("probe %-15s %-10s %-8s %-40s alpn=%q alert=%q err=%q", p.Name, p.Client, p.Version, p.CipherSuite, p.ALPN, p.Alert, p.Error)
	}
}
