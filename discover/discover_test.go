package discover

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rampart-scan/rampart/model"
)

const testZone = `
example.test. 300 IN SOA ns.example.test. hostmaster.example.test. 1 3600 600 86400 300
example.test. 300 IN A 127.0.0.1
example.test. 300 IN MX 10 mx.example.test.
example.test. 300 IN MX 20 mx.outside.test.
example.test. 300 IN CAA 0 issue "letsencrypt.org"
example.test. 300 IN CAA 128 iodef "mailto:security@example.test"
_xmpp-client._tcp.example.test. 300 IN SRV 0 5 5222 xmpp.example.test.
_xmpps-client._tcp.example.test. 300 IN SRV 0 5 5223 xmpp.example.test.
_xmpp-server._tcp.example.test. 300 IN SRV 0 0 0 .
_submission._tcp.example.test. 300 IN SRV 0 1 587 smtp.example.test.
_imaps._tcp.example.test. 300 IN SRV 0 1 993 imap.example.test.
_sips._tcp.example.test. 300 IN SRV 0 1 0 sip.example.test.
_pop3s._tcp.example.test. 300 IN SRV 0 1 995 bad\!host.example.test.
_matrix-fed._tcp.example.test. 300 IN SRV 10 0 8448 matrix.example.test.
xmpp.example.test. 300 IN A 127.0.0.7
xmpp.example.test. 300 IN AAAA ::7
mx.example.test. 300 IN A 127.0.0.25
smtp.example.test. 300 IN CNAME mx.example.test.
imap.example.test. 300 IN CNAME imap.other.test.
matrix.example.test. 300 IN A 127.0.0.8
sip.example.test. 300 IN A 127.0.0.9
_mta-sts.example.test. 300 IN TXT "v=STSv1; id=20240101"
_smtp._tls.example.test. 300 IN TXT "v=TLSRPTv1; rua=mailto:tlsrpt@example.test"
_25._tcp.mx.example.test. 300 IN TLSA 3 1 1 0011223344556677889900112233445566778899001122334455667788990011
loop.example.test. 300 IN CNAME loop2.example.test.
loop2.example.test. 300 IN CNAME loop.example.test.
dangle.example.test. 300 IN CNAME gone.example.test.
mx.outside.test. 300 IN A 127.0.0.26
imap.other.test. 300 IN A 127.0.0.27
`

func target(raw string) model.Target {
	t := model.Target{Raw: raw, Source: "args:1", Kind: model.TargetDomain, Host: raw}
	if h, p, ok := strings.Cut(raw, ":"); ok {
		var port int
		fmt.Sscanf(p, "%d", &port)
		t.Host, t.Port, t.Kind = h, uint16(port), model.TargetHost
	}
	return t
}

// fakeHTTP answers GETs from a map of URL → (status, body); everything else is an error.
type fakeHTTP map[string]struct {
	status int
	body   string
}

func (f fakeHTTP) Do(req *http.Request) (*http.Response, error) {
	r, ok := f[req.URL.String()]
	if !ok {
		return nil, fmt.Errorf("connection refused (fake)")
	}
	return &http.Response{StatusCode: r.status, Body: io.NopCloser(strings.NewReader(r.body)), Header: http.Header{}}, nil
}

func newTest(t *testing.T, o Options) *Discoverer {
	t.Helper()
	if o.Timeout == 0 {
		o.Timeout = 500 * time.Millisecond
	}
	d, err := New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return d
}

func ids(es []model.Endpoint) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.ID())
	}
	sort.Strings(out)
	return out
}

func findNote(res *Result, kind, target, substr string) bool {
	for _, n := range res.Notes {
		if n.Kind == kind && (target == "" || n.Target == target) && strings.Contains(n.Detail, substr) {
			return true
		}
	}
	return false
}

func TestDiscoverDomainProfiles(t *testing.T) {
	z := newZoneServer(t, "127.0.0.53", testZone)
	http := fakeHTTP{
		"https://mta-sts.example.test/.well-known/mta-sts.txt": {200, "version: STSv1\r\nmode: testing\r\nmx: *.example.test\r\nmax_age: 86400\r\n"},
	}
	d := newTest(t, Options{Resolvers: []string{z.Resolver()}, HTTP: http})
	res, err := d.Discover(context.Background(), []model.Target{target("example.test")})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"https://example.test@127.0.0.1:443",
		"matrix://example.test@127.0.0.8:8448",
		"smtp://mx.example.test@127.0.0.25:25",
		"submission://smtp.example.test@127.0.0.25:587",
		"xmpp-client://example.test@127.0.0.7:5222",
		"xmpp-client://example.test@[::7]:5222",
		"xmpps-client://example.test@127.0.0.7:5223",
		"xmpps-client://example.test@[::7]:5223",
	}
	if got := ids(res.Endpoints); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("endpoints:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, e := range res.Endpoints {
		if e.Source != "args:1" {
			t.Errorf("%s: source %q", e.ID(), e.Source)
		}
		switch e.ID() {
		case "xmpp-client://example.test@127.0.0.7:5222":
			wantOrigin := []string{"target example.test (args:1)", "SRV _xmpp-client._tcp.example.test → xmpp.example.test:5222 (prio 0 weight 5)", "A xmpp.example.test → 127.0.0.7"}
			if strings.Join(e.Origin, "|") != strings.Join(wantOrigin, "|") {
				t.Errorf("origin %q", e.Origin)
			}
			if !contains(e.Tags, "dns-host=xmpp.example.test") {
				t.Errorf("tags %q", e.Tags)
			}
		case "submission://smtp.example.test@127.0.0.25:587":
			if !contains(e.Origin, "CNAME smtp.example.test → mx.example.test") || !contains(e.Origin, "A mx.example.test → 127.0.0.25") {
				t.Errorf("origin %q", e.Origin)
			}
		}
	}
	for _, c := range []struct{ kind, target, substr string }{
		{"skipped", "mx.outside.test", "outside the scope"},
		{"skipped", "imap.example.test", "CNAME imap.example.test → imap.other.test leads outside the scope"},
		{"empty", "_xmpp-server._tcp.example.test", "decidedly not available"},
		{"error", "sip.example.test", "port 0"},
		{"error", "bad!host.example.test", "not a valid host name"},
	} {
		if !findNote(res, c.kind, c.target, c.substr) {
			t.Errorf("missing note %s %s %q; notes: %+v", c.kind, c.target, c.substr, res.Notes)
		}
	}
	// The server group has a "." record: no fallback on 5269.
	for _, e := range res.Endpoints {
		if e.Service == "xmpp-server" {
			t.Errorf("fallback emitted despite a \".\" SRV: %s", e.ID())
		}
	}
	if len(res.Domains) != 1 {
		t.Fatalf("domains: %d", len(res.Domains))
	}
	obs := res.Domains[0]
	if obs.CAA == nil || obs.CAA.Found != "example.test" || len(obs.CAA.Records) != 2 || obs.CAA.Records[1].Tag != "iodef" || obs.CAA.Records[1].Flag != 128 {
		t.Errorf("CAA %+v", obs.CAA)
	}
	if len(obs.MX) != 2 || obs.MX[0].Preference != 10 || obs.MX[0].Host != "mx.example.test" {
		t.Errorf("MX %+v", obs.MX)
	}
	if m := obs.MTASTS; m == nil || !m.Fetched || m.Mode != "testing" || m.MaxAge != 86400 || m.ID != "20240101" || strings.Join(m.Uncovered, ",") != "mx.outside.test" || m.PolicyError != "" {
		t.Errorf("MTA-STS %+v", obs.MTASTS)
	}
	if r := obs.TLSRPT; r == nil || !r.Valid || len(r.RUA) != 1 {
		t.Errorf("TLS-RPT %+v", obs.TLSRPT)
	}
	if len(obs.TLSA) != 1 || obs.TLSA[0].Owner != "_25._tcp.mx.example.test" || obs.TLSA[0].Records[0].Usage != 3 || obs.TLSA[0].Secure {
		t.Errorf("TLSA %+v", obs.TLSA)
	}
	var srvCNAME bool
	for _, s := range obs.SRV {
		if s.Owner == "_submission._tcp.example.test" && s.TargetCNAME == "mx.example.test" {
			srvCNAME = true
		}
	}
	if !srvCNAME {
		t.Errorf("SRV target CNAME not recorded: %+v", obs.SRV)
	}
	if obs.DNSSEC == nil || obs.DNSSEC.Zone != "example.test" || obs.DNSSEC.DNSKEY || obs.DNSSEC.Validated {
		t.Errorf("DNSSEC %+v", obs.DNSSEC)
	}
	var buf bytes.Buffer
	if err := WriteText(&buf, res); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"xmpp-client", "SRV _xmpp-client._tcp.example.test → xmpp.example.test:5222", "skipped", "CAA         at example.test", "MTA-STS     mode testing"} {
		if !strings.Contains(buf.String(), s) {
			t.Errorf("text output lacks %q:\n%s", s, buf.String())
		}
	}
	if _, err := json.Marshal(res); err != nil {
		t.Errorf("JSON: %v", err)
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func TestScopeWidened(t *testing.T) {
	z := newZoneServer(t, "127.0.0.54", testZone)
	d := newTest(t, Options{Resolvers: []string{z.Resolver()}, Scope: []string{"outside.test", "127.0.0.27/32"}, NoHygiene: true})
	res, err := d.Discover(context.Background(), []model.Target{target("example.test")})
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(ids(res.Endpoints), " ")
	for _, w := range []string{"smtp://mx.outside.test@127.0.0.26:25", "imaps://imap.example.test@127.0.0.27:993"} {
		if !strings.Contains(got, w) {
			t.Errorf("widened scope lacks %s: %s", w, got)
		}
	}
}

func TestTargetsHostIPCIDR(t *testing.T) {
	z := newZoneServer(t, "127.0.0.55", testZone)
	d := newTest(t, Options{Resolvers: []string{z.Resolver()}, NoHygiene: true})
	ts := []model.Target{
		{Raw: "xmpp.example.test:5222", Source: "args:1", Kind: model.TargetHost, Host: "xmpp.example.test", Port: 5222},
		{Raw: "smtp://mx.example.test", Source: "args:2", Kind: model.TargetHost, Host: "mx.example.test", Service: "smtp"},
		{Raw: "192.0.2.1:993", Source: "args:3", Kind: model.TargetIP, Addr: netip.MustParseAddr("192.0.2.1"), Port: 993},
		{Raw: "198.51.100.0/30", Source: "args:4", Kind: model.TargetCIDR, Prefix: netip.MustParsePrefix("198.51.100.0/30"), Service: "imaps"},
		{Raw: "10.0.0.0/15", Source: "args:5", Kind: model.TargetCIDR, Prefix: netip.MustParsePrefix("10.0.0.0/15")},
		{Raw: "loop.example.test:443", Source: "args:6", Kind: model.TargetHost, Host: "loop.example.test", Port: 443},
		{Raw: "dangle.example.test:443", Source: "args:7", Kind: model.TargetHost, Host: "dangle.example.test", Port: 443},
		{Raw: "nx.example.test:443", Source: "args:8", Kind: model.TargetHost, Host: "nx.example.test", Port: 443},
	}
	res, err := d.Discover(context.Background(), ts)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"imaps://198.51.100.0@198.51.100.0:993", "imaps://198.51.100.1@198.51.100.1:993",
		"imaps://198.51.100.2@198.51.100.2:993", "imaps://198.51.100.3@198.51.100.3:993",
		"imaps://192.0.2.1@192.0.2.1:993",
		"smtp://mx.example.test@127.0.0.25:25",
		"xmpp-client://xmpp.example.test@127.0.0.7:5222", "xmpp-client://xmpp.example.test@[::7]:5222",
	}
	sort.Strings(want)
	if got := ids(res.Endpoints); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("endpoints:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, c := range []struct{ kind, target, substr string }{
		{"error", "10.0.0.0/15", "larger than /16"},
		{"error", "loop.example.test", "CNAME loop"},
		{"error", "dangle.example.test", "dangles"},
		{"empty", "nx.example.test", "NXDOMAIN"},
	} {
		if !findNote(res, c.kind, c.target, c.substr) {
			t.Errorf("missing note %s %s %q; notes: %+v", c.kind, c.target, c.substr, res.Notes)
		}
	}
}

// An NXDOMAIN is an answer: one packet, never retried (dnsx's library retries it MaxRetries
// times).
func TestNXDOMAINNotRetried(t *testing.T) {
	z := newZoneServer(t, "127.0.0.56", testZone)
	d := newTest(t, Options{Resolvers: []string{z.Resolver()}, Retries: 3, NoHygiene: true})
	if _, err := d.Discover(context.Background(), []model.Target{target("nx.example.test:443")}); err != nil {
		t.Fatal(err)
	}
	if n := z.QueriesFor("A", "nx.example.test"); n != 1 {
		t.Errorf("A nx.example.test asked %d times, want 1", n)
	}
}

func TestSlowServerEndsInErrors(t *testing.T) {
	silent := silentServer(t, "127.0.0.57")
	d := newTest(t, Options{Resolvers: []string{silent}, Timeout: 100 * time.Millisecond, Retries: 1})
	start := time.Now()
	res, err := d.Discover(context.Background(), []model.Target{target("example.test")})
	if err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el > 10*time.Second {
		t.Errorf("took %v", el)
	}
	if len(res.Endpoints) != 0 || !findNote(res, "error", "", "timeout") {
		t.Errorf("want timeout errors, got %+v", res.Notes)
	}
	// Cancellation ends a discovery promptly.
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	d2 := newTest(t, Options{Resolvers: []string{silent}, Timeout: 2 * time.Second, Retries: 3})
	start = time.Now()
	_, err = d2.Discover(ctx, []model.Target{target("example.test")})
	if err == nil {
		t.Error("cancelled discovery returned no error")
	}
	if el := time.Since(start); el > 3*time.Second {
		t.Errorf("cancellation took %v", el)
	}
}

func TestHostileAnswers(t *testing.T) {
	z := newZoneServer(t, "127.0.0.58", testZone)
	var many strings.Builder
	for i := 0; i < 600; i++ {
		fmt.Fprintf(&many, "many.example.test. 300 IN A 10.1.%d.%d\n", i/250, i%250)
	}
	for i := 0; i < 2000; i++ {
		fmt.Fprintf(&many, "huge.example.test. 300 IN A 10.2.%d.%d\n", i/250, i%250)
	}
	z.Add(many.String())
	z.Add("trunc.example.test. 300 IN A 127.0.1.1\nalwaystrunc.example.test. 300 IN A 127.0.1.2\nwrongq.example.test. 300 IN A 127.0.1.3")
	z.SetHook(func(w dns.ResponseWriter, req *dns.Msg) bool {
		q := req.Question[0]
		udp := w.LocalAddr().Network() == "udp"
		switch strings.ToLower(q.Name) {
		case "trunc.example.test.", "alwaystrunc.example.test.":
			if udp || q.Name == "alwaystrunc.example.test." {
				m := new(dns.Msg)
				m.SetReply(req)
				m.Truncated = true
				_ = w.WriteMsg(m)
				return true
			}
		case "wrongq.example.test.":
			m := new(dns.Msg)
			m.SetReply(req)
			m.Question[0].Name = "other.example.test."
			rr, _ := dns.NewRR("other.example.test. 1 IN A 192.0.2.66")
			m.Answer = []dns.RR{rr}
			_ = w.WriteMsg(m)
			return true
		}
		return false
	})
	d := newTest(t, Options{Resolvers: []string{z.Resolver()}, NoHygiene: true, Retries: 1})
	res, err := d.Discover(context.Background(), []model.Target{
		target("many.example.test:443"), target("huge.example.test:443"),
		target("trunc.example.test:443"), target("alwaystrunc.example.test:443"), target("wrongq.example.test:443"),
	})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range res.Endpoints {
		switch e.Name {
		case "many.example.test":
			n++
		case "trunc.example.test":
			if e.Addr.Addr().String() != "127.0.1.1" {
				t.Errorf("trunc: %s", e.ID())
			}
		case "huge.example.test", "alwaystrunc.example.test", "wrongq.example.test":
			t.Errorf("endpoint from a hostile answer: %s", e.ID())
		}
	}
	if n != 32 {
		t.Errorf("many: %d endpoints, want the cap of 32", n)
	}
	for _, c := range []struct{ target, substr string }{
		{"many.example.test", "dropped"},
		{"huge.example.test", "answer records"},
		{"alwaystrunc.example.test", ""},
		{"wrongq.example.test", "carries question"},
	} {
		if !findNote(res, "error", c.target, c.substr) {
			t.Errorf("missing error note for %s %q: %+v", c.target, c.substr, res.Notes)
		}
	}
	if !findNote(res, "skipped", "", "") && false {
		t.Log("unreachable")
	}
	var found bool
	for _, e := range res.Endpoints {
		if e.Name == "trunc.example.test" {
			found = true
		}
	}
	if !found {
		t.Errorf("a truncated UDP answer was not retried over TCP: %+v", res.Notes)
	}
}

func TestMatrixWellKnown(t *testing.T) {
	z := newZoneServer(t, "127.0.0.59", testZone+`
chat.test. 300 IN SOA ns.chat.test. h.chat.test. 1 3600 600 86400 300
chat.test. 300 IN A 127.0.2.1
synapse.chat.test. 300 IN A 127.0.2.2
fed.chat.test. 300 IN A 127.0.2.3
_matrix-fed._tcp.fed.chat.test. 300 IN SRV 0 0 8449 fed.chat.test.
`)
	cases := []struct {
		name string
		body string
		want string
	}{
		{"explicit port", `{"m.server":"synapse.chat.test:443"}`, "matrix://synapse.chat.test@127.0.2.2:443"},
		{"srv on delegated name", `{"m.server":"fed.chat.test"}`, "matrix://fed.chat.test@127.0.2.3:8449"},
		{"no delegation", ``, "matrix://chat.test@127.0.2.1:8448"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := fakeHTTP{}
			if c.body != "" {
				h["https://chat.test/.well-known/matrix/server"] = struct {
					status int
					body   string
				}{200, c.body}
			}
			d := newTest(t, Options{Resolvers: []string{z.Resolver()}, HTTP: h, NoHygiene: true})
			res, err := d.Discover(context.Background(), []model.Target{target("chat.test")})
			if err != nil {
				t.Fatal(err)
			}
			var ms []string
			for _, e := range res.Endpoints {
				if e.Service == "matrix" {
					ms = append(ms, e.ID())
				}
			}
			if strings.Join(ms, " ") != c.want {
				t.Errorf("matrix endpoints %q, want %q", ms, c.want)
			}
		})
	}
}

func TestBruteForceWildcard(t *testing.T) {
	z := newZoneServer(t, "127.0.0.60", `
wild.test. 300 IN SOA ns.wild.test. h.wild.test. 1 3600 600 86400 300
*.wild.test. 300 IN A 127.0.3.99
real.wild.test. 300 IN A 127.0.3.1
xmpp.wild.test. 300 IN A 127.0.3.99
alias.wild.test. 300 IN CNAME gone.elsewhere.test.
cdn.wild.test. 300 IN CNAME edge.cdn.test.
edge.cdn.test. 300 IN A 127.0.3.50
`)
	d := newTest(t, Options{Resolvers: []string{z.Resolver()}, Wordlist: []string{"real", "www", "xmpp", "alias", "cdn", "nothere.deeper"}, NoFallback: true})
	res, err := d.Discover(context.Background(), []model.Target{target("wild.test")})
	if err != nil {
		t.Fatal(err)
	}
	var hosts []string
	for _, h := range res.Hosts {
		hosts = append(hosts, h.Name)
	}
	if strings.Join(hosts, " ") != "real.wild.test" {
		t.Errorf("hosts %q, want only real.wild.test (www and xmpp are wildcard answers)", hosts)
	}
	if !findNote(res, "skipped", "cdn.wild.test", "CNAME cdn.wild.test → edge.cdn.test leads outside the scope") {
		t.Errorf("brute-forced alias out of scope not skipped: %+v", res.Notes)
	}
	obs := res.Domains[0]
	if len(obs.Wildcards) == 0 || obs.Wildcards[0].Level != "wild.test" || obs.Wildcards[0].Answers[0] != "127.0.3.99" {
		t.Errorf("wildcards %+v", obs.Wildcards)
	}
	var dangling bool
	for _, c := range obs.CNAMEs {
		if c.Name == "alias.wild.test" && c.Dangling {
			dangling = true
		}
	}
	if !dangling {
		t.Errorf("dangling CNAME found by brute force not recorded: %+v", obs.CNAMEs)
	}
}

func TestQueryRateLimit(t *testing.T) {
	z := newZoneServer(t, "127.0.0.61", testZone)
	var words []string
	for i := 0; i < 40; i++ {
		words = append(words, fmt.Sprintf("w%d", i))
	}
	d := newTest(t, Options{Resolvers: []string{z.Resolver()}, Wordlist: words, QueryRate: 100, NoHygiene: true, NoFallback: true})
	start := time.Now()
	res, err := d.Discover(context.Background(), []model.Target{target("example.test")})
	if err != nil {
		t.Fatal(err)
	}
	el := time.Since(start)
	got := z.Queries()
	if got != res.Queries {
		t.Errorf("server saw %d packets, discovery counted %d", got, res.Queries)
	}
	// burst 10, then 100/s: n packets need at least (n-10)/100 s.
	if min := time.Duration(float64(got-10)/100*float64(time.Second)) - 50*time.Millisecond; el < min {
		t.Errorf("%d packets in %v: faster than 100/s", got, el)
	}
}

func TestResolverDisagreement(t *testing.T) {
	z1 := newZoneServer(t, "127.0.0.62", testZone)
	z2 := newZoneServer(t, "127.0.0.63", strings.Replace(testZone, "xmpp.example.test. 300 IN A 127.0.0.7", "xmpp.example.test. 300 IN A 127.0.0.70", 1))
	d := newTest(t, Options{Resolvers: []string{z1.Resolver(), z2.Resolver()}})
	res, err := d.Discover(context.Background(), []model.Target{target("example.test")})
	if err != nil {
		t.Fatal(err)
	}
	ds := res.Domains[0].Disagreements
	if len(ds) != 1 || ds[0].Name != "xmpp.example.test" || ds[0].Type != "A" || len(ds[0].Answers) != 2 {
		t.Errorf("disagreements %+v", ds)
	}
}

func TestDNSSECAndAD(t *testing.T) {
	z := newZoneServer(t, "127.0.0.64", testZone+`
example.test. 300 IN DNSKEY 257 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==
example.test. 300 IN DS 12345 13 2 0011223344556677889900112233445566778899001122334455667788990011
`)
	z.SetADOnDO(true)
	d := newTest(t, Options{Resolvers: []string{z.Resolver()}, NoFallback: true})
	res, err := d.Discover(context.Background(), []model.Target{target("example.test")})
	if err != nil {
		t.Fatal(err)
	}
	s := res.Domains[0].DNSSEC
	if s == nil || !s.DNSKEY || !s.DS || !s.Validated || len(s.ValidatedBy) != 1 {
		t.Errorf("DNSSEC %+v", s)
	}
	if tl := res.Domains[0].TLSA; len(tl) != 1 || !tl[0].Secure {
		t.Errorf("TLSA %+v", tl)
	}
}

func TestNewRejectsBadInput(t *testing.T) {
	for _, o := range []Options{
		{Resolvers: []string{"udp:example.org:53"}},
		{Resolvers: []string{"127.0.0.1:0"}},
		{Resolvers: []string{"udp:"}},
		{Resolvers: []string{"127.0.0.1"}, Scope: []string{"not a domain"}},
		{ResolvConf: "/nonexistent/resolv.conf"},
	} {
		if _, err := New(o); err == nil {
			t.Errorf("New(%+v) accepted", o)
		}
	}
	for in, want := range map[string]string{"127.0.0.1": "udp:127.0.0.1:53", "tcp:[::1]:5353": "tcp:[::1]:5353", "udp:127.0.0.1:5353": "udp:127.0.0.1:5353"} {
		if got, err := ParseResolver(in); err != nil || got != want {
			t.Errorf("ParseResolver(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestSystemResolvers(t *testing.T) {
	dir := t.TempDir()
	p := dir + "/resolv.conf"
	if err := writeFile(p, "nameserver 127.0.0.53\nnameserver fe80::1%eth0\noptions edns0\n"); err != nil {
		t.Fatal(err)
	}
	d, err := New(Options{ResolvConf: p})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(d.Resolvers(), ","); got != "udp:127.0.0.53:53" {
		t.Errorf("resolvers %s", got)
	}
}

func TestWordlist(t *testing.T) {
	w, err := ReadWordlist(strings.NewReader("# comment\nXMPP\n\nxmpp\nmail.internal\n"))
	if err != nil || strings.Join(w, ",") != "xmpp,mail.internal" {
		t.Errorf("got %q, %v", w, err)
	}
	if _, err := ReadWordlist(strings.NewReader("ok\nbad word\n")); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("bad word accepted: %v", err)
	}
	def := DefaultWordlist()
	for _, want := range []string{"xmpp", "chat", "mail", "mx", "smtp", "imap", "matrix", "sip", "turn", "conference", "upload", "proxy"} {
		if !contains(def, want) {
			t.Errorf("default wordlist lacks %s", want)
		}
	}
}

func writeFile(p, s string) error { return os.WriteFile(p, []byte(s), 0o600) }

func TestHostileSRVAndMX(t *testing.T) {
	var zone strings.Builder
	zone.WriteString("h.test. 300 IN SOA ns.h.test. x.h.test. 1 3600 600 86400 300\n")
	for i := 0; i < 300; i++ {
		fmt.Fprintf(&zone, "_imaps._tcp.h.test. 300 IN SRV 0 0 993 s%d.h.test.\n", i)
	}
	zone.WriteString("s0.h.test. 300 IN A 127.0.4.1\n")
	zone.WriteString("h.test. 300 IN MX 10 bad_name.h.test.\n")
	zone.WriteString("_submissions._tcp.h.test. 300 IN SRV 0 0 465 .\n_submissions._tcp.h.test. 300 IN SRV 0 0 465 s0.h.test.\n")
	zone.WriteString("_xmpp-client._tcp.h.test. 300 IN SRV 0 0 5222 cn.h.test.\ncn.h.test. 300 IN CNAME c\\000n.h.test.\n")
	z := newZoneServer(t, "127.0.0.65", zone.String())
	d := newTest(t, Options{Resolvers: []string{z.Resolver()}, NoFallback: true})
	res, err := d.Discover(context.Background(), []model.Target{target("h.test")})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ kind, target, substr string }{
		{"error", "_imaps._tcp.h.test", "more than 256 records"},
		{"error", "bad_name.h.test", "not a valid host name"},
		{"error", "_submissions._tcp.h.test", "mixes a \".\" target"},
		{"error", "cn.h.test", "not a valid name"},
	} {
		if !findNote(res, c.kind, c.target, c.substr) {
			t.Errorf("missing note %s %s %q; notes: %+v", c.kind, c.target, c.substr, res.Notes)
		}
	}
	n := 0
	for _, e := range res.Endpoints {
		if e.Service == "imaps" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d imaps endpoints, want 1 (only s0 resolves)", n)
	}
}
