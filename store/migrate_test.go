package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rampart-scan/rampart/model"
)

// migrationFixture is two scans of one scope with certificates, findings, domains and notes.
func migrationFixture() []*model.ScanResult {
	a := result("20261101T100000Z-aaaaaa", t0, model.ScanComplete,
		epSpec{name: "web.example.org", addr: "192.0.2.1:443", service: "https", leaf: "l1", version: "TLS 1.2",
			findings: []string{"tls/legacy|TLS 1.0", "cert/expiring"}},
		epSpec{name: "mx.example.org", addr: "[2001:db8::25]:25", service: "smtp", status: model.StatusUnreachable},
	)
	a.Endpoints = append(a.Endpoints, exposureEndpoint("192.0.2.5:6379", model.PortOpen, false))
	a.Discovery = []model.DiscoveryNote{{Target: "example.org", Kind: "empty", Detail: "no SRV"}}
	a.Domains = []model.DomainResult{{Observation: model.DomainObservation{Name: "example.org"},
		Findings: []model.Finding{{RuleID: "dns/no-caa", Asset: "domain:example.org", Fingerprint: "f00"}}}}
	b := result("20261101T110000Z-bbbbbb", t0.Add(time.Hour), model.ScanComplete,
		epSpec{name: "web.example.org", addr: "192.0.2.1:443", service: "https", leaf: "l2", version: "TLS 1.3",
			findings: []string{"tls/legacy|TLS 1.0"}},
		epSpec{name: "mx.example.org", addr: "[2001:db8::25]:25", service: "smtp", leaf: "l3", version: "TLS 1.2"},
	)
	b.Endpoints = append(b.Endpoints, exposureEndpoint("192.0.2.5:6379", model.PortFiltered, true))
	b.Endpoints[0].Observation.Availability = &model.AvailabilityFacts{Attempts: 5, Successes: 5,
		ConnectMin: time.Millisecond, ConnectMedian: 4 * time.Millisecond, ConnectMax: 9 * time.Millisecond,
		Handshake: true, HandshakeMedian: 21 * time.Millisecond}
	b.Endpoints[1].Observation.Availability = &model.AvailabilityFacts{Attempts: 5, ConnectMedian: 7 * time.Millisecond}
	return []*model.ScanResult{a, b}
}

// insertV1 writes scans the way a version-1 rampart did: only the version-1 tables.
func insertV1(t *testing.T, db *sql.DB, rs []*model.ScanResult) {
	t.Helper()
	js := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	exec := func(q string, args ...any) sql.Result {
		t.Helper()
		res, err := db.Exec(q, args...)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return res
	}
	for _, r := range rs {
		res := exec(`INSERT INTO scans (id, status, scope_key, scope, targets, policy, policy_hash, tool_name, tool_version,
			schema_version, started, started_ns, finished, finished_ns, updated_ns) VALUES (?, ?, ?, ?, ?, ?, 'hash', ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.ID, string(r.Status), ScopeKey(r.Targets), scopeText(r.Targets), js(r.Targets), r.Policy, r.Tool.Name, r.Tool.Version,
			r.SchemaVersion, fmtTime(r.Started), r.Started.UnixNano(), fmtTime(r.Finished), r.Finished.UnixNano(), r.Finished.UnixNano())
		pk, _ := res.LastInsertId()
		for i, n := range r.Discovery {
			exec(`INSERT INTO notes (scan, seq, data) VALUES (?, ?, ?)`, pk, i, js(n))
		}
		for i, e := range r.Endpoints {
			ep := e.Observation.Endpoint
			host := ep.Name
			if host == "" {
				host = ep.Addr.Addr().String()
			}
			exec(`INSERT INTO endpoints (scan, seq, endpoint_id, host, name, addr, port, service, status, observation, findings_nil)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, pk, i, ep.ID(), host, ep.Name, ep.Addr.Addr().String(), ep.Addr.Port(),
				ep.Service, string(e.Observation.Status), js(e.Observation), e.Findings == nil)
			for _, f := range e.Findings {
				exec(`INSERT INTO findings (scan, ep, fingerprint, rule, severity, asset, waived, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
					pk, i, f.Fingerprint, f.RuleID, int(f.Severity), f.Asset, f.Waived, js(f))
			}
		}
		for i, d := range r.Domains {
			exec(`INSERT INTO domains (scan, seq, name, observation, findings_nil) VALUES (?, ?, ?, ?, ?)`,
				pk, i, d.Observation.Name, js(d.Observation), d.Findings == nil)
			for _, f := range d.Findings {
				exec(`INSERT INTO findings (scan, dom, fingerprint, rule, severity, asset, waived, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
					pk, i, f.Fingerprint, f.RuleID, int(f.Severity), f.Asset, f.Waived, js(f))
			}
		}
	}
}

// insertV2 adds what a version-2 rampart also wrote: certificates and open ports.
func insertV2(t *testing.T, db *sql.DB, rs []*model.ScanResult) {
	t.Helper()
	for _, r := range rs {
		var pk int64
		if err := db.QueryRow(`SELECT pk FROM scans WHERE id = ?`, r.ID).Scan(&pk); err != nil {
			t.Fatal(err)
		}
		for i, e := range r.Endpoints {
			o := e.Observation
			if o.Certificates != nil {
				for j, c := range o.Certificates.Chain {
					if _, err := db.Exec(`INSERT INTO certificates VALUES (?, ?, ?, ?, ?, ?, ?)`, pk, i, j, c.SHA256, c.Subject,
						c.Issuer, fmtTime(c.NotAfter)); err != nil {
						t.Fatal(err)
					}
				}
			}
			if reachable(&o) {
				if _, err := db.Exec(`INSERT INTO ports VALUES (?, ?)`, pk, o.Endpoint.Addr.String()); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
}

// dump renders the derived tables in a form independent of row IDs.
func dump(t *testing.T, st *Store) string {
	t.Helper()
	var b strings.Builder
	for _, q := range []string{
		`SELECT s.id, e.seq, e.endpoint_id, e.host, e.name, e.addr, e.port, e.service, e.status, e.findings_nil, e.connect_ns, e.handshake_ns
			FROM endpoints e JOIN scans s ON s.pk = e.scan ORDER BY s.id, e.seq`,
		`SELECT s.id, f.ep, f.dom, f.fingerprint, f.rule, f.severity, f.asset, f.waived FROM findings f JOIN scans s ON s.pk = f.scan
			ORDER BY s.id, f.ep, f.dom, f.fingerprint`,
		`SELECT s.id, c.ep, c.position, c.sha256, c.subject, c.issuer, c.not_after, c.der_ref FROM certificates c JOIN scans s ON s.pk = c.scan
			ORDER BY 1, 2, 3`,
		`SELECT sha256, hex(der) FROM der ORDER BY 1`,
		`SELECT scope_key, fingerprint, first_ns, last_ns FROM seen ORDER BY 1, 2`,
		`SELECT s.id, e.seq, e.observation FROM endpoints e JOIN scans s ON s.pk = e.scan ORDER BY 1, 2`,
		`SELECT s.id, p.addrport FROM ports p JOIN scans s ON s.pk = p.scan ORDER BY 1, 2`,
		`SELECT s.id, f.ep, f.fact, f.value FROM facts f JOIN scans s ON s.pk = f.scan ORDER BY 1, 2, 3, 4`,
	} {
		rows, err := st.DB().Query(q)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		n := 0
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintln(&b, vals...)
			n++
		}
		rows.Close()
		if n == 0 {
			t.Fatalf("no rows for %s", q)
		}
		b.WriteString("--\n")
	}
	return b.String()
}

func TestMigrationsFromEveryVersion(t *testing.T) {
	ctx := context.Background()
	fixture := migrationFixture()

	// Reference: the current writer on a fresh database.
	ref := openTemp(t)
	for _, r := range fixture {
		save(t, ref, r)
	}
	wantDump := dump(t, ref)
	wantDrift, err := ref.Diff(ctx, fixture[0].ID, fixture[1].ID)
	if err != nil {
		t.Fatal(err)
	}

	for k := 0; k <= len(migrations); k++ {
		t.Run(fmt.Sprintf("from v%d", k), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "old.db")
			first := k // the version data is written at
			if k > 2 && k < len(migrations) {
				first = 2
			}
			old, err := open(ctx, path, nil, migrations[:first])
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case k == len(migrations):
				// The current version: written through the store itself.
				for _, r := range fixture {
					save(t, old, r)
				}
			case k >= 1:
				// Written as a version-1 or -2 rampart wrote; later versions' data derived by
				// their own migrations from there.
				insertV1(t, old.DB(), fixture)
				if k >= 2 {
					insertV2(t, old.DB(), fixture)
				}
				if k > 2 {
					old.Close()
					if old, err = open(ctx, path, nil, migrations[:k]); err != nil {
						t.Fatal(err)
					}
				}
			}
			if v, _ := old.SchemaVersion(ctx); v != k {
				t.Fatalf("filled at version %d, want %d", v, k)
			}
			path = old.Path()
			old.Close()

			st, err := Open(ctx, path, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			if v, _ := st.SchemaVersion(ctx); v != LatestSchemaVersion() {
				t.Fatalf("migrated to %d, want %d", v, LatestSchemaVersion())
			}
			if err := st.IntegrityCheck(ctx); err != nil {
				t.Fatal(err)
			}
			if k == 0 {
				if n := count(t, st, `SELECT count(*) FROM scans`); n != 0 {
					t.Fatalf("%d scans in a new database", n)
				}
				return
			}
			if got := dump(t, st); got != wantDump {
				t.Errorf("derived tables differ from a fresh write:\nwant:\n%s\ngot:\n%s", wantDump, got)
			}
			for _, r := range fixture {
				got, err := st.LoadScan(ctx, r.ID)
				if err != nil {
					t.Fatal(err)
				}
				jsonEqual(t, r, got)
			}
			d, err := st.Diff(ctx, fixture[0].ID, fixture[1].ID)
			if err != nil {
				t.Fatal(err)
			}
			jsonEqual(t, wantDrift, d)
		})
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	ctx := context.Background()
	st := openTemp(t)
	if _, err := st.DB().Exec(`INSERT INTO schema_version VALUES (?, 'future', '')`, LatestSchemaVersion()+5); err != nil {
		t.Fatal(err)
	}
	path := st.Path()
	st.Close()
	if _, err := Open(ctx, path, nil); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("Open of a newer database = %v", err)
	}
}

func TestMigrationIsAtomic(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "x.db")
	steps := append(append([]migration{}, migrations[0]), migration{name: "broken", sql: `CREATE TABLE half (x INTEGER); SELECT nope FROM nowhere;`})
	if _, err := open(ctx, path, nil, steps); err == nil {
		t.Fatal("broken migration succeeded")
	}
	st, err := open(ctx, path, nil, migrations[:1])
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if v, _ := st.SchemaVersion(ctx); v != 1 {
		t.Fatalf("version %d after a failed step, want 1", v)
	}
	if n := count(t, st, `SELECT count(*) FROM sqlite_master WHERE name = 'half'`); n != 0 {
		t.Fatal("a failed migration left its table behind")
	}
}
