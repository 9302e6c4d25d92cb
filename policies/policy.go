// Package policies loads the YAML policies that say what "secure enough" means for an estate
// (built-in profiles embedded in the binary, or files that extend them), and applies their
// thresholds, selectors, severity overrides, disabled rules and waivers to findings.
package policies

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/rampart-scan/rampart/model"
)

// Policy is a fully resolved policy (after extends), ready to evaluate findings.
type Policy struct {
	Name        string
	Description string
	Source      *SourceSpec
	// Chain lists what the policy was resolved from, parents first: built-in names and file
	// paths; the last entry is the policy itself.
	Chain []string
	// Thresholds are the endpoint-independent thresholds (before any override).
	Thresholds Thresholds
	// Severities maps rule IDs or globs to overriding severities.
	Severities map[string]model.Severity
	// Disabled holds the rule IDs or globs whose findings are dropped; Enabled wins over it.
	Disabled map[string]bool
	Enabled  map[string]bool
	// Spec is the resolved policy document: `policy show` prints it, and it is what Hash covers.
	Spec *File
	// Hash is the SHA-256 of the resolved document: two policies with the same Hash evaluate
	// every finding the same way.
	Hash string

	overrides []override
	waivers   []waiver
}

type override struct {
	sel        selector
	thresholds *ThresholdSpec
	severities map[string]model.Severity
	disable    []string
	enable     []string
}

type waiver struct {
	spec WaiverSpec
	sel  selector
}

// Default is the policy used when none is named: the built-in messaging-baseline.
func Default() *Policy {
	p, err := Load(DefaultName, Options{})
	if err != nil {
		panic(fmt.Sprintf("built-in policy %s: %v", DefaultName, err)) // embedded; a test covers it
	}
	return p
}

// Identity names the policy for the store and reports: name@sha256:<first 12 hex digits>.
func (p *Policy) Identity() string {
	h := p.Hash
	if len(h) > 12 {
		h = h[:12]
	}
	return p.Name + "@sha256:" + h
}

// compile turns a resolved document into a Policy.
func compile(f *File, chain []string) (*Policy, error) {
	p := &Policy{
		Name:        string(f.Name),
		Description: f.Description,
		Source:      f.Source,
		Chain:       chain,
		Thresholds:  compileThresholds(f.Thresholds),
		Severities:  severityMap(f.Severities),
		Disabled:    patternSet(f.Disable),
		Enabled:     patternSet(f.Enable),
		Spec:        f,
	}
	for _, o := range f.Overrides {
		sel, err := compileSelector(o.Selector)
		if err != nil {
			return nil, err
		}
		p.overrides = append(p.overrides, override{
			sel: sel, thresholds: o.Thresholds, severities: severityMap(o.Severities),
			disable: patternList(o.Disable), enable: patternList(o.Enable),
		})
	}
	for _, w := range f.Waivers {
		sel, err := compileSelector(w.Selector)
		if err != nil {
			return nil, err
		}
		p.waivers = append(p.waivers, waiver{spec: w, sel: sel})
	}
	b, err := json.Marshal(f)
	if err != nil {
		return nil, fmt.Errorf("hashing policy %s: %w", f.Name, err)
	}
	sum := sha256.Sum256(b)
	p.Hash = hex.EncodeToString(sum[:])
	return p, nil
}

func severityMap(s Severities) map[string]model.Severity {
	if len(s) == 0 {
		return nil
	}
	out := make(map[string]model.Severity, len(s))
	for k, v := range s {
		out[string(k)] = v.severity()
	}
	return out
}

func patternSet(ps []RulePattern) map[string]bool {
	if len(ps) == 0 {
		return nil
	}
	out := make(map[string]bool, len(ps))
	for _, x := range ps {
		out[string(x)] = true
	}
	return out
}

func patternList(ps []RulePattern) []string {
	out := make([]string, len(ps))
	for i, x := range ps {
		out[i] = string(x)
	}
	return out
}

// For returns the thresholds that apply to one endpoint: the policy's, with the thresholds of
// every override whose selector matches laid over them in order.
func (p *Policy) For(ep model.Endpoint) Thresholds {
	var spec *ThresholdSpec
	for _, o := range p.overrides {
		if o.thresholds == nil || !o.sel.matches(ep) {
			continue
		}
		if spec == nil {
			spec = &ThresholdSpec{}
			if p.Spec != nil && p.Spec.Thresholds != nil {
				spec = deepCopyValueOf(p.Spec.Thresholds)
			}
		}
		mergeThresholds(spec, o.thresholds)
	}
	if spec == nil {
		return p.Thresholds
	}
	return compileThresholds(spec)
}

// RuleState is what the policy does with one rule on one endpoint.
type RuleState struct {
	Disabled bool
	Severity model.Severity
	// Overridden is true when Severity comes from the policy, not the rule's default.
	Overridden bool
}

// State says whether rule is disabled on ep and which severity it takes (def is the rule's
// default severity).
func (p *Policy) State(ep model.Endpoint, rule string, def model.Severity) RuleState {
	st := RuleState{Severity: def}
	st.Disabled = matchAny(p.Disabled, rule) && !matchAny(p.Enabled, rule)
	if s, ok := lookupSeverity(p.Severities, rule); ok {
		st.Severity, st.Overridden = s, true
	}
	for _, o := range p.overrides {
		if !o.sel.matches(ep) {
			continue
		}
		for _, e := range o.enable {
			if ruleMatch(e, rule) {
				st.Disabled = false
			}
		}
		for _, d := range o.disable {
			if ruleMatch(d, rule) {
				st.Disabled = true
			}
		}
		if s, ok := lookupSeverity(o.severities, rule); ok {
			st.Severity, st.Overridden = s, true
		}
	}
	return st
}

func matchAny(set map[string]bool, rule string) bool {
	for pat := range set {
		if ruleMatch(pat, rule) {
			return true
		}
	}
	return false
}

// lookupSeverity finds rule's severity: an exact key wins, else the longest matching glob.
func lookupSeverity(m map[string]model.Severity, rule string) (model.Severity, bool) {
	if s, ok := m[rule]; ok {
		return s, true
	}
	best, found := "", false
	var sev model.Severity
	for pat, s := range m {
		if !ruleMatch(pat, rule) {
			continue
		}
		if !found || len(pat) > len(best) || (len(pat) == len(best) && pat < best) {
			best, sev, found = pat, s, true
		}
	}
	return sev, found
}

// Describe is a one-line summary of the policy for terminals.
func (p *Policy) Describe() string {
	var b strings.Builder
	b.WriteString(p.Identity())
	if len(p.Chain) > 1 {
		b.WriteString(" (extends ")
		b.WriteString(strings.Join(p.Chain[:len(p.Chain)-1], ", "))
		b.WriteString(")")
	}
	return b.String()
}
