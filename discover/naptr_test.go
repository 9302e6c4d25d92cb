package discover

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/rampart-scan/rampart/model"
)

// TestNAPTRSIP covers SIP discovery through NAPTR (RFC 3263 §4.1): NAPTR → SRV owner → A.
func TestNAPTRSIP(t *testing.T) {
	type note struct{ kind, target, substr string }
	many := func() string {
		var b strings.Builder
		b.WriteString("n5.test. 300 IN SOA ns.n5.test. x.n5.test. 1 3600 600 86400 300\n")
		for i := 0; i < 1000; i++ {
			fmt.Fprintf(&b, "n5.test. 300 IN NAPTR %d 0 \"s\" \"SIPS+D2T\" \"\" _sips._tcp.s%d.n5.test.\n", i, i)
		}
		b.WriteString("_sips._tcp.s0.n5.test. 300 IN SRV 0 0 5061 sip.n5.test.\nsip.n5.test. 300 IN A 127.0.5.50\n")
		return b.String()
	}
	cases := []struct {
		name    string
		zone    string
		domain  string
		scope   []string
		want    []string            // sip and sips endpoint IDs, sorted
		origins map[string][]string // endpoint ID → whole origin chain
		notes   []note
		// srvQueries: SRV name → exact number of questions the server must have seen.
		srvQueries map[string]int64
		check      func(t *testing.T, z *zoneServer, res *Result)
	}{
		{
			name: "custom SRV owner",
			zone: `
n1.test. 300 IN SOA ns.n1.test. x.n1.test. 1 3600 600 86400 300
n1.test. 300 IN NAPTR 20 50 "s" "SIP+D2T" "" _sip._tcp.n1.test.
n1.test. 300 IN NAPTR 10 50 "s" "SIPS+D2T" "" _sips._tcp.proxy.n1.test.
n1.test. 300 IN NAPTR 10 60 "S" "sips+d2t" "" _sips._tcp.proxy.n1.test.
n1.test. 300 IN NAPTR 30 50 "s" "SIP+D2U" "" _sip._udp.n1.test.
_sips._tcp.proxy.n1.test. 300 IN SRV 0 0 5061 sip.n1.test.
_sip._tcp.n1.test. 300 IN SRV 0 0 5060 sip.n1.test.
_sip._udp.n1.test. 300 IN SRV 0 0 5060 sip.n1.test.
sip.n1.test. 300 IN A 127.0.5.1
`,
			domain: "n1.test",
			want:   []string{"sip://n1.test@127.0.5.1:5060", "sips://n1.test@127.0.5.1:5061"},
			origins: map[string][]string{
				"sips://n1.test@127.0.5.1:5061": {"target n1.test (args:1)",
					"NAPTR n1.test → _sips._tcp.proxy.n1.test (order 10 pref 50, SIPS+D2T)",
					"SRV _sips._tcp.proxy.n1.test → sip.n1.test:5061 (prio 0 weight 0)",
					"A sip.n1.test → 127.0.5.1"},
				"sip://n1.test@127.0.5.1:5060": {"target n1.test (args:1)",
					"NAPTR n1.test → _sip._tcp.n1.test (order 20 pref 50, SIP+D2T)",
					"SRV _sip._tcp.n1.test → sip.n1.test:5060 (prio 0 weight 0)",
					"A sip.n1.test → 127.0.5.1"},
			},
			// _sip._tcp is both a direct profile and a NAPTR replacement: asked once.
			// The two SIPS records name one owner: asked once. UDP is never asked.
			srvQueries: map[string]int64{"_sip._tcp.n1.test": 1, "_sips._tcp.proxy.n1.test": 1, "_sip._udp.n1.test": 0},
			check: func(t *testing.T, z *zoneServer, res *Result) {
				if len(res.Domains) != 1 {
					t.Fatalf("domains: %d", len(res.Domains))
				}
				n := res.Domains[0].NAPTR
				if len(n) != 4 || n[0].Order != 10 || n[0].Preference != 50 || n[0].Replacement != "_sips._tcp.proxy.n1.test" ||
					n[3].Service != "SIP+D2U" || n[3].Flags != "s" {
					t.Errorf("NAPTR facts %+v", n)
				}
				var custom bool
				for _, s := range res.Domains[0].SRV {
					if s.Owner == "_sips._tcp.proxy.n1.test" && s.Service == "sips" && s.Port == 5061 {
						custom = true
					}
				}
				if !custom {
					t.Errorf("SRV facts lack the NAPTR owner: %+v", res.Domains[0].SRV)
				}
				var buf bytes.Buffer
				if err := WriteText(&buf, res); err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(buf.String(), `NAPTR       10 50 "s" "SIPS+D2T" "" _sips._tcp.proxy.n1.test`) {
					t.Errorf("text output lacks the NAPTR fact:\n%s", buf.String())
				}
			},
		},
		{
			name: "replacement out of scope",
			zone: `
n2.test. 300 IN NAPTR 10 50 "s" "SIPS+D2T" "" _sips._tcp.sip.elsewhere.test.
_sips._tcp.sip.elsewhere.test. 300 IN SRV 0 0 5061 sip.elsewhere.test.
sip.elsewhere.test. 300 IN A 127.0.5.2
`,
			domain:     "n2.test",
			notes:      []note{{"skipped", "_sips._tcp.sip.elsewhere.test", "outside the scope"}},
			srvQueries: map[string]int64{"_sips._tcp.sip.elsewhere.test": 0},
		},
		{
			name: "replacement in a widened scope",
			zone: `
n2.test. 300 IN NAPTR 10 50 "s" "SIPS+D2T" "" _sips._tcp.sip.elsewhere.test.
_sips._tcp.sip.elsewhere.test. 300 IN SRV 0 0 5061 sip.elsewhere.test.
sip.elsewhere.test. 300 IN A 127.0.5.2
`,
			domain: "n2.test",
			scope:  []string{"elsewhere.test"},
			want:   []string{"sips://n2.test@127.0.5.2:5061"},
		},
		{
			name: "no NAPTR: direct SRV as before",
			zone: `
_sips._tcp.n3.test. 300 IN SRV 0 0 5061 sip.n3.test.
_sip._tcp.n3.test. 300 IN SRV 0 0 5060 sip.n3.test.
sip.n3.test. 300 IN A 127.0.5.3
`,
			domain: "n3.test",
			want:   []string{"sip://n3.test@127.0.5.3:5060", "sips://n3.test@127.0.5.3:5061"},
			origins: map[string][]string{
				"sips://n3.test@127.0.5.3:5061": {"target n3.test (args:1)",
					"SRV _sips._tcp.n3.test → sip.n3.test:5061 (prio 0 weight 0)",
					"A sip.n3.test → 127.0.5.3"},
			},
			srvQueries: map[string]int64{"_sips._tcp.n3.test": 1, "_sip._tcp.n3.test": 1},
		},
		{
			name: "hostile replacements",
			zone: `
n4.test. 300 IN NAPTR 10 10 "s" "SIPS+D2T" "" .
n4.test. 300 IN NAPTR 10 20 "s" "SIP+D2T" "" bad\!name.n4.test.
n4.test. 300 IN NAPTR 10 30 "s" "SIP+D2T" "" sp\032ace.n4.test.
n4.test. 300 IN NAPTR 10 40 "u" "SIP+D2T" "!^.*$!sip:x@n4.test!" .
n4.test. 300 IN NAPTR 10 50 "s" "SIP+D2T" "" _sip._tcp.empty.n4.test.
`,
			domain: "n4.test",
			notes: []note{
				{"error", "n4.test", `replacement "."`},
				{"error", "n4.test", `"bad!name.n4.test."`},
				{"error", "n4.test", `sp\\ ace.n4.test.`},
				{"skipped", "n4.test", `flags "u"`},
				{"empty", "_sip._tcp.empty.n4.test", "no SRV records"},
			},
			srvQueries: map[string]int64{"_sip._tcp.empty.n4.test": 1},
		},
		{
			name:   "1000 NAPTR records are bounded",
			zone:   many(),
			domain: "n5.test",
			want:   []string{"sips://n5.test@127.0.5.50:5061"},
			notes:  []note{{"error", "n5.test", "more than 32 records"}},
			check: func(t *testing.T, z *zoneServer, res *Result) {
				var asked int64
				for i := 0; i < 1000; i++ {
					asked += z.QueriesFor("SRV", fmt.Sprintf("_sips._tcp.s%d.n5.test", i))
				}
				if asked != maxNAPTR {
					t.Errorf("%d SRV questions for NAPTR owners, want %d", asked, maxNAPTR)
				}
				if len(res.Domains) != 1 || len(res.Domains[0].NAPTR) != maxNAPTR {
					t.Errorf("NAPTR facts not bounded")
				}
			},
		},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			z := newZoneServer(t, fmt.Sprintf("127.0.0.%d", 90+i), c.zone)
			d := newTest(t, Options{Resolvers: []string{z.Resolver()}, Scope: c.scope, NoFallback: true})
			res, err := d.Discover(context.Background(), []model.Target{target(c.domain)})
			if err != nil {
				t.Fatal(err)
			}
			var sip []model.Endpoint
			for _, e := range res.Endpoints {
				if e.Service == "sip" || e.Service == "sips" {
					sip = append(sip, e)
				}
			}
			if got := ids(sip); strings.Join(got, " ") != strings.Join(c.want, " ") {
				t.Errorf("endpoints %q, want %q; notes %+v", got, c.want, res.Notes)
			}
			for _, e := range sip {
				if w, ok := c.origins[e.ID()]; ok && strings.Join(e.Origin, "|") != strings.Join(w, "|") {
					t.Errorf("%s origin\n%q\nwant\n%q", e.ID(), e.Origin, w)
				}
			}
			for _, n := range c.notes {
				if !findNote(res, n.kind, n.target, n.substr) {
					t.Errorf("missing note %s %s %q; notes: %+v", n.kind, n.target, n.substr, res.Notes)
				}
			}
			for name, want := range c.srvQueries {
				if got := z.QueriesFor("SRV", name); got != want {
					t.Errorf("SRV %s asked %d times, want %d", name, got, want)
				}
			}
			if c.check != nil {
				c.check(t, z, res)
			}
		})
	}
}
