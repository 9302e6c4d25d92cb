package scanner

import (
	"net/netip"
	"testing"

	"github.com/rampart-scan/rampart/model"
)

func node(addr, leaf, version string, status model.ProbeStatus) model.Observation {
	o := model.Observation{
		Endpoint: model.Endpoint{Name: "chat.example.org", Service: "xmpps-client", Addr: netip.MustParseAddrPort(addr)},
		Status:   status,
		Connect:  &model.ConnectFacts{Reachable: status == model.StatusOK},
	}
	if status == model.StatusOK {
		o.TLS = &model.TLSFacts{Speaks: true, Handshake: &model.Handshake{Version: version, CipherSuite: "TLS_AES_128_GCM_SHA256"}}
		o.Certificates = &model.CertFacts{Chain: []model.Certificate{{SHA256: leaf}}}
	}
	return o
}

func TestCompareNodes(t *testing.T) {
	tests := []struct {
		name  string
		obs   []model.Observation
		group int
		diffs []string
	}{
		{"identical nodes", []model.Observation{
			node("192.0.2.1:5223", "aa", "TLS 1.3", model.StatusOK),
			node("192.0.2.2:5223", "aa", "TLS 1.3", model.StatusOK),
		}, 1, nil},
		{"rotated certificate on one node", []model.Observation{
			node("192.0.2.1:5223", "aa", "TLS 1.3", model.StatusOK),
			node("192.0.2.2:5223", "bb", "TLS 1.3", model.StatusOK),
		}, 1, []string{"leaf_certificate"}},
		{"one node down and old", []model.Observation{
			node("192.0.2.1:5223", "aa", "TLS 1.3", model.StatusOK),
			node("192.0.2.2:5223", "aa", "TLS 1.2", model.StatusOK),
			node("[2001:db8::1]:5223", "", "", model.StatusUnreachable),
		}, 1, []string{"reachable", "leaf_certificate", "negotiated", "starttls"}[:3]},
		{"single address forms no group", []model.Observation{
			node("192.0.2.1:5223", "aa", "TLS 1.3", model.StatusOK),
		}, 0, nil},
		{"interrupted node is not compared", []model.Observation{
			node("192.0.2.1:5223", "aa", "TLS 1.3", model.StatusOK),
			node("192.0.2.2:5223", "", "", model.StatusInterrupted),
		}, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gs := CompareNodes(tt.obs)
			if len(gs) != tt.group {
				t.Fatalf("%d groups, want %d", len(gs), tt.group)
			}
			if tt.group == 0 {
				return
			}
			var got []string
			for _, d := range gs[0].Differences {
				got = append(got, d.Fact)
				if len(d.Values) != len(gs[0].Endpoints) {
					t.Errorf("%s: values for %d of %d nodes", d.Fact, len(d.Values), len(gs[0].Endpoints))
				}
			}
			if len(got) != len(tt.diffs) {
				t.Fatalf("differences %v, want %v", got, tt.diffs)
			}
			for i := range got {
				if got[i] != tt.diffs[i] {
					t.Fatalf("differences %v, want %v", got, tt.diffs)
				}
			}
		})
	}
}
