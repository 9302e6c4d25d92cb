package checks

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/rampart-scan/rampart/model"
	"github.com/rampart-scan/rampart/policies"
)

// GroupCheck is a check across the addresses that serve one name.
type GroupCheck struct {
	Name  string
	Rules []model.Rule
	Run   func(g *model.NodeGroup, r *Reporter)
}

var ruleInconsistentNodes = model.Rule{
	ID:    "tls/inconsistent-nodes",
	Title: "Addresses behind one name serve different configurations",
	Why: "Clients reach whichever address DNS or the load balancer gives them. When nodes differ — an old certificate " +
		"left on one, a legacy protocol still enabled on another, one node down — users see intermittent failures " +
		"and the weakest node decides the real security of the service.",
	Fix: "Deploy certificates and TLS settings to every node from one source (configuration management), " +
		"and check each address after a change, not only the name.",
	References: []model.Reference{
		{Title: "NIST SP 800-52 Rev. 2 §3 (consistent server configuration)", URL: "https://csrc.nist.gov/pubs/sp/800/52/r2/final"},
	},
	DefaultSeverity: model.SeverityMedium,
	Tags:            []string{"tls", "availability", "consistency"},
}

// nodeConsistencyCheck raises one finding per fact that differs between the nodes.
func nodeConsistencyCheck() GroupCheck {
	return GroupCheck{
		Name:  "node-consistency",
		Rules: []model.Rule{ruleInconsistentNodes},
		Run: func(g *model.NodeGroup, r *Reporter) {
			for _, d := range g.Differences {
				addrs := make([]string, 0, len(d.Values))
				for a := range d.Values {
					addrs = append(addrs, a)
				}
				sort.Strings(addrs)
				ev := map[string]string{"fact": d.Fact}
				var parts []string
				for _, a := range addrs {
					ev[a] = d.Values[a]
					parts = append(parts, a+": "+shorten(d.Values[a], 60))
				}
				r.Raise(ruleInconsistentNodes.ID, d.Fact,
					fmt.Sprintf("The %d addresses of %s:%d differ in %s (%s).", len(g.Endpoints), g.Name, g.Port, strings.ReplaceAll(d.Fact, "_", " "), strings.Join(parts, "; ")), ev)
			}
		},
	}
}

func shorten(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// EvaluateGroup runs the cross-node checks on one group.
func (c *Catalogue) EvaluateGroup(g *model.NodeGroup, p *policies.Policy, now time.Time) []model.Finding {
	rep := &Reporter{cat: c, asset: g.ID()}
	for _, ch := range c.groupChecks {
		rep.allowed = ch.Rules
		ch.Run(g, rep)
	}
	ep := model.Endpoint{Name: g.Name, Service: g.Service}
	fs := p.Apply(ep, rep.out, now)
	sortFindings(fs)
	return fs
}
