package model

import "time"

// SchemaVersion identifies the JSON document layout. Bump on incompatible changes.
const SchemaVersion = "rampart.scan/v1"

// ScanStatus is the lifecycle state of a scan.
type ScanStatus string

// Scan states.
const (
	ScanRunning     ScanStatus = "running"
	ScanComplete    ScanStatus = "complete"
	ScanInterrupted ScanStatus = "interrupted"
	ScanFailed      ScanStatus = "failed"
)

// EndpointResult pairs an endpoint's observation with the findings evaluated from it.
type EndpointResult struct {
	Observation Observation `json:"observation"`
	Findings    []Finding   `json:"findings"`
	// Grade is the endpoint's letter grade (see model/grade.go); nil when it speaks no TLS.
	Grade *Grade `json:"grade,omitempty"`
}

// ScanResult is one whole scan: what was asked, what was seen, what it means.
type ScanResult struct {
	SchemaVersion string           `json:"schema_version"`
	Tool          ToolInfo         `json:"tool"`
	ID            string           `json:"id,omitempty"`
	Status        ScanStatus       `json:"status"`
	Error         string           `json:"error,omitempty"`
	Started       time.Time        `json:"started"`
	Finished      time.Time        `json:"finished"`
	Policy        string           `json:"policy"`
	Targets       []Target         `json:"targets"`
	Discovery     []DiscoveryNote  `json:"discovery,omitempty"`
	Endpoints     []EndpointResult `json:"endpoints"`
	Domains       []DomainResult   `json:"domains,omitempty"`
	// Nodes compares the addresses that serve one name (only names with several addresses).
	Nodes []NodeGroupResult `json:"nodes,omitempty"`
}

// ToolInfo names the program that produced a result.
type ToolInfo struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// DiscoveryNote records what discovery did for one target that did not become an endpoint:
// a name that did not resolve, a record pointing out of scope, a lookup error.
type DiscoveryNote struct {
	Target string `json:"target"`
	Source string `json:"source,omitempty"`
	Kind   string `json:"kind"` // "error", "skipped", "empty"
	Detail string `json:"detail"`
}

// Findings returns every finding of the scan, in endpoint order.
func (r *ScanResult) Findings() []Finding {
	var out []Finding
	for _, e := range r.Endpoints {
		out = append(out, e.Findings...)
	}
	for _, d := range r.Domains {
		out = append(out, d.Findings...)
	}
	for _, n := range r.Nodes {
		out = append(out, n.Findings...)
	}
	return out
}

// DomainResult pairs a domain's observation with the findings evaluated from it.
type DomainResult struct {
	Observation DomainObservation `json:"observation"`
	Findings    []Finding         `json:"findings"`
}
