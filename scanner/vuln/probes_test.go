package vuln

import (
	"context"
	"testing"
	"time"

	"github.com/rampart-scan/rampart/model"
)

func pick(f *model.VulnFacts, probe string) *model.ProbeVerdict {
	switch probe {
	case ProbeHeartbleed:
		return f.Heartbleed
	case ProbeCCSInjection:
		return f.CCSInjection
	case ProbeTicketbleed:
		return f.Ticketbleed
	case ProbeROBOT:
		return f.ROBOT
	case "secure-renegotiation":
		return f.SecureRenegotiation
	case "compression":
		return f.Compression
	case ProbeClientReneg:
		return f.ClientRenegotiation
	case ProbeEarlyData:
		return f.EarlyData
	}
	return nil
}

// TestLabProbes runs each probe against the lab server with and without the vulnerable
// behaviour: every probe is shown firing and not firing.
func TestLabProbes(t *testing.T) {
	tests := []struct {
		name     string
		cfg      labConfig
		only     string
		field    string
		versions []uint16
		want     string
		conns    int
		detail   map[string]string
	}{
		{"heartbleed vulnerable in every version", labConfig{heartbleed: true}, ProbeHeartbleed, ProbeHeartbleed, []uint16{0x0301, 0x0302, 0x0303}, model.VerdictVulnerable, 3, nil},
		{"heartbleed patched (discards silently)", labConfig{}, ProbeHeartbleed, ProbeHeartbleed, []uint16{0x0301, 0x0303}, model.VerdictNotVulnerable, 2, nil},
		{"heartbleed not applicable on TLS 1.3 only", labConfig{}, ProbeHeartbleed, ProbeHeartbleed, []uint16{0x0304}, model.VerdictNotApplicable, 0, nil},
		{"ccs accepted early", labConfig{acceptCCS: true}, ProbeCCSInjection, ProbeCCSInjection, nil, model.VerdictVulnerable, 1, nil},
		{"ccs refused", labConfig{}, ProbeCCSInjection, ProbeCCSInjection, nil, model.VerdictNotVulnerable, 1, nil},
		{"robot strong oracle", labConfig{oracle: "strong"}, ProbeROBOT, ProbeROBOT, nil, model.VerdictVulnerable, 10, map[string]string{"oracle": "strong"}},
		{"robot weak oracle", labConfig{oracle: "weak"}, ProbeROBOT, ProbeROBOT, nil, model.VerdictVulnerable, 10, map[string]string{"oracle": "weak"}},
		{"robot no oracle", labConfig{}, ProbeROBOT, ProbeROBOT, nil, model.VerdictNotVulnerable, 10, nil},
		{"deflate chosen", labConfig{deflate: true}, ProbeRenegotiate, "compression", nil, model.VerdictVulnerable, 0, nil},
		{"null compression", labConfig{}, ProbeRenegotiate, "compression", nil, model.VerdictNotVulnerable, 0, nil},
		{"no RFC 5746", labConfig{noRenegInfo: true}, ProbeRenegotiate, "secure-renegotiation", nil, model.VerdictVulnerable, 1, nil},
		{"RFC 5746", labConfig{}, ProbeRenegotiate, "secure-renegotiation", nil, model.VerdictNotVulnerable, 1, nil},
		{"ticketbleed leaks", labConfig{ticketbleed: true}, ProbeTicketbleed, ProbeTicketbleed, nil, model.VerdictVulnerable, 2, nil},
		{"ticket resumed correctly", labConfig{ticketEcho: true}, ProbeTicketbleed, ProbeTicketbleed, nil, model.VerdictNotVulnerable, 2, nil},
		{"early data: a TLS 1.3 hello answered with TLS 1.2 is inconclusive", labConfig{}, ProbeEarlyData, ProbeEarlyData, []uint16{0x0303, 0x0304}, model.VerdictInconclusive, 1, nil},
		{"early data not applicable without TLS 1.3", labConfig{}, ProbeEarlyData, ProbeEarlyData, []uint16{0x0303}, model.VerdictNotApplicable, 0, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			addr := startLab(t, tc.cfg)
			f := Run(context.Background(), dialTo(addr), Options{Versions: tc.versions, Only: []string{tc.only}, Timeout: 3 * time.Second, Wait: time.Second})
			got := pick(f, tc.field)
			if got == nil {
				t.Fatalf("no verdict for %s", tc.field)
			}
			if got.Verdict != tc.want || got.Connections != tc.conns {
				t.Fatalf("got %s (%d connections): %s %v; want %s (%d)", got.Verdict, got.Connections, got.Reason, got.Detail, tc.want, tc.conns)
			}
			for k, v := range tc.detail {
				if got.Detail[k] != v {
					t.Errorf("detail %s = %q, want %q (%v)", k, got.Detail[k], v, got.Detail)
				}
			}
			if got.Reason == "" {
				t.Error("empty reason")
			}
		})
	}
}
