package html

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	stdhtml "html"
	"regexp"
	"strings"
	"testing"

	"github.com/rampart-scan/rampart/model"
	"github.com/rampart-scan/rampart/reports/internal/reporttest"
)

// history is eight earlier daily scans.
func history() []TrendPoint {
	var tr []TrendPoint
	for i := range 8 {
		tr = append(tr, TrendPoint{
			Time:     reporttest.Now.AddDate(0, 0, i-8),
			ScanID:   "scan-" + reporttest.Now.AddDate(0, 0, i-8).Format("20060102"),
			Findings: map[model.Severity]int{model.SeverityCritical: i / 4, model.SeverityHigh: 4 - i/3, model.SeverityMedium: 2 - i/4, model.SeverityLow: 1},
		})
	}
	return tr
}

func render(t *testing.T, in Input) string {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, in); err != nil {
		t.Fatalf("Write: %v", err)
	}
	return buf.String()
}

func TestServerStringsEscaped(t *testing.T) {
	scan := reporttest.Scan(reporttest.Options{Hostile: true})
	scan.Endpoints[0].Observation.Certificates.Chain[0].Subject = "CN=evil " + reporttest.ScriptPayload + reporttest.ImgPayload
	scan.Endpoints[0].Observation.Endpoint.Origin = append(scan.Endpoints[0].Observation.Endpoint.Origin, "TXT </style><script>x()</script>")
	out := render(t, Input{Scan: scan, Rules: reporttest.Rule, Drift: reporttest.Drift(scan)})
	for _, raw := range []string{reporttest.ScriptPayload, "<img", "</style><script>"} {
		if strings.Contains(out, raw) {
			t.Errorf("raw payload %q in the output", raw)
		}
	}
	if !strings.Contains(out, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("escaped payload missing: the subject or banner is not shown")
	}
	if n := strings.Count(out, "<script"); n != 1 {
		t.Errorf("%d script elements, want 1", n)
	}
}

func TestCSPHashesMatchInlineBlocks(t *testing.T) {
	out := render(t, Input{Scan: reporttest.Scan(reporttest.Options{})})
	csp := regexp.MustCompile(`<meta http-equiv="Content-Security-Policy" content="([^"]+)">`).FindStringSubmatch(out)
	if csp == nil {
		t.Fatal("no CSP meta")
	}
	policy := stdhtml.UnescapeString(csp[1])
	for _, want := range []string{"default-src 'none'", "img-src data:", "base-uri 'none'", "form-action 'none'"} {
		if !strings.Contains(policy, want) {
			t.Errorf("policy %q lacks %q", policy, want)
		}
	}
	if strings.Contains(policy, "unsafe") {
		t.Errorf("policy %q allows unsafe sources", policy)
	}
	for _, block := range []struct{ tag, directive string }{{"style", "style-src"}, {"script", "script-src"}} {
		m := regexp.MustCompile(`(?s)<`+block.tag+`>(.*?)</`+block.tag+`>`).FindAllStringSubmatch(out, -1)
		if len(m) != 1 {
			t.Fatalf("%d inline %s blocks, want 1", len(m), block.tag)
		}
		sum := sha256.Sum256([]byte(m[0][1]))
		want := block.directive + " 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
		if !strings.Contains(policy, want) {
			t.Errorf("policy lacks %q", want)
		}
	}
	if regexp.MustCompile(`\sstyle="`).MatchString(out) {
		t.Error("inline style attribute: blocked by the CSP")
	}
	if regexp.MustCompile(`\son[a-z]+="`).MatchString(out) {
		t.Error("inline event handler: blocked by the CSP")
	}
}

func TestNoExternalResources(t *testing.T) {
	out := render(t, Input{Scan: reporttest.Scan(reporttest.Options{}), Rules: reporttest.Rule, Drift: reporttest.Drift(reporttest.Scan(reporttest.Options{})), Trend: history()})
	for _, m := range regexp.MustCompile(`\s(src|href|action|data|poster|srcset)="([^"]*)"`).FindAllStringSubmatch(out, -1) {
		attr, v := m[1], m[2]
		if attr == "href" && (strings.HasPrefix(v, "#") || strings.HasPrefix(v, "https://www.rfc-editor.org/")) {
			continue // in-page anchors, and reference links from our own rule catalogue
		}
		t.Errorf("%s=%q would load or leave the page", attr, v)
	}
	if strings.Contains(out, "@import") || strings.Contains(out, "url(") {
		t.Error("CSS loads a resource")
	}
}

func TestSections(t *testing.T) {
	scan := reporttest.Scan(reporttest.Options{})
	out := render(t, Input{Scan: scan, Rules: reporttest.Rule, Drift: reporttest.Drift(scan), Trend: history()})
	for _, want := range []string{
		`id="summary"`, `id="drift"`, `id="hosts"`, `id="findings"`, `id="waived"`, `id="rules"`, `id="discovery"`,
		"Legacy fax gateway needs 3DES", "mail-team", "2027-03-31", // waiver
		"Addresses differ: xmpp-client port 5222", "TLS_AES_128_GCM_SHA256", // address differences
		"ssl_protocols TLSv1.2 TLSv1.3;",        // fix snippet
		"Renew the certificate and reload",      // fix in the finding
		`<polyline class="line stroke-high"`,    // trend chart
		"Certificate rotations", "tls.versions", // drift details
		`data-new="1"`, "expired 12 days ago", "R11",
		"Protocols × cipher suites", "TLS_RSA_WITH_3DES_EDE_CBC_SHA", "inferred", "rsa_pss_rsae_sha256", // engine matrix
		"Handshake features", "inappropriate_fallback(86)", "Availability", "19 of 20 succeeded", // features, availability
		"Open ports and services", "STARTTLS (smtp)", "chain complete", "XMPP identity example.org via DNS-ID",
		"e_sub_cert_aia_does_not_contain_ocsp_url", "DNSSEC", "letsencrypt.org", "_xmpp-client._tcp.example.org", "TLS-RPT",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	// The waived finding is apart: not a row of the active findings table.
	table := out[strings.Index(out, `id="findings-table"`):]
	table = table[:strings.Index(table, "</table>")]
	if strings.Contains(table, `data-rule="tls/weak-cipher"`) {
		t.Error("waived finding among active findings")
	}
	if strings.Count(table, "<tr data-sev") != 5 {
		t.Errorf("%d active rows, want 5", strings.Count(table, "<tr data-sev"))
	}
}

func TestGrades(t *testing.T) {
	got := grades(map[string]int{"B": 1, "A": 3, "A+": 2, "F": 1, "A-": 1})
	var order []string
	for _, g := range got {
		order = append(order, g.Grade)
	}
	if strings.Join(order, " ") != "A+ A A- B F" {
		t.Errorf("grade order %v", order)
	}
	out := render(t, Input{Scan: reporttest.Scan(reporttest.Options{}), Grades: map[string]int{"A": 3, "F": 1}})
	if !strings.Contains(out, "<h3>Grades</h3>") || !strings.Contains(out, `<span class="grade">F</span>`) {
		t.Error("grade distribution missing")
	}
	if strings.Contains(render(t, Input{Scan: reporttest.Scan(reporttest.Options{})}), "<h3>Grades</h3>") {
		t.Error("grade section without grades")
	}
}

func TestMinimalInputs(t *testing.T) {
	out := render(t, Input{Scan: &model.ScanResult{}})
	if !strings.Contains(out, "No active findings") || strings.Contains(out, `id="drift"`) || strings.Contains(out, "<polyline") {
		t.Error("empty scan renders wrongly")
	}
	if err := Write(&bytes.Buffer{}, Input{}); err == nil {
		t.Error("nil scan accepted")
	}
	// A partial drift says so.
	scan := reporttest.Scan(reporttest.Options{})
	d := reporttest.Drift(scan)
	d.Partial = true
	if out := render(t, Input{Scan: scan, Drift: d}); !strings.Contains(out, "did not complete") {
		t.Error("partial drift not flagged")
	}
}

func TestVisible(t *testing.T) {
	tests := map[string]string{
		"plain":             "plain",
		"a\u202eb":          `a\u202eb`,
		"zero\u200bwidth":   `zero\u200bwidth`,
		"bell\x07":          `bell\u0007`,
		"multi\nline\ttabs": "multi\nline\ttabs",
		"ünïcode ✓":         "ünïcode ✓",
	}
	for in, want := range tests {
		if got := visible(in); got != want {
			t.Errorf("visible(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSuiteAndVersionClass(t *testing.T) {
	tests := []struct{ suite, version, want string }{
		{"TLS_AES_128_GCM_SHA256", "TLS 1.3", "good"},
		{"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS 1.2", "good"},
		{"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "TLS 1.2", "good"},
		{"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "TLS 1.2", "ok"},
		{"TLS_RSA_WITH_AES_128_GCM_SHA256", "TLS 1.2", "weak"},
		{"TLS_RSA_WITH_3DES_EDE_CBC_SHA", "TLS 1.0", "bad"},
		{"TLS_ECDHE_RSA_WITH_RC4_128_SHA", "TLS 1.2", "bad"},
		{"TLS_DH_anon_WITH_AES_128_CBC_SHA", "TLS 1.2", "bad"},
	}
	for _, tc := range tests {
		if got := suiteClass(tc.suite, tc.version); got != tc.want {
			t.Errorf("suiteClass(%s) = %s, want %s", tc.suite, got, tc.want)
		}
	}
	for v, want := range map[string]string{"TLS 1.3": "good", "TLS 1.2": "ok", "TLS 1.1": "bad", "TLS 1.0": "bad", "SSL 3.0": "bad"} {
		if got := versionClass(v); got != want {
			t.Errorf("versionClass(%s) = %s, want %s", v, got, want)
		}
	}
}

func TestTrend(t *testing.T) {
	scan := reporttest.Scan(reporttest.Options{})
	pts := trendWithCurrent(history(), scan, map[model.Severity]int{model.SeverityHigh: 2})
	if len(pts) != 9 || pts[8].ScanID != scan.ID {
		t.Fatalf("current scan not appended: %d points", len(pts))
	}
	if again := trendWithCurrent(pts, scan, nil); len(again) != 9 {
		t.Error("current scan appended twice")
	}
	c := trendChart(pts)
	if c == nil || len(c.Series) != 4 || len(c.XTicks) != 3 {
		t.Fatalf("chart %+v", c)
	}
	for _, s := range c.Series {
		for _, d := range s.Dots {
			if d.X < c.Left || d.X > c.Right || d.Y < c.Top || d.Y > c.Base {
				t.Errorf("%s point (%v,%v) outside the plot", s.Name, d.X, d.Y)
			}
		}
	}
	if trendChart(nil) != nil || trendWithCurrent(nil, scan, nil) != nil {
		t.Error("chart without history")
	}
}

func FuzzVisible(f *testing.F) {
	f.Add("a\u202eb\x00c")
	f.Fuzz(func(t *testing.T, s string) {
		v := visible(s)
		for _, r := range v {
			if hidden(r) {
				t.Fatalf("hidden rune %U left in %q", r, v)
			}
		}
	})
}

// TestNodeFindingsCounted: findings about the addresses behind one name (node groups) are
// listed and counted like endpoint and domain findings.
func TestNodeFindingsCounted(t *testing.T) {
	g := model.NodeGroup{Name: "chat.example.org", Port: 5223, Service: "xmpps-client", Endpoints: []string{"a", "b"}}
	f := model.Finding{RuleID: "tls/inconsistent-nodes", Severity: model.SeverityMedium, Title: "Addresses differ",
		Message: "The 2 addresses differ in leaf certificate.", Asset: g.ID(), Detail: "leaf_certificate",
		Fingerprint: model.FindingFingerprint("tls/inconsistent-nodes", g.ID(), "leaf_certificate")}
	scan := &model.ScanResult{Status: model.ScanComplete, Nodes: []model.NodeGroupResult{{Group: g, Findings: []model.Finding{f}}}}
	out := render(t, Input{Scan: scan})
	if strings.Contains(out, "No active findings") || !strings.Contains(out, "tls/inconsistent-nodes") || !strings.Contains(out, "1 medium") {
		t.Fatal("a node-group finding is not listed and counted")
	}
}

// TestSettledFactsExplained checks that what the audit settled instead of probing says so:
// a version not probed, the fallback probe not needed, session IDs skipped for tickets.
func TestSettledFactsExplained(t *testing.T) {
	scan := reporttest.Scan(reporttest.Options{})
	found := false
	for i := range scan.Endpoints {
		tf := scan.Endpoints[i].Observation.TLS
		if tf == nil || tf.Features == nil || tf.Engine == nil {
			continue
		}
		found = true
		f := *tf.Features
		f.MaxVersion, f.SessionIDResumption = "TLS 1.3", "skipped"
		f.Fallback, f.FallbackDetail = "not-needed", "no version below TLS 1.2 is spoken"
		x := *f.TLS12
		x.DowngradeSentinel = "tls1.2"
		f.TLS12 = &x
		tf.Features = &f
		e := *tf.Engine
		e.Versions = append([]model.EngineVersion{{Version: "SSLv2", VersionID: 0x0002, Inferred: true}}, e.Versions...)
		tf.Engine = &e
	}
	if !found {
		t.Fatal("the fixture has no endpoint with engine and handshake facts")
	}
	out := render(t, Input{Scan: scan, Rules: reporttest.Rule})
	for _, want := range []string{
		"not probed: settled by the versions the server speaks",
		`<span class="pill good">not-needed</span>`, "no version below TLS 1.2 is spoken",
		"which clients resume with instead", "TLS 1.3 downgrade sentinel",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q", want)
		}
	}
}
