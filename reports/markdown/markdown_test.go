package markdown

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/rampart-scan/rampart/model"
	"github.com/rampart-scan/rampart/reports/internal/reporttest"
)

func render(t *testing.T, in Input) string {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, in); err != nil {
		t.Fatalf("Write: %v", err)
	}
	return buf.String()
}

func TestSummary(t *testing.T) {
	scan := reporttest.Scan(reporttest.Options{})
	out := render(t, Input{Scan: scan, Rules: reporttest.Rule, Drift: reporttest.Drift(scan)})
	for _, want := range []string{
		"## Rampart scan `scan-20261128-0600`",
		"🔴 5 active findings, the most severe critical. 1 waived.",
		"| 🔴 critical | 2 |", "| 🟠 high | 2 |", "| 🟡 medium | 0 |", "| 🔵 low | 1 |",
		"**1 new**, 0 reopened, **1 fixed**, 4 unchanged.",
		"<details><summary>New findings (1)</summary>",
		"<details><summary>Fixed findings (1)</summary>",
		"### Top findings", "### Endpoints", "<details><summary>Waived findings (1)</summary>",
		"| 🔴 critical | `cert/expired` | xmpp\\.example\\.org\\:5222 |",
		"🆕",
		"TLS 1\\.2, TLS 1\\.0",
		"STARTTLS not\\-offered",
		"Legacy fax gateway needs 3DES until the Q1 migration",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q", want)
		}
	}
	// Tables are well formed: every table row has as many cells as its header.
	checkTables(t, out)
	// Most severe first in the findings table.
	top := out[strings.Index(out, "### Top findings"):]
	if strings.Index(top, "critical") > strings.Index(top, "🟠 high") {
		t.Error("findings not ordered by severity")
	}
}

// checkTables asserts that every row of every table has the header's number of cells, counting
// only unescaped pipes: an escaped server string cannot add or remove a column.
func checkTables(t *testing.T, out string) {
	t.Helper()
	cells := func(line string) int {
		n := 0
		esc := false
		for _, r := range line {
			switch {
			case esc:
				esc = false
			case r == '\\':
				esc = true
			case r == '|':
				n++
			}
		}
		return n
	}
	want := -1
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "|") {
			want = -1
			continue
		}
		if want < 0 {
			want = cells(line)
			continue
		}
		if got := cells(line); got != want {
			t.Errorf("row has %d pipes, header %d: %s", got, want, line)
		}
	}
}

func TestHostileStringsEscaped(t *testing.T) {
	scan := reporttest.Scan(reporttest.Options{Hostile: true})
	evil := "a|b\n## injected\n<img src=x onerror=alert(1)> [link](javascript:alert(1)) ![x](http://tracker/p.png) `code` \u202e"
	scan.Endpoints[0].Findings[1].Message = evil
	scan.Endpoints[0].Observation.Endpoint.Name = "x|y<script>"
	scan.ID = "id`with|ticks\n"
	d := reporttest.Drift(scan)
	w := scan.Endpoints[2].Findings[1].Waiver
	w.Reason = "</details><script>alert(3)</script>"
	out := render(t, Input{Scan: scan, Rules: reporttest.Rule, Drift: d})
	for _, bad := range []string{"<script", "<img", "<b>", "](javascript", "](http://tracker", "\n## injected", "\u202e", "</details><script"} {
		if strings.Contains(out, bad) {
			t.Errorf("unescaped %q in the summary", bad)
		}
	}
	checkTables(t, out)
	if !strings.Contains(out, "&lt;img src=x onerror=alert\\(1\\)&gt;") || !strings.Contains(out, "x\\|y&lt;script&gt;") {
		t.Error("escaped payload missing from the summary")
	}
	// Only our own HTML tags remain.
	for _, tag := range regexp.MustCompile(`</?([a-zA-Z]+)`).FindAllStringSubmatch(out, -1) {
		if tag[1] != "details" && tag[1] != "summary" {
			t.Errorf("HTML tag %q in the summary", tag[0])
		}
	}
}

func TestCaps(t *testing.T) {
	scan := reporttest.Large(500)
	out := render(t, Input{Scan: scan, TopFindings: 7, MaxEndpoints: 3})
	top := out[strings.Index(out, "### Top findings"):strings.Index(out, "### Endpoints")]
	if n := strings.Count(top, "| `"); n != 7 {
		t.Errorf("%d finding rows, want 7", n)
	}
	if !strings.Contains(out, "… and 493 more.") || !strings.Contains(out, "… and 47 more endpoints.") {
		t.Error("no truncation note")
	}
	big := render(t, Input{Scan: reporttest.Large(10000)})
	if len(big) > 1<<20 {
		t.Errorf("summary of 10,000 findings is %d bytes, above GitHub's 1 MiB", len(big))
	}
}

func TestMinimal(t *testing.T) {
	out := render(t, Input{Scan: &model.ScanResult{Status: model.ScanInterrupted}})
	if !strings.Contains(out, "✅ No active findings.") || !strings.Contains(out, "> [!WARNING]") || strings.Contains(out, "### Top findings") {
		t.Errorf("minimal summary:\n%s", out)
	}
	if err := Write(&bytes.Buffer{}, Input{}); err == nil {
		t.Error("nil scan accepted")
	}
}

func TestCode(t *testing.T) {
	tests := map[string]string{
		"plain":        "`plain`",
		"a`b":          "``a`b``",
		"`x`":          "`` `x` ``",
		"p|q":          "`p\\|q`",
		"l1\nl2":       "`l1 l2`",
		"``` x":        "```` ``` x ````",
		"ok\u202eevil": "`ok evil`",
	}
	for in, want := range tests {
		if got := code(in); got != want {
			t.Errorf("code(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzText(f *testing.F) {
	for _, s := range []string{"<script>", "a|b", "x\ny", "[l](u)", "\u202e", "&amp;"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := text(s)
		if strings.ContainsAny(out, "<>\n\r\"") {
			t.Fatalf("text(%q) = %q keeps markup or a line break", s, out)
		}
		// Every '|', '[', '`' and '*' is escaped by a backslash.
		esc := false
		for _, r := range out {
			if !esc && strings.ContainsRune("|[]`*_", r) {
				t.Fatalf("text(%q) = %q: unescaped %q", s, out, r)
			}
			esc = !esc && r == '\\'
		}
	})
}

func FuzzCode(f *testing.F) {
	for _, s := range []string{"`", "a``b", "|", "\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := code(s)
		if s == "" {
			if out != "—" {
				t.Fatalf("code(\"\") = %q", out)
			}
			return
		}
		if strings.ContainsAny(out, "\n\r") {
			t.Fatalf("code(%q) = %q has a line break", s, out)
		}
		fence := out[:strings.IndexFunc(out, func(r rune) bool { return r != '`' })]
		body := strings.TrimSuffix(strings.TrimPrefix(out, fence), fence)
		if strings.Contains(body, fence) {
			t.Fatalf("code(%q) = %q: body contains the fence", s, out)
		}
	})
}
