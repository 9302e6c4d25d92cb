// Package checks turns observations into findings. A check reads facts only: it never opens a
// socket, never reads the clock (Now is given), and is deterministic, so a stored scan can be
// evaluated again under another policy and every rule is tested from recorded observations.
package checks

import (
	"fmt"
	"sort"
	"time"

	"github.com/rampart-scan/rampart/model"
	"github.com/rampart-scan/rampart/policies"
)

// Input is what a check sees of one endpoint.
type Input struct {
	Obs        *model.Observation
	Thresholds policies.Thresholds
	Now        time.Time
}

// Check is one piece of evaluation logic that can raise the rules it declares.
type Check struct {
	Name  string
	Rules []model.Rule
	Run   func(in *Input, r *Reporter)
}

// Catalogue is the set of checks and the rules they raise.
type Catalogue struct {
	checks       []Check
	domainChecks []DomainCheck
	groupChecks  []GroupCheck
	rules        map[string]model.Rule
	order        []string
}

// NewCatalogue builds a catalogue; duplicate rule IDs are a programming error.
func NewCatalogue(cs []Check, ds []DomainCheck, gs ...GroupCheck) (*Catalogue, error) {
	c := &Catalogue{rules: map[string]model.Rule{}}
	add := func(rules []model.Rule) error {
		for _, r := range rules {
			if _, dup := c.rules[r.ID]; dup {
				return fmt.Errorf("rule %s declared twice", r.ID)
			}
			c.rules[r.ID] = r
			c.order = append(c.order, r.ID)
		}
		return nil
	}
	for _, ch := range cs {
		if err := add(ch.Rules); err != nil {
			return nil, err
		}
		c.checks = append(c.checks, ch)
	}
	for _, ch := range ds {
		if err := add(ch.Rules); err != nil {
			return nil, err
		}
		c.domainChecks = append(c.domainChecks, ch)
	}
	for _, ch := range gs {
		if err := add(ch.Rules); err != nil {
			return nil, err
		}
		c.groupChecks = append(c.groupChecks, ch)
	}
	sort.Strings(c.order)
	return c, nil
}

// Default is the built-in catalogue.
func Default() *Catalogue {
	c, err := NewCatalogue(builtin(), builtinDomain(), builtinGroup()...)
	if err != nil {
		panic(err) // the built-in list is fixed at compile time; a test covers it
	}
	return c
}

// Rules lists every rule, sorted by ID.
func (c *Catalogue) Rules() []model.Rule {
	out := make([]model.Rule, 0, len(c.order))
	for _, id := range c.order {
		out = append(out, c.rules[id])
	}
	return out
}

// Rule looks a rule up by ID.
func (c *Catalogue) Rule(id string) (model.Rule, bool) {
	r, ok := c.rules[id]
	return r, ok
}

// Evaluate runs every check on one observation and applies the policy.
func (c *Catalogue) Evaluate(obs *model.Observation, p *policies.Policy, now time.Time) []model.Finding {
	in := &Input{Obs: obs, Thresholds: p.For(obs.Endpoint), Now: now}
	rep := &Reporter{cat: c, asset: obs.Endpoint.ID()}
	for _, ch := range c.checks {
		rep.allowed = ch.Rules
		ch.Run(in, rep)
	}
	fs := p.Apply(obs.Endpoint, rep.out, now)
	sortFindings(fs)
	return fs
}

func sortFindings(fs []model.Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		if fs[i].Severity != fs[j].Severity {
			return fs[i].Severity > fs[j].Severity
		}
		if fs[i].RuleID != fs[j].RuleID {
			return fs[i].RuleID < fs[j].RuleID
		}
		return fs[i].Detail < fs[j].Detail
	})
}

// Reporter collects a check's findings.
type Reporter struct {
	cat     *Catalogue
	asset   string
	allowed []model.Rule
	out     []model.Finding
}

// Raise records a finding of rule id. detail distinguishes several findings of one rule on the
// same endpoint (it feeds the fingerprint); message is for people; evidence holds the facts.
func (r *Reporter) Raise(id, detail, message string, evidence map[string]string) {
	var rule model.Rule
	found := false
	for _, a := range r.allowed {
		if a.ID == id {
			rule, found = a, true
			break
		}
	}
	if !found {
		panic("check raised undeclared rule " + id) // caught by every check's tests
	}
	r.out = append(r.out, model.Finding{
		RuleID:      id,
		Severity:    rule.DefaultSeverity,
		Title:       rule.Title,
		Message:     message,
		Asset:       r.asset,
		Detail:      detail,
		Evidence:    evidence,
		Fingerprint: model.FindingFingerprint(id, r.asset, detail),
	})
}

// EvaluateDomain runs the domain-level (DNS hygiene) checks on one domain observation.
func (c *Catalogue) EvaluateDomain(obs *model.DomainObservation, p *policies.Policy, now time.Time) []model.Finding {
	rep := &Reporter{cat: c, asset: "domain:" + obs.Name}
	in := &DomainInput{Obs: obs, Thresholds: p.For(model.Endpoint{Name: obs.Name}), Now: now}
	for _, ch := range c.domainChecks {
		rep.allowed = ch.Rules
		ch.Run(in, rep)
	}
	fs := p.Apply(model.Endpoint{Name: obs.Name}, rep.out, now)
	sortFindings(fs)
	return fs
}

// DomainInput is what a domain-level check sees.
type DomainInput struct {
	Obs        *model.DomainObservation
	Thresholds policies.Thresholds
	Now        time.Time
}

// DomainCheck is a check on a domain's DNS facts.
type DomainCheck struct {
	Name  string
	Rules []model.Rule
	Run   func(in *DomainInput, r *Reporter)
}
