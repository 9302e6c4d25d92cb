package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rampart-scan/rampart/internal/testenv"
	"github.com/rampart-scan/rampart/model"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "rampart-e2e")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "rampart")
	// Scans record into the default database: keep it inside the test's directory.
	os.Setenv("XDG_DATA_HOME", filepath.Join(dir, "data"))
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "building rampart: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// run executes the binary and returns stdout, stderr and the exit code.
func run(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

func decode(t *testing.T, s string) *model.ScanResult {
	t.Helper()
	var r model.ScanResult
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		t.Fatalf("output is not a scan JSON document: %v\n%s", err, s)
	}
	if r.SchemaVersion != model.SchemaVersion {
		t.Fatalf("schema_version = %q", r.SchemaVersion)
	}
	return &r
}

// rulesBy maps "service name" to the rule IDs raised on that endpoint.
func rulesBy(r *model.ScanResult) map[string][]string {
	m := map[string][]string{}
	for _, e := range r.Endpoints {
		k := e.Observation.Endpoint.Service + " " + e.Observation.Endpoint.Name
		m[k] = []string{}
		for _, f := range e.Findings {
			m[k] = append(m[k], f.RuleID)
		}
	}
	return m
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func TestDemoJSON(t *testing.T) {
	out, stderr, code := run(t, "", "demo", "--net", "127.79.0.0/24", "--format", "json", "--quiet", "--out", t.TempDir())
	if code != 0 {
		t.Fatalf("demo exit %d: %s", code, stderr)
	}
	r := decode(t, out)
	if r.Status != model.ScanComplete {
		t.Fatalf("status %s: %s", r.Status, r.Error)
	}
	for _, n := range r.Discovery {
		if n.Kind == "error" {
			t.Errorf("the lab's discovery left an error note: %s: %s", n.Target, n.Detail)
		}
	}
	got := rulesBy(r)
	d := "demo.rampart.test"
	want := map[string][]string{
		"https " + d:            {},
		"xmpps-client " + d:     {},
		"imaps imap." + d:       {"cert/expired"},
		"matrix " + d:           {"cert/self-signed"},
		"submissions mail." + d: {"tls/legacy-protocol-negotiated", "tls/deprecated-protocol"},
		"smtp mx." + d:          {"starttls/plaintext-auth"},
		"xmpp-client " + d:      {"starttls/not-required"},
		" cache." + d:           {"exposure/cache-port-unauthenticated"},
		"ssh cache." + d:        {"exposure/ssh-port"},
	}
	for k, rules := range want {
		g, ok := got[k]
		if !ok {
			t.Errorf("endpoint %q not discovered; got %v", k, got)
			continue
		}
		for _, r := range rules {
			if !contains(g, r) {
				t.Errorf("%s: rule %s missing; got %v", k, r, g)
			}
		}
		if len(rules) == 0 {
			for _, r := range g {
				if strings.HasPrefix(r, "cert/") || strings.HasPrefix(r, "tls/legacy") {
					t.Errorf("%s: well-configured endpoint raised %s", k, r)
				}
			}
		}
	}
	// The two MQTT nodes: one serves a certificate for another name, and they disagree.
	mqttMismatch := 0
	for _, e := range r.Endpoints {
		if e.Observation.Endpoint.Name == "mqtt."+d && contains(rulesBy(&model.ScanResult{Endpoints: []model.EndpointResult{e}})["mqtts mqtt."+d], "cert/hostname-mismatch") {
			mqttMismatch++
		}
	}
	if mqttMismatch != 1 {
		t.Errorf("%d MQTT nodes with cert/hostname-mismatch, want exactly 1 of 2", mqttMismatch)
	}
	if len(r.Nodes) != 1 || r.Nodes[0].Group.Name != "mqtt."+d || len(r.Nodes[0].Findings) != 1 ||
		r.Nodes[0].Findings[0].RuleID != "tls/inconsistent-nodes" || r.Nodes[0].Findings[0].Detail != "leaf_certificate" {
		t.Errorf("node comparison = %+v", r.Nodes)
	}
	// DANE: the MX's TLSA record matches the chain it served.
	dane := false
	for _, dom := range r.Domains {
		for _, ts := range dom.Observation.TLSA {
			for _, m := range ts.Matches {
				dane = dane || m.Matched
			}
		}
	}
	if !dane {
		t.Error("the demo MX's TLSA record was not matched against its chain")
	}
	// The cache port speaks no TLS: recorded as a fact.
	for _, e := range r.Endpoints {
		if e.Observation.Endpoint.Name == "cache."+d && e.Observation.Endpoint.Addr.Port() == 6379 {
			if e.Observation.TLS == nil || e.Observation.TLS.Speaks {
				t.Errorf("cache endpoint TLS facts = %+v, want speaks_tls false", e.Observation.TLS)
			}
		}
	}
}

func TestDemoJSONLStreamsEveryEndpoint(t *testing.T) {
	out, stderr, code := run(t, "", "demo", "--net", "127.79.1.0/24", "--format", "jsonl", "--out", t.TempDir())
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	endpoints := 0
	for i, l := range lines {
		var v struct {
			SchemaVersion string `json:"schema_version"`
			Type          string `json:"type"`
			Scan          *struct {
				Status    string `json:"status"`
				Endpoints int    `json:"endpoints"`
			} `json:"scan"`
		}
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Fatalf("line %d is not JSON: %v", i+1, err)
		}
		switch v.Type {
		case "endpoint":
			endpoints++
		case "scan":
			if i != len(lines)-1 || v.Scan.Status != "complete" || v.Scan.Endpoints != endpoints {
				t.Fatalf("closing line %d = %s (after %d endpoints)", i+1, l, endpoints)
			}
		}
	}
	if endpoints < 8 {
		t.Fatalf("%d endpoint lines, want at least 8", endpoints)
	}
	if strings.Contains(stderr, "ETA") {
		t.Fatal("progress bar drawn although stderr is not a terminal")
	}
}

func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	list := filepath.Join(dir, "targets.txt")
	if err := os.WriteFile(list, []byte("# estate\nexample.org\nmx.example.org:99999\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"scan", "-f", list}, "targets.txt:3"},
		{[]string{"scan", "host:0"}, "args:1"},
		{[]string{"scan", "--format", "xml", "example.org"}, "--format"},
		{[]string{"scan", "--fail-on", "severe", "example.org"}, "--fail-on"},
		{[]string{"scan"}, "no targets"},
		{[]string{"scan", "--ca-file", filepath.Join(dir, "missing.pem"), "example.org"}, "--ca-file"},
		{[]string{"scan", "--bogus"}, "unknown flag"},
		{[]string{"frobnicate"}, "unknown command"},
	}
	for _, tt := range tests {
		_, stderr, code := run(t, "", tt.args...)
		if code != 2 || !strings.Contains(stderr, tt.want) {
			t.Errorf("rampart %v: exit %d, stderr %q; want exit 2 mentioning %q", tt.args, code, stderr, tt.want)
		}
	}
}

func TestStdinTargetsAndFailOn(t *testing.T) {
	// A port nobody listens on: the scan completes with net/unreachable (high).
	stdin := "# one target\nhttps://127.79.2.1:9\n"
	out, _, code := run(t, stdin, "scan", "-", "--format", "json", "--timeout", "1s")
	r := decode(t, out)
	if len(r.Endpoints) != 1 || !contains(rulesBy(r)["https "], "net/unreachable") {
		t.Fatalf("endpoints = %+v", rulesBy(r))
	}
	if code != 1 {
		t.Fatalf("exit %d with a high finding and --fail-on high, want 1", code)
	}
	_, _, code = run(t, stdin, "scan", "-", "--format", "json", "--fail-on", "critical")
	if code != 0 {
		t.Fatalf("exit %d with --fail-on critical, want 0", code)
	}
}

func TestInterruptReportsPartialResults(t *testing.T) {
	// Endpoints that accept and never speak keep the scan busy until it is interrupted.
	var lns []net.Listener
	var targets []string
	for i := 1; i <= 6; i++ {
		ln, err := net.Listen("tcp", fmt.Sprintf("127.79.3.%d:0", i))
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
		targets = append(targets, "https://"+ln.Addr().String())
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				defer c.Close()
			}
		}()
	}
	defer func() {
		for _, l := range lns {
			l.Close()
		}
	}()
	// One endpoint that finishes at once (refused).
	targets = append(targets, "https://127.79.3.50:9")
	db := filepath.Join(t.TempDir(), "scans.db")
	cmd := exec.Command(binary, append([]string{"scan", "--format", "json", "--timeout", "60s", "-c", "8", "--db", db}, targets...)...)
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(700 * time.Millisecond)
	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	if el := time.Since(start); el > time.Second {
		t.Fatalf("scan took %s to end after Ctrl-C, want < 1s", el)
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Fatalf("exit = %v, want 130", err)
	}
	r := decode(t, out.String())
	if r.Status != model.ScanInterrupted || len(r.Endpoints) != 7 {
		t.Fatalf("status %s with %d endpoints, want interrupted with all 7", r.Status, len(r.Endpoints))
	}
	refused := 0
	for _, e := range r.Endpoints {
		if e.Observation.Status == model.StatusUnreachable {
			refused++
		}
	}
	if refused != 1 {
		t.Fatalf("the finished (refused) endpoint was not kept: %d unreachable", refused)
	}
	// The database says the same: the scan is interrupted and the finished endpoint kept.
	out2, stderr, code := run(t, "", "scans", "--db", db, "--format", "json")
	if code != 0 {
		t.Fatalf("scans: exit %d: %s", code, stderr)
	}
	var scans []struct {
		ID, Status string
		Endpoints  int
	}
	if err := json.Unmarshal([]byte(out2), &scans); err != nil || len(scans) != 1 {
		t.Fatalf("scans = %s (%v)", out2, err)
	}
	if scans[0].Status != "interrupted" || scans[0].Endpoints != 7 || scans[0].ID != r.ID {
		t.Fatalf("stored scan = %+v, want the interrupted scan %s with 7 endpoints", scans[0], r.ID)
	}
}

// TestDemoTwiceDriftAndReport runs the demo twice into one database: the second run shows no
// drift (the lab is deterministic), `report` renders the stored scan again, and `report
// --policy` judges the stored facts under another policy without the lab running.
func TestDemoTwiceDriftAndReport(t *testing.T) {
	out := t.TempDir()
	for i := 0; i < 2; i++ {
		if _, stderr, code := run(t, "", "demo", "--net", "127.79.5.0/24", "--quiet", "--out", out); code != 0 {
			t.Fatalf("demo run %d: exit %d: %s", i+1, code, stderr)
		}
	}
	db := filepath.Join(out, "rampart.db")
	diff, stderr, code := run(t, "", "diff", "--db", db, "--format", "json")
	if code != 0 {
		t.Fatalf("diff: exit %d: %s", code, stderr)
	}
	var d model.Drift
	if err := json.Unmarshal([]byte(diff), &d); err != nil {
		t.Fatal(err)
	}
	if len(d.NewFindings)+len(d.FixedFindings)+len(d.CertRotations)+len(d.EndpointsAppeared)+len(d.EndpointsVanished) != 0 || d.UnchangedFindings < 10 {
		t.Fatalf("two runs of the same lab drifted: %+v", d)
	}
	for _, name := range []string{"report.html", "results.sarif", "results.json", "demo-ca.pem"} {
		if fi, err := os.Stat(filepath.Join(out, name)); err != nil || fi.Size() == 0 {
			t.Errorf("demo did not write %s: %v", name, err)
		}
	}
	// Render the stored scan again, as JSON, under the default and a stricter policy.
	stored, stderr, code := run(t, "", "report", "--db", db, "--format", "json")
	if code != 0 {
		t.Fatalf("report: exit %d: %s", code, stderr)
	}
	base := decode(t, stored)
	strict, stderr, code := run(t, "", "report", "--db", db, "--format", "json", "--policy", "mozilla-modern")
	if code != 0 {
		t.Fatalf("report --policy: exit %d: %s", code, stderr)
	}
	modern := decode(t, strict)
	if !strings.HasPrefix(modern.Policy, "mozilla-modern@") || !strings.HasPrefix(base.Policy, "messaging-baseline@") {
		t.Fatalf("policies: %q and %q", base.Policy, modern.Policy)
	}
	if len(modern.Findings()) <= len(base.Findings()) {
		t.Fatalf("mozilla-modern found %d findings, the baseline %d: the stricter policy should find more", len(modern.Findings()), len(base.Findings()))
	}
}

// TestOpenSSLExpiredCertificate scans Debian's openssl s_server serving an expired certificate.
func TestOpenSSLExpiredCertificate(t *testing.T) {
	openssl := testenv.LookPath(t, "openssl", "openssl")
	dir := t.TempDir()
	caPEM, certPEM, keyPEM := expiredChain(t, "127.79.4.1")
	for name, data := range map[string][]byte{"ca.pem": caPEM, "cert.pem": certPEM, "key.pem": keyPEM} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	port := freePort(t, "127.79.4.1")
	srv := exec.Command(openssl, "s_server", "-accept", "127.79.4.1:"+port, "-cert", filepath.Join(dir, "cert.pem"),
		"-key", filepath.Join(dir, "key.pem"), "-www", "-quiet")
	srv.Stdout, srv.Stderr = os.Stderr, os.Stderr
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = srv.Process.Kill(); _ = srv.Wait() }()
	waitListening(t, "127.79.4.1:"+port)

	out, stderr, code := run(t, "", "scan", "--format", "json", "--ca-file", filepath.Join(dir, "ca.pem"), "127.79.4.1:"+port)
	r := decode(t, out)
	if len(r.Endpoints) != 1 {
		t.Fatalf("endpoints: %d (%s)", len(r.Endpoints), stderr)
	}
	e := r.Endpoints[0]
	if e.Observation.TLS == nil || e.Observation.TLS.Handshake == nil || e.Observation.TLS.Handshake.VersionID != 0x0304 {
		t.Fatalf("TLS facts = %+v", e.Observation.TLS)
	}
	var expired *model.Finding
	for i, f := range e.Findings {
		if f.RuleID == "cert/expired" {
			expired = &e.Findings[i]
		}
		if f.RuleID == "cert/untrusted" || f.RuleID == "cert/hostname-mismatch" || f.RuleID == "cert/self-signed" {
			t.Errorf("unexpected %s: %s", f.RuleID, f.Message)
		}
	}
	if expired == nil {
		t.Fatalf("cert/expired not raised; findings %+v", e.Findings)
	}
	if expired.Severity != model.SeverityCritical || expired.Evidence["not_after"] == "" || expired.Asset != e.Observation.Endpoint.ID() {
		t.Fatalf("finding = %+v", expired)
	}
	if code != 1 {
		t.Fatalf("exit %d, want 1 (critical finding, --fail-on high)", code)
	}
}

func expiredChain(t *testing.T, ip string) (caPEM, certPEM, keyPEM []byte) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Now()
	caT := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "E2E CA"},
		NotBefore: now.AddDate(-3, 0, 0), NotAfter: now.AddDate(3, 0, 0), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caT, caT, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	lt := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: ip},
		IPAddresses: []net.IP{net.ParseIP(ip)}, NotBefore: now.AddDate(-1, 0, 0), NotAfter: now.AddDate(0, 0, -10),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, lt, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
}

func freePort(t *testing.T, ip string) string {
	t.Helper()
	ln, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

func waitListening(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s never started listening", addr)
}

// TestDemoServeWildcardBruteForce keeps the lab running (demo --serve) and brute-forces a
// name with a wildcard: only the real name is reported, the wildcard is a recorded fact.
func TestDemoServeWildcardBruteForce(t *testing.T) {
	lab := exec.Command(binary, "demo", "--serve", "--quiet", "--no-store", "--net", "127.79.6.0/24", "--out", t.TempDir())
	if err := lab.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	defer func() {
		// Ctrl-C ends the lab whether it is still scanning or already serving.
		_ = lab.Process.Signal(syscall.SIGINT)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = lab.Process.Kill()
			t.Error("demo --serve did not end within 5s of Ctrl-C")
		}
	}()
	go func() { done <- lab.Wait() }()
	waitListening(t, "127.79.6.53:10053")
	words := filepath.Join(t.TempDir(), "words.txt")
	if err := os.WriteFile(words, []byte("alice\nbob\ncarol\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, stderr, code := run(t, "", "discover", "--resolver", "127.79.6.53:10053", "--wordlist", words, "--format", "json", "users.demo.rampart.test")
	if code != 0 {
		t.Fatalf("discover: exit %d: %s", code, stderr)
	}
	var res struct {
		Hosts   []struct{ Name string }
		Domains []model.DomainObservation
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Hosts) != 1 || res.Hosts[0].Name != "alice.users.demo.rampart.test" {
		t.Fatalf("hosts = %+v, want only the real name alice", res.Hosts)
	}
	if len(res.Domains) != 1 || len(res.Domains[0].Wildcards) == 0 || res.Domains[0].Wildcards[0].Level != "users.demo.rampart.test" {
		t.Fatalf("wildcard not recorded: %+v", res.Domains)
	}
}
