// Package realtest holds end-to-end tests of the whole audit: the real `rampart scan --format
// json` binary against real servers (nginx, Postfix, Dovecot, Prosody, and a crowd of
// in-process TLS listeners), each compared with the configured truth and with sslscan.
package realtest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"github.com/rampart-scan/rampart/internal/testenv"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rampart-scan/rampart/model"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "rampart-realtest")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "rampart")
	os.Setenv("XDG_DATA_HOME", filepath.Join(dir, "data")) // belt and braces: scans also pass --no-store
	out, err := exec.Command("go", "build", "-o", binary, "../../cmd/rampart").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "building rampart: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// scan runs `rampart scan --format json --no-store args…` and decodes the document.
func scan(t *testing.T, args ...string) (*model.ScanResult, time.Duration) {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"scan", "--format", "json", "--no-store", "--fail-on", "none"}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	el := time.Since(start)
	if err != nil {
		t.Fatalf("rampart scan %v: %v\n%s", args, err, errb.String())
	}
	var r model.ScanResult
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("output is not a scan JSON document: %v\n%s", err, out.String())
	}
	if r.Status != model.ScanComplete {
		t.Fatalf("scan status %s: %s", r.Status, r.Error)
	}
	return &r, el
}

// only returns the one endpoint of a scan.
func only(t *testing.T, r *model.ScanResult) model.EndpointResult {
	t.Helper()
	if len(r.Endpoints) != 1 {
		var eps []string
		for _, e := range r.Endpoints {
			eps = append(eps, e.Observation.Endpoint.ID())
		}
		t.Fatalf("%d endpoints %v, want 1 (notes %+v)", len(r.Endpoints), eps, r.Discovery)
	}
	e := r.Endpoints[0]
	if e.Observation.Status != model.StatusOK {
		t.Fatalf("endpoint status %s: %s", e.Observation.Status, e.Observation.Error)
	}
	return e
}

// pki is a private CA and one RSA leaf it issued for every name and address of the tests.
type pki struct {
	caFile, certFile, keyFile string // PEM files; certFile holds the leaf then the CA
	leafOnly                  string // PEM of the leaf alone
	leaf, ca                  *x509.Certificate
}

var testNames = []string{"chat.realtest.test", "mx.realtest.test", "imap.realtest.test", "www.realtest.test"}

func newPKI(t *testing.T, dir string, ips ...string) *pki {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Truncate(time.Second)
	caT := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Rampart Realtest CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(1, 0, 0), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caT, caT, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	lt := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: testNames[0]},
		DNSNames: testNames, NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(0, 3, 0),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment}
	for _, ip := range ips {
		lt.IPAddresses = append(lt.IPAddresses, net.ParseIP(ip))
	}
	der, err := x509.CreateCertificate(rand.Reader, lt, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	leafPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	p := &pki{caFile: filepath.Join(dir, "ca.pem"), certFile: filepath.Join(dir, "chain.pem"),
		keyFile: filepath.Join(dir, "key.pem"), leafOnly: filepath.Join(dir, "leaf.pem"), leaf: leaf, ca: ca}
	writeFile(t, p.caFile, string(caPEM), 0o644)
	writeFile(t, p.certFile, string(leafPEM)+string(caPEM), 0o644)
	writeFile(t, p.leafOnly, string(leafPEM), 0o644)
	writeFile(t, p.keyFile, string(keyPEM), 0o600)
	return p
}

// checkChain asserts the certificate facts of an endpoint served the leaf then the CA.
func (p *pki) checkChain(t *testing.T, c *model.CertFacts, name string) {
	t.Helper()
	if c == nil || len(c.Chain) != 2 {
		t.Fatalf("certificate facts = %+v, want a chain of 2", c)
	}
	l, a := c.Chain[0], c.Chain[1]
	if l.KeyType != "RSA" || l.KeyBits != 2048 || l.IsCA || l.SelfSigned || !slices.Equal(l.DNSNames, testNames) ||
		!l.NotAfter.Equal(p.leaf.NotAfter) || !strings.Contains(l.Subject, testNames[0]) || !strings.Contains(l.Issuer, "Rampart Realtest CA") {
		t.Errorf("leaf = %+v", l)
	}
	if a.KeyType != "ECDSA" || a.KeyBits != 256 || !a.IsCA || !a.SelfSigned || !strings.Contains(a.Subject, "Rampart Realtest CA") {
		t.Errorf("CA = %+v", a)
	}
	if !c.Trusted || c.TrustError != "" || !c.NameMatches || c.NameChecked != name || !c.ChainOrdered || !c.ChainComplete || len(c.ChainIssues) != 0 {
		t.Errorf("chain verdicts: trusted=%v (%q) name %q matches=%v (%q) ordered=%v complete=%v issues=%v",
			c.Trusted, c.TrustError, c.NameChecked, c.NameMatches, c.NameError, c.ChainOrdered, c.ChainComplete, c.ChainIssues)
	}
}

func writeFile(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
}

// serverDir is a temporary directory the servers' unprivileged users can traverse.
func serverDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{dir, filepath.Dir(dir)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// truth is the configured behaviour of a server.
type truth struct {
	suites     map[string][]string // "TLS 1.2" → OpenSSL names in the server's order
	preference string              // "server" for every version with ≥ 2 suites
	prefs      map[string]string   // per version, overriding preference
	groups     []string            // as a set
	groupsVer  string
}

// checkEngine asserts the engine's facts equal the truth exactly: every other version refused.
func checkEngine(t *testing.T, f *model.TLSEngineFacts, want truth) {
	t.Helper()
	if f == nil {
		t.Fatal("no engine facts")
	}
	seen := map[string]bool{}
	for _, ev := range f.Versions {
		seen[ev.Version] = true
		w, ok := want.suites[ev.Version]
		if ev.Supported != ok || ev.Error != "" || ev.KeyExchangeError != "" {
			t.Errorf("%s: supported=%v error=%q kx error=%q, want supported=%v", ev.Version, ev.Supported, ev.Error, ev.KeyExchangeError, ok)
		}
		var got []string
		for _, s := range ev.Suites {
			got = append(got, s.OpenSSLName)
		}
		if !slices.Equal(got, w) {
			t.Errorf("%s suites = %v, want %v", ev.Version, got, w)
		}
		wp, ok := want.prefs[ev.Version]
		if !ok {
			wp = want.preference
		}
		if len(w) >= 2 && ev.Preference != wp {
			t.Errorf("%s preference = %q, want %q", ev.Version, ev.Preference, wp)
		}
	}
	for v := range want.suites {
		if !seen[v] {
			t.Errorf("engine did not report %s", v)
		}
	}
	var gs []string
	for _, g := range f.Groups {
		gs = append(gs, g.Name)
	}
	if !slices.Equal(slices.Sorted(slices.Values(gs)), slices.Sorted(slices.Values(want.groups))) || f.GroupsVersion != want.groupsVer || f.GroupsError != "" {
		t.Errorf("groups = %v via %q (error %q), want %v via %q", gs, f.GroupsVersion, f.GroupsError, want.groups, want.groupsVer)
	}
}

// compareSSLScan checks sslscan saw the same versions, suites and groups as the engine.
func compareSSLScan(t *testing.T, f *model.TLSEngineFacts, s testenv.SSLScan) {
	t.Helper()
	for _, ev := range f.Versions {
		if ev.Version == "SSLv2" || ev.Version == "SSLv3" {
			continue // Debian's sslscan links an OpenSSL without them and reports them disabled
		}
		if s.Protocols[ev.Version] != ev.Supported {
			t.Errorf("%s: rampart supported=%v, sslscan %v", ev.Version, ev.Supported, s.Protocols[ev.Version])
		}
		var ids []uint16
		for _, su := range ev.Suites {
			ids = append(ids, su.ID)
		}
		if !slices.Equal(slices.Sorted(slices.Values(ids)), slices.Sorted(slices.Values(s.Suites[ev.Version]))) {
			t.Errorf("%s: rampart suites %04x, sslscan %04x", ev.Version, ids, s.Suites[ev.Version])
		}
	}
	var ours []uint16
	for _, g := range f.Groups {
		ours = append(ours, g.ID)
	}
	if sg := s.Groups[f.GroupsVersion]; !slices.Equal(slices.Sorted(slices.Values(ours)), slices.Sorted(slices.Values(sg))) {
		t.Errorf("groups via %s: rampart %04x, sslscan %04x", f.GroupsVersion, ours, sg)
	}
}

// ruleIDs lists the rule IDs of an endpoint's findings, sorted.
func ruleIDs(e model.EndpointResult) []string {
	var ids []string
	for _, f := range e.Findings {
		ids = append(ids, f.RuleID)
	}
	slices.Sort(ids)
	return ids
}

// checkFindings asserts the endpoint raised exactly the wanted rules.
func checkFindings(t *testing.T, e model.EndpointResult, want ...string) {
	t.Helper()
	slices.Sort(want)
	if got := ruleIDs(e); !slices.Equal(got, want) {
		for _, f := range e.Findings {
			t.Logf("finding %s (%s): %s", f.RuleID, f.Severity, f.Message)
		}
		t.Errorf("findings = %v, want %v", got, want)
	}
}

// nameServer answers A queries for names from a map (NXDOMAIN for anything else) on a UDP
// and a TCP listener at addr, and returns the address to pass to --resolver.
func nameServer(t *testing.T, host string, names map[string]string) string {
	t.Helper()
	h := dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(q)
		m.Authoritative = true
		m.Rcode = dns.RcodeNameError
		if len(q.Question) == 1 {
			qn := strings.ToLower(strings.TrimSuffix(q.Question[0].Name, "."))
			if ip, ok := names[qn]; ok {
				m.Rcode = dns.RcodeSuccess
				if q.Question[0].Qtype == dns.TypeA {
					m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: q.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: net.ParseIP(ip)})
				}
			}
		}
		_ = w.WriteMsg(m)
	})
	// The UDP port picked by the kernel may be taken for TCP: try a few.
	var pc net.PacketConn
	var ln net.Listener
	var port int
	for try := 0; ln == nil; try++ {
		var err error
		if pc, err = net.ListenPacket("udp", net.JoinHostPort(host, "0")); err != nil {
			t.Fatal(err)
		}
		port = pc.LocalAddr().(*net.UDPAddr).Port
		if ln, err = net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port))); err != nil {
			_ = pc.Close()
			if try == 20 {
				t.Fatal(err)
			}
		}
	}
	udp := &dns.Server{PacketConn: pc, Handler: h}
	tcp := &dns.Server{Listener: ln, Handler: h}
	go func() { _ = udp.ActivateAndServe() }()
	go func() { _ = tcp.ActivateAndServe() }()
	t.Cleanup(func() { _ = udp.Shutdown(); _ = tcp.Shutdown() })
	return net.JoinHostPort(host, strconv.Itoa(port))
}

// costs summarises where an endpoint's audit spent its connections and time.
func costs(o model.Observation) string {
	s := fmt.Sprintf("endpoint %v", o.Duration.Round(time.Millisecond))
	if o.TLS != nil && o.TLS.Engine != nil {
		s += fmt.Sprintf(", engine %d conns %v", o.TLS.Engine.Connections, o.TLS.Engine.Duration.Round(time.Millisecond))
	}
	if o.TLS != nil && o.TLS.Features != nil {
		s += fmt.Sprintf(", inspection %d conns", o.TLS.Features.Connections)
	}
	if o.Vulns != nil {
		s += fmt.Sprintf(", vuln probes %d conns %v", o.Vulns.Connections, o.Vulns.Duration.Round(time.Millisecond))
	}
	if o.HTTP != nil {
		s += fmt.Sprintf(", HTTP %d conns", o.HTTP.Connections)
	}
	return s
}
