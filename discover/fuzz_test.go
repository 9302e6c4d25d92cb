package discover

import (
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/rampart-scan/rampart/model"
)

func packed(t testing.TB, records ...string) []byte {
	m := new(dns.Msg)
	m.SetQuestion("a.example.test.", dns.TypeA)
	for _, r := range records {
		rr, err := dns.NewRR(r)
		if err != nil {
			t.Fatal(err)
		}
		m.Answer = append(m.Answer, rr)
	}
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// FuzzWalkAnswer feeds arbitrary DNS messages to the CNAME/address walk: it must end, never
// panic, never return more hops than the cap, and return only addresses of the asked type.
func FuzzWalkAnswer(f *testing.F) {
	f.Add(packed(f, "a.example.test. 1 IN A 192.0.2.1"))
	f.Add(packed(f, "a.example.test. 1 IN CNAME b.example.test.", "b.example.test. 1 IN CNAME a.example.test."))
	f.Add(packed(f, "a.example.test. 1 IN CNAME b.example.test.", "b.example.test. 1 IN AAAA ::1", "b.example.test. 1 IN A 192.0.2.2"))
	f.Add(packed(f, `a.example.test. 1 IN CNAME b\000.example.test.`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m := new(dns.Msg)
		if err := m.Unpack(b); err != nil {
			return
		}
		for _, qt := range []uint16{dns.TypeA, dns.TypeAAAA} {
			seen := map[string]bool{"a.example.test": true}
			_, hops, addrs, err := walkAnswer(m, qt, "a.example.test", seen, nil, 8)
			if len(hops) > 8 {
				t.Fatalf("%d hops", len(hops))
			}
			if err != nil && addrs != nil {
				t.Fatal("addresses with an error")
			}
			for _, a := range addrs {
				if (qt == dns.TypeA) != a.Is4() {
					t.Fatalf("%s answer holds %s", dns.TypeToString[qt], a)
				}
			}
		}
	})
}

func FuzzParseMatrixWellKnown(f *testing.F) {
	for _, s := range []string{`{"m.server":"matrix.example.org:8448"}`, `{"m.server":"[::1]:443"}`, `{"m.server":""}`, `{}`, `[`, `{"m.server":"a:0"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		host, _, err := parseMatrixWellKnown(b)
		if err != nil {
			return
		}
		if host == "" || strings.ContainsAny(host, " /\\") {
			t.Fatalf("accepted host %q", host)
		}
	})
}

func FuzzParseMTASTSPolicy(f *testing.F) {
	f.Add("version: STSv1\r\nmode: enforce\r\nmx: *.example.org\r\nmax_age: 604800\r\n")
	f.Add("mode: testing\nmx:\nmax_age: -1\n")
	f.Add("garbage")
	f.Fuzz(func(t *testing.T, body string) {
		var p model.MTASTSFacts
		parseMTASTSPolicy(body, &p)
		if p.MaxAge < 0 || p.MaxAge > 31557600 {
			t.Fatalf("max_age %d accepted", p.MaxAge)
		}
		if len(p.MX) > maxRecords {
			t.Fatalf("%d mx lines kept", len(p.MX))
		}
		valid := p.Version == "STSv1" && (p.Mode == "enforce" || p.Mode == "testing" || p.Mode == "none")
		if !valid && p.PolicyError == "" {
			t.Fatalf("invalid policy without error: %+v", p)
		}
	})
}

func FuzzMatchTLSA(f *testing.F) {
	f.Add(uint8(3), uint8(1), uint8(1), "00ff", []byte{0x30, 0x03, 0x02, 0x01, 0x01})
	f.Fuzz(func(t *testing.T, usage, selector, mtype uint8, data string, der []byte) {
		m := MatchTLSA([]model.TLSARecord{{Usage: usage, Selector: selector, MatchingType: mtype, Data: data}}, [][]byte{der, der})
		if m.Matched && m.Record == "" {
			t.Fatal("match without record")
		}
	})
}
