package vuln

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/rampart-scan/rampart/internal/testenv"
	"github.com/rampart-scan/rampart/model"
	"github.com/rampart-scan/rampart/scanner/hello"
)

// writeCredentials writes the lab RSA key and certificate as PEM files.
func writeCredentials(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	k, c := labCredentials(t)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: must(x509.MarshalPKCS8PrivateKey(k))}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func freePort(t *testing.T, host string) int {
	t.Helper()
	ln, err := net.Listen("tcp", host+":0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startReal runs a real TLS server and waits until it accepts connections.
func startReal(t *testing.T, addr, bin string, args ...string) {
	t.Helper()
	var out bytes.Buffer
	var mu sync.Mutex
	cmd := exec.Command(bin, args...)
	w := lockedWriter{&mu, &out}
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-done })
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(30 * time.Millisecond) {
		select {
		case <-done:
			mu.Lock()
			defer mu.Unlock()
			t.Fatalf("%s exited: %s", bin, out.String())
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond); err == nil {
			c.Close()
			return
		}
	}
	t.Fatalf("%s did not listen on %s", bin, addr)
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// testsslIDs maps testssl.sh's JSON finding IDs to our probes.
var testsslIDs = map[string]string{
	"heartbleed":           ProbeHeartbleed,
	"CCS":                  ProbeCCSInjection,
	"ticketbleed":          ProbeTicketbleed,
	"ROBOT":                ProbeROBOT,
	"secure_renego":        "secure-renegotiation",
	"secure_client_renego": ProbeClientReneg,
	"CRIME_TLS":            "compression",
}

// runTestssl runs testssl.sh's vulnerability tests that match our probes and returns, per
// probe, "vulnerable", "not-vulnerable" or "inconclusive" with testssl's own words.
func runTestssl(t *testing.T, bin, addr string) (map[string]string, map[string]string, time.Duration) {
	t.Helper()
	jf := filepath.Join(t.TempDir(), "testssl.json")
	start := time.Now()
	out, err := exec.Command(bin, "--quiet", "--color", "0", "--warnings", "off", "--jsonfile", jf, "-H", "-I", "-T", "-BB", "-R", "-C", addr).CombinedOutput()
	el := time.Since(start)
	if err != nil && len(out) == 0 {
		t.Fatalf("testssl: %v", err)
	}
	raw, err := os.ReadFile(jf)
	if err != nil {
		t.Fatalf("testssl wrote no JSON (%v): %s", err, out)
	}
	var items []struct{ ID, Severity, Finding string }
	if err := json.Unmarshal(raw, &items); err != nil {
		t.Fatalf("testssl JSON: %v", err)
	}
	verdicts, words := map[string]string{}, map[string]string{}
	for _, it := range items {
		probe, ok := testsslIDs[it.ID]
		if !ok {
			continue
		}
		words[probe] = it.Severity + " " + it.Finding
		switch it.Severity {
		case "OK", "INFO":
			verdicts[probe] = model.VerdictNotVulnerable
		case "LOW", "MEDIUM", "HIGH", "CRITICAL":
			verdicts[probe] = model.VerdictVulnerable
		default:
			verdicts[probe] = model.VerdictInconclusive
		}
	}
	return verdicts, words, el
}

// TestRealServers runs the probes against real, patched TLS servers (each probe must not
// fire, except client-initiated renegotiation where the server is configured to allow it)
// and compares every verdict with testssl.sh's on the same endpoint in the same run.
func TestRealServers(t *testing.T) {
	t.Parallel()
	certFile, keyFile := writeCredentials(t)
	type server struct {
		name  string
		bin   string
		pkg   string
		args  func(addr string, port int) []string
		want  map[string]string
		hosts string
		// noTestssl skips the testssl.sh comparison where another endpoint already covers
		// the same verdicts (testssl.sh takes 30 s per endpoint).
		noTestssl bool
	}
	servers := []server{
		{"openssl s_server", "openssl", "openssl", func(addr string, port int) []string {
			return []string{"s_server", "-accept", addr, "-cert", certFile, "-key", keyFile, "-www", "-cipher", "ALL:@SECLEVEL=0", "-quiet"}
		}, map[string]string{ProbeClientReneg: model.VerdictNotVulnerable}, "127.0.0.41", false},
		{"openssl s_server -client_renegotiation", "openssl", "openssl", func(addr string, port int) []string {
			return []string{"s_server", "-accept", addr, "-cert", certFile, "-key", keyFile, "-www", "-cipher", "ALL:@SECLEVEL=0", "-quiet", "-client_renegotiation"}
		}, map[string]string{ProbeClientReneg: model.VerdictVulnerable}, "127.0.0.42", true},
		{"openssl s_server -early_data", "openssl", "openssl", func(addr string, port int) []string {
			return []string{"s_server", "-accept", addr, "-cert", certFile, "-key", keyFile, "-cipher", "ALL:@SECLEVEL=0", "-quiet", "-early_data"}
		}, map[string]string{ProbeEarlyData: model.VerdictVulnerable}, "127.0.0.43", true},
		{"gnutls-serv --heartbeat", "gnutls-serv", "gnutls-bin", func(addr string, port int) []string {
			return []string{"--http", "--heartbeat", "--disable-client-cert", "-p", strconv.Itoa(port), "--x509certfile", certFile, "--x509keyfile", keyFile,
				"--priority", "NORMAL:+RSA:+VERS-TLS1.0:+VERS-TLS1.1:+COMP-DEFLATE"}
		}, map[string]string{ProbeClientReneg: model.VerdictVulnerable}, "127.0.0.1", false}, // GnuTLS allows safe client renegotiation by default
		{"gnutls-serv --earlydata", "gnutls-serv", "gnutls-bin", func(addr string, port int) []string {
			return []string{"--http", "--earlydata", "--disable-client-cert", "-p", strconv.Itoa(port), "--x509certfile", certFile, "--x509keyfile", keyFile}
		}, map[string]string{ProbeClientReneg: model.VerdictVulnerable, ProbeEarlyData: model.VerdictVulnerable}, "127.0.0.1", true}, // GnuTLS allows safe client renegotiation by default
	}
	testssl := ""
	if !testing.Short() {
		testssl = testenv.LookPath(t, "testssl", "testssl.sh")
	}
	for _, srv := range servers {
		t.Run(srv.name, func(t *testing.T) {
			t.Parallel()
			bin := testenv.LookPath(t, srv.bin, srv.pkg)
			port := freePort(t, srv.hosts)
			addr := net.JoinHostPort(srv.hosts, strconv.Itoa(port))
			startReal(t, addr, bin, srv.args(addr, port)...)
			ctx := context.Background()
			eng, err := hello.Scan(ctx, hello.DialFunc(dialTo(addr)), hello.Options{Timeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			opts := OptionsFromEngine(eng, "")
			opts.Timeout, opts.Wait = 5*time.Second, time.Second
			start := time.Now()
			f := Run(ctx, dialTo(addr), opts)
			el := time.Since(start)
			ours := map[string]*model.ProbeVerdict{}
			for _, p := range []string{ProbeHeartbleed, ProbeCCSInjection, ProbeTicketbleed, ProbeROBOT, "secure-renegotiation", ProbeClientReneg, "compression", ProbeEarlyData} {
				ours[p] = pick(f, p)
				want := srv.want[p]
				if want == "" {
					want = model.VerdictNotVulnerable
				}
				got := ours[p]
				switch {
				case got.Verdict == model.VerdictNotApplicable && want == model.VerdictNotVulnerable:
				case got.Verdict != want:
					t.Errorf("%s: got %s (%s, %v), want %s", p, got.Verdict, got.Reason, got.Detail, want)
				}
				t.Logf("%-22s %-15s %d conns %v  %s %v", p, got.Verdict, got.Connections, got.Duration.Round(time.Millisecond), got.Reason, got.Detail)
			}
			t.Logf("rampart: %d connections in %v (engine scan before it: %d connections)", f.Connections, el.Round(time.Millisecond), eng.Connections)
			if testssl == "" || srv.noTestssl {
				return
			}
			tv, words, tel := runTestssl(t, testssl, addr)
			t.Logf("testssl.sh -H -I -T -BB -R -C: %v", tel.Round(time.Second))
			for probe, theirs := range tv {
				mine := ours[probe].Verdict
				if mine == model.VerdictNotApplicable {
					mine = model.VerdictNotVulnerable
				}
				if mine != theirs {
					t.Errorf("%s: rampart %s (%s) but testssl.sh %s", probe, mine, ours[probe].Reason, words[probe])
				} else {
					t.Logf("%s: both %s (testssl.sh: %s)", probe, mine, words[probe])
				}
			}
			if len(tv) != len(testsslIDs) {
				t.Errorf("testssl.sh reported %d of %d compared tests: %v", len(tv), len(testsslIDs), words)
			}
		})
	}
}

// TestLabAgainstTestssl runs our probes and testssl.sh against one lab server that has every
// record-level vulnerability (Heartbleed, early CCS, a strong Bleichenbacher oracle, DEFLATE,
// no RFC 5746). The lab completes no handshake, so testssl.sh's tests that go through
// `openssl s_client` (secure renegotiation, client renegotiation) cannot run against it;
// docs/vulns.md explains those two. The four raw-socket tests must agree.
func TestLabAgainstTestssl(t *testing.T) {
	if testing.Short() {
		t.Skip("testssl.sh takes about 30 s")
	}
	t.Parallel()
	bin := testenv.LookPath(t, "testssl", "testssl.sh")
	addr := startLab(t, labConfig{heartbleed: true, acceptCCS: true, oracle: "strong", deflate: true, noRenegInfo: true})
	f := Run(context.Background(), dialTo(addr), Options{Versions: []uint16{0x0301, 0x0302, 0x0303}, Timeout: 5 * time.Second, Wait: time.Second})
	tv, words, el := runTestssl(t, bin, addr)
	t.Logf("testssl.sh: %v", el.Round(time.Second))
	for _, probe := range []string{ProbeHeartbleed, ProbeCCSInjection, ProbeROBOT, "compression"} {
		ours := pick(f, probe)
		if ours.Verdict != model.VerdictVulnerable {
			t.Errorf("%s: rampart %s (%s) on the lab server", probe, ours.Verdict, ours.Reason)
		}
		if tv[probe] != model.VerdictVulnerable {
			t.Errorf("%s: testssl.sh %q on the lab server", probe, words[probe])
		}
	}
	for _, probe := range []string{"secure-renegotiation", ProbeClientReneg, ProbeTicketbleed} {
		t.Logf("%s: rampart %s (%s); testssl.sh %q", probe, pick(f, probe).Verdict, pick(f, probe).Reason, words[probe])
	}
}
