package sarif

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/rampart-scan/rampart/model"
	"github.com/rampart-scan/rampart/reports/internal/reporttest"
)

var (
	schemaOnce sync.Once
	schema     *jsonschema.Schema
	schemaErr  error
)

// validateSchema checks doc against the OASIS SARIF 2.1.0 (errata01) schema in testdata.
func validateSchema(t *testing.T, doc []byte) {
	t.Helper()
	schemaOnce.Do(func() {
		f, err := os.Open("testdata/sarif-schema-2.1.0.json")
		if err != nil {
			schemaErr = err
			return
		}
		defer f.Close()
		s, err := jsonschema.UnmarshalJSON(f)
		if err != nil {
			schemaErr = err
			return
		}
		c := jsonschema.NewCompiler()
		if err := c.AddResource("sarif-schema-2.1.0.json", s); err != nil {
			schemaErr = err
			return
		}
		schema, schemaErr = c.Compile("sarif-schema-2.1.0.json")
	})
	if schemaErr != nil {
		t.Fatalf("compile schema: %v", schemaErr)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		t.Fatalf("parse output: %v", err)
	}
	if err := schema.Validate(inst); err != nil {
		t.Fatalf("output is not valid SARIF 2.1.0: %v", err)
	}
}

// The GitHub-specific view of a log, for checkGitHub.
type ghLog struct {
	Schema  string `json:"$schema"`
	Version string `json:"version"`
	Runs    []struct {
		Tool struct {
			Driver struct {
				Name  string `json:"name"`
				Rules []struct {
					ID               string                 `json:"id"`
					Name             string                 `json:"name"`
					ShortDescription *struct{ Text string } `json:"shortDescription"`
					FullDescription  *struct{ Text string } `json:"fullDescription"`
					Help             *struct {
						Text     string `json:"text"`
						Markdown string `json:"markdown"`
					} `json:"help"`
					HelpURI    string         `json:"helpUri"`
					Properties map[string]any `json:"properties"`
				} `json:"rules"`
			} `json:"driver"`
		} `json:"tool"`
		AutomationDetails *struct{ ID string } `json:"automationDetails"`
		Results           *[]struct {
			RuleID    string                 `json:"ruleId"`
			RuleIndex *int                   `json:"ruleIndex"`
			Message   *struct{ Text string } `json:"message"`
			Locations []struct {
				PhysicalLocation *struct {
					ArtifactLocation *struct{ URI string } `json:"artifactLocation"`
					Region           *struct {
						StartLine, StartColumn, EndLine, EndColumn int
					} `json:"region"`
				} `json:"physicalLocation"`
			} `json:"locations"`
			PartialFingerprints map[string]string `json:"partialFingerprints"`
			BaselineState       string            `json:"baselineState"`
			Suppressions        []any             `json:"suppressions"`
		} `json:"results"`
	} `json:"runs"`
}

var lineHash = regexp.MustCompile(`^[0-9a-f]{16,}:[0-9]+$`)

// checkGitHub asserts GitHub code scanning's ingestion rules, which are stricter than the
// schema (docs.github.com "SARIF support for code scanning" and the upload limits).
func checkGitHub(t *testing.T, doc []byte, upload bool) ghLog {
	t.Helper()
	var l ghLog
	if err := json.Unmarshal(doc, &l); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	if l.Schema == "" || l.Version != "2.1.0" {
		t.Errorf("$schema %q version %q", l.Schema, l.Version)
	}
	if n := len(l.Runs); n == 0 || n > 20 {
		t.Errorf("%d runs, want 1..20", n)
	}
	var zbuf bytes.Buffer
	zw := gzip.NewWriter(&zbuf)
	zw.Write(doc)
	zw.Close()
	if zbuf.Len() > GitHubMaxGzipBytes {
		t.Errorf("gzip size %d > 10 MB", zbuf.Len())
	}
	categories := map[string]bool{}
	for ri, r := range l.Runs {
		if r.Tool.Driver.Name == "" {
			t.Errorf("run %d: no tool.driver.name", ri)
		}
		if r.AutomationDetails == nil || r.AutomationDetails.ID == "" {
			t.Errorf("run %d: no automationDetails.id", ri)
		} else {
			cat := r.AutomationDetails.ID[:strings.LastIndexByte(r.AutomationDetails.ID, '/')+1]
			if cat == "" || categories[cat] {
				t.Errorf("run %d: category %q empty or repeated", ri, cat)
			}
			categories[cat] = true
		}
		rules := map[string]int{}
		for i, rule := range r.Tool.Driver.Rules {
			if rule.ID == "" {
				t.Errorf("rule %d: no id", i)
			}
			if _, dup := rules[rule.ID]; dup {
				t.Errorf("rule %s twice", rule.ID)
			}
			rules[rule.ID] = i
			if len(rule.Name) > 255 {
				t.Errorf("rule %s: name longer than 255", rule.ID)
			}
			if rule.ShortDescription == nil || rule.ShortDescription.Text == "" || len([]rune(rule.ShortDescription.Text)) > 1024 {
				t.Errorf("rule %s: shortDescription missing, empty or too long", rule.ID)
			}
			if rule.FullDescription == nil || rule.FullDescription.Text == "" || len([]rune(rule.FullDescription.Text)) > 1024 {
				t.Errorf("rule %s: fullDescription missing, empty or too long", rule.ID)
			}
			if rule.Help == nil || rule.Help.Text == "" || rule.Help.Markdown == "" {
				t.Errorf("rule %s: help text or markdown missing", rule.ID)
			}
			if u, err := url.Parse(rule.HelpURI); err != nil || u.Scheme != "https" {
				t.Errorf("rule %s: helpUri %q", rule.ID, rule.HelpURI)
			}
			tags, _ := rule.Properties["tags"].([]any)
			if len(tags) == 0 || len(tags) > GitHubMaxTags {
				t.Errorf("rule %s: %d tags", rule.ID, len(tags))
			}
			switch rule.Properties["precision"] {
			case "very-high", "high", "medium", "low":
			default:
				t.Errorf("rule %s: precision %v", rule.ID, rule.Properties["precision"])
			}
			ss, ok := rule.Properties["security-severity"].(string)
			v, err := strconv.ParseFloat(ss, 64)
			if !ok || err != nil || v <= 0 || v > 10 {
				t.Errorf("rule %s: security-severity %v is not a numeric string in (0,10]", rule.ID, rule.Properties["security-severity"])
			}
		}
		if r.Results == nil {
			t.Fatalf("run %d: no results array", ri)
		}
		if n := len(*r.Results); n > GitHubMaxResults || (upload && n > GitHubKeptResults) {
			t.Errorf("run %d: %d results", ri, n)
		}
		for i, res := range *r.Results {
			if res.Message == nil || res.Message.Text == "" {
				t.Errorf("result %d: no message", i)
			}
			if idx, ok := rules[res.RuleID]; !ok || res.RuleIndex == nil || *res.RuleIndex != idx {
				t.Errorf("result %d: rule %q not described or ruleIndex wrong", i, res.RuleID)
			}
			if len(res.Locations) == 0 || len(res.Locations) > 10 {
				t.Errorf("result %d: %d locations", i, len(res.Locations))
			}
			for _, loc := range res.Locations {
				pl := loc.PhysicalLocation
				if pl == nil || pl.ArtifactLocation == nil || pl.Region == nil {
					t.Errorf("result %d: location without artifact or region", i)
					continue
				}
				checkRepoURI(t, pl.ArtifactLocation.URI)
				rg := pl.Region
				if rg.StartLine < 1 || rg.StartColumn < 1 || rg.EndLine < rg.StartLine || rg.EndColumn < 1 {
					t.Errorf("result %d: region %+v not full", i, *rg)
				}
			}
			if !lineHash.MatchString(res.PartialFingerprints["primaryLocationLineHash"]) {
				t.Errorf("result %d: primaryLocationLineHash %q", i, res.PartialFingerprints["primaryLocationLineHash"])
			}
			if upload && (res.BaselineState != "" || len(res.Suppressions) > 0) {
				t.Errorf("result %d: upload carries baselineState/suppressions", i)
			}
		}
	}
	return l
}

var hostPortLook = regexp.MustCompile(`^[^/]*:[0-9]+(/|$)`)

// checkRepoURI asserts a repository-relative file URI: no scheme, no host, no host:port look.
func checkRepoURI(t *testing.T, uri string) {
	t.Helper()
	u, err := url.Parse(uri)
	switch {
	case uri == "" || err != nil:
		t.Errorf("uri %q does not parse: %v", uri, err)
	case u.Scheme != "" || u.Host != "" || strings.HasPrefix(uri, "/"):
		t.Errorf("uri %q is not repository-relative", uri)
	case hostPortLook.MatchString(uri) || strings.Contains(uri, " ") || strings.HasPrefix(u.Path, "../"):
		t.Errorf("uri %q looks like host:port or leaves the repository", uri)
	}
}

func write(t *testing.T, in Input, opts Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, in, opts); err != nil {
		t.Fatalf("Write: %v", err)
	}
	return buf.Bytes()
}

func TestUploadValidAndGitHubReady(t *testing.T) {
	for _, hostile := range []bool{false, true} {
		scan := reporttest.Scan(reporttest.Options{Hostile: hostile})
		doc := write(t, Input{Scan: scan, Rules: reporttest.Rule, Drift: reporttest.Drift(scan)}, Options{})
		validateSchema(t, doc)
		l := checkGitHub(t, doc, true)
		res := *l.Runs[0].Results
		// 5 active findings: the waived one is left out of the upload.
		if len(res) != 5 {
			t.Fatalf("%d results, want 5 (waived finding excluded)", len(res))
		}
		if res[0].RuleID != "cert/expired" && res[0].RuleID != "exposure/database-port" {
			t.Errorf("first result %s, want a critical one", res[0].RuleID)
		}
		for _, r := range res {
			if r.RuleID == "tls/weak-cipher" {
				t.Error("waived finding uploaded")
			}
		}
	}
}

func TestLocations(t *testing.T) {
	scan := reporttest.Scan(reporttest.Options{})
	tests := []struct {
		name     string
		opts     Options
		rule     string
		wantURI  string
		wantLine int
		wantEnd  int
	}{
		{"file target", Options{}, "starttls/not-offered", "targets.txt", 2, len("mail.example.org:25") + 1},
		{"domain via SRV", Options{}, "cert/expired", "targets.txt", 1, len("example.org") + 1},
		{"domain finding", Options{}, "dns/no-mta-sts", "targets.txt", 1, len("example.org") + 1},
		{"argument target", Options{}, "exposure/database-port", DefaultTargetsFile, 1, len("203.0.113.9") + 1},
		{"argument target, own file", Options{TargetsFile: "ops/scan targets.txt"}, "exposure/database-port", "ops/scan%20targets.txt", 1, len("203.0.113.9") + 1},
		{"under repo root", Options{RepoRoot: "/repo", WorkDir: "/repo/ops"}, "starttls/not-offered", "ops/targets.txt", 2, len("mail.example.org:25") + 1},
		{"outside repo root", Options{RepoRoot: "/repo", WorkDir: "/elsewhere"}, "starttls/not-offered", DefaultTargetsFile, 2, len("mail.example.org:25") + 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := write(t, Input{Scan: scan, Rules: reporttest.Rule}, tc.opts)
			l := checkGitHub(t, doc, true)
			found := false
			for _, r := range *l.Runs[0].Results {
				if r.RuleID != tc.rule {
					continue
				}
				found = true
				pl := r.Locations[0].PhysicalLocation
				if pl.ArtifactLocation.URI != tc.wantURI || pl.Region.StartLine != tc.wantLine || pl.Region.EndColumn != tc.wantEnd {
					t.Errorf("location %s line %d endColumn %d, want %s line %d endColumn %d",
						pl.ArtifactLocation.URI, pl.Region.StartLine, pl.Region.EndColumn, tc.wantURI, tc.wantLine, tc.wantEnd)
				}
			}
			if !found {
				t.Fatalf("no %s result", tc.rule)
			}
		})
	}
}

func TestRepoURIColonFirstSegment(t *testing.T) {
	l := newLocator(&model.ScanResult{}, Options{})
	uri, ok := l.repoURI("mail.example.org:465/targets.txt")
	if !ok {
		t.Fatal("rejected")
	}
	checkRepoURI(t, uri)
	if uri != "./mail.example.org:465/targets.txt" {
		t.Errorf("uri %q", uri)
	}
	for _, bad := range []string{"../outside.txt", "/abs/targets.txt", "."} {
		if u, ok := l.repoURI(bad); ok {
			t.Errorf("%q accepted as %q", bad, u)
		}
	}
}

// Two scans of an unchanged estate (different scan IDs and times) give the same fingerprints.
func TestFingerprintsStableAcrossScans(t *testing.T) {
	a := reporttest.Scan(reporttest.Options{})
	b := reporttest.Scan(reporttest.Options{}) // fresh certificates keys, same estate
	b.ID = "scan-20261129-0600"
	b.Started = b.Started.AddDate(0, 0, 1)
	b.Finished = b.Finished.AddDate(0, 0, 1)
	// Endpoints in another order, as a concurrent scan may record them.
	b.Endpoints[0], b.Endpoints[2] = b.Endpoints[2], b.Endpoints[0]
	fps := func(s *model.ScanResult) map[string]string {
		l := checkGitHub(t, write(t, Input{Scan: s, Rules: reporttest.Rule}, Options{}), true)
		out := map[string]string{}
		for _, r := range *l.Runs[0].Results {
			h := r.PartialFingerprints["primaryLocationLineHash"]
			if _, dup := out[h]; dup {
				t.Errorf("two results share the line hash %s", h)
			}
			out[h] = r.RuleID + " " + r.Locations[0].PhysicalLocation.ArtifactLocation.URI
		}
		return out
	}
	fa, fb := fps(a), fps(b)
	if len(fa) != len(fb) {
		t.Fatalf("%d vs %d results", len(fa), len(fb))
	}
	for h, v := range fa {
		if fb[h] != v {
			t.Errorf("fingerprint %s: %q then %q", h, v, fb[h])
		}
	}
	// Byte-identical apart from the scan's own identity and times.
	da := write(t, Input{Scan: a, Rules: reporttest.Rule}, Options{})
	db := write(t, Input{Scan: b, Rules: reporttest.Rule}, Options{})
	norm := regexp.MustCompile(`"(rampart\.scanId|startTimeUtc|endTimeUtc)": "[^"]*"`)
	if !bytes.Equal(norm.ReplaceAll(da, nil), norm.ReplaceAll(db, nil)) {
		t.Error("two scans of an unchanged estate give different SARIF beyond scan id and times")
	}
}

func TestArchiveCarriesDriftAndWaivers(t *testing.T) {
	scan := reporttest.Scan(reporttest.Options{})
	doc := write(t, Input{Scan: scan, Rules: reporttest.Rule, Drift: reporttest.Drift(scan)}, Options{Archive: true})
	validateSchema(t, doc)
	l := checkGitHub(t, doc, false)
	states := map[string]int{}
	suppressed := 0
	for _, r := range *l.Runs[0].Results {
		states[r.BaselineState]++
		suppressed += len(r.Suppressions)
	}
	if states["new"] != 1 || states["absent"] != 1 || states["unchanged"] != 5 || suppressed != 1 {
		t.Errorf("states %v, suppressed %d; want new 1, absent 1, unchanged 5, suppressed 1", states, suppressed)
	}
	if !bytes.Contains(doc, []byte("Legacy fax gateway needs 3DES")) {
		t.Error("waiver justification missing")
	}
}

func TestCapKeepsMostSevereWithNotice(t *testing.T) {
	scan := reporttest.Large(6000)
	doc := write(t, Input{Scan: scan, Rules: reporttest.Rule}, Options{})
	validateSchema(t, doc)
	l := checkGitHub(t, doc, true)
	res := *l.Runs[0].Results
	if len(res) != GitHubKeptResults {
		t.Fatalf("%d results, want %d", len(res), GitHubKeptResults)
	}
	counts := map[model.Severity]int{}
	for _, f := range scan.Findings() {
		counts[f.Severity]++
	}
	// Every critical and high finding must have been kept.
	kept := map[string]int{}
	for _, r := range res {
		kept[r.RuleID]++
	}
	if kept["cert/expired"]+kept["exposure/database-port"] != counts[model.SeverityCritical] {
		t.Errorf("critical findings dropped: kept %v, counts %v", kept, counts)
	}
	if kept["dns/no-mta-sts"] != 0 {
		t.Errorf("low findings kept while medium ones were dropped: %v", kept)
	}
	if !bytes.Contains(doc, []byte(`"rampart.truncated": true`)) || !bytes.Contains(doc, []byte("6000 findings exceed the 5000 results")) {
		t.Error("no truncation notice")
	}
}

func TestGzipLimitCuts(t *testing.T) {
	scan := reporttest.Large(400)
	var buf bytes.Buffer
	if err := Write(&buf, Input{Scan: scan, Rules: reporttest.Rule}, Options{MaxGzipBytes: 8 << 10}); err != nil {
		t.Fatal(err)
	}
	doc := buf.Bytes()
	validateSchema(t, doc)
	l := checkGitHub(t, doc, true)
	if n := len(*l.Runs[0].Results); n >= 400 || n == 0 {
		t.Errorf("%d results after an 8 KiB gzip cap", n)
	}
	if size, _ := gzipSize(doc); size > 8<<10 {
		t.Errorf("gzip size %d above the cap", size)
	}
	if !bytes.Contains(doc, []byte("upload limit")) {
		t.Error("no size notice")
	}
}

func TestRulesWithoutCatalogue(t *testing.T) {
	scan := reporttest.Scan(reporttest.Options{})
	doc := write(t, Input{Scan: scan}, Options{Category: "estate/eu/"})
	validateSchema(t, doc)
	l := checkGitHub(t, doc, true)
	if got := l.Runs[0].AutomationDetails.ID; got != "estate/eu/" {
		t.Errorf("automationDetails.id %q", got)
	}
}

func TestEmptyScan(t *testing.T) {
	doc := write(t, Input{Scan: &model.ScanResult{Status: model.ScanComplete}}, Options{})
	validateSchema(t, doc)
	l := checkGitHub(t, doc, true)
	if len(*l.Runs[0].Results) != 0 {
		t.Error("results in an empty scan")
	}
	if err := Write(&bytes.Buffer{}, Input{}, Options{}); err == nil {
		t.Error("nil scan accepted")
	}
}

func TestSecuritySeverityBands(t *testing.T) {
	want := map[model.Severity][2]float64{
		model.SeverityCritical: {9.0001, 10}, model.SeverityHigh: {7, 8.9},
		model.SeverityMedium: {4, 6.9}, model.SeverityLow: {0.1, 3.9}, model.SeverityInfo: {0.1, 3.9},
	}
	for s, band := range want {
		v, err := strconv.ParseFloat(SecuritySeverity(s), 64)
		if err != nil || v < band[0] || v > band[1] {
			t.Errorf("%s: %s outside GitHub band %v", s, SecuritySeverity(s), band)
		}
	}
}

func TestHelpMarkdownEscapes(t *testing.T) {
	md := helpMarkdown(model.Rule{Why: "a <b> *c*", Snippets: []model.Snippet{{Software: "x", Config: "```\nfoo"}}}, "T")
	if strings.Contains(md, "<b>") || !strings.Contains(md, `\*c\*`) || !strings.Contains(md, "````\n```\nfoo\n````") {
		t.Errorf("markdown %q", md)
	}
}

// TestNodeGroupLocation: a finding about the addresses behind one name points at the target
// line that brought the name in, like its endpoints' findings.
func TestNodeGroupLocation(t *testing.T) {
	scan := reporttest.Scan(reporttest.Options{})
	var member model.Endpoint
	for _, er := range scan.Endpoints {
		for _, f := range er.Findings {
			if f.RuleID == "starttls/not-offered" {
				member = er.Observation.Endpoint
			}
		}
	}
	g := model.NodeGroup{Name: member.Name, Port: member.Addr.Port(), Service: member.Service, Endpoints: []string{member.ID(), "other"}}
	scan.Nodes = []model.NodeGroupResult{{Group: g, Findings: []model.Finding{{
		RuleID: "tls/inconsistent-nodes", Severity: model.SeverityMedium, Title: "Nodes differ", Message: "The addresses differ.",
		Asset: g.ID(), Detail: "leaf_certificate", Fingerprint: model.FindingFingerprint("tls/inconsistent-nodes", g.ID(), "leaf_certificate"),
	}}}}
	l := checkGitHub(t, write(t, Input{Scan: scan, Rules: reporttest.Rule}, Options{}), true)
	for _, r := range *l.Runs[0].Results {
		if r.RuleID != "tls/inconsistent-nodes" {
			continue
		}
		pl := r.Locations[0].PhysicalLocation
		if pl.ArtifactLocation.URI != "targets.txt" || pl.Region.StartLine != 2 || pl.Region.EndColumn != len("mail.example.org:25")+1 {
			t.Fatalf("node finding at %s line %d endColumn %d, want its member's target line (targets.txt:2)", pl.ArtifactLocation.URI, pl.Region.StartLine, pl.Region.EndColumn)
		}
		return
	}
	t.Fatal("no tls/inconsistent-nodes result")
}
