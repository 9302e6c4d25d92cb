package model

// HandshakeFacts is what a series of full and partial handshakes showed about a TLS server's
// features beyond the negotiated version and suite: extensions, resumption, stapling, fallback
// protection and every certificate chain it presents. Facts only; each probe is listed with
// its outcome so a reader can see how a fact was obtained.
type HandshakeFacts struct {
	// Connections is the number of TCP connections the inspection opened.
	Connections int `json:"connections"`
	// Probes lists every connection in order, with what it offered and what came back.
	Probes []HandshakeProbe `json:"probes"`

	// MaxVersion is the highest protocol version any probe negotiated ("TLS 1.3").
	MaxVersion string `json:"max_version,omitempty"`

	// ALPNOffered is the list of application protocols offered; ALPN is the subset the server
	// selected, in the order it selected them (its preference).
	ALPNOffered []string `json:"alpn_offered,omitempty"`
	ALPN        []string `json:"alpn,omitempty"`

	// TLS12 holds the ServerHello extension facts of a TLS 1.2-or-lower handshake that offered
	// every extension; nil when the server completed no such ServerHello (e.g. TLS 1.3 only).
	TLS12 *TLS12Features `json:"tls12,omitempty"`

	// DHEBits is the size of the DHE prime the server sent (0: no DHE suite was accepted or it
	// was not tested); DHETested says whether a DHE-only offer was made.
	DHEBits   int  `json:"dhe_bits,omitempty"`
	DHETested bool `json:"dhe_tested,omitempty"`

	// TicketResumption is the outcome of reconnecting with the session ticket the modern
	// client received: "resumed", "not-resumed", "no-ticket" (a completed handshake issued
	// none), or "" (not tested). ResumptionVersion is the version it was tried at.
	TicketResumption  string `json:"ticket_resumption,omitempty"`
	ResumptionVersion string `json:"resumption_version,omitempty"`
	// TicketIssued is true when the server issued a session ticket to the modern client.
	TicketIssued bool `json:"ticket_issued,omitempty"`
	// SessionIDResumption is the outcome of offering the session ID of a completed TLS 1.2
	// handshake (made without the ticket extension) on a new connection: "resumed",
	// "not-resumed", "no-session-id" (the server assigned none), "skipped" (not tested: the
	// server issues TLS 1.2 session tickets, which clients that support them resume with
	// instead, RFC 5077 §3.4; an exhaustive scan tests it), or "" (not tested).
	SessionIDResumption string `json:"session_id_resumption,omitempty"`

	// OCSP is the stapled OCSP response seen (by the modern client, else a TLS 1.2 probe).
	OCSP *OCSPStaple `json:"ocsp,omitempty"`
	// SCTsTLS is the number of SCTs delivered in the TLS extension.
	SCTsTLS int `json:"scts_tls,omitempty"`

	// Fallback is the outcome of offering a version below the highest with TLS_FALLBACK_SCSV:
	// "rejected" (inappropriate_fallback alert: protected), "accepted" (handshake went on),
	// "inconclusive" (other failure, e.g. the lower version is not supported), "not-needed"
	// (not probed: the server speaks no version below TLS 1.2, so no fallback SCSV guards
	// against is possible; a server that also speaks TLS 1.3 must mark its TLS 1.2 answers
	// with the downgrade sentinel, see TLS12Features.DowngradeSentinel), "" not tested.
	Fallback       string `json:"fallback_scsv,omitempty"`
	FallbackDetail string `json:"fallback_scsv_detail,omitempty"`

	// Chains lists every distinct certificate chain presented, by leaf fingerprint.
	Chains []PresentedChain `json:"chains,omitempty"`
}

// HandshakeProbe is one connection of an inspection.
type HandshakeProbe struct {
	Name        string `json:"name"`   // "tls12-features", "modern", "resume", "ecdsa", "rsa", "session-id", "resume-id", "no-sni", "dhe", "fallback", "alpn"
	Client      string `json:"client"` // "raw", "raw-tls13", "zcrypto", "crypto/tls"
	SNI         string `json:"sni,omitempty"`
	Version     string `json:"version,omitempty"`
	CipherSuite string `json:"cipher_suite,omitempty"`
	ALPN        string `json:"alpn,omitempty"`
	Leaf        string `json:"leaf_sha256,omitempty"`
	Alert       string `json:"alert,omitempty"` // alert the server sent, e.g. "inappropriate_fallback(86)"
	Error       string `json:"error,omitempty"`
}

// TLS12Features are ServerHello facts for TLS 1.2 and below, from one hello offering every
// extension (and DEFLATE compression).
type TLS12Features struct {
	Version              string   `json:"version"`
	CipherSuite          string   `json:"cipher_suite"`
	SuiteID              uint16   `json:"cipher_suite_id"`
	SecureRenegotiation  bool     `json:"secure_renegotiation"`
	ExtendedMasterSecret bool     `json:"extended_master_secret"`
	EncryptThenMAC       bool     `json:"encrypt_then_mac"`
	Heartbeat            bool     `json:"heartbeat"`
	SessionTicket        bool     `json:"session_ticket"`
	OCSPStapling         bool     `json:"ocsp_stapling"` // status_request acknowledged
	SCTExtension         bool     `json:"sct_extension"`
	Compression          uint8    `json:"compression"` // 0 null, 1 DEFLATE
	Extensions           []uint16 `json:"extensions,omitempty"`
	// DowngradeSentinel is the TLS 1.3 downgrade marker ending this TLS 1.2 answer's
	// ServerHello.random (RFC 8446 §4.1.3): "tls1.2" ("DOWNGRD" 01, what a TLS 1.3 server
	// must send when it negotiates TLS 1.2, so TLS 1.3 clients detect a forced downgrade),
	// "tls1.1" ("DOWNGRD" 00), or "" (none).
	DowngradeSentinel string `json:"downgrade_sentinel,omitempty"`
}

// Values of TLS12Features.DowngradeSentinel.
const (
	SentinelTLS12 = "tls1.2" // "DOWNGRD" 01
	SentinelTLS11 = "tls1.1" // "DOWNGRD" 00
)

// OCSPStaple is a stapled OCSP response.
type OCSPStaple struct {
	Status     string `json:"status"` // "good", "revoked", "unknown", or "unparsable"
	ProducedAt string `json:"produced_at,omitempty"`
	NextUpdate string `json:"next_update,omitempty"`
	Error      string `json:"error,omitempty"`
	Size       int    `json:"size"`
}

// PresentedChain is one distinct chain a server presented and how it was obtained.
type PresentedChain struct {
	Leaf    string   `json:"leaf_sha256"`
	KeyType string   `json:"key_type,omitempty"` // of the leaf
	SNI     bool     `json:"sni"`                // presented with SNI (else only without)
	Probes  []string `json:"probes"`             // probe names that received it
	DER     [][]byte `json:"der"`
	// Analysis is the certificate analysis of this chain.
	Analysis *CertFacts `json:"analysis,omitempty"`
}
