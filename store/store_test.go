package store

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rampart-scan/rampart/model"
)

func TestOpenCreatesDirectoryAndSetsPragmas(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "a", "b", "rampart.db")
	st, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("database file: %v, %v", fi, err)
	}
	var mode string
	var fk, busy int
	db := st.DB()
	if err := db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode = %q, %v", mode, err)
	}
	if err := db.QueryRow("PRAGMA foreign_keys").Scan(&fk); err != nil || fk != 1 {
		t.Fatalf("foreign_keys = %d, %v", fk, err)
	}
	if err := db.QueryRow("PRAGMA busy_timeout").Scan(&busy); err != nil || busy != 10000 {
		t.Fatalf("busy_timeout = %d, %v", busy, err)
	}
	v, err := st.SchemaVersion(ctx)
	if err != nil || v != LatestSchemaVersion() {
		t.Fatalf("schema version = %d, %v; want %d", v, err, LatestSchemaVersion())
	}
	if err := st.IntegrityCheck(ctx); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", "x.db?mode=ro", ":memory:", "file:x.db"} {
		if _, err := Open(ctx, bad, nil); err == nil {
			t.Errorf("Open(%q) succeeded", bad)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	st := openTemp(t)
	paris := time.FixedZone("CET", 3600)
	r := result("", t0.In(paris), model.ScanComplete,
		epSpec{name: "xmpp.example.org", addr: "192.0.2.1:5223", service: "xmpp-client", leaf: "aa01", version: "TLS 1.3",
			findings: []string{"tls/legacy|TLS 1.0", "cert/expiring"}},
		epSpec{name: "mx.example.org", addr: "[2001:db8::1]:25", service: "smtp", status: model.StatusTimeout, nilFinds: true},
		epSpec{addr: "192.0.2.9:443", service: "https", leaf: "bb02", version: "TLS 1.2"},
	)
	r.Error = "one warning"
	r.Discovery = []model.DiscoveryNote{{Target: "example.org", Source: "args:1", Kind: "empty", Detail: "no SRV for _xmpp-server._tcp"}}
	r.Domains = []model.DomainResult{
		{Observation: model.DomainObservation{Name: "example.org"}, Findings: []model.Finding{{RuleID: "dns/no-caa",
			Severity: model.SeverityLow, Asset: "domain:example.org", Fingerprint: model.FindingFingerprint("dns/no-caa", "domain:example.org", ""),
			Waived: true, Waiver: &model.Waiver{Rule: "dns/no-caa", Reason: "accepted", Expires: "2027-01-01"}}}},
		{Observation: model.DomainObservation{Name: "example.net"}},
	}
	nodes := model.NodeGroup{Name: "xmpp.example.org", Port: 5223, Service: "xmpp-client",
		Endpoints: []string{"a", "b"}, Differences: []model.NodeDifference{{Fact: "leaf_certificate", Values: map[string]string{"192.0.2.1:5223": "aa", "192.0.2.2:5223": "bb"}}}}
	r.Nodes = []model.NodeGroupResult{{Group: nodes, Findings: []model.Finding{{RuleID: "tls/inconsistent-nodes", Severity: model.SeverityMedium,
		Asset: nodes.ID(), Detail: "leaf_certificate", Fingerprint: model.FindingFingerprint("tls/inconsistent-nodes", nodes.ID(), "leaf_certificate")}}}}
	id := save(t, st, r)
	r.ID = id
	got, err := st.LoadScan(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	jsonEqual(t, r, got)
	if got.Endpoints[1].Findings != nil || got.Endpoints[2].Findings == nil {
		t.Error("nil and empty findings slices not preserved")
	}

	info, err := st.Scan(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Nodes) != 1 || len(got.Domains) != 2 {
		t.Errorf("node groups and domains not kept apart: %d nodes, %d domains", len(got.Nodes), len(got.Domains))
	}
	if info.Endpoints != 3 || info.Findings["high"] != 2 || info.Waived != 1 || info.Status != model.ScanComplete {
		t.Errorf("summary = %+v", info)
	}
	if _, err := st.LoadScan(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("LoadScan(nope) = %v, want ErrNotFound", err)
	}
}

func TestLifecycle(t *testing.T) {
	ctx := context.Background()
	st := openTemp(t)
	id, err := st.BeginScan(ctx, ScanMeta{Tool: model.ToolInfo{Name: "rampart", Version: "1.2.3"}, Policy: "modern",
		PolicyHash: "abc", Targets: targets("example.org")})
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Scan(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if info.Status != model.ScanRunning || info.Tool.Version != "1.2.3" || info.PolicyHash != "abc" || info.Scope != "example.org" {
		t.Fatalf("scan = %+v", info)
	}
	w, err := st.NewWriter(ctx, id, WriterOptions{Batch: 2, Interval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range []string{"192.0.2.1:443", "192.0.2.2:443", "192.0.2.3:443"} {
		if err := w.Add(epSpec{name: "h", addr: a, findings: []string{"r/x"}}.result()); err != nil {
			t.Fatal(i, err)
		}
	}
	// Batch of 2: two are written, the third waits in the buffer.
	if n := count(t, st, `SELECT count(*) FROM endpoints`); n != 2 {
		t.Errorf("after 3 adds with batch 2: %d endpoints stored, want 2", n)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Add(epSpec{addr: "192.0.2.4:443"}.result()); err == nil {
		t.Error("Add after Close succeeded")
	}
	if err := st.FinishScan(ctx, id, model.ScanComplete, nil); err != nil {
		t.Fatal(err)
	}
	if err := st.FinishScan(ctx, id, model.ScanFailed, errors.New("x")); err == nil || !strings.Contains(err.Error(), "not running") {
		t.Errorf("second FinishScan = %v", err)
	}
	if err := st.FinishScan(ctx, "missing", model.ScanComplete, nil); !errors.Is(err, ErrNotFound) {
		t.Errorf("FinishScan(missing) = %v", err)
	}
	if err := st.FinishScan(ctx, id, model.ScanRunning, nil); err == nil {
		t.Error("FinishScan(running) succeeded")
	}
	res, err := st.LoadScan(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != model.ScanComplete || len(res.Endpoints) != 3 || res.Finished.IsZero() || len(res.Findings()) != 3 {
		t.Fatalf("loaded %+v", res)
	}
	list, err := st.ListScans(ctx, ListOptions{})
	if err != nil || len(list) != 1 || list[0].Endpoints != 3 || list[0].Findings["high"] != 3 {
		t.Fatalf("ListScans = %+v, %v", list, err)
	}
	if got, err := st.ResolveScan(ctx, id[:10]); err != nil || got != id {
		t.Errorf("ResolveScan(prefix) = %q, %v", got, err)
	}
}

func TestWriterFlushesOnInterval(t *testing.T) {
	ctx := context.Background()
	st := openTemp(t)
	id, err := st.BeginScan(ctx, ScanMeta{Targets: targets("example.org")})
	if err != nil {
		t.Fatal(err)
	}
	w, err := st.NewWriter(ctx, id, WriterOptions{Batch: 1000, Interval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Add(epSpec{addr: "192.0.2.1:443"}.result()); err != nil {
		t.Fatal(err)
	}
	// Another connection (another Store) must see it without Close.
	other, err := Open(ctx, st.Path(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	deadline := time.Now().Add(5 * time.Second)
	for count(t, other, `SELECT count(*) FROM endpoints`) != 1 {
		if time.Now().After(deadline) {
			t.Fatal("result not written within 5 s by the interval flush")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestWriterKeepsResultsAfterCancel(t *testing.T) {
	// Ctrl-C cancels the scan's context: what finished must still be written.
	st := openTemp(t)
	ctx, cancel := context.WithCancel(context.Background())
	id, err := st.BeginScan(ctx, ScanMeta{Targets: targets("example.org")})
	if err != nil {
		t.Fatal(err)
	}
	w, err := st.NewWriter(ctx, id, WriterOptions{Batch: 100, Interval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{"192.0.2.1:443", "192.0.2.2:443"} {
		if err := w.Add(epSpec{addr: a, findings: []string{"r/x"}}.result()); err != nil {
			t.Fatal(err)
		}
	}
	cancel()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := st.FinishScan(context.Background(), id, model.ScanInterrupted, context.Canceled); err != nil {
		t.Fatal(err)
	}
	info, err := st.Scan(context.Background(), id)
	if err != nil || info.Endpoints != 2 || info.Status != model.ScanInterrupted || info.Error != "context canceled" {
		t.Fatalf("%+v, %v", info, err)
	}
}

func TestRecoverStaleRunningScans(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "rampart.db")
	st, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	// A process that has ended: its PID is free (or reused by a process with another start time).
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	deadStart := "1" // any start time: the process is gone
	alive := exec.Command("sleep", "30")
	if err := alive.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = alive.Process.Kill(); _ = alive.Wait() }()
	aliveStart, _ := procStart(alive.Process.Pid)

	mk := func(host string, pid int, pidStart string, updated time.Time) string {
		id, err := st.BeginScan(ctx, ScanMeta{Targets: targets("example.org")})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.DB().Exec(`UPDATE scans SET hostname = ?, pid = ?, pid_start = ?, updated_ns = ? WHERE id = ?`,
			host, pid, pidStart, updated.UnixNano(), id); err != nil {
			t.Fatal(err)
		}
		return id
	}
	now := time.Now()
	deadID := mk(st.host, dead.Process.Pid, deadStart, now)
	aliveID := mk(st.host, alive.Process.Pid, aliveStart, now)
	reusedID := mk(st.host, alive.Process.Pid, "not-"+aliveStart, now) // same PID, other process
	farRecent := mk("elsewhere.example", 1, "", now)
	farStale := mk("elsewhere.example", 1, "", now.Add(-48*time.Hour))
	st.Close()

	var logs []string
	st, err = Open(ctx, path, &Options{Logf: func(f string, a ...any) { logs = append(logs, f) }})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for id, want := range map[string]model.ScanStatus{
		deadID: model.ScanInterrupted, aliveID: model.ScanRunning, reusedID: model.ScanInterrupted,
		farRecent: model.ScanRunning, farStale: model.ScanInterrupted,
	} {
		info, err := st.Scan(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if info.Status != want {
			t.Errorf("scan %s: status %s, want %s", id, info.Status, want)
		}
		if want == model.ScanInterrupted && (info.Error == "" || info.Finished.IsZero()) {
			t.Errorf("scan %s: interrupted without reason or end time: %+v", id, info)
		}
	}
	if len(logs) != 3 {
		t.Errorf("want 3 recovery notices, got %d", len(logs))
	}
}

func TestHistory(t *testing.T) {
	ctx := context.Background()
	st := openTemp(t)
	day := 24 * time.Hour
	for i, leaf := range []string{"aa", "aa", "bb"} {
		fs := []string{"tls/legacy"}
		if i == 2 {
			fs = nil
		}
		save(t, st, result("", t0.Add(time.Duration(i)*day), model.ScanComplete,
			epSpec{name: "xmpp.example.org", addr: "192.0.2.1:5223", leaf: leaf, version: "TLS 1.3", findings: fs},
			epSpec{name: "xmpp.example.org", addr: "192.0.2.2:5223", leaf: leaf, version: "TLS 1.3"},
			epSpec{name: "other.example.org", addr: "192.0.2.3:443"}))
	}
	pts, err := st.History(ctx, "XMPP.example.org", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(pts) != 6 {
		t.Fatalf("%d points, want 6: %+v", len(pts), pts)
	}
	if pts[0].Findings["high"] != 1 || pts[1].Findings["high"] != 0 || pts[4].Findings["high"] != 0 {
		t.Errorf("finding counts: %+v", pts)
	}
	if pts[0].LeafSHA256 != "aa" || pts[5].LeafSHA256 != "bb" || pts[0].LeafNotAfter.IsZero() {
		t.Errorf("leaf: %+v", pts)
	}
	if pts[0].Connect != 12*time.Millisecond || pts[0].Handshake != 30*time.Millisecond || !pts[0].Time.Equal(t0) {
		t.Errorf("latency/time: %+v", pts[0])
	}
	// With repeated attempts, history shows their median latency.
	r := result("", t0.Add(10*day), model.ScanComplete, epSpec{name: "med.example.org", addr: "192.0.2.9:443", version: "TLS 1.3"})
	r.Endpoints[0].Observation.Availability = &model.AvailabilityFacts{Attempts: 3, Successes: 3, ConnectMedian: 5 * time.Millisecond,
		Handshake: true, HandshakeMedian: 17 * time.Millisecond}
	save(t, st, r)
	if pts, err := st.History(ctx, "med.example.org", 0); err != nil || len(pts) != 1 ||
		pts[0].Connect != 5*time.Millisecond || pts[0].Handshake != 17*time.Millisecond {
		t.Errorf("median latency: %+v, %v", pts, err)
	}
	for _, c := range []struct {
		target string
		limit  int
		want   int
	}{
		{"xmpp.example.org:5223", 0, 6},
		{"xmpp.example.org:5222", 0, 0},
		{"tcp://xmpp.example.org@192.0.2.2:5223", 0, 3},
		{"192.0.2.3", 0, 3},
		{"192.0.2.3:443", 0, 3},
		{"other.example.org", 2, 2},
		{"xmpp.example.org", 1, 2},
	} {
		pts, err := st.History(ctx, c.target, c.limit)
		if err != nil {
			t.Fatal(err)
		}
		if len(pts) != c.want {
			t.Errorf("History(%q, %d): %d points, want %d", c.target, c.limit, len(pts), c.want)
		}
	}
}

func TestPrune(t *testing.T) {
	ctx := context.Background()
	day := 24 * time.Hour
	now := t0.Add(10 * day)
	setup := func(t *testing.T) (*Store, []string, string) {
		st := openTemp(t)
		var ids []string
		for i := range 5 { // started t0 … t0+4d
			ids = append(ids, save(t, st, result("", t0.Add(time.Duration(i)*day), model.ScanComplete,
				epSpec{name: "a.example.org", addr: "192.0.2.1:443", leaf: "aa", version: "TLS 1.3", findings: []string{"x/y"}})))
		}
		run, err := st.BeginScan(ctx, ScanMeta{Targets: targets("example.org"), Started: t0.Add(-day)})
		if err != nil {
			t.Fatal(err)
		}
		return st, ids, run
	}
	cases := []struct {
		name string
		o    PruneOptions
		want []int // indexes of ids deleted
	}{
		{"keep 2", PruneOptions{Keep: 2}, []int{2, 1, 0}},
		{"older than 7.5 days", PruneOptions{OlderThan: 7*day + 12*time.Hour}, []int{2, 1, 0}},
		{"older than 9.5 days but keep 4", PruneOptions{OlderThan: 9*day + 12*time.Hour, Keep: 4}, []int{0}},
		{"keep 10", PruneOptions{Keep: 10}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st, ids, run := setup(t)
			c.o.Now = now
			c.o.Vacuum = true
			res, err := st.Prune(ctx, c.o)
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, i := range c.want {
				want = append(want, ids[i])
			}
			if strings.Join(res.Deleted, ",") != strings.Join(want, ",") {
				t.Fatalf("deleted %v, want %v", res.Deleted, want)
			}
			if len(want) > 0 && !res.Vacuumed {
				t.Errorf("not vacuumed: %s", res.VacuumError)
			}
			if _, err := st.Scan(ctx, run); err != nil {
				t.Errorf("running scan pruned: %v", err)
			}
			left := 5 - len(want)
			for table, per := range map[string]int{"endpoints": 1, "findings": 1, "certificates": 2, "ports": 1} {
				if n := count(t, st, `SELECT count(*) FROM `+table); n != left*per {
					t.Errorf("%s: %d rows left, want %d", table, n, left*per)
				}
			}
			// The DER of the leaf (the CA has none) is kept once, and only while a scan uses it.
			if n := count(t, st, `SELECT count(*) FROM der`); n != min(left, 1) {
				t.Errorf("%d DER rows for %d scans of one certificate", n, left)
			}
			if n := count(t, st, `SELECT count(*) FROM facts WHERE scan NOT IN (SELECT pk FROM scans)`); n != 0 {
				t.Errorf("%d orphan facts", n)
			}
			if err := st.IntegrityCheck(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
	st, _, _ := setup(t)
	if _, err := st.Prune(ctx, PruneOptions{}); err == nil {
		t.Error("Prune without a rule succeeded")
	}
	res, err := st.Prune(ctx, PruneOptions{Keep: 1, DryRun: true})
	if err != nil || len(res.Deleted) != 4 || count(t, st, `SELECT count(*) FROM scans`) != 6 {
		t.Errorf("dry run: %+v, %v", res, err)
	}
}

// TestWriterUpdate replaces an endpoint's findings and grade after it was written, as the
// scan does for evaluation that needs every endpoint (cross-endpoint DROWN, grade caps).
func TestWriterUpdate(t *testing.T) {
	ctx := context.Background()
	st := openTemp(t)
	r := result("", t0, model.ScanComplete,
		epSpec{name: "a.example.org", addr: "192.0.2.1:443", service: "https", leaf: "aa01", version: "TLS 1.3", findings: []string{"tls/no-tls13"}},
		epSpec{name: "b.example.org", addr: "192.0.2.2:443", service: "https", leaf: "bb01", version: "TLS 1.3"},
	)
	id, err := st.BeginScan(ctx, ScanMeta{Tool: model.ToolInfo{Name: "rampart"}, Targets: r.Targets, Started: t0})
	if err != nil {
		t.Fatal(err)
	}
	w, err := st.NewWriter(ctx, id, WriterOptions{Batch: 100, Interval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range r.Endpoints {
		if err := w.Add(e); err != nil {
			t.Fatal(err)
		}
	}
	upd := r.Endpoints[0]
	upd.Findings = []model.Finding{{RuleID: "vuln/drown", Severity: model.SeverityHigh, Asset: upd.Observation.Endpoint.ID(),
		Fingerprint: model.FindingFingerprint("vuln/drown", upd.Observation.Endpoint.ID(), "")}}
	upd.Grade = &model.Grade{Letter: "F", Score: 90}
	if err := w.Update(upd); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := st.FinishScan(ctx, id, model.ScanComplete, nil); err != nil {
		t.Fatal(err)
	}
	got, err := st.LoadScan(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	a := got.Endpoints[0]
	if len(a.Findings) != 1 || a.Findings[0].RuleID != "vuln/drown" || a.Grade == nil || a.Grade.Letter != "F" {
		t.Fatalf("updated endpoint = findings %+v grade %+v", a.Findings, a.Grade)
	}
	if len(got.Endpoints) != 2 || got.Endpoints[1].Grade != nil {
		t.Fatalf("the other endpoint changed: %+v", got.Endpoints[1])
	}
	info, err := st.Scan(ctx, id)
	if err != nil || info.Findings["high"] != 1 || info.Findings["low"] != 0 {
		t.Fatalf("summary after update = %+v (%v)", info.Findings, err)
	}
}
