package model

import "net/netip"

// TargetKind says how a target line was understood.
type TargetKind string

// Target kinds.
const (
	// TargetDomain is a bare DNS name: its messaging estate is discovered through DNS.
	TargetDomain TargetKind = "domain"
	// TargetHost is a DNS name with an explicit port or service hint: probed as given.
	TargetHost TargetKind = "host"
	// TargetIP is a single address, with or without a port.
	TargetIP TargetKind = "ip"
	// TargetCIDR is a block of addresses, each probed on the port or the service's default.
	TargetCIDR TargetKind = "cidr"
)

// Target is one line of user input, parsed. Source names where it came from ("args:2",
// "targets.txt:14", "stdin:3") so errors and reports (SARIF locations) can point back at it.
type Target struct {
	Raw     string       `json:"raw"`
	Source  string       `json:"source"`
	File    string       `json:"file,omitempty"` // the file the line came from, if any
	Line    int          `json:"line,omitempty"` // 1-based line in File (or argument position)
	Kind    TargetKind   `json:"kind"`
	Host    string       `json:"host,omitempty"`    // lower-case DNS name, no trailing dot
	Addr    netip.Addr   `json:"addr,omitzero"`     // for TargetIP
	Prefix  netip.Prefix `json:"prefix,omitzero"`   // for TargetCIDR
	Port    uint16       `json:"port,omitempty"`    // 0: the service's default port
	Service string       `json:"service,omitempty"` // service hint from the scheme, e.g. "smtp"
}
