package model

import (
	"crypto/sha256"
	"encoding/hex"
)

// Finding is a check's conclusion about an endpoint (or a domain) under a policy.
type Finding struct {
	RuleID   string   `json:"rule"` // family/name, e.g. "cert/expired"; never renamed once released
	Severity Severity `json:"severity"`
	Title    string   `json:"title"`
	Message  string   `json:"message"`
	// Asset is the endpoint ID (Endpoint.ID) or, for domain-level findings, "domain:<name>".
	Asset string `json:"asset"`
	// Detail distinguishes several findings of one rule on one asset (e.g. the suite name).
	Detail string `json:"detail,omitempty"`
	// Evidence is the facts the check relied on, as key/value strings.
	Evidence map[string]string `json:"evidence,omitempty"`
	// Fingerprint = hash(rule, asset, detail): stable across scans, independent of wording.
	Fingerprint string `json:"fingerprint"`
	// Waived is set when a policy waiver hides the finding; Waiver says which.
	Waived bool    `json:"waived,omitempty"`
	Waiver *Waiver `json:"waiver,omitempty"`
}

// Waiver is the policy entry that accepted a finding.
type Waiver struct {
	Rule    string `json:"rule"`
	Reason  string `json:"reason"`
	Owner   string `json:"owner,omitempty"`
	Expires string `json:"expires,omitempty"` // YYYY-MM-DD
}

// FindingFingerprint derives the stable fingerprint of a finding.
func FindingFingerprint(rule, asset, detail string) string {
	h := sha256.New()
	for _, s := range []string{rule, asset, detail} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}
