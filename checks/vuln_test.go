package checks

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/rampart-scan/rampart/model"
	"github.com/rampart-scan/rampart/policies"
)

func vulnObs(v *model.VulnFacts) model.Observation {
	return model.Observation{
		Endpoint: model.Endpoint{Name: "chat.example.org", Addr: netip.MustParseAddrPort("192.0.2.7:5223"), Service: "xmpps-client"},
		Status:   model.StatusOK,
		Vulns:    v,
	}
}

func pv(verdict string) *model.ProbeVerdict {
	return &model.ProbeVerdict{Verdict: verdict, Reason: "reason for " + verdict, Connections: 1, Detail: map[string]string{"version": "TLS 1.2"}}
}

func TestVulnRules(t *testing.T) {
	cat, err := NewCatalogue([]Check{VulnCheck()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	V, N, I, A := model.VerdictVulnerable, model.VerdictNotVulnerable, model.VerdictInconclusive, model.VerdictNotApplicable
	tests := []struct {
		name string
		v    *model.VulnFacts
		want []string // rule IDs, with "/detail" for vuln/inconclusive
	}{
		{"no facts", nil, nil},
		{"all clear", &model.VulnFacts{Heartbleed: pv(N), CCSInjection: pv(N), Ticketbleed: pv(A), ROBOT: pv(A), SecureRenegotiation: pv(N), ClientRenegotiation: pv(N), Compression: pv(N), EarlyData: pv(A)}, nil},
		{"heartbleed", &model.VulnFacts{Heartbleed: pv(V)}, []string{"vuln/heartbleed"}},
		{"ccs", &model.VulnFacts{CCSInjection: pv(V)}, []string{"vuln/ccs-injection"}},
		{"ticketbleed", &model.VulnFacts{Ticketbleed: pv(V)}, []string{"vuln/ticketbleed"}},
		{"robot", &model.VulnFacts{ROBOT: pv(V)}, []string{"vuln/robot"}},
		{"insecure renegotiation", &model.VulnFacts{SecureRenegotiation: pv(V)}, []string{"vuln/insecure-renegotiation"}},
		{"client renegotiation", &model.VulnFacts{ClientRenegotiation: pv(V)}, []string{"vuln/client-renegotiation"}},
		{"compression", &model.VulnFacts{Compression: pv(V)}, []string{"vuln/crime-compression"}},
		{"early data", &model.VulnFacts{EarlyData: pv(V)}, []string{"vuln/early-data"}},
		{"inconclusive ones are info, one per probe", &model.VulnFacts{Heartbleed: pv(I), ROBOT: pv(I), EarlyData: pv(I), Compression: pv(N)},
			[]string{"vuln/probe-inconclusive/early-data", "vuln/probe-inconclusive/heartbleed", "vuln/probe-inconclusive/robot"}},
		{"mixed: CCS inconclusive is info, the others fire", &model.VulnFacts{Heartbleed: pv(V), CCSInjection: pv(I), Compression: pv(V)},
			[]string{"vuln/crime-compression", "vuln/heartbleed", "vuln/probe-inconclusive/ccs-injection"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			obs := vulnObs(tc.v)
			got := cat.Evaluate(&obs, policies.Default(), now)
			var ids []string
			for _, f := range got {
				id := f.RuleID
				if id == "vuln/probe-inconclusive" {
					id += "/" + f.Detail
					if f.Severity != model.SeverityInfo || !strings.Contains(f.Message, "reason for inconclusive") {
						t.Errorf("inconclusive finding: %+v", f)
					}
				}
				if f.Message == "" || f.Evidence["probe"] == "" || f.Evidence["detail.version"] != "TLS 1.2" {
					t.Errorf("%s: message or evidence missing: %+v", f.RuleID, f)
				}
				ids = append(ids, id)
			}
			slices.Sort(ids)
			if !slices.Equal(ids, tc.want) {
				t.Fatalf("got %v, want %v", ids, tc.want)
			}
		})
	}
}

func TestVulnRulesDocumented(t *testing.T) {
	for _, r := range VulnCheck().Rules {
		if r.Title == "" || r.Why == "" || r.Fix == "" {
			t.Errorf("%s: title, why and fix are required", r.ID)
		}
		if r.ID == "vuln/probe-inconclusive" {
			continue
		}
		hasCWE := slices.ContainsFunc(r.Tags, func(s string) bool { return strings.HasPrefix(s, "CWE-") })
		if !hasCWE || len(r.References) == 0 {
			t.Errorf("%s: needs a CWE tag and references", r.ID)
		}
		if !strings.Contains(r.Why, "How it") || !strings.Contains(r.Why, "Cost") {
			t.Errorf("%s: the rule text must say how it was tested and its cost", r.ID)
		}
	}
}
