package discover

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rampart-scan/rampart/internal/testenv"
	"github.com/rampart-scan/rampart/model"
)

// labZone is served by a real knot: SRV, MX (one to an alias), CNAME, TLSA, CAA, TXT and a
// wildcard next to a real name.
const labZone = `$ORIGIN lab.test.
$TTL 300
@ SOA ns.lab.test. hostmaster.lab.test. 1 3600 600 86400 300
@ NS ns
ns A 127.0.0.1
@ A 127.0.10.1
@ MX 10 mx
@ MX 20 mx2
@ CAA 0 issue "ca.example"
@ CAA 128 iodef "mailto:sec@lab.test"
mx A 127.0.10.25
mx2 CNAME mx
_25._tcp.mx TLSA 3 1 1 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff
_xmpp-client._tcp SRV 5 10 5222 xmpp
_xmpps-client._tcp SRV 0 10 5223 xmpp
_xmpp-server._tcp SRV 0 0 0 .
_submissions._tcp SRV 0 1 465 mail
mail CNAME mx
xmpp A 127.0.10.7
xmpp AAAA fd00::10:7
_mta-sts TXT "v=STSv1; id=1"
_smtp._tls TXT "v=TLSRPTv1; rua=mailto:r@lab.test"
*.wild A 127.0.10.99
real.wild A 127.0.10.98
`

const signedZone = `$ORIGIN signed.test.
$TTL 300
@ SOA ns.signed.test. hostmaster.signed.test. 1 3600 600 86400 300
@ NS ns
ns A 127.0.0.1
@ A 127.0.11.1
@ MX 10 mx
mx A 127.0.11.25
_25._tcp.mx TLSA 3 1 1 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff
`

// freePort finds a port free for both UDP and TCP on ip.
func freePort(t *testing.T, ip string) int {
	t.Helper()
	for i := 0; i < 50; i++ {
		pc, err := net.ListenPacket("udp", ip+":0")
		if err != nil {
			t.Fatal(err)
		}
		port := pc.LocalAddr().(*net.UDPAddr).Port
		ln, err := net.Listen("tcp", fmt.Sprintf("%s:%d", ip, port))
		pc.Close()
		if err == nil {
			ln.Close()
			return port
		}
	}
	t.Fatal("no free port")
	return 0
}

// startProcess runs a server in the foreground and stops it when the test ends.
func startProcess(t *testing.T, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	log, err := os.Create(filepath.Join(t.TempDir(), filepath.Base(name)+".log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			b, _ := os.ReadFile(log.Name())
			t.Logf("%s log:\n%s", name, b)
		}
	})
}

// waitFor asks addr until a question of qtype for name has an answer of that type.
func waitFor(t *testing.T, addr, name string, qtype uint16, dnssec bool) *dns.Msg {
	t.Helper()
	c := &dns.Client{Timeout: 300 * time.Millisecond}
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		m := new(dns.Msg)
		m.SetQuestion(name, qtype)
		m.SetEdns0(1232, dnssec)
		if r, _, err := c.Exchange(m, addr); err == nil {
			for _, rr := range r.Answer {
				if rr.Header().Rrtype == qtype {
					return r
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s never answered %s %s", addr, dns.TypeToString[qtype], name)
	return nil
}

// parentZone delegates lab.test and signed.test; the DS line is added once knot has made the
// key of signed.test.
const parentZone = `$ORIGIN test.
$TTL 300
@ SOA ns.test. hostmaster.test. %d 3600 600 86400 300
@ NS ns
ns A 127.0.0.1
lab NS ns.lab
signed NS ns.signed
ns.lab A 127.0.0.1
ns.signed A 127.0.0.1
%s
`

// knotServer is a running knotd.
type knotServer struct {
	Addr string
	dir  string
	conf string
}

// setParentDS publishes ds in the test. zone and reloads it.
func (k *knotServer) setParentDS(t *testing.T, ds string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(k.dir, "test.zone"), []byte(fmt.Sprintf(parentZone, 2, ds)), 0o644); err != nil {
		t.Fatal(err)
	}
	knotc := testenv.LookPath(t, "knotc", "knot")
	if out, err := exec.Command(knotc, "-c", k.conf, "zone-reload", "test.").CombinedOutput(); err != nil {
		t.Fatalf("knotc zone-reload: %v: %s", err, out)
	}
	waitFor(t, k.Addr, "signed.test.", dns.TypeDS, false)
}

// startKnot serves test. (a parent), lab.test (plain) and signed.test (signed by knot itself)
// on ip.
func startKnot(t *testing.T, ip string) *knotServer {
	knotd := testenv.LookPath(t, "knotd", "knot")
	dir := t.TempDir()
	port := freePort(t, ip)
	for name, z := range map[string]string{"lab.test": labZone, "signed.test": signedZone, "test": fmt.Sprintf(parentZone, 1, "")} {
		if err := os.WriteFile(filepath.Join(dir, name+".zone"), []byte(z), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	conf := fmt.Sprintf(`server:
    rundir: "%[1]s"
    listen: %[2]s@%[3]d
control:
    listen: "%[1]s/knot.sock"
log:
  - target: stderr
    any: info
database:
    storage: "%[1]s"
policy:
  - id: test
    algorithm: ecdsap256sha256
    nsec3: off
template:
  - id: default
    storage: "%[1]s"
    file: "%%s.zone"
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none
zone:
  - domain: test
  - domain: lab.test
  - domain: signed.test
    dnssec-signing: on
    dnssec-policy: test
`, dir, ip, port)
	confPath := filepath.Join(dir, "knot.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	startProcess(t, knotd, "-c", confPath)
	addr := fmt.Sprintf("%s:%d", ip, port)
	waitFor(t, addr, "lab.test.", dns.TypeSOA, false)
	return &knotServer{Addr: addr, dir: dir, conf: confPath}
}

func TestRealKnotDiscovery(t *testing.T) {
	addr := startKnot(t, "127.0.0.71").Addr
	d := newTest(t, Options{
		Resolvers: []string{"udp:" + addr},
		Wordlist:  []string{"xmpp", "mx", "real.wild", "foo.wild", "bar.wild", "nothing"},
		Timeout:   time.Second,
	})
	res, err := d.Discover(context.Background(), []model.Target{target("lab.test")})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"https://lab.test@127.0.10.1:443",
		"matrix://lab.test@127.0.10.1:8448",
		"smtp://mx.lab.test@127.0.10.25:25",
		"smtp://mx2.lab.test@127.0.10.25:25",
		"submissions://mail.lab.test@127.0.10.25:465",
		"xmpp-client://lab.test@127.0.10.7:5222",
		"xmpp-client://lab.test@[fd00::10:7]:5222",
		"xmpps-client://lab.test@127.0.10.7:5223",
		"xmpps-client://lab.test@[fd00::10:7]:5223",
	}
	if got := ids(res.Endpoints); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("endpoints:\n%s\nwant:\n%s\nnotes: %+v", strings.Join(got, "\n"), strings.Join(want, "\n"), res.Notes)
	}
	var hosts []string
	for _, h := range res.Hosts {
		hosts = append(hosts, h.Name)
	}
	if strings.Join(hosts, " ") != "mx.lab.test real.wild.lab.test xmpp.lab.test" {
		t.Errorf("brute force hosts %q", hosts)
	}
	obs := res.Domains[0]
	if obs.CAA == nil || len(obs.CAA.Records) != 2 || obs.CAA.Found != "lab.test" {
		t.Errorf("CAA %+v", obs.CAA)
	}
	if len(obs.MX) != 2 || obs.MX[1].Preference != 20 || obs.MX[1].Host != "mx2.lab.test" {
		t.Errorf("MX %+v", obs.MX)
	}
	if len(obs.TLSA) != 1 || obs.TLSA[0].Owner != "_25._tcp.mx.lab.test" || len(obs.TLSA[0].Records) != 1 {
		t.Errorf("TLSA %+v", obs.TLSA)
	}
	var srvPorts []string
	var cnameTarget bool
	for _, s := range obs.SRV {
		srvPorts = append(srvPorts, fmt.Sprintf("%s:%d/%d/%d", s.Target, s.Port, s.Priority, s.Weight))
		if s.Owner == "_submissions._tcp.lab.test" && s.TargetCNAME == "mx.lab.test" {
			cnameTarget = true
		}
	}
	if !contains(srvPorts, "xmpp.lab.test:5222/5/10") || !contains(srvPorts, ".:0/0/0") || !cnameTarget {
		t.Errorf("SRV %+v", obs.SRV)
	}
	if obs.TLSRPT == nil || !obs.TLSRPT.Valid {
		t.Errorf("TLS-RPT %+v", obs.TLSRPT)
	}
	if obs.MTASTS == nil || obs.MTASTS.Record == "" || obs.MTASTS.Fetched {
		t.Errorf("MTA-STS %+v", obs.MTASTS)
	}
	if len(obs.Wildcards) == 0 || obs.Wildcards[0].Level != "wild.lab.test" {
		t.Errorf("wildcards %+v", obs.Wildcards)
	}
	if obs.DNSSEC == nil || obs.DNSSEC.DNSKEY || obs.DNSSEC.Validated {
		t.Errorf("DNSSEC of an unsigned zone %+v", obs.DNSSEC)
	}
}

// TestRealUnboundValidates runs knot signing signed.test and unbound validating it with the
// zone's key as trust anchor: the AD bit path of DNSSEC and DANE facts.
func TestRealUnboundValidates(t *testing.T) {
	unbound := testenv.LookPath(t, "unbound", "unbound")
	ks := startKnot(t, "127.0.0.72")
	knot := ks.Addr
	keys := waitFor(t, knot, "signed.test.", dns.TypeDNSKEY, true)
	var anchor, ds string
	for _, rr := range keys.Answer {
		if k, ok := rr.(*dns.DNSKEY); ok && k.Flags&dns.SEP != 0 {
			anchor = strings.ReplaceAll(k.String(), "\t", " ")
			ds = k.ToDS(dns.SHA256).String()
		}
	}
	if anchor == "" {
		t.Fatalf("no KSK in %v", keys.Answer)
	}
	ks.setParentDS(t, ds)
	// Wait until the signed data itself is served.
	waitFor(t, knot, "_25._tcp.mx.signed.test.", dns.TypeRRSIG, true)

	dir := t.TempDir()
	ip := "127.0.0.73"
	port := freePort(t, ip)
	knotIP, knotPort, _ := net.SplitHostPort(knot)
	conf := fmt.Sprintf(`server:
    interface: %[1]s@%[2]d
    port: %[2]d
    do-daemonize: no
    username: ""
    chroot: ""
    directory: "%[3]s"
    pidfile: "%[3]s/unbound.pid"
    use-syslog: no
    logfile: ""
    verbosity: 1
    do-not-query-localhost: no
    access-control: 127.0.0.0/8 allow
    module-config: "validator iterator"
    local-zone: "test." nodefault
    domain-insecure: "lab.test"
    trust-anchor: "%[4]s"
    val-log-level: 2
remote-control:
    control-enable: no
stub-zone:
    name: "test"
    stub-addr: %[5]s@%[6]s
stub-zone:
    name: "signed.test"
    stub-addr: %[5]s@%[6]s
stub-zone:
    name: "lab.test"
    stub-addr: %[5]s@%[6]s
`, ip, port, dir, anchor, knotIP, knotPort)
	confPath := filepath.Join(dir, "unbound.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	startProcess(t, unbound, "-d", "-c", confPath)
	resolver := fmt.Sprintf("%s:%d", ip, port)
	waitFor(t, resolver, "signed.test.", dns.TypeSOA, true)

	d := newTest(t, Options{Resolvers: []string{"udp:" + resolver}, Timeout: 2 * time.Second, NoFallback: true})
	start := time.Now()
	res, err := d.Discover(context.Background(), []model.Target{target("signed.test"), target("lab.test")})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("discovery through unbound took %v", time.Since(start))
	byName := map[string]model.DomainObservation{}
	for _, o := range res.Domains {
		byName[o.Name] = o
	}
	s := byName["signed.test"].DNSSEC
	if s == nil || !s.DNSKEY || !s.DS || !s.Validated || s.Zone != "signed.test" || s.Error != "" {
		t.Errorf("signed.test DNSSEC %+v", s)
	}
	if tl := byName["signed.test"].TLSA; len(tl) != 1 || !tl[0].Secure {
		t.Errorf("signed.test TLSA %+v", tl)
	}
	u := byName["lab.test"].DNSSEC
	if u == nil || u.DNSKEY || u.DS || u.Validated || u.Error != "" {
		t.Errorf("lab.test DNSSEC %+v", u)
	}
	if tl := byName["lab.test"].TLSA; len(tl) != 1 || tl[0].Secure {
		t.Errorf("lab.test TLSA (unsigned zone) %+v", tl)
	}
	found := false
	for _, e := range res.Endpoints {
		if e.ID() == "smtp://mx.signed.test@127.0.11.25:25" {
			found = true
		}
	}
	if !found {
		t.Errorf("no SMTP endpoint through unbound: %v %+v", ids(res.Endpoints), res.Notes)
	}
}
