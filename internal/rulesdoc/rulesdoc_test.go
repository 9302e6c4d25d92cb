package rulesdoc

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/rampart-scan/rampart/model"
)

// TestRulesDocUpToDate fails when docs/rules.md no longer matches the catalogue.
func TestRulesDocUpToDate(t *testing.T) {
	want := Render(Catalogue())
	got, err := os.ReadFile("../../docs/rules.md")
	if err != nil {
		t.Fatalf("docs/rules.md: %v (generate it: go generate ./internal/rulesdoc)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("docs/rules.md is stale: run `go generate ./internal/rulesdoc` and commit the result")
	}
}

func TestCatalogueHasPolicyRules(t *testing.T) {
	rules := Catalogue()
	found := false
	for i, r := range rules {
		if i > 0 && rules[i-1].ID >= r.ID {
			t.Fatalf("catalogue not sorted or has duplicates at %s", r.ID)
		}
		if r.ID == "policy/waiver-expired" {
			found = true
		}
		if r.Title == "" || r.Why == "" || r.Fix == "" {
			t.Errorf("rule %s lacks a title, why or fix", r.ID)
		}
	}
	if !found {
		t.Fatal("policy/waiver-expired missing from the catalogue")
	}
}

func TestRender(t *testing.T) {
	rules := Merge([]model.Rule{
		{ID: "x/b", Title: "B | pipe", DefaultSeverity: model.SeverityHigh, Why: "why b", Fix: "fix b",
			Snippets:   []model.Snippet{{Software: "nginx", Config: "ssl_protocols TLSv1.3;\n```"}},
			References: []model.Reference{{Title: "RFC 8996", URL: "https://www.rfc-editor.org/rfc/rfc8996"}, {Title: "CWE-326"}}},
	}, []model.Rule{{ID: "x/a", Title: "A", Tags: []string{"tls"}}, {ID: "x/b", Title: "duplicate"}})
	if len(rules) != 2 || rules[0].ID != "x/a" || rules[1].Title != "B | pipe" {
		t.Fatalf("Merge: %+v", rules)
	}
	out := string(Render(rules))
	for _, want := range []string{
		"| [`x/b`](#x-b) | high | B \\| pipe |",
		"<a id=\"x-a\"></a>\n## `x/a`",
		"- Tags: tls",
		"### Why it matters\n\nwhy b",
		"nginx:\n\n````\nssl_protocols TLSv1.3;\n```\n````",
		"- [RFC 8996](https://www.rfc-editor.org/rfc/rfc8996)",
		"- CWE-326",
		"Rampart raises 2 rules.",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("rendered doc lacks %q\n%s", want, out)
		}
	}
}
