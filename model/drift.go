package model

import "time"

// Drift is what changed between a base scan and a later head scan of the same scope.
type Drift struct {
	BaseScan string    `json:"base_scan"`
	HeadScan string    `json:"head_scan"`
	BaseTime time.Time `json:"base_time"`
	HeadTime time.Time `json:"head_time"`
	// Partial is set when the head scan did not complete: nothing is reported as vanished,
	// fixed or closed, because absence in an unfinished scan proves nothing.
	Partial bool `json:"partial,omitempty"`

	NewFindings       []Finding `json:"new_findings"`
	FixedFindings     []Finding `json:"fixed_findings"`
	ReopenedFindings  []Finding `json:"reopened_findings"` // fixed in an earlier scan, back now
	UnchangedFindings int       `json:"unchanged_findings"`

	EndpointsAppeared []string `json:"endpoints_appeared"` // Endpoint IDs
	EndpointsVanished []string `json:"endpoints_vanished"`
	HostsAppeared     []string `json:"hosts_appeared"`
	HostsVanished     []string `json:"hosts_vanished"`

	CertRotations []CertRotation `json:"cert_rotations"`
	PortsOpened   []string       `json:"ports_opened"` // address:port
	PortsClosed   []string       `json:"ports_closed"`
	// Changes lists other per-endpoint fact changes: protocol versions, suites, grade.
	Changes []FactChange `json:"changes"`
}

// CertRotation is a leaf certificate that changed on one endpoint.
type CertRotation struct {
	Endpoint  string    `json:"endpoint"`
	OldSHA256 string    `json:"old_sha256"`
	NewSHA256 string    `json:"new_sha256"`
	OldExpiry time.Time `json:"old_not_after"`
	NewExpiry time.Time `json:"new_not_after"`
}

// FactChange is one fact of one endpoint that differs between the scans.
type FactChange struct {
	Endpoint string `json:"endpoint"`
	Fact     string `json:"fact"` // "tls.versions", "tls.suites", "grade", …
	Old      string `json:"old"`
	New      string `json:"new"`
}
