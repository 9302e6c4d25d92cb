// Package reports renders scan results: the terminal summary, the JSON document and the JSON
// Lines stream live here; HTML, SARIF and Markdown have their own subpackages.
package reports

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/rampart-scan/rampart/model"
)

// WriteJSON writes the whole scan as one indented JSON document (schema_version first).
func WriteJSON(w io.Writer, r *model.ScanResult) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("writing JSON report: %w", err)
	}
	return nil
}

// JSONLine is one line of the JSON Lines stream. Lines come in this order: "endpoint" lines
// as endpoints finish; "nodes" lines (the addresses behind one name compared); "domain" lines
// (DNS hygiene); "revised" lines for endpoints whose findings or grade changed once the whole
// scan was known; and one closing "scan" line.
type JSONLine struct {
	SchemaVersion string                 `json:"schema_version"`
	Type          string                 `json:"type"` // "endpoint", "domain", "nodes" or "scan"
	Endpoint      *model.EndpointResult  `json:"endpoint,omitempty"`
	Domain        *model.DomainResult    `json:"domain,omitempty"`
	Nodes         *model.NodeGroupResult `json:"nodes,omitempty"`
	Scan          *ScanSummary           `json:"scan,omitempty"`
}

// ScanSummary closes a JSON Lines stream.
type ScanSummary struct {
	ID        string                `json:"id,omitempty"`
	Status    model.ScanStatus      `json:"status"`
	Error     string                `json:"error,omitempty"`
	Endpoints int                   `json:"endpoints"`
	Findings  map[string]int        `json:"findings"` // by severity name
	Discovery []model.DiscoveryNote `json:"discovery,omitempty"`
}

// JSONLWriter streams one endpoint per line.
type JSONLWriter struct {
	enc *json.Encoder
}

// NewJSONLWriter returns a writer that streams to w.
func NewJSONLWriter(w io.Writer) *JSONLWriter {
	return &JSONLWriter{enc: json.NewEncoder(w)}
}

// Endpoint writes one finished endpoint.
func (j *JSONLWriter) Endpoint(er *model.EndpointResult) error {
	return j.enc.Encode(JSONLine{SchemaVersion: model.SchemaVersion, Type: "endpoint", Endpoint: er})
}

// Domain writes one domain's DNS hygiene result.
func (j *JSONLWriter) Domain(dr *model.DomainResult) error {
	return j.enc.Encode(JSONLine{SchemaVersion: model.SchemaVersion, Type: "domain", Domain: dr})
}

// Revised writes an endpoint again whose findings or grade changed at the end of the scan.
func (j *JSONLWriter) Revised(er *model.EndpointResult) error {
	return j.enc.Encode(JSONLine{SchemaVersion: model.SchemaVersion, Type: "revised", Endpoint: er})
}

// Nodes writes one comparison of the addresses behind a name.
func (j *JSONLWriter) Nodes(nr *model.NodeGroupResult) error {
	return j.enc.Encode(JSONLine{SchemaVersion: model.SchemaVersion, Type: "nodes", Nodes: nr})
}

// Close writes the summary line.
func (j *JSONLWriter) Close(r *model.ScanResult) error {
	counts := map[string]int{}
	for _, f := range r.Findings() {
		if !f.Waived {
			counts[f.Severity.String()]++
		}
	}
	return j.enc.Encode(JSONLine{SchemaVersion: model.SchemaVersion, Type: "scan", Scan: &ScanSummary{
		ID: r.ID, Status: r.Status, Error: r.Error, Endpoints: len(r.Endpoints), Findings: counts, Discovery: r.Discovery,
	}})
}
