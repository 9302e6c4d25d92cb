// Package rulesdoc renders the rule catalogue (every check's rules plus the policy engine's
// own) as the Markdown reference committed at docs/rules.md.
//
// Regenerate docs/rules.md after changing any rule: go generate ./internal/rulesdoc
package rulesdoc

//go:generate go run ./gen -o ../../docs/rules.md

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	"github.com/rampart-scan/rampart/checks"
	"github.com/rampart-scan/rampart/model"
	"github.com/rampart-scan/rampart/policies"
)

// Catalogue is every rule Rampart can raise, sorted by ID: the checks' rules and the policy
// engine's (policy/waiver-expired).
func Catalogue() []model.Rule {
	return Merge(checks.Default().Rules(), policies.Rules())
}

// Merge combines rule lists, keeping the first rule of each ID, sorted by ID.
func Merge(lists ...[]model.Rule) []model.Rule {
	seen := map[string]bool{}
	var out []model.Rule
	for _, l := range lists {
		for _, r := range l {
			if seen[r.ID] {
				continue
			}
			seen[r.ID] = true
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Anchor is the HTML anchor of a rule's section in the rendered document.
func Anchor(id string) string {
	return strings.NewReplacer("/", "-", ".", "-", "_", "-").Replace(strings.ToLower(id))
}

// Render writes the catalogue as Markdown: a summary table, then one section per rule with
// why it matters, how to fix it (with per-software snippets) and references.
func Render(rules []model.Rule) []byte {
	var b bytes.Buffer
	b.WriteString("# Rule catalogue\n\n")
	b.WriteString("<!-- Generated from the rule catalogue by `go generate ./internal/rulesdoc`. Do not edit by hand. -->\n\n")
	fmt.Fprintf(&b, "Rampart raises %d rules. Rule IDs are stable: a released ID is never renamed. The severity shown is the default; a policy can change it, disable a rule, or waive a finding (see [policies.md](policies.md)). `rampart explain RULE` prints one entry, `rampart rules` lists them all.\n\n", len(rules))
	b.WriteString("| Rule | Default severity | Title |\n|---|---|---|\n")
	for _, r := range rules {
		fmt.Fprintf(&b, "| [`%s`](#%s) | %s | %s |\n", r.ID, Anchor(r.ID), r.DefaultSeverity, cell(r.Title))
	}
	for _, r := range rules {
		fmt.Fprintf(&b, "\n<a id=\"%s\"></a>\n## `%s`\n\n", Anchor(r.ID), r.ID)
		fmt.Fprintf(&b, "**%s**\n\n", strings.TrimSpace(r.Title))
		fmt.Fprintf(&b, "- Default severity: **%s**\n", r.DefaultSeverity)
		if len(r.Tags) > 0 {
			fmt.Fprintf(&b, "- Tags: %s\n", strings.Join(r.Tags, ", "))
		}
		if r.Why != "" {
			fmt.Fprintf(&b, "\n### Why it matters\n\n%s\n", strings.TrimSpace(r.Why))
		}
		if r.Fix != "" || len(r.Snippets) > 0 {
			b.WriteString("\n### How to fix it\n\n")
			if r.Fix != "" {
				fmt.Fprintf(&b, "%s\n", strings.TrimSpace(r.Fix))
			}
			for _, s := range r.Snippets {
				fence := "```"
				for strings.Contains(s.Config, fence) {
					fence += "`"
				}
				fmt.Fprintf(&b, "\n%s:\n\n%s\n%s\n%s\n", s.Software, fence, strings.TrimRight(s.Config, "\n"), fence)
			}
		}
		if len(r.References) > 0 {
			b.WriteString("\n### References\n\n")
			for _, ref := range r.References {
				if ref.URL != "" {
					fmt.Fprintf(&b, "- [%s](%s)\n", ref.Title, ref.URL)
				} else {
					fmt.Fprintf(&b, "- %s\n", ref.Title)
				}
			}
		}
	}
	return b.Bytes()
}

// cell makes text safe inside a Markdown table cell.
func cell(s string) string {
	s = strings.ReplaceAll(strings.TrimSpace(s), "|", `\|`)
	return strings.ReplaceAll(s, "\n", " ")
}
