package model

// Rule is one entry of the rule catalogue: what a finding's RuleID means and how to fix it.
type Rule struct {
	ID              string      `json:"id"` // family/name; stable forever
	Title           string      `json:"title"`
	Why             string      `json:"why"`                // why it matters
	Fix             string      `json:"fix"`                // how to fix it, generally
	Snippets        []Snippet   `json:"snippets,omitempty"` // per-software configuration fixes
	References      []Reference `json:"references,omitempty"`
	DefaultSeverity Severity    `json:"default_severity"`
	Tags            []string    `json:"tags,omitempty"` // e.g. "CWE-326", "tls", "mail"
}

// Snippet is a configuration fix for one piece of server software.
type Snippet struct {
	Software string `json:"software"` // nginx, Postfix, Prosody, ejabberd, Dovecot
	Config   string `json:"config"`
}

// Reference points at a standard, advisory or guideline.
type Reference struct {
	Title string `json:"title"` // "RFC 8996", "CVE-2014-0160", "Mozilla Server Side TLS 6.0"
	URL   string `json:"url,omitempty"`
}
