package model

import "time"

// Verdicts of an active vulnerability probe.
const (
	VerdictVulnerable    = "vulnerable"
	VerdictNotVulnerable = "not-vulnerable"
	// VerdictInconclusive means the probe ran (or tried to) and could not decide; Reason says why.
	VerdictInconclusive = "inconclusive"
	// VerdictNotApplicable means the precondition of the attack is absent (e.g. no RSA key
	// exchange for ROBOT, no TLS 1.3 for 0-RTT), so nothing was sent.
	VerdictNotApplicable = "not-applicable"
)

// ProbeVerdict is what one active vulnerability probe concluded, with the facts it rests on.
type ProbeVerdict struct {
	Verdict string `json:"verdict"`
	// Reason says in one sentence what the server did that led to the verdict.
	Reason string `json:"reason"`
	// Connections is the number of TCP connections the probe opened.
	Connections int `json:"connections"`
	// Duration is the probe's wall time.
	Duration time.Duration `json:"duration_ns"`
	// Detail holds probe-specific facts (per-version answers, oracle responses …).
	Detail map[string]string `json:"detail,omitempty"`
}

// VulnFacts are the results of the vulnerability probes run on one endpoint. Each field is
// nil when its probe did not run.
type VulnFacts struct {
	// Heartbleed: CVE-2014-0160, an over-long heartbeat request in each version ≤ TLS 1.2.
	Heartbleed *ProbeVerdict `json:"heartbleed,omitempty"`
	// CCSInjection: CVE-2014-0224, a ChangeCipherSpec sent before the key exchange.
	CCSInjection *ProbeVerdict `json:"ccs_injection,omitempty"`
	// Ticketbleed: CVE-2016-9244, session-ID echo on ticket resumption.
	Ticketbleed *ProbeVerdict `json:"ticketbleed,omitempty"`
	// ROBOT: Bleichenbacher padding oracle on RSA key exchange (CVE-2017-13099 and others).
	ROBOT *ProbeVerdict `json:"robot,omitempty"`
	// SecureRenegotiation: RFC 5746 support; "vulnerable" means the server does not support
	// it (CVE-2009-3555 exposure).
	SecureRenegotiation *ProbeVerdict `json:"secure_renegotiation,omitempty"`
	// ClientRenegotiation: whether the server accepts a renegotiation the client starts.
	ClientRenegotiation *ProbeVerdict `json:"client_renegotiation,omitempty"`
	// Compression: TLS-level DEFLATE (CRIME, CVE-2012-4929).
	Compression *ProbeVerdict `json:"compression,omitempty"`
	// EarlyData: TLS 1.3 0-RTT acceptance (replayable early data).
	EarlyData *ProbeVerdict `json:"early_data,omitempty"`
	// Connections is the total number of TCP connections the probes above opened.
	Connections int           `json:"connections"`
	Duration    time.Duration `json:"duration_ns"`
}
