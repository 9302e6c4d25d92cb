package checks

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/rampart-scan/rampart/model"
	"github.com/rampart-scan/rampart/policies"
)

// starttlsObs is a fixture observation of a STARTTLS service whose dialogue went well.
func starttlsObs(service string, port uint16, st model.StartTLSFacts) model.Observation {
	return model.Observation{
		Endpoint: model.Endpoint{Name: "mail.example.org", Addr: netip.AddrPortFrom(netip.MustParseAddr("192.0.2.25"), port), Service: service},
		Status:   model.StatusOK,
		Connect:  &model.ConnectFacts{Reachable: true},
		StartTLS: &st,
	}
}

func TestStartTLSRules(t *testing.T) {
	cat, err := NewCatalogue([]Check{startTLSCheck()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		obs  model.Observation
		want []string
	}{
		{"smtp accepted, AUTH only after TLS", starttlsObs("smtp", 25, model.StartTLSFacts{Protocol: "smtp", Outcome: model.StartTLSAccepted, Offered: true}), nil},
		{"smtp not offered", starttlsObs("smtp", 25, model.StartTLSFacts{Protocol: "smtp", Outcome: model.StartTLSNotOffered}), []string{"starttls/not-offered"}},
		{"submission refused with 454", starttlsObs("submission", 587, model.StartTLSFacts{Protocol: "smtp", Outcome: model.StartTLSRefused, Offered: true, ReplyCode: "454", ReplyText: "4.7.0 TLS not available"}), []string{"starttls/not-offered"}},
		{"dialogue failed: nothing known, nothing raised", starttlsObs("smtp", 25, model.StartTLSFacts{Protocol: "smtp", Outcome: model.StartTLSFailed, ReplyCode: "421"}), nil},
		{"not offered on a port the registry does not call STARTTLS", starttlsObs("https", 443, model.StartTLSFacts{Protocol: "smtp", Outcome: model.StartTLSNotOffered}), nil},
		{"unknown service name is not assumed STARTTLS", starttlsObs("custom", 25, model.StartTLSFacts{Protocol: "smtp", Outcome: model.StartTLSNotOffered}), nil},
		{"no service name: port 143 is IMAP with STARTTLS", starttlsObs("", 143, model.StartTLSFacts{Protocol: "imap", Outcome: model.StartTLSNotOffered}), []string{"starttls/not-offered"}},
		{"smtp AUTH PLAIN before TLS", starttlsObs("submission", 587, model.StartTLSFacts{Protocol: "smtp", Outcome: model.StartTLSAccepted, Offered: true, PlaintextAuth: []string{"PLAIN", "LOGIN"}}), []string{"starttls/plaintext-auth"}},
		{"imap neither TLS nor LOGINDISABLED", starttlsObs("imap", 143, model.StartTLSFacts{Protocol: "imap", Outcome: model.StartTLSNotOffered, PlaintextAuth: []string{"LOGIN"}}), []string{"starttls/not-offered", "starttls/plaintext-auth"}},
		{"xmpp c2s required", starttlsObs("xmpp-client", 5222, model.StartTLSFacts{Protocol: "xmpp-client", Outcome: model.StartTLSAccepted, Offered: true, Required: true}), nil},
		{"xmpp c2s optional", starttlsObs("xmpp-client", 5222, model.StartTLSFacts{Protocol: "xmpp-client", Outcome: model.StartTLSAccepted, Offered: true}), []string{"starttls/not-required"}},
		{"xmpp s2s optional with PLAIN", starttlsObs("xmpp-server", 5269, model.StartTLSFacts{Protocol: "xmpp-server", Outcome: model.StartTLSAccepted, Offered: true, PlaintextAuth: []string{"PLAIN"}}), []string{"starttls/not-required", "starttls/plaintext-auth"}},
		{"xmpp not offered is not also not-required", starttlsObs("xmpp-client", 5222, model.StartTLSFacts{Protocol: "xmpp-client", Outcome: model.StartTLSNotOffered}), []string{"starttls/not-offered"}},
		{"smtp has no required signal", starttlsObs("smtp", 25, model.StartTLSFacts{Protocol: "smtp", Outcome: model.StartTLSAccepted, Offered: true}), nil},
		{"no STARTTLS facts", model.Observation{Endpoint: model.Endpoint{Service: "imap", Addr: netip.MustParseAddrPort("192.0.2.1:143")}, Status: model.StatusOK}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := cat.Evaluate(&tc.obs, policies.Default(), now)
			var ids []string
			for _, f := range got {
				ids = append(ids, f.RuleID)
				if f.Message == "" || f.Evidence["protocol"] == "" {
					t.Errorf("%s: empty message or evidence: %+v", f.RuleID, f)
				}
			}
			slices.Sort(ids)
			want := slices.Clone(tc.want)
			slices.Sort(want)
			if !slices.Equal(ids, want) {
				t.Fatalf("rules = %v, want %v", ids, want)
			}
		})
	}
}

func TestStartTLSFindingDetails(t *testing.T) {
	cat, err := NewCatalogue([]Check{startTLSCheck()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	obs := starttlsObs("submission", 587, model.StartTLSFacts{Protocol: "smtp", Outcome: model.StartTLSRefused, Offered: true, ReplyCode: "454", ReplyText: "4.7.0 TLS not available", PlaintextAuth: []string{"PLAIN"}})
	fs := cat.Evaluate(&obs, policies.Default(), now)
	if len(fs) != 2 {
		t.Fatalf("got %d findings, want 2", len(fs))
	}
	byID := map[string]model.Finding{}
	for _, f := range fs {
		byID[f.RuleID] = f
	}
	no := byID["starttls/not-offered"]
	if no.Severity != model.SeverityHigh || !strings.Contains(no.Message, "refused STARTTLS (454 4.7.0 TLS not available)") || no.Evidence["reply"] != "454 4.7.0 TLS not available" {
		t.Errorf("not-offered finding = %+v", no)
	}
	pa := byID["starttls/plaintext-auth"]
	if pa.Severity != model.SeverityMedium || pa.Evidence["plaintext_auth"] != "PLAIN" {
		t.Errorf("plaintext-auth finding = %+v", pa)
	}
	if no.Fingerprint == pa.Fingerprint || no.Asset != obs.Endpoint.ID() {
		t.Errorf("fingerprints/assets wrong: %+v %+v", no, pa)
	}
}

func TestStartTLSRulesDocumented(t *testing.T) {
	for _, r := range startTLSCheck().Rules {
		if r.Title == "" || r.Why == "" || r.Fix == "" || len(r.References) == 0 || len(r.Snippets) == 0 {
			t.Errorf("%s: incomplete rule", r.ID)
		}
		if !slices.Contains(r.Tags, "CWE-319") {
			t.Errorf("%s: missing CWE-319 tag", r.ID)
		}
		for _, ref := range r.References {
			if !strings.HasPrefix(ref.URL, "https://") {
				t.Errorf("%s: reference %q without URL", r.ID, ref.Title)
			}
		}
	}
}
