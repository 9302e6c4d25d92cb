package checks

import (
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/rampart-scan/rampart/model"
	"github.com/rampart-scan/rampart/policies"
)

func evalDNS(t *testing.T, obs *model.DomainObservation) []model.Finding {
	t.Helper()
	c, err := NewCatalogue(nil, dnsChecks())
	if err != nil {
		t.Fatal(err)
	}
	return c.EvaluateDomain(obs, policies.Default(), time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
}

// healthyDomain is a domain with every DNS hygiene fact in order.
func healthyDomain() *model.DomainObservation {
	return &model.DomainObservation{
		Name:   "example.org",
		DNSSEC: &model.DNSSECFacts{Zone: "example.org", DNSKEY: true, DS: true, Validated: true},
		CAA:    &model.CAAFacts{Found: "example.org", Records: []model.CAARecord{{Tag: "issue", Value: "letsencrypt.org"}}},
		MX:     []model.MXRecord{{Preference: 10, Host: "mx1.example.org"}},
		MTASTS: &model.MTASTSFacts{Record: "v=STSv1; id=1", Records: 1, Fetched: true, Version: "STSv1", Mode: "enforce", MX: []string{"*.example.org"}, MaxAge: 604800},
		TLSRPT: &model.TLSRPTFacts{Record: "v=TLSRPTv1; rua=mailto:r@example.org", RUA: []string{"mailto:r@example.org"}, Valid: true},
		SRV:    []model.SRVRecord{{Owner: "_xmpp-client._tcp.example.org", Service: "xmpp-client", Port: 5222, Target: "xmpp.example.org"}},
		TLSA: []model.TLSAFacts{{Owner: "_25._tcp.mx1.example.org", Host: "mx1.example.org", Port: 25, Secure: true,
			Records: []model.TLSARecord{{Usage: 3, Selector: 1, MatchingType: 1, Data: "00"}},
			Matches: []model.TLSAMatch{{Endpoint: "smtp://mx1.example.org@192.0.2.1:25", Matched: true, Record: "3 1 1"}}}},
		CNAMEs: []model.CNAMEFact{{Name: "www.example.org", Target: "lb.example.org"}},
	}
}

func TestDNSChecks(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(o *model.DomainObservation)
		want   []string // rule/detail
	}{
		{"healthy", func(*model.DomainObservation) {}, nil},
		{"no caa", func(o *model.DomainObservation) { o.CAA = &model.CAAFacts{} }, []string{"dns/no-caa/"}},
		{"caa without issue", func(o *model.DomainObservation) {
			o.CAA.Records = []model.CAARecord{{Tag: "iodef", Value: "mailto:x@example.org"}}
		}, []string{"dns/no-caa/no-issue"}},
		{"caa lookup failed", func(o *model.DomainObservation) { o.CAA = &model.CAAFacts{Error: "timeout"} }, nil},
		{"unsigned", func(o *model.DomainObservation) { o.DNSSEC.DNSKEY, o.DNSSEC.DS = false, false }, []string{"dns/no-dnssec/unsigned"}},
		{"no ds", func(o *model.DomainObservation) { o.DNSSEC.DS = false }, []string{"dns/no-dnssec/no-ds"}},
		{"ds unknown", func(o *model.DomainObservation) { o.DNSSEC.DS, o.DNSSEC.DSError = false, "SERVFAIL" }, nil},
		{"no mta-sts", func(o *model.DomainObservation) { o.MTASTS = &model.MTASTSFacts{} }, []string{"dns/mta-sts-missing/"}},
		{"mta-sts unfetchable", func(o *model.DomainObservation) {
			o.MTASTS.Fetched, o.MTASTS.FetchError = false, "HTTP 404"
		}, []string{"dns/mta-sts-missing/policy-unavailable"}},
		{"mta-sts invalid", func(o *model.DomainObservation) { o.MTASTS.PolicyError = "no mx line" }, []string{"dns/mta-sts-missing/policy-invalid"}},
		{"two mta-sts records", func(o *model.DomainObservation) { o.MTASTS.Records = 2 }, []string{"dns/mta-sts-missing/several-records"}},
		{"mx not covered", func(o *model.DomainObservation) { o.MTASTS.Uncovered = []string{"mx.other.net"} }, []string{"dns/mta-sts-mx-mismatch/mx.other.net"}},
		{"testing", func(o *model.DomainObservation) { o.MTASTS.Mode = "testing" }, []string{"dns/mta-sts-testing/testing"}},
		{"no tls-rpt", func(o *model.DomainObservation) { o.TLSRPT = &model.TLSRPTFacts{} }, []string{"dns/no-tls-rpt/"}},
		{"bad tls-rpt", func(o *model.DomainObservation) {
			o.TLSRPT = &model.TLSRPTFacts{Record: "v=TLSRPTv1; rua=ftp://x"}
		}, []string{"dns/no-tls-rpt/invalid"}},
		{"dane mismatch", func(o *model.DomainObservation) {
			o.TLSA[0].Matches[0] = model.TLSAMatch{Endpoint: "smtp://mx1.example.org@192.0.2.1:25", Detail: "3 1 1: no certificate in the chain matches"}
		}, []string{"dns/dane-mismatch/_25._tcp.mx1.example.org smtp://mx1.example.org@192.0.2.1:25"}},
		{"tlsa not yet matched", func(o *model.DomainObservation) { o.TLSA[0].Matches = nil }, nil},
		{"srv target cname", func(o *model.DomainObservation) { o.SRV[0].TargetCNAME = "host.example.net" }, []string{"dns/srv-target-cname/_xmpp-client._tcp.example.org xmpp.example.org"}},
		{"dangling", func(o *model.DomainObservation) {
			o.CNAMEs = append(o.CNAMEs, model.CNAMEFact{Name: "old.example.org", Target: "gone.cloud.example", Dangling: true, Rcode: "NXDOMAIN"})
		}, []string{"dns/dangling-cname/old.example.org"}},
		{"disagreement", func(o *model.DomainObservation) {
			o.Disagreements = []model.ResolverDisagreement{{Name: "xmpp.example.org", Type: "A", Answers: map[string][]string{"udp:192.0.2.53:53": {"192.0.2.1"}, "udp:192.0.2.54:53": {"192.0.2.2"}}}}
		}, []string{"dns/resolver-disagreement/xmpp.example.org A"}},
		{"no mail facts", func(o *model.DomainObservation) { o.MTASTS, o.TLSRPT, o.MX = nil, nil, nil }, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			obs := healthyDomain()
			c.mutate(obs)
			var got []string
			for _, f := range evalDNS(t, obs) {
				got = append(got, f.RuleID+"/"+f.Detail)
				if f.Asset != "domain:example.org" || f.Fingerprint == "" || f.Message == "" || f.Title == "" {
					t.Errorf("incomplete finding %+v", f)
				}
			}
			sort.Strings(got)
			sort.Strings(c.want)
			if strings.Join(got, "|") != strings.Join(c.want, "|") {
				t.Errorf("findings %q, want %q", got, c.want)
			}
		})
	}
}

func TestDNSRulesDocumented(t *testing.T) {
	want := []string{"dns/dane-mismatch", "dns/dangling-cname", "dns/mta-sts-missing", "dns/mta-sts-mx-mismatch", "dns/mta-sts-testing",
		"dns/no-caa", "dns/no-dnssec", "dns/no-tls-rpt", "dns/resolver-disagreement", "dns/srv-target-cname"}
	c, err := NewCatalogue(nil, dnsChecks())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range c.Rules() {
		ids = append(ids, r.ID)
		if r.Title == "" || r.Why == "" || r.Fix == "" || len(r.References) == 0 || len(r.Tags) == 0 {
			t.Errorf("rule %s lacks documentation: %+v", r.ID, r)
		}
		for _, ref := range r.References {
			if !strings.HasPrefix(ref.URL, "https://www.rfc-editor.org/rfc/rfc") {
				t.Errorf("rule %s reference %+v", r.ID, ref)
			}
		}
	}
	if strings.Join(ids, " ") != strings.Join(want, " ") {
		t.Errorf("rules %q, want %q", ids, want)
	}
}
