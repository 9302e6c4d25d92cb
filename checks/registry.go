package checks

import "github.com/rampart-scan/rampart/policies"

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
		httpSecurityCheck(), // httpsec.go
		derivedVulnCheck(),  // derived.go
		VulnCheck(),         // vuln.go
		// Rules the policy engine raises itself (policy/waiver-expired) are declared here so
		// the catalogue knows every rule a scan can produce.
		{Name: "policy", Rules: policies.Rules(), Run: func(*Input, *Reporter) {}},
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
