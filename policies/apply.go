package policies

import (
	"fmt"
	"net/netip"
	"path"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/rampart-scan/rampart/model"
)

// WaiverExpiredRuleID is the rule raised when a waiver has expired and its finding is shown
// again.
const WaiverExpiredRuleID = "policy/waiver-expired"

// Rules lists the rules the policy engine itself raises. Catalogue listings (rampart rules,
// docs/rules.md, SARIF) include them next to the checks' rules.
func Rules() []model.Rule {
	return []model.Rule{{
		ID:    WaiverExpiredRuleID,
		Title: "A policy waiver has expired",
		Why: "A waiver accepts a known risk for a limited time. Once its date has passed the risk is no " +
			"longer accepted by anyone: the finding it hid is reported again, and this finding says which " +
			"waiver lapsed so its owner can fix the problem or renew the decision.",
		Fix: "Fix the underlying finding, or, if the risk is still accepted, have the owner renew the " +
			"waiver with a new expires date and an updated reason in the policy file.",
		Snippets: []model.Snippet{{Software: "Rampart policy", Config: "waivers:\n  - rule: tls/legacy-protocol-negotiated\n    selector: {hosts: [legacy.example.org]}\n    reason: \"Vendor appliance; replacement ordered (CHG-1234)\"\n    owner: security@example.org\n    expires: 2027-03-31"}},
		References: []model.Reference{
			{Title: "Rampart policy language: waivers", URL: "docs/policies.md#waivers"},
		},
		DefaultSeverity: model.SeverityMedium,
		Tags:            []string{"policy", "governance"},
	}}
}

// selector is a compiled Selector.
type selector struct {
	hosts    []string
	prefixes []netip.Prefix
	services []string
	roles    []string
	ports    []uint16
	tags     []string
}

func compileSelector(s Selector) (selector, error) {
	out := selector{hosts: strs(s.Hosts), services: strs(s.Services), roles: strs(s.Roles), ports: slices.Clone(s.Ports), tags: slices.Clone(s.Tags)}
	for _, c := range s.Addresses {
		p, err := c.prefix()
		if err != nil {
			return selector{}, fmt.Errorf("selector address %q: %w", c, err)
		}
		out.prefixes = append(out.prefixes, p)
	}
	return out, nil
}

// matches reports whether ep satisfies every set field of the selector.
func (s selector) matches(ep model.Endpoint) bool {
	if len(s.hosts) > 0 {
		host := strings.ToLower(strings.TrimSuffix(ep.Name, "."))
		if host == "" && ep.Addr.IsValid() {
			host = ep.Addr.Addr().String()
		}
		if !slices.ContainsFunc(s.hosts, func(p string) bool { return globMatch(p, host) }) {
			return false
		}
	}
	if len(s.prefixes) > 0 {
		a := ep.Addr.Addr().Unmap()
		if !slices.ContainsFunc(s.prefixes, func(p netip.Prefix) bool { return p.Contains(a) }) {
			return false
		}
	}
	if len(s.services) > 0 && !slices.ContainsFunc(s.services, func(x string) bool { return sameService(x, ep.Service) }) {
		return false
	}
	if len(s.roles) > 0 && !slices.Contains(s.roles, ServiceRole(ep.Service)) {
		return false
	}
	if len(s.ports) > 0 && !slices.Contains(s.ports, ep.Addr.Port()) {
		return false
	}
	if len(s.tags) > 0 && !slices.ContainsFunc(s.tags, func(t string) bool { return slices.Contains(ep.Tags, t) }) {
		return false
	}
	return true
}

// sameService compares service names, treating registry aliases as their service.
func sameService(a, b string) bool {
	if strings.EqualFold(a, b) {
		return true
	}
	return canonicalService(a) != "" && canonicalService(a) == canonicalService(b)
}

// ruleMatch matches a rule ID against an ID or glob: path.Match semantics (tls/* is one
// family), except that a lone * matches every rule.
func ruleMatch(pattern, rule string) bool {
	if pattern == rule || pattern == "*" {
		return true
	}
	ok, err := path.Match(pattern, rule)
	return err == nil && ok
}

// Apply turns raw findings of one endpoint (or domain: pass an Endpoint with the domain as
// Name) into policy findings: disabled rules are dropped, severity overrides applied, and
// findings covered by a waiver are marked Waived (kept, so reports can list them apart). A
// waiver whose expires day is over no longer hides anything: its findings stay active and a
// policy/waiver-expired finding names the lapsed waiver. now is the evaluation time.
func (p *Policy) Apply(ep model.Endpoint, fs []model.Finding, now time.Time) []model.Finding {
	out := make([]model.Finding, 0, len(fs))
	type lapse struct {
		w            *waiver
		asset        string
		fingerprints []string
		rules        []string
	}
	var lapsed []*lapse
	for _, f := range fs {
		st := p.State(ep, f.RuleID, f.Severity)
		if st.Disabled {
			continue
		}
		f.Severity = st.Severity
		if w := p.waiverFor(ep, f); w != nil {
			if now.Before(w.spec.Expires.End()) {
				f.Waived = true
				f.Waiver = &model.Waiver{Rule: string(w.spec.Rule), Reason: w.spec.Reason, Owner: w.spec.Owner, Expires: string(w.spec.Expires)}
			} else {
				var l *lapse
				for _, x := range lapsed {
					if x.w == w && x.asset == f.Asset {
						l = x
					}
				}
				if l == nil {
					l = &lapse{w: w, asset: f.Asset}
					lapsed = append(lapsed, l)
				}
				l.fingerprints = append(l.fingerprints, f.Fingerprint)
				if !slices.Contains(l.rules, f.RuleID) {
					l.rules = append(l.rules, f.RuleID)
				}
			}
		}
		out = append(out, f)
	}
	for _, l := range lapsed {
		st := p.State(ep, WaiverExpiredRuleID, model.SeverityMedium)
		if st.Disabled {
			continue
		}
		w := l.w.spec
		sort.Strings(l.fingerprints)
		detail := string(w.Rule) + "@" + string(w.Expires)
		ev := map[string]string{
			"waiver.rule":    string(w.Rule),
			"waiver.reason":  w.Reason,
			"waiver.owner":   w.Owner,
			"waiver.expires": string(w.Expires),
			"findings":       strings.Join(l.fingerprints, ","),
			"rules":          strings.Join(l.rules, ","),
		}
		if w.Ticket != "" {
			ev["waiver.ticket"] = w.Ticket
		}
		if w.Detail != "" {
			ev["waiver.detail"] = w.Detail
		}
		out = append(out, model.Finding{
			RuleID:   WaiverExpiredRuleID,
			Severity: st.Severity,
			Title:    Rules()[0].Title,
			Message: fmt.Sprintf("The waiver for %s owned by %s expired on %s; %d finding(s) it hid are active again (%s).",
				w.Rule, w.Owner, w.Expires, len(l.fingerprints), strings.Join(l.rules, ", ")),
			Asset:       l.asset,
			Detail:      detail,
			Evidence:    ev,
			Fingerprint: model.FindingFingerprint(WaiverExpiredRuleID, l.asset, detail),
		})
	}
	return out
}

// waiverFor returns the waiver covering f on ep that lasts longest, so a waiver still in force
// wins over a lapsed one for the same finding; nil when none covers it.
func (p *Policy) waiverFor(ep model.Endpoint, f model.Finding) *waiver {
	var best *waiver
	for i := range p.waivers {
		w := &p.waivers[i]
		if !ruleMatch(string(w.spec.Rule), f.RuleID) || !w.sel.matches(ep) {
			continue
		}
		if w.spec.Detail != "" && !globMatch(w.spec.Detail, f.Detail) {
			continue
		}
		if best == nil || w.spec.Expires.End().After(best.spec.Expires.End()) {
			best = w
		}
	}
	return best
}

// canonicalService maps a registry name or alias to the registry name ("" when unknown).
func canonicalService(name string) string {
	if s, ok := registry().ByName(name); ok {
		return s.Name
	}
	return ""
}
