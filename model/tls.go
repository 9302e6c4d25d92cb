package model

import "time"

// TLSFacts is what a TLS handshake showed.
type TLSFacts struct {
	// Speaks is false when the port accepted TCP but did not answer a ClientHello with TLS.
	Speaks bool `json:"speaks_tls"`
	// Handshake is the negotiated result of a modern client's handshake (crypto/tls).
	Handshake *Handshake `json:"handshake,omitempty"`
	// HandshakeError is the error of that handshake, if it failed after TCP connected.
	HandshakeError string `json:"handshake_error,omitempty"`
	// Engine is what the raw ClientHello engine enumerated (versions, suites, groups).
	Engine *TLSEngineFacts `json:"engine,omitempty"`
	// Features is what the handshake inspection (scanner/handshake) showed: extensions,
	// resumption, stapling, fallback protection and every chain presented.
	Features *HandshakeFacts `json:"features,omitempty"`
}

// Handshake is one completed handshake.
type Handshake struct {
	Version     string        `json:"version"` // "TLS 1.3"
	VersionID   uint16        `json:"version_id"`
	CipherSuite string        `json:"cipher_suite"` // IANA name
	SuiteID     uint16        `json:"cipher_suite_id"`
	ALPN        string        `json:"alpn,omitempty"`
	ServerName  string        `json:"server_name,omitempty"` // SNI sent
	Latency     time.Duration `json:"latency_ns"`            // handshake time
}
