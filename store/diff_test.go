package store

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rampart-scan/rampart/model"
)

func fps(fs []model.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.RuleID+"@"+f.Asset)
	}
	return out
}

func TestDiff(t *testing.T) {
	ctx := context.Background()
	const (
		a1 = "192.0.2.1:443"
		a2 = "192.0.2.2:443"
		a3 = "192.0.2.3:443"
	)
	id := func(name, addr string) string {
		return epSpec{name: name, addr: addr, service: "https"}.result().Observation.Endpoint.ID()
	}
	web1 := id("web.example.org", a1)
	web2 := id("web.example.org", a2)
	mail := id("mail.example.org", a3)
	exp1 := t0.Add(30 * 24 * time.Hour)
	exp2 := t0.Add(120 * 24 * time.Hour)

	base := []epSpec{
		{name: "web.example.org", addr: a1, service: "https", leaf: "old", notAfter: exp1, version: "TLS 1.2",
			findings: []string{"cert/expiring", "tls/legacy|TLS 1.0"}},
		{name: "web.example.org", addr: a2, service: "https", leaf: "same", version: "TLS 1.3", findings: []string{"hdr/hsts"}},
	}
	head := []epSpec{
		{name: "web.example.org", addr: a1, service: "https", leaf: "new", notAfter: exp2, version: "TLS 1.3",
			findings: []string{"tls/legacy|TLS 1.0", "tls/weak-suite|RC4"}},
		{name: "mail.example.org", addr: a3, service: "https", leaf: "m", version: "TLS 1.3"},
	}

	type want struct {
		partial                        bool
		newF, fixed, reopened          []string
		unchanged                      int
		epApp, epVan, hostApp, hostVan []string
		opened, closed                 []string
		rotations                      int
		changes                        []string // endpoint|fact|old|new
	}
	cases := []struct {
		name       string
		history    []epSpec // an earlier complete scan of the same scope, before base
		headStatus model.ScanStatus
		want       want
	}{
		{
			name: "complete head", headStatus: model.ScanComplete,
			want: want{
				newF:      []string{"tls/weak-suite@" + web1},
				fixed:     []string{"cert/expiring@" + web1, "hdr/hsts@" + web2},
				unchanged: 1,
				epApp:     []string{mail}, epVan: []string{web2},
				hostApp: []string{"mail.example.org"}, hostVan: nil,
				opened: []string{a3}, closed: []string{a2},
				rotations: 1,
				changes:   []string{web1 + "|tls.version|TLS 1.2|TLS 1.3"},
			},
		},
		{
			name: "reopened from history", headStatus: model.ScanComplete,
			history: []epSpec{{name: "web.example.org", addr: a1, service: "https", findings: []string{"tls/weak-suite|RC4"}}},
			want: want{
				reopened:  []string{"tls/weak-suite@" + web1},
				fixed:     []string{"cert/expiring@" + web1, "hdr/hsts@" + web2},
				unchanged: 1,
				epApp:     []string{mail}, epVan: []string{web2},
				hostApp: []string{"mail.example.org"},
				opened:  []string{a3}, closed: []string{a2},
				rotations: 1,
				changes:   []string{web1 + "|tls.version|TLS 1.2|TLS 1.3"},
			},
		},
		{
			name: "interrupted head: nothing vanishes", headStatus: model.ScanInterrupted,
			want: want{
				partial:   true,
				newF:      []string{"tls/weak-suite@" + web1},
				unchanged: 1,
				epApp:     []string{mail},
				hostApp:   []string{"mail.example.org"},
				opened:    []string{a3},
				rotations: 1,
				changes:   []string{web1 + "|tls.version|TLS 1.2|TLS 1.3"},
			},
		},
		{
			name: "failed head", headStatus: model.ScanFailed,
			want: want{
				partial: true, newF: []string{"tls/weak-suite@" + web1}, unchanged: 1,
				epApp: []string{mail}, hostApp: []string{"mail.example.org"}, opened: []string{a3}, rotations: 1,
				changes: []string{web1 + "|tls.version|TLS 1.2|TLS 1.3"},
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := openTemp(t)
			if c.history != nil {
				save(t, st, result("", t0.Add(-time.Hour), model.ScanComplete, c.history...))
				// A failed scan and another scope in between must not count as history.
				save(t, st, result("", t0.Add(-30*time.Minute), model.ScanFailed, head...))
			}
			other := result("", t0.Add(-20*time.Minute), model.ScanComplete, head...)
			other.Targets = targets("example.net")
			save(t, st, other)
			b := save(t, st, result("", t0, model.ScanComplete, base...))
			h := save(t, st, result("", t0.Add(time.Hour), c.headStatus, head...))
			d, err := st.Diff(ctx, b, h)
			if err != nil {
				t.Fatal(err)
			}
			w := c.want
			check := func(what string, got, want []string) {
				t.Helper()
				slices.Sort(got)
				slices.Sort(want)
				if strings.Join(got, " ") != strings.Join(want, " ") {
					t.Errorf("%s = %v, want %v", what, got, want)
				}
			}
			if d.Partial != w.partial || d.BaseScan != b || d.HeadScan != h || !d.BaseTime.Equal(t0) {
				t.Errorf("header: %+v", d)
			}
			check("new", fps(d.NewFindings), w.newF)
			check("fixed", fps(d.FixedFindings), w.fixed)
			check("reopened", fps(d.ReopenedFindings), w.reopened)
			if d.UnchangedFindings != w.unchanged {
				t.Errorf("unchanged = %d, want %d", d.UnchangedFindings, w.unchanged)
			}
			check("endpoints appeared", d.EndpointsAppeared, w.epApp)
			check("endpoints vanished", d.EndpointsVanished, w.epVan)
			check("hosts appeared", d.HostsAppeared, w.hostApp)
			check("hosts vanished", d.HostsVanished, w.hostVan)
			check("ports opened", d.PortsOpened, w.opened)
			check("ports closed", d.PortsClosed, w.closed)
			if len(d.CertRotations) != w.rotations {
				t.Fatalf("rotations = %+v", d.CertRotations)
			}
			if w.rotations == 1 {
				r := d.CertRotations[0]
				if r.Endpoint != web1 || r.OldSHA256 != "old" || r.NewSHA256 != "new" || !r.OldExpiry.Equal(exp1) || !r.NewExpiry.Equal(exp2) {
					t.Errorf("rotation = %+v", r)
				}
			}
			var ch []string
			for _, x := range d.Changes {
				ch = append(ch, x.Endpoint+"|"+x.Fact+"|"+x.Old+"|"+x.New)
			}
			check("changes", ch, w.changes)
			// The full finding travels with the drift, not just its key.
			for _, f := range append(append(d.NewFindings, d.FixedFindings...), d.ReopenedFindings...) {
				if f.Title == "" || f.Fingerprint == "" || f.Evidence["k"] != "v" {
					t.Errorf("finding not complete: %+v", f)
				}
			}
		})
	}
}

func TestDiffFactSetsAndStatus(t *testing.T) {
	ctx := context.Background()
	st := openTemp(t)
	mk := func(versions []string, status model.ProbeStatus) model.EndpointResult {
		r := epSpec{name: "a.example.org", addr: "192.0.2.1:443", status: status, version: "TLS 1.3"}.result()
		eng := &model.TLSEngineFacts{}
		for _, v := range versions {
			eng.Versions = append(eng.Versions, model.EngineVersion{Version: v, Supported: true,
				Suites: []model.EngineSuite{{Name: "S_" + strings.ReplaceAll(v, " ", "")}}})
		}
		eng.Versions = append(eng.Versions, model.EngineVersion{Version: "SSLv3"})
		r.Observation.TLS.Engine = eng
		if status == model.StatusError { // connected, then the probe failed
			r.Observation.Connect = &model.ConnectFacts{Reachable: true, Latency: time.Millisecond}
		}
		return r
	}
	b := result("", t0, model.ScanComplete)
	b.Endpoints = append(b.Endpoints, mk([]string{"TLS 1.0", "TLS 1.2", "TLS 1.3"}, model.StatusOK))
	h := result("", t0.Add(time.Hour), model.ScanComplete)
	h.Endpoints = append(h.Endpoints, mk([]string{"TLS 1.2", "TLS 1.3"}, model.StatusError))
	d, err := st.Diff(ctx, save(t, st, b), save(t, st, h))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][2]string{}
	for _, c := range d.Changes {
		got[c.Fact] = [2]string{c.Old, c.New}
	}
	want := map[string][2]string{
		"status":       {"ok", "error"},
		"tls.versions": {"TLS 1.0, TLS 1.2, TLS 1.3", "TLS 1.2, TLS 1.3"},
		"tls.suites":   {"TLS 1.0 S_TLS1.0, TLS 1.2 S_TLS1.2, TLS 1.3 S_TLS1.3", "TLS 1.2 S_TLS1.2, TLS 1.3 S_TLS1.3"},
	}
	if len(got) != len(want) {
		t.Errorf("changes = %+v", d.Changes)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %q, want %q", k, got[k], v)
		}
	}
	// status error keeps the TCP connection reachable: the port is neither opened nor closed.
	if len(d.PortsOpened)+len(d.PortsClosed) != 0 {
		t.Errorf("ports: %v %v", d.PortsOpened, d.PortsClosed)
	}
}

func TestPreviousComplete(t *testing.T) {
	ctx := context.Background()
	st := openTemp(t)
	ep := epSpec{name: "a.example.org", addr: "192.0.2.1:443"}
	s1 := save(t, st, result("", t0, model.ScanComplete, ep))
	s2 := save(t, st, result("", t0.Add(time.Hour), model.ScanInterrupted, ep))
	o := result("", t0.Add(2*time.Hour), model.ScanComplete, ep)
	o.Targets = targets("example.net")
	s3 := save(t, st, o)
	// Same scope, targets given in another order with another source: same key.
	r4 := result("", t0.Add(3*time.Hour), model.ScanComplete, ep)
	r4.Targets = append(targets("example.com"), targets("example.org")...)
	r5 := result("", t0.Add(4*time.Hour), model.ScanComplete, ep)
	r5.Targets = append(targets("example.org"), targets("example.com")...)
	r5.Targets[0].Source = "file.txt:9"
	s4, s5 := save(t, st, r4), save(t, st, r5)
	s6 := save(t, st, result("", t0.Add(5*time.Hour), model.ScanComplete, ep))
	for _, c := range []struct{ scan, want string }{{s1, ""}, {s2, s1}, {s3, ""}, {s4, ""}, {s5, s4}, {s6, s1}} {
		got, err := st.PreviousComplete(ctx, c.scan)
		if err != nil || got != c.want {
			t.Errorf("PreviousComplete(%s) = %q, %v; want %q", c.scan, got, err, c.want)
		}
	}
	if latest, err := st.LatestComplete(ctx); err != nil || latest != s6 {
		t.Errorf("LatestComplete = %q, %v", latest, err)
	}
	if d, err := st.DriftSincePrevious(ctx, s1); d != nil || err != nil {
		t.Errorf("DriftSincePrevious(first) = %+v, %v", d, err)
	}
	if d, err := st.DriftSincePrevious(ctx, s6); err != nil || d == nil || d.BaseScan != s1 || d.HeadScan != s6 {
		t.Errorf("DriftSincePrevious(s6) = %+v, %v", d, err)
	}
	for _, c := range []struct {
		scan  string
		limit int
		want  []string
	}{
		{s6, 0, []string{s1, s6}}, {s2, 0, []string{s1, s2}}, {s6, 1, []string{s6}}, {s5, 0, []string{s4, s5}}, {s1, 0, []string{s1}},
	} {
		tr, err := st.Trend(ctx, c.scan, c.limit)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, p := range tr {
			got = append(got, p.ID)
			if p.Endpoints != 1 || p.Findings == nil {
				t.Errorf("trend point %+v", p)
			}
		}
		if strings.Join(got, " ") != strings.Join(c.want, " ") {
			t.Errorf("Trend(%s, %d) = %v, want %v", c.scan, c.limit, got, c.want)
		}
	}
}

// exposureEndpoint is a port an exposure scan identified (or found not open).
func exposureEndpoint(addr string, state model.PortState, auth bool) model.EndpointResult {
	ep := model.Endpoint{Addr: netip.MustParseAddrPort(addr)}
	o := model.Observation{Endpoint: ep, Started: t0, Status: model.StatusOK,
		Service: &model.ServiceFacts{Port: ep.Addr.Port(), State: state}}
	if state == model.PortOpen {
		o.Connect = &model.ConnectFacts{Reachable: true, Latency: time.Millisecond}
		o.Service.Service, o.Service.Product, o.Service.Version = model.SvcRedis, "Redis", "7.2.4"
		o.Service.AuthRequired = &auth
	}
	return model.EndpointResult{Observation: o, Findings: []model.Finding{}}
}

func TestReachable(t *testing.T) {
	for _, c := range []struct {
		name string
		o    model.Observation
		want bool
	}{
		{"probe ok", model.Observation{Status: model.StatusOK}, true},
		{"connected, probe failed", model.Observation{Status: model.StatusError, Connect: &model.ConnectFacts{Reachable: true}}, true},
		{"refused", model.Observation{Status: model.StatusUnreachable}, false},
		{"timeout", model.Observation{Status: model.StatusTimeout, Connect: &model.ConnectFacts{}}, false},
		{"exposure open", model.Observation{Status: model.StatusError, Service: &model.ServiceFacts{State: model.PortOpen}}, true},
		{"exposure filtered", model.Observation{Status: model.StatusOK, Service: &model.ServiceFacts{State: model.PortFiltered}}, false},
		{"exposure closed", model.Observation{Status: model.StatusOK, Service: &model.ServiceFacts{State: model.PortClosed}}, false},
	} {
		if got := reachable(&c.o); got != c.want {
			t.Errorf("%s: reachable = %v", c.name, got)
		}
	}
}

func TestDiffExposure(t *testing.T) {
	ctx := context.Background()
	st := openTemp(t)
	b := result("", t0, model.ScanComplete)
	b.Endpoints = append(b.Endpoints, exposureEndpoint("192.0.2.5:6379", model.PortOpen, false),
		exposureEndpoint("192.0.2.5:5432", model.PortClosed, false))
	h := result("", t0.Add(time.Hour), model.ScanComplete)
	h.Endpoints = append(h.Endpoints, exposureEndpoint("192.0.2.5:6379", model.PortFiltered, false),
		exposureEndpoint("192.0.2.5:5432", model.PortOpen, true))
	d, err := st.Diff(ctx, save(t, st, b), save(t, st, h))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(d.PortsOpened, " ") != "192.0.2.5:5432" || strings.Join(d.PortsClosed, " ") != "192.0.2.5:6379" {
		t.Errorf("opened %v, closed %v", d.PortsOpened, d.PortsClosed)
	}
	got := map[string]string{}
	for _, c := range d.Changes {
		got[c.Endpoint[strings.LastIndexByte(c.Endpoint, ':')+1:]+" "+c.Fact] = c.Old + " -> " + c.New
	}
	for k, v := range map[string]string{
		"6379 port.state": "open -> filtered", "5432 port.state": "closed -> open",
		"5432 service": " -> redis", "5432 service.auth_required": " -> true", "5432 service.software": " -> Redis 7.2.4",
		"6379 service.auth_required": "false -> ",
	} {
		if got[k] != v {
			t.Errorf("%s: %q, want %q (all: %v)", k, got[k], v, got)
		}
	}
}

func TestGradesFromFacts(t *testing.T) {
	// Grades are facts like any other (an extractor emits "grade" once evaluation sets one):
	// trend counts them, history shows them and drift reports their change.
	ctx := context.Background()
	st := openTemp(t)
	ep := epSpec{name: "a.example.org", addr: "192.0.2.1:443"}
	ep2 := epSpec{name: "b.example.org", addr: "192.0.2.2:443"}
	s1 := save(t, st, result("", t0, model.ScanComplete, ep, ep2))
	s2 := save(t, st, result("", t0.Add(time.Hour), model.ScanComplete, ep, ep2))
	for scan, grades := range map[string][]string{s1: {"A", "A"}, s2: {"B", "A"}} {
		for seq, g := range grades {
			if _, err := st.DB().Exec(`INSERT INTO facts (scan, ep, fact, value) SELECT pk, ?, 'grade', ? FROM scans WHERE id = ?`,
				seq, g, scan); err != nil {
				t.Fatal(err)
			}
		}
	}
	tr, err := st.Trend(ctx, s2, 0)
	if err != nil || len(tr) != 2 || tr[0].Grades["A"] != 2 || tr[1].Grades["A"] != 1 || tr[1].Grades["B"] != 1 {
		t.Fatalf("trend = %+v, %v", tr, err)
	}
	pts, err := st.History(ctx, "a.example.org", 0)
	if err != nil || len(pts) != 2 || pts[0].Grade != "A" || pts[1].Grade != "B" {
		t.Fatalf("history = %+v, %v", pts, err)
	}
	d, err := st.Diff(ctx, s1, s2)
	if err != nil || len(d.Changes) != 1 || d.Changes[0].Fact != "grade" || d.Changes[0].Old != "A" || d.Changes[0].New != "B" {
		t.Fatalf("drift changes = %+v, %v", d.Changes, err)
	}
}
