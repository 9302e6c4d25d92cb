package reporttest

import (
	"time"

	"github.com/rampart-scan/rampart/model"
)

func suite(id uint16, name, kx, auth, cipher string, bits int, mode, mac, strength string) model.EngineSuite {
	return model.EngineSuite{ID: id, Name: name, KeyExchange: kx, Auth: auth, Cipher: cipher, Bits: bits, Mode: mode, MAC: mac,
		AEAD: mode == "GCM" || mode == "CCM" || cipher == "CHACHA20", ForwardSecret: kx == "ECDHE" || kx == "DHE" || kx == "any", Strength: strength}
}

// engine is the raw-ClientHello enumeration of an old-fashioned XMPP server: TLS 1.0 and 1.2,
// server preference, a static-RSA and a CBC suite among AEAD ones.
func engine() *model.TLSEngineFacts {
	gcm := suite(0xc02f, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE", "RSA", "AES", 128, "GCM", "AEAD", "recommended")
	chacha := suite(0xcca8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE", "RSA", "CHACHA20", 256, "stream", "AEAD", "recommended")
	cbc := suite(0xc013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "ECDHE", "RSA", "AES", 128, "CBC", "SHA1", "weak")
	rsa := suite(0x002f, "TLS_RSA_WITH_AES_128_CBC_SHA", "RSA", "RSA", "AES", 128, "CBC", "SHA1", "weak")
	des := suite(0x000a, "TLS_RSA_WITH_3DES_EDE_CBC_SHA", "RSA", "RSA", "3DES", 112, "CBC", "SHA1", "insecure")
	return &model.TLSEngineFacts{
		Versions: []model.EngineVersion{
			{Version: "SSLv3", VersionID: 0x0300, Connections: 1},
			{Version: "TLS 1.0", VersionID: 0x0301, Supported: true, Preference: "server", Inferred: true, Suites: []model.EngineSuite{cbc, rsa, des}, Connections: 4},
			{Version: "TLS 1.1", VersionID: 0x0302, Connections: 1},
			{Version: "TLS 1.2", VersionID: 0x0303, Supported: true, Preference: "server", Suites: []model.EngineSuite{gcm, chacha, cbc, rsa}, Connections: 5},
			{Version: "TLS 1.3", VersionID: 0x0304, Connections: 1},
		},
		Groups:              []model.EngineGroup{{ID: 0x001d, Name: "x25519", Bits: 256}, {ID: 0x0017, Name: "secp256r1", Bits: 256}},
		GroupsVersion:       "TLS 1.2",
		SignatureAlgorithms: []string{"rsa_pss_rsae_sha256", "rsa_pkcs1_sha256"},
		Connections:         14, Duration: 1900 * time.Millisecond,
	}
}

func handshakeFeatures() *model.HandshakeFacts {
	return &model.HandshakeFacts{
		Connections: 6, MaxVersion: "TLS 1.2",
		ALPNOffered: []string{"xmpp-client", "h2"}, ALPN: nil,
		TLS12: &model.TLS12Features{Version: "TLS 1.2", CipherSuite: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", SuiteID: 0xc02f,
			SecureRenegotiation: true, ExtendedMasterSecret: false, SessionTicket: true},
		TicketResumption: "resumed", ResumptionVersion: "TLS 1.2", TicketIssued: true, SessionIDResumption: "not-resumed",
		Fallback: "rejected", FallbackDetail: "inappropriate_fallback(86)",
		Probes: []model.HandshakeProbe{
			{Name: "tls12-features", Client: "raw", Version: "TLS 1.2", CipherSuite: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"},
			{Name: "fallback", Client: "raw", Alert: "inappropriate_fallback(86)"},
		},
	}
}

func avail(attempts, ok int, median time.Duration) *model.AvailabilityFacts {
	a := &model.AvailabilityFacts{Attempts: attempts, Successes: ok, ErrorRate: float64(attempts-ok) / float64(attempts),
		ConnectMin: median * 8 / 10, ConnectMedian: median, ConnectMax: median * 3, Handshake: true,
		HandshakeMin: median * 2, HandshakeMedian: median * 3, HandshakeMax: median * 7}
	if ok < attempts {
		a.Errors = []model.AttemptError{{Stage: "connect", Error: "connection reset by peer", Count: attempts - ok}}
	}
	return a
}

func domainObs() model.DomainObservation {
	return model.DomainObservation{
		Name:      "example.org",
		Resolvers: []string{"udp:127.0.0.53:53"},
		DNSSEC:    &model.DNSSECFacts{DNSKEY: true, DS: true, Zone: "example.org", Validated: true, ValidatedBy: []string{"udp:127.0.0.53:53"}},
		CAA:       &model.CAAFacts{Found: "example.org", Records: []model.CAARecord{{Tag: "issue", Value: "letsencrypt.org"}}},
		MX:        []model.MXRecord{{Preference: 10, Host: "mail.example.org"}},
		MTASTS:    &model.MTASTSFacts{},
		TLSRPT:    &model.TLSRPTFacts{Record: "v=TLSRPTv1; rua=mailto:tlsrpt@example.org", RUA: []string{"mailto:tlsrpt@example.org"}, Valid: true},
		SRV: []model.SRVRecord{
			{Owner: "_xmpp-client._tcp.example.org", Service: "xmpp-client", Priority: 5, Weight: 0, Port: 5222, Target: "xmpp.example.org"},
			{Owner: "_xmpps-client._tcp.example.org", Service: "xmpps-client", Priority: 5, Weight: 0, Port: 5223, Target: "."},
		},
		TLSA: []model.TLSAFacts{{Owner: "_25._tcp.mail.example.org", Host: "mail.example.org", Port: 25, Service: "smtp",
			Records: []model.TLSARecord{{Usage: 3, Selector: 1, MatchingType: 1, Data: "8cb0fc6c527506a053f4f14c8464bebbd6dede2738d11468dd953d7d6a3021f1"}}, Secure: true}},
	}
}
