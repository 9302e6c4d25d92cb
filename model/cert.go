package model

import "time"

// CertFacts is the certificate chain a server presented and what verifying it showed.
type CertFacts struct {
	Chain []Certificate `json:"chain"` // as sent, leaf first
	// Trusted is true when the chain verifies to a trust anchor (system roots or --ca-file),
	// ignoring the name. TrustError is the verifier's error otherwise.
	Trusted    bool   `json:"trusted"`
	TrustError string `json:"trust_error,omitempty"`
	// NameChecked is the name the leaf was matched against ("" when the endpoint has no name).
	NameChecked   string   `json:"name_checked,omitempty"`
	NameMatches   bool     `json:"name_matches"`
	NameError     string   `json:"name_error,omitempty"`
	VerifiedChain []string `json:"verified_chain,omitempty"` // SHA-256 of each cert in the verified path
}

// Certificate is one parsed certificate. Strings from the server are bounded by the prober.
type Certificate struct {
	Subject            string    `json:"subject"`
	Issuer             string    `json:"issuer"`
	Serial             string    `json:"serial"`
	NotBefore          time.Time `json:"not_before"`
	NotAfter           time.Time `json:"not_after"`
	DNSNames           []string  `json:"dns_names,omitempty"`
	IPAddresses        []string  `json:"ip_addresses,omitempty"`
	KeyType            string    `json:"key_type"` // RSA, ECDSA, Ed25519, …
	KeyBits            int       `json:"key_bits"`
	SignatureAlgorithm string    `json:"signature_algorithm"`
	IsCA               bool      `json:"is_ca"`
	SelfSigned         bool      `json:"self_signed"` // subject == issuer and its own key verifies it
	SHA256             string    `json:"sha256"`      // fingerprint of the DER
	DER                []byte    `json:"der,omitempty"`
}
