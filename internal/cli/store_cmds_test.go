package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/rampart-scan/rampart/model"
	"github.com/rampart-scan/rampart/store"
)

var storeT0 = time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)

func storeEndpoint(name, addr, leaf, version string, rules ...string) model.EndpointResult {
	ep := model.Endpoint{Name: name, Addr: netip.MustParseAddrPort(addr), Service: "https"}
	o := model.Observation{Endpoint: ep, Started: storeT0, Status: model.StatusOK,
		Connect: &model.ConnectFacts{Reachable: true, Latency: 3 * time.Millisecond},
		TLS: &model.TLSFacts{Speaks: true, Handshake: &model.Handshake{Version: version, CipherSuite: "TLS_AES_128_GCM_SHA256",
			Latency: 9 * time.Millisecond}},
		Certificates: &model.CertFacts{Trusted: true, Chain: []model.Certificate{{Subject: "CN=" + name, SHA256: leaf,
			NotAfter: storeT0.Add(1000 * time.Hour)}}}}
	r := model.EndpointResult{Observation: o, Findings: []model.Finding{}}
	for _, rule := range rules {
		r.Findings = append(r.Findings, model.Finding{RuleID: rule, Severity: model.SeverityHigh, Asset: ep.ID(),
			Fingerprint: model.FindingFingerprint(rule, ep.ID(), "")})
	}
	return r
}

// storeFixture writes three scans of example.org (the last interrupted) and returns the
// database path and the scan IDs.
func storeFixture(t *testing.T) (string, []string) {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "rampart.db")
	st, err := store.Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tg := []model.Target{{Raw: "example.org", Kind: model.TargetDomain, Host: "example.org"}}
	scans := []*model.ScanResult{
		{ID: "20261101T100000Z-aaaaaa", Status: model.ScanComplete, Started: storeT0, Finished: storeT0.Add(time.Minute),
			Policy: "intermediate", Targets: tg, Endpoints: []model.EndpointResult{
				storeEndpoint("web.example.org", "192.0.2.1:443", "aaaa1111", "TLS 1.2", "tls/old"),
				storeEndpoint("gone.example.org", "192.0.2.2:443", "bbbb2222", "TLS 1.3"),
			}},
		{ID: "20261102T100000Z-bbbbbb", Status: model.ScanComplete, Started: storeT0.Add(24 * time.Hour),
			Finished: storeT0.Add(24*time.Hour + time.Minute), Policy: "intermediate", Targets: tg, Endpoints: []model.EndpointResult{
				storeEndpoint("web.example.org", "192.0.2.1:443", "cccc3333", "TLS 1.3", "tls/old", "cert/\x1b[31mred"),
				storeEndpoint("new.example.org", "192.0.2.3:443", "dddd4444", "TLS 1.3"),
			}},
		{ID: "20261103T100000Z-cccccc", Status: model.ScanInterrupted, Started: storeT0.Add(48 * time.Hour),
			Finished: storeT0.Add(48*time.Hour + time.Minute), Policy: "intermediate", Targets: tg, Endpoints: []model.EndpointResult{
				storeEndpoint("web.example.org", "192.0.2.1:443", "cccc3333", "TLS 1.3"),
			}},
	}
	var ids []string
	for _, r := range scans {
		id, err := st.SaveScan(ctx, r, "h")
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return path, ids
}

func runStoreCmd(t *testing.T, mk func(*Env) *cobra.Command, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	env := &Env{In: strings.NewReader(""), Out: &out, Err: &errb, Getenv: func(string) string { return "" }}
	cmd := mk(env)
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errb)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.ExecuteContext(context.Background())
	return out.String(), errb.String(), err
}

func exitCode(err error) int {
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	if err != nil {
		return -1
	}
	return 0
}

func TestScansCmd(t *testing.T) {
	db, ids := storeFixture(t)
	out, _, err := runStoreCmd(t, NewScansCmd, "--db", db)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "ID") || !strings.HasPrefix(lines[1], ids[2]) ||
		!strings.Contains(lines[1], "interrupted") || !strings.Contains(lines[2], "0/2/0/0/0") {
		t.Fatalf("text:\n%s", out)
	}
	// Columns are aligned: every row has STATUS at the same offset.
	col := strings.Index(lines[0], "STATUS")
	for _, l := range lines[1:] {
		if l[col-1] != ' ' || l[col] == ' ' {
			t.Errorf("misaligned row %q", l)
		}
	}
	out, _, err = runStoreCmd(t, NewScansCmd, "--db", db, "--format", "json", "--status", "complete", "--limit", "1")
	if err != nil {
		t.Fatal(err)
	}
	var list []store.ScanInfo
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list) != 1 || list[0].ID != ids[1] {
		t.Fatalf("json %v: %s", err, out)
	}
}

func TestDiffCmd(t *testing.T) {
	db, ids := storeFixture(t)
	// No argument: the newest complete scan against the previous complete one.
	out, _, err := runStoreCmd(t, NewDiffCmd, "--db", db)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Drift " + ids[0], "→ " + ids[1],
		"Findings: 1 new, 0 reopened, 0 fixed, 1 unchanged",
		`cert/\x1b[31mred`,
		"Endpoints: 1 appeared, 1 vanished", "Hosts: 1 appeared, 1 vanished", "Open ports: 1 opened, 1 closed",
		"+ 192.0.2.3:443", "- 192.0.2.2:443",
		"Certificates rotated: 1", "aaaa1111", "cccc3333",
		"tls.version", "TLS 1.2", "TLS 1.3",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b") {
		t.Error("a control character reached the terminal")
	}
	// One argument (a prefix): that scan against the previous complete one; it is partial.
	out, _, err = runStoreCmd(t, NewDiffCmd, "--db", db, "--format", "json", ids[2][:10])
	if err != nil {
		t.Fatal(err)
	}
	var d model.Drift
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatal(err)
	}
	if d.BaseScan != ids[1] || d.HeadScan != ids[2] || !d.Partial || len(d.FixedFindings) != 0 || len(d.EndpointsVanished) != 0 {
		t.Errorf("partial drift: %+v", d)
	}
	out, _, err = runStoreCmd(t, NewDiffCmd, "--db", db, "--format", "json", ids[0], ids[2])
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(out), &d); err != nil || d.BaseScan != ids[0] || d.HeadScan != ids[2] {
		t.Errorf("two-argument drift: %v %+v", err, d)
	}
	for _, args := range [][]string{{"nope"}, {ids[0]}, {"--format", "xml"}, {"a", "b", "c"}} {
		_, _, err := runStoreCmd(t, NewDiffCmd, append([]string{"--db", db}, args...)...)
		if err == nil {
			t.Errorf("diff %v succeeded", args)
		} else if c := exitCode(err); c != ExitUsage && c != -1 {
			t.Errorf("diff %v: exit %d (%v)", args, c, err)
		}
	}
}

func TestHistoryCmd(t *testing.T) {
	db, ids := storeFixture(t)
	out, _, err := runStoreCmd(t, NewHistoryCmd, "--db", db, "web.example.org")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[1], ids[0]) || !strings.Contains(lines[1], "aaaa1111") ||
		!strings.Contains(lines[2], "0/2/0/0/0") || !strings.Contains(lines[3], "scan interrupted") || !strings.Contains(lines[1], "3ms") {
		t.Fatalf("text:\n%s", out)
	}
	out, _, err = runStoreCmd(t, NewHistoryCmd, "--db", db, "--format", "json", "--limit", "1", "192.0.2.1:443")
	if err != nil {
		t.Fatal(err)
	}
	var pts []store.Point
	if err := json.Unmarshal([]byte(out), &pts); err != nil || len(pts) != 1 || pts[0].Scan != ids[2] {
		t.Fatalf("json %v: %s", err, out)
	}
	out, _, err = runStoreCmd(t, NewHistoryCmd, "--db", db, "unknown.example")
	if err != nil || !strings.Contains(out, "No stored scan") {
		t.Fatalf("unknown target: %v %q", err, out)
	}
}

func TestPruneCmd(t *testing.T) {
	db, ids := storeFixture(t)
	out, _, err := runStoreCmd(t, NewPruneCmd, "--db", db, "--keep", "1", "--dry-run")
	if err != nil || !strings.Contains(out, "Would delete 2 scan(s).") || !strings.Contains(out, ids[0]) {
		t.Fatalf("dry run: %v\n%s", err, out)
	}
	out, _, err = runStoreCmd(t, NewPruneCmd, "--db", db, "--older-than", "1w", "--keep", "2", "--vacuum", "--format", "json")
	if err != nil {
		t.Fatal(err)
	}
	var res store.PruneResult
	if err := json.Unmarshal([]byte(out), &res); err != nil || len(res.Deleted) != 1 || res.Deleted[0] != ids[0] || !res.Vacuumed {
		t.Fatalf("prune: %v %s", err, out)
	}
	for _, args := range [][]string{{}, {"--older-than", "soon"}, {"--older-than", "-3d"}, {"--keep", "-1"}} {
		_, _, err := runStoreCmd(t, NewPruneCmd, append([]string{"--db", db}, args...)...)
		if exitCode(err) != ExitUsage {
			t.Errorf("prune %v: %v", args, err)
		}
	}
}

func TestStoreCmdsMissingDatabase(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "none.db")
	var names []string
	for _, c := range StoreCmds(&Env{}) {
		names = append(names, c.Name())
	}
	if strings.Join(names, " ") != "scans diff history prune" {
		t.Errorf("StoreCmds = %v", names)
	}
	for _, c := range []struct {
		mk   func(*Env) *cobra.Command
		args []string
	}{{NewScansCmd, nil}, {NewDiffCmd, nil}, {NewHistoryCmd, []string{"x"}}, {NewPruneCmd, []string{"--keep", "1"}}} {
		_, _, err := runStoreCmd(t, c.mk, append([]string{"--db", missing}, c.args...)...)
		if exitCode(err) != ExitUsage || !strings.Contains(err.Error(), "no scan database") {
			t.Errorf("%v", err)
		}
	}
	// The default path comes from XDG_DATA_HOME.
	var out, errb bytes.Buffer
	xdg := t.TempDir()
	env := &Env{Out: &out, Err: &errb, Getenv: func(k string) string {
		if k == "XDG_DATA_HOME" {
			return xdg
		}
		return ""
	}}
	cmd := NewScansCmd(env)
	cmd.SetArgs(nil)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.Execute()
	if err == nil || !strings.Contains(err.Error(), filepath.Join(xdg, "rampart", "rampart.db")) {
		t.Errorf("default path: %v", err)
	}
}

func TestParseAge(t *testing.T) {
	for in, want := range map[string]time.Duration{"90d": 90 * 24 * time.Hour, "2w": 14 * 24 * time.Hour, "36h": 36 * time.Hour, "90m": 90 * time.Minute} {
		if got, err := parseAge(in); err != nil || got != want {
			t.Errorf("parseAge(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "d", "0d", "1.5d", "-1h", "x"} {
		if _, err := parseAge(in); err == nil {
			t.Errorf("parseAge(%q) succeeded", in)
		}
	}
}

func TestOpenScanStoreCreates(t *testing.T) {
	xdg := t.TempDir()
	var errb bytes.Buffer
	env := &Env{Out: &bytes.Buffer{}, Err: &errb, Getenv: func(k string) string {
		if k == "XDG_DATA_HOME" {
			return xdg
		}
		return ""
	}}
	st, err := OpenScanStore(context.Background(), env, "")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if st.Path() != filepath.Join(xdg, "rampart", "rampart.db") {
		t.Errorf("path = %s", st.Path())
	}
	out, _, err := runStoreCmd(t, NewScansCmd, "--db", st.Path())
	if err != nil || !strings.Contains(out, "No scans stored.") {
		t.Errorf("scans on an empty database: %v %q", err, out)
	}
}
