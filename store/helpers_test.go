package store

import (
	"bytes"
	"context"
	"encoding/json"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rampart-scan/rampart/model"
)

// epSpec describes a synthetic endpoint result for tests.
type epSpec struct {
	name     string
	addr     string // "192.0.2.1:443"
	service  string
	status   model.ProbeStatus // default ok
	leaf     string            // leaf certificate SHA-256 ("" : no certificate)
	notAfter time.Time
	version  string   // negotiated TLS version ("" : no TLS)
	findings []string // "rule" or "rule|detail"
	nilFinds bool     // leave Findings nil
}

var t0 = time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)

func (s epSpec) result() model.EndpointResult {
	ep := model.Endpoint{Name: s.name, Addr: netip.MustParseAddrPort(s.addr), Service: s.service,
		Origin: []string{"target " + s.name}, Source: "targets.txt:1"}
	st := s.status
	if st == "" {
		st = model.StatusOK
	}
	o := model.Observation{Endpoint: ep, Started: t0.Add(time.Second), Duration: 150 * time.Millisecond, Status: st}
	if st == model.StatusOK {
		o.Connect = &model.ConnectFacts{Reachable: true, Latency: 12 * time.Millisecond}
	} else {
		o.Error = "connection refused"
	}
	if s.version != "" {
		o.TLS = &model.TLSFacts{Speaks: true, Handshake: &model.Handshake{Version: s.version, VersionID: 0x0304,
			CipherSuite: "TLS_AES_128_GCM_SHA256", SuiteID: 0x1301, ServerName: s.name, Latency: 30 * time.Millisecond}}
	}
	if s.leaf != "" {
		na := s.notAfter
		if na.IsZero() {
			na = t0.Add(90 * 24 * time.Hour)
		}
		o.Certificates = &model.CertFacts{Trusted: true, NameChecked: s.name, NameMatches: true, Chain: []model.Certificate{
			{Subject: "CN=" + s.name, Issuer: "CN=Test CA", Serial: "01", NotBefore: t0.Add(-24 * time.Hour), NotAfter: na,
				DNSNames: []string{s.name}, KeyType: "ECDSA", KeyBits: 256, SignatureAlgorithm: "ECDSA-SHA256", SHA256: s.leaf,
				DER: []byte{0x30, 0x82, 0x01, 0x00}},
			{Subject: "CN=Test CA", Issuer: "CN=Test CA", Serial: "02", NotBefore: t0.Add(-1000 * time.Hour), NotAfter: t0.Add(10000 * time.Hour),
				KeyType: "RSA", KeyBits: 4096, IsCA: true, SelfSigned: true, SHA256: "ca" + strings.Repeat("0", 62)},
		}}
	}
	r := model.EndpointResult{Observation: o}
	if !s.nilFinds {
		r.Findings = []model.Finding{}
	}
	for _, f := range s.findings {
		rule, detail, _ := strings.Cut(f, "|")
		r.Findings = append(r.Findings, model.Finding{RuleID: rule, Severity: model.SeverityHigh, Title: "T " + rule,
			Message: "M " + rule, Asset: ep.ID(), Detail: detail, Evidence: map[string]string{"k": "v"},
			Fingerprint: model.FindingFingerprint(rule, ep.ID(), detail)})
	}
	return r
}

func targets(raw ...string) []model.Target {
	var out []model.Target
	for i, r := range raw {
		out = append(out, model.Target{Raw: r, Source: "args:" + string(rune('1'+i)), Kind: model.TargetDomain, Host: r})
	}
	return out
}

// result builds a whole scan result.
func result(id string, started time.Time, status model.ScanStatus, eps ...epSpec) *model.ScanResult {
	r := &model.ScanResult{SchemaVersion: model.SchemaVersion, Tool: model.ToolInfo{Name: "rampart", Version: "test"},
		ID: id, Status: status, Started: started, Finished: started.Add(time.Minute), Policy: "intermediate",
		Targets: targets("example.org"), Endpoints: []model.EndpointResult{}}
	for _, e := range eps {
		r.Endpoints = append(r.Endpoints, e.result())
	}
	return r
}

func openTemp(t testing.TB) *Store {
	t.Helper()
	st, err := Open(context.Background(), filepath.Join(t.TempDir(), "rampart.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func save(t testing.TB, st *Store, r *model.ScanResult) string {
	t.Helper()
	id, err := st.SaveScan(context.Background(), r, "hash")
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func jsonEqual(t testing.TB, want, got any) {
	t.Helper()
	w, g := mustJSON(t, want), mustJSON(t, got)
	if !bytes.Equal(w, g) {
		t.Fatalf("JSON differs:\nwant %s\ngot  %s", w, g)
	}
}

func count(t testing.TB, st *Store, q string, args ...any) int {
	t.Helper()
	var n int
	if err := st.DB().QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}
