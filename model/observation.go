package model

import "time"

// ProbeStatus is the outcome of probing one endpoint, as a fact.
type ProbeStatus string

// Probe outcomes.
const (
	StatusOK          ProbeStatus = "ok"          // connected; facts below say what was seen
	StatusUnreachable ProbeStatus = "unreachable" // refused, no route, reset before anything
	StatusTimeout     ProbeStatus = "timeout"     // dial or read did not finish within --timeout
	StatusError       ProbeStatus = "error"       // connected but the probe failed (see Error)
	StatusInterrupted ProbeStatus = "interrupted" // the scan was cancelled while probing
	StatusSkipped     ProbeStatus = "skipped"     // not probed (out of scope); Error says why
)

// Observation is every fact recorded about one endpoint. Facts only: no severities, no
// verdicts. Each fact family lives in its own file and is nil when it was not collected.
type Observation struct {
	Endpoint Endpoint      `json:"endpoint"`
	Started  time.Time     `json:"started"`
	Duration time.Duration `json:"duration_ns"`
	Status   ProbeStatus   `json:"status"`
	Error    string        `json:"error,omitempty"`

	Connect *ConnectFacts `json:"connect,omitempty"`
	TLS     *TLSFacts     `json:"tls,omitempty"`
	// Certificates is the chain as the server sent it (leaf first), with verification facts.
	Certificates *CertFacts `json:"certificates,omitempty"`
	// Service is what answered on the port (exposure scan); see model/exposure.go.
	Service *ServiceFacts `json:"service,omitempty"`
	// Availability is what repeated connection attempts showed; see model/exposure.go.
	Availability *AvailabilityFacts `json:"availability,omitempty"`
	// StartTLS is the plaintext dialogue before a STARTTLS upgrade; see model/starttls.go.
	StartTLS *StartTLSFacts `json:"starttls,omitempty"`
	// Vulns are the results of the vulnerability probes; see model/vuln.go.
	Vulns *VulnFacts `json:"vulns,omitempty"`
	// HTTP is what HTTP requests to an HTTPS endpoint showed; see model/httpsec.go.
	HTTP *HTTPSecurityFacts `json:"http_security,omitempty"`
}

// ConnectFacts describes the TCP connection.
type ConnectFacts struct {
	Reachable bool          `json:"reachable"`
	Latency   time.Duration `json:"latency_ns"` // TCP connect time
}
