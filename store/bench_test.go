package store

import (
	"context"
	"fmt"
	"net/netip"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/rampart-scan/rampart/model"
)

// benchDER stands in for a leaf certificate's DER (about the size of a real ECDSA leaf).
var benchDER = func() []byte {
	b := make([]byte, 1100)
	for i := range b {
		b[i] = byte(i * 7)
	}
	return b
}()

// benchEndpoint is endpoint i of a synthetic scan: 10 facts and 5 findings, a two-certificate
// chain. variant changes a few of them, as a later scan of the same estate would.
func benchEndpoint(i, variant int) model.EndpointResult {
	name := fmt.Sprintf("h%d.example.org", i/2)
	addr := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), 443+uint16(i%2))
	ep := model.Endpoint{Name: name, Addr: addr, Service: "https", Origin: []string{"target " + name, "A " + name}, Source: "targets.txt:1"}
	version, leaf := "TLS 1.3", fmt.Sprintf("%064x", i)
	if variant > 0 && i%50 == 0 {
		version = "TLS 1.2"
	}
	if variant > 0 && i%40 == 1 {
		leaf = fmt.Sprintf("%063xf", i)
	}
	o := model.Observation{Endpoint: ep, Started: t0, Duration: 80 * time.Millisecond, Status: model.StatusOK,
		Connect: &model.ConnectFacts{Reachable: true, Latency: time.Duration(i%50) * time.Millisecond},
		TLS: &model.TLSFacts{Speaks: true, Handshake: &model.Handshake{Version: version, VersionID: 0x0304,
			CipherSuite: "TLS_AES_128_GCM_SHA256", SuiteID: 0x1301, ALPN: "h2", ServerName: name, Latency: 20 * time.Millisecond}},
		Certificates: &model.CertFacts{Trusted: true, NameChecked: name, NameMatches: true, Chain: []model.Certificate{
			{Subject: "CN=" + name, Issuer: "CN=Bench CA", Serial: fmt.Sprint(i), NotBefore: t0, NotAfter: t0.Add(2000 * time.Hour),
				DNSNames: []string{name}, KeyType: "ECDSA", KeyBits: 256, SignatureAlgorithm: "ECDSA-SHA256", SHA256: leaf, DER: benchDER},
			{Subject: "CN=Bench CA", Issuer: "CN=Bench Root", Serial: "1", NotBefore: t0, NotAfter: t0.Add(90000 * time.Hour),
				KeyType: "RSA", KeyBits: 4096, IsCA: true, SHA256: fmt.Sprintf("%064x", 1<<40)},
		}},
	}
	r := model.EndpointResult{Observation: o}
	for j := range 5 {
		rule := fmt.Sprintf("bench/rule-%d", j)
		if variant > 0 && j == 4 && i%20 == 0 {
			rule = "bench/new-rule" // 5% of endpoints: one finding fixed, one new
		}
		r.Findings = append(r.Findings, model.Finding{RuleID: rule, Severity: model.Severity(j), Title: "Bench rule " + rule,
			Message: "The endpoint " + ep.HostPort() + " shows the benchmark condition " + rule + ".", Asset: ep.ID(),
			Evidence: map[string]string{"version": version}, Fingerprint: model.FindingFingerprint(rule, ep.ID(), "")})
	}
	return r
}

// storeBenchScan writes one synthetic scan of n endpoints and returns its ID and the heap in
// use sampled every 1000 endpoints (after a GC, so it is live memory).
func storeBenchScan(tb testing.TB, st *Store, n, variant int, started time.Time) (string, []uint64) {
	ctx := context.Background()
	id, err := st.BeginScan(ctx, ScanMeta{Targets: targets("bench.example.org"), Policy: "bench", Started: started})
	if err != nil {
		tb.Fatal(err)
	}
	w, err := st.Writer(ctx, id)
	if err != nil {
		tb.Fatal(err)
	}
	var heap []uint64
	var ms runtime.MemStats
	for i := range n {
		// Every 20th endpoint is missing from the variant and replaced by a new one.
		k := i
		if variant > 0 && i%20 == 7 {
			k = n + i
		}
		if err := w.Add(benchEndpoint(k, variant)); err != nil {
			tb.Fatal(err)
		}
		if (i+1)%1000 == 0 {
			runtime.GC()
			runtime.ReadMemStats(&ms)
			heap = append(heap, ms.HeapInuse)
		}
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	if err := st.FinishScan(ctx, id, model.ScanComplete, nil); err != nil {
		tb.Fatal(err)
	}
	return id, heap
}

// BenchmarkStoreScan stores synthetic 10,000-endpoint scans (100,000 facts, 50,000 findings
// each) and reports the live heap sampled during the write and the database growth per scan.
func BenchmarkStoreScan(b *testing.B) {
	const n = 10000
	st, err := Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	size0 := st.Size(context.Background())
	var maxHeap, firstHeap, lastHeap uint64
	cpu0 := cpuTime()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_, heap := storeBenchScan(b, st, n, i%2, t0.Add(time.Duration(i)*time.Hour))
		firstHeap, lastHeap = heap[0], heap[len(heap)-1]
		for _, h := range heap {
			maxHeap = max(maxHeap, h)
		}
	}
	b.StopTimer()
	cpu := (cpuTime() - cpu0) / time.Duration(b.N)
	facts := count(b, st, `SELECT count(*) FROM facts`) / b.N
	findings := count(b, st, `SELECT count(*) FROM findings`) / b.N
	growth := float64(st.Size(context.Background())-size0) / float64(b.N)
	b.ReportMetric(growth/1e6, "MB-db/scan")
	b.ReportMetric(float64(maxHeap)/1e6, "MB-heap-max")
	b.ReportMetric(cpu.Seconds(), "cpu-s/scan")
	b.Logf("per scan: %d endpoints, %d facts, %d findings; heap in use at 1k endpoints %.1f MB, at %dk %.1f MB, max %.1f MB; db growth %.1f MB/scan; CPU %.2f s/scan",
		n, facts, findings, float64(firstHeap)/1e6, n/1000, float64(lastHeap)/1e6, float64(maxHeap)/1e6, growth/1e6, cpu.Seconds())
}

// BenchmarkDiff compares two synthetic 10,000-endpoint scans of one scope that differ in 5 % of
// endpoints (appeared/vanished), 2 % protocol versions, 2.5 % certificates and 5 % findings.
func BenchmarkDiff(b *testing.B) {
	const n = 10000
	st, err := Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	base, _ := storeBenchScan(b, st, n, 0, t0)
	head, _ := storeBenchScan(b, st, n, 1, t0.Add(time.Hour))
	b.ResetTimer()
	cpu0 := cpuTime()
	var d *model.Drift
	for i := 0; i < b.N; i++ {
		if d, err = st.Diff(context.Background(), base, head); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N), "cpu-s/diff")
	start := time.Now()
	if _, err := st.ListScans(context.Background(), ListOptions{}); err != nil {
		b.Fatal(err)
	}
	list := time.Since(start)
	start = time.Now()
	pts, err := st.History(context.Background(), "h77.example.org", 0)
	if err != nil || len(pts) != 4 {
		b.Fatalf("history: %d points, %v", len(pts), err)
	}
	hist := time.Since(start)
	start = time.Now()
	if _, err := st.LoadScan(context.Background(), head); err != nil {
		b.Fatal(err)
	}
	b.Logf("ListScans %s, History of one host %s, LoadScan of 10,000 endpoints %s", list, hist, time.Since(start))
	b.Logf("drift: %d new, %d fixed, %d unchanged, %d endpoints appeared, %d vanished, %d rotations, %d fact changes, %d ports opened, %d closed",
		len(d.NewFindings), len(d.FixedFindings), d.UnchangedFindings, len(d.EndpointsAppeared), len(d.EndpointsVanished),
		len(d.CertRotations), len(d.Changes), len(d.PortsOpened), len(d.PortsClosed))
}
