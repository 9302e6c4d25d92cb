// Package policies loads the YAML policies that say what "secure enough" means for an estate,
// and applies their severity overrides, disabled rules and waivers to findings.
package policies

import (
	"crypto/tls"
	"time"

	"github.com/rampart-scan/rampart/model"
)

// Thresholds are the numbers and lists checks compare facts against.
type Thresholds struct {
	// MinProtocol is the lowest acceptable negotiated protocol version, as a TLS version ID.
	MinProtocol uint16 `json:"min_protocol"`
	// ExpiryWarningDays: a certificate expiring within this many days is flagged.
	ExpiryWarningDays int `json:"expiry_warning_days"`
}

// Policy is a fully resolved policy (after extends).
type Policy struct {
	Name        string                    `json:"name"`
	Description string                    `json:"description,omitempty"`
	Thresholds  Thresholds                `json:"thresholds"`
	Severities  map[string]model.Severity `json:"severities,omitempty"` // per-rule overrides
	Disabled    map[string]bool           `json:"disabled,omitempty"`
}

// Default is the policy used when none is named.
func Default() *Policy {
	return &Policy{
		Name:        "messaging-baseline",
		Description: "Rampart's default for messaging estates",
		Thresholds:  Thresholds{MinProtocol: tls.VersionTLS12, ExpiryWarningDays: 30},
	}
}

// For returns the thresholds that apply to one endpoint.
func (p *Policy) For(model.Endpoint) Thresholds { return p.Thresholds }

// Apply turns raw findings into policy findings: disabled rules are dropped and severity
// overrides applied. now is the evaluation time (waiver expiry is judged against it).
func (p *Policy) Apply(fs []model.Finding, _ time.Time) []model.Finding {
	out := fs[:0]
	for _, f := range fs {
		if p.Disabled[f.RuleID] {
			continue
		}
		if s, ok := p.Severities[f.RuleID]; ok {
			f.Severity = s
		}
		out = append(out, f)
	}
	return out
}
