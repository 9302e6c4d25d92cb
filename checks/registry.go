package checks

// builtin lists every endpoint check family. Each family lives in its own file.
func builtin() []Check {
	return []Check{
		reachabilityCheck(), // basic.go
		protocolCheck(),     // basic.go
		certValidityCheck(), // cert.go
		certTrustCheck(),    // cert.go
		certExtraCheck(),    // cert_extra.go
		tlsFeaturesCheck(),  // cert_extra.go
		tlsEngineCheck(),    // tls_engine.go
		startTLSCheck(),     // starttls.go
		exposureCheck(),     // exposure.go
		availabilityCheck(), // exposure.go
	}
}

// builtinDomain lists the domain-level (DNS hygiene) check families.
func builtinDomain() []DomainCheck {
	return dnsChecks() // dns.go
}

// builtinGroup lists the checks across the addresses of one name.
func builtinGroup() []GroupCheck {
	return []GroupCheck{nodeConsistencyCheck()} // nodes.go
}
