package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/rampart-scan/rampart/internal/rulesdoc"
	"github.com/rampart-scan/rampart/model"
	"github.com/rampart-scan/rampart/policies"
)

// catalogueRules lists the rule catalogue the policy, rules and explain commands read. Tests
// replace it to run against a fixed catalogue.
var catalogueRules = rulesdoc.Catalogue

// ruleIDs lists the catalogue's IDs, for validating the rules a policy names.
func ruleIDs(rules []model.Rule) []string {
	ids := make([]string, len(rules))
	for i, r := range rules {
		ids[i] = r.ID
	}
	return ids
}

// loadPolicy resolves a built-in name or file, checking rule references against the catalogue.
// Errors are configuration errors (exit 2).
func loadPolicy(ref string, rules []model.Rule) (*policies.Policy, error) {
	p, err := policies.Load(ref, policies.Options{KnownRules: ruleIDs(rules)})
	if err != nil {
		return nil, usageError(err)
	}
	return p, nil
}

// scanPolicy is the policy a scan evaluates under: the default (messaging-baseline) when ref
// is empty, else the named built-in or file, with rule references checked against the
// catalogue. Errors are configuration errors (exit 2) naming file:line:column.
func scanPolicy(ref string) (*policies.Policy, error) {
	if ref == "" {
		ref = policies.DefaultName
	}
	return loadPolicy(ref, catalogueRules())
}

// newPolicyCmd is `rampart policy` with list, show, validate and schema.
func newPolicyCmd(env *Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "List, show and validate policies",
		Long: `A policy says what "secure enough" means: thresholds (protocol versions, cipher suites,
key sizes, certificate lifetime, STARTTLS, exposure, DNS), severity overrides, disabled rules,
selectors that scope changes to hosts or services, and waivers with an owner and an expiry.

Built-in profiles are embedded; a policy file (YAML, apiVersion rampart.dev/v1) usually
extends one. The language is described in docs/policies.md; editors can validate files with
the JSON Schema printed by 'rampart policy schema'.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newPolicyListCmd(env), newPolicyShowCmd(env), newPolicyValidateCmd(env), newPolicySchemaCmd(env))
	return cmd
}

func newPolicyListCmd(env *Env) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the built-in policies",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return runPolicyList(env, format)
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or json")
	return cmd
}

type policySummary struct {
	Name        string `json:"name"`
	Identity    string `json:"identity"`
	Default     bool   `json:"default,omitempty"`
	Source      string `json:"source,omitempty"`
	Description string `json:"description"`
}

func runPolicyList(env *Env, format string) error {
	var list []policySummary
	for _, name := range policies.Builtins() {
		p, err := policies.Load(name, policies.Options{})
		if err != nil {
			return fmt.Errorf("built-in policy %s: %w", name, err)
		}
		s := policySummary{Name: name, Identity: p.Identity(), Default: name == policies.DefaultName, Description: p.Description}
		if p.Source != nil {
			s.Source = strings.TrimSpace(p.Source.Title + " " + p.Source.Version)
		}
		list = append(list, s)
	}
	switch format {
	case "json":
		return writeJSON(env.Out, list)
	case "text":
		tw := tabwriter.NewWriter(env.Out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tSOURCE\tDESCRIPTION")
		for _, s := range list {
			name := s.Name
			if s.Default {
				name += " (default)"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\n", name, s.Source, s.Description)
		}
		return tw.Flush()
	}
	return usageError(fmt.Errorf("--format %q: want text or json", format))
}

func newPolicyShowCmd(env *Env) *cobra.Command {
	var source bool
	cmd := &cobra.Command{
		Use:   "show NAME|FILE",
		Short: "Print a policy fully resolved (after extends) as YAML",
		Long: `Show prints the policy as it is evaluated: every policy it extends merged in order, so
each threshold, override and waiver in force is visible in one document. The header names
the chain it was resolved from and the policy identity stored with each scan.

With --source, a built-in profile is printed as shipped, with its source citations.`,
		Example: `  rampart policy show mozilla-intermediate
  rampart policy show ./rampart-policy.yaml`,
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			return runPolicyShow(env, args[0], source)
		},
	}
	cmd.Flags().BoolVar(&source, "source", false, "print a built-in profile's YAML as shipped instead of resolving it")
	return cmd
}

func runPolicyShow(env *Env, ref string, source bool) error {
	if source {
		b, ok := policies.BuiltinSource(ref)
		if !ok {
			return usageError(fmt.Errorf("--source needs a built-in name; %q is not one (built-ins: %s)", ref, strings.Join(policies.Builtins(), ", ")))
		}
		_, err := env.Out.Write(b)
		return err
	}
	p, err := loadPolicy(ref, catalogueRules())
	if err != nil {
		return err
	}
	out, err := p.YAML()
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Out, "# Policy %s, fully resolved.\n", p.Identity())
	fmt.Fprintf(env.Out, "# Resolved from (parents first): %s\n", strings.Join(p.Chain, " → "))
	_, err = env.Out.Write(out)
	return err
}

func newPolicyValidateCmd(env *Env) *cobra.Command {
	return &cobra.Command{
		Use:   "validate FILE...",
		Short: "Check policy files; exit 2 with positioned errors when one is invalid",
		Long: `Validate loads each file with everything it extends and reports every problem as
file:line:column, with the nearest valid key or value when there is one. Rule IDs are
checked against the rule catalogue. Exit code 0 when every file is valid, 2 otherwise.`,
		Example: `  rampart policy validate rampart-policy.yaml`,
		Args:    cobra.MinimumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			return runPolicyValidate(env, args)
		},
	}
}

func runPolicyValidate(env *Env, files []string) error {
	rules := catalogueRules()
	failed := 0
	for _, f := range files {
		p, err := policies.Load(f, policies.Options{KnownRules: ruleIDs(rules)})
		if err != nil {
			failed++
			var list policies.ErrorList
			if errors.As(err, &list) {
				for _, e := range list {
					fmt.Fprintln(env.Err, e.Error())
				}
			} else {
				fmt.Fprintln(env.Err, err.Error())
			}
			continue
		}
		fmt.Fprintf(env.Out, "%s: valid (%s)\n", f, p.Describe())
	}
	if failed > 0 {
		return &ExitError{Code: ExitUsage}
	}
	return nil
}

func newPolicySchemaCmd(env *Env) *cobra.Command {
	return &cobra.Command{
		Use:   "schema",
		Short: "Print the policy language's JSON Schema (for editors)",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := env.Out.Write(policies.Schema())
			return err
		},
	}
}

// newRulesCmd is `rampart rules`: the rule catalogue.
func newRulesCmd(env *Env) *cobra.Command {
	var format, policy string
	cmd := &cobra.Command{
		Use:   "rules",
		Short: "List every rule Rampart can raise",
		Long: `Rules lists the rule catalogue: stable ID, default severity and title. With --policy, the
severity column shows what the policy makes of each rule (overridden severities are marked
with *, disabled rules say so). 'rampart explain RULE' prints one rule in full.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return runRules(env, format, policy)
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output format: text, json or markdown (the docs/rules.md document)")
	cmd.Flags().StringVar(&policy, "policy", "", "show severities under this policy (built-in name or file)")
	return cmd
}

func runRules(env *Env, format, policyRef string) error {
	rules := catalogueRules()
	var p *policies.Policy
	if policyRef != "" {
		var err error
		if p, err = loadPolicy(policyRef, rules); err != nil {
			return err
		}
	}
	switch format {
	case "json":
		return writeJSON(env.Out, rules)
	case "markdown":
		_, err := env.Out.Write(rulesdoc.Render(rules))
		return err
	case "text":
		tw := tabwriter.NewWriter(env.Out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "RULE\tSEVERITY\tTITLE")
		for _, r := range rules {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", r.ID, severityUnder(p, r), r.Title)
		}
		return tw.Flush()
	}
	return usageError(fmt.Errorf("--format %q: want text, json or markdown", format))
}

// severityUnder is a rule's severity as a policy sets it for endpoints no override selects.
func severityUnder(p *policies.Policy, r model.Rule) string {
	if p == nil {
		return r.DefaultSeverity.String()
	}
	st := p.State(model.Endpoint{}, r.ID, r.DefaultSeverity)
	switch {
	case st.Disabled:
		return "disabled"
	case st.Overridden:
		return st.Severity.String() + "*"
	}
	return st.Severity.String()
}

// newExplainCmd is `rampart explain RULE`.
func newExplainCmd(env *Env) *cobra.Command {
	var policy string
	cmd := &cobra.Command{
		Use:     "explain RULE",
		Short:   "Explain a rule: why it matters, how to fix it, references",
		Example: "  rampart explain cert/expired\n  rampart explain tls/legacy-protocol-negotiated --policy mozilla-modern",
		Args:    cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			return runExplain(env, args[0], policy)
		},
	}
	cmd.Flags().StringVar(&policy, "policy", "", "also say what this policy does with the rule (built-in name or file)")
	return cmd
}

func runExplain(env *Env, id, policyRef string) error {
	rules := catalogueRules()
	var rule *model.Rule
	for i := range rules {
		if rules[i].ID == id {
			rule = &rules[i]
		}
	}
	if rule == nil {
		msg := fmt.Sprintf("unknown rule %q", id)
		if s := suggestRule(id, rules); s != "" {
			msg += fmt.Sprintf("; did you mean %q?", s)
		}
		return usageError(errors.New(msg + " ('rampart rules' lists them all)"))
	}
	w := env.Out
	fmt.Fprintf(w, "%s — %s\n\n", rule.ID, rule.Title)
	fmt.Fprintf(w, "Default severity: %s\n", rule.DefaultSeverity)
	if policyRef != "" {
		p, err := loadPolicy(policyRef, rules)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "Under %s: %s\n", p.Name, severityUnder(p, *rule))
	}
	if len(rule.Tags) > 0 {
		fmt.Fprintf(w, "Tags: %s\n", strings.Join(rule.Tags, ", "))
	}
	section(w, "Why it matters", rule.Why)
	section(w, "How to fix it", rule.Fix)
	for _, s := range rule.Snippets {
		fmt.Fprintf(w, "\n  %s:\n", s.Software)
		for line := range strings.SplitSeq(strings.TrimRight(s.Config, "\n"), "\n") {
			fmt.Fprintf(w, "    %s\n", line)
		}
	}
	if len(rule.References) > 0 {
		fmt.Fprintln(w, "\nReferences:")
		for _, r := range rule.References {
			if r.URL != "" {
				fmt.Fprintf(w, "  - %s <%s>\n", r.Title, r.URL)
			} else {
				fmt.Fprintf(w, "  - %s\n", r.Title)
			}
		}
	}
	return nil
}

func section(w io.Writer, title, text string) {
	if strings.TrimSpace(text) == "" {
		return
	}
	fmt.Fprintf(w, "\n%s:\n  %s\n", title, strings.TrimSpace(text))
}

// suggestRule finds the nearest rule ID by edit distance, or the only rule with that name in
// another family.
func suggestRule(id string, rules []model.Rule) string {
	if s := policies.Suggest(id, ruleIDs(rules)); s != "" {
		return s
	}
	_, name, ok := strings.Cut(id, "/")
	if !ok {
		name = id
	}
	var hits []string
	for _, r := range rules {
		if strings.HasSuffix(r.ID, "/"+name) {
			hits = append(hits, r.ID)
		}
	}
	if len(hits) == 1 {
		return hits[0]
	}
	return ""
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
