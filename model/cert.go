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

	// Analyzed is set when the facts below (order, completeness, XMPP identity, lints) were
	// computed by the certificate analysis; they are meaningless when it is false.
	Analyzed bool `json:"analyzed,omitempty"`
	// ChainOrdered is true when each certificate sent is issued by the next one.
	// ChainComplete is true when the certificates sent lead from the leaf to a self-signed
	// certificate or to one issued by a trust anchor; MissingIssuer names the issuer that
	// could be found neither among them nor among the anchors. ChainIssues says what is wrong.
	ChainOrdered  bool     `json:"chain_ordered"`
	ChainComplete bool     `json:"chain_complete"`
	MissingIssuer string   `json:"missing_issuer,omitempty"`
	ChainIssues   []string `json:"chain_issues,omitempty"`
	// ChainTruncated is set when the server sent more certificates than are kept.
	ChainTruncated bool `json:"chain_truncated,omitempty"`
	// XMPP is the RFC 6120/7712 service-identity check, for XMPP services only.
	XMPP *XMPPIdentity `json:"xmpp,omitempty"`
}

// XMPPIdentity is the match of an XMPP domain against the leaf's identities (RFC 6120 §13.7.1.2).
type XMPPIdentity struct {
	Domain    string   `json:"domain"`
	Service   string   `json:"service"` // "xmpp-client" or "xmpp-server"
	SRVIDs    []string `json:"srv_ids,omitempty"`
	XmppAddrs []string `json:"xmpp_addrs,omitempty"`
	Matches   bool     `json:"matches"`
	MatchedBy string   `json:"matched_by,omitempty"` // "SRV-ID", "XmppAddr", "DNS-ID"
}

// LintResult is one non-passing zlint result on a certificate.
type LintResult struct {
	Name    string `json:"name"`
	Status  string `json:"status"` // "notice", "warn", "error", "fatal"
	Details string `json:"details,omitempty"`
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

	// Fields below are filled by the certificate analysis (scanner/certs).
	ParseError            string       `json:"parse_error,omitempty"` // strict (crypto/x509) parse error
	CurveName             string       `json:"curve,omitempty"`       // for EC keys
	BasicConstraintsValid bool         `json:"basic_constraints_valid,omitempty"`
	ExtKeyUsage           []string     `json:"ext_key_usage,omitempty"` // "serverAuth", … or dotted OIDs
	MustStaple            bool         `json:"must_staple,omitempty"`   // TLS feature status_request
	EmbeddedSCTs          int          `json:"embedded_scts,omitempty"`
	Lints                 []LintResult `json:"lints,omitempty"`
	LintsTruncated        bool         `json:"lints_truncated,omitempty"`
}
