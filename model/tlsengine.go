package model

import "time"

// TLSEngineFacts is what the raw ClientHello engine saw of one endpoint: which protocol
// versions answer, which cipher suites each version accepts and in which order, which key
// exchange groups the server takes, and the Diffie-Hellman parameters it sent. Facts only.
type TLSEngineFacts struct {
	// Versions lists every protocol version probed, oldest first.
	Versions []EngineVersion `json:"versions"`
	// Groups are the key exchange groups the server accepted, in the order it chose them
	// (its preference, when it has one).
	Groups []EngineGroup `json:"groups,omitempty"`
	// GroupsVersion is the protocol version the groups were enumerated with ("TLS 1.3").
	GroupsVersion string `json:"groups_version,omitempty"`
	// GroupsError is why group enumeration stopped early, if it did.
	GroupsError string `json:"groups_error,omitempty"`
	// SignatureAlgorithms are the signature schemes the server signed its TLS 1.2
	// ServerKeyExchange with, in the order it chose them as the offer shrank: every scheme it
	// accepts for the certificates it holds.
	SignatureAlgorithms []string `json:"signature_algorithms,omitempty"`
	// SignatureAlgorithmsError is why that enumeration stopped early, if it did.
	SignatureAlgorithmsError string `json:"signature_algorithms_error,omitempty"`
	// DH describes the finite-field Diffie-Hellman parameters of the DHE suites, when any
	// DHE suite was accepted and its ServerKeyExchange could be read.
	DH []DHParams `json:"dh,omitempty"`
	// Connections is the number of TCP connections the engine opened.
	Connections int           `json:"connections"`
	Duration    time.Duration `json:"duration_ns"`
	// Chains are the distinct certificate chains (DER, leaf first) the server sent in the
	// plaintext TLS ≤ 1.2 flights the engine read, for the handshake inspection to analyse
	// (it reports them, in HandshakeFacts.Chains); not serialised here.
	Chains [][][]byte `json:"-"`
}

// EngineVersion is one protocol version as the engine saw it.
type EngineVersion struct {
	Version   string `json:"version"` // "SSLv2", "SSLv3", "TLS 1.0" … "TLS 1.3"
	VersionID uint16 `json:"version_id"`
	Supported bool   `json:"supported"`
	// Suites are the accepted cipher suites: in the server's preference order when
	// Preference is "server"; strongest first when it is "client" (the order found would
	// only be the scanner's); otherwise in the order they were found.
	Suites []EngineSuite `json:"suites,omitempty"`
	// Preference is "server" when the server imposes its own order, "client" when it takes
	// the first suite the client offers that it supports, "" when it could not be told (fewer
	// than two suites, or the server answered inconsistently).
	Preference string `json:"preference,omitempty"`
	// Inferred is true when the engine settled this version without enumerating it suite by
	// suite. For a supported TLS 1.0 or 1.1 the suites are TLS 1.2's that this version
	// defines, confirmed: the server's first choice matched and it refused every other suite.
	// An unsupported TLS 1.1, 1.0 or SSL 3.0 was not probed when the server speaks TLS 1.2 or
	// 1.3 and refused a newer version below 1.2 (or 1.2 itself) outright: by TLS version
	// negotiation it then has no older version either. SSL 2.0 was not probed when the server
	// speaks TLS 1.3: no TLS 1.3 implementation has SSL 2.0 (OpenSSL dropped it in 1.1.0,
	// before TLS 1.3 arrived in 1.1.1).
	Inferred bool `json:"inferred,omitempty"`
	// Error is why probing this version ended abnormally (timeout, garbage, reset …); a plain
	// refusal (alert or closed connection on the first hello) is not an error.
	Error string `json:"error,omitempty"`
	// KeyExchangeError is why a ServerKeyExchange after an accepted (EC)DHE suite could not
	// be read (an oversized certificate message, garbage …); the suites are still right.
	KeyExchangeError string `json:"key_exchange_error,omitempty"`
	Connections      int    `json:"connections"`
}

// EngineSuite is one accepted cipher suite with the attributes checks need.
type EngineSuite struct {
	// ID is the suite's code point; 0 for SSL 2.0 cipher kinds, which are three bytes wide
	// (Name identifies them).
	ID          uint16 `json:"id"`
	Name        string `json:"name"` // IANA name
	OpenSSLName string `json:"openssl_name,omitempty"`
	KeyExchange string `json:"kx"`   // RSA, DHE, ECDHE, PSK, SRP, DH, ECDH, KRB5, GOST, any (TLS 1.3) …
	Auth        string `json:"auth"` // RSA, ECDSA, DSS, anon, PSK, any …
	Cipher      string `json:"cipher"`
	Bits        int    `json:"bits"`
	Mode        string `json:"mode"` // CBC, GCM, CCM, CCM8, stream, none
	MAC         string `json:"mac"`  // SHA1, SHA256, MD5, AEAD …
	AEAD        bool   `json:"aead"`
	// ForwardSecret is true for ephemeral key exchange (DHE, ECDHE, TLS 1.3).
	ForwardSecret bool `json:"forward_secret"`
	Export        bool `json:"export,omitempty"`
	// Strength is the registry's class: insecure, weak, secure or recommended.
	Strength string `json:"strength"`
	// Group is the ECDHE curve or DHE group the server used with this suite, when seen.
	Group string `json:"group,omitempty"`
	// DHBits is the size of the DHE prime sent with this suite, when seen.
	DHBits int `json:"dh_bits,omitempty"`
}

// EngineGroup is one key exchange group the server accepted.
type EngineGroup struct {
	ID     uint16 `json:"id"`
	Name   string `json:"name"` // x25519, secp256r1, ffdhe2048, X25519MLKEM768 …
	Hybrid bool   `json:"hybrid,omitempty"`
	// PostQuantum is true for groups that include a post-quantum key encapsulation.
	PostQuantum bool `json:"post_quantum,omitempty"`
	Bits        int  `json:"bits,omitempty"` // classical security size of the key (256 for P-256, 2048 for ffdhe2048)
}

// DHParams is one finite-field Diffie-Hellman group a server sent in a ServerKeyExchange.
type DHParams struct {
	Version   string `json:"version"` // protocol version of the handshake that carried it
	Suite     string `json:"suite"`   // IANA name of the DHE suite
	PrimeBits int    `json:"prime_bits"`
	Generator int64  `json:"generator,omitempty"` // when it fits
	// Known names the well-known group whose prime equals the server's, e.g.
	// "ffdhe2048 (RFC 7919)", "MODP 1024 / Oakley group 2 (RFC 2409)"; empty when custom.
	Known string `json:"known,omitempty"`
}
